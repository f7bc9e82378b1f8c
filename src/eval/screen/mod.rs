//! Screens: each item rule compiled, once, to closures that tell whether the rule can report
//! anything on an item. The interpreter ([`super::Exec`]) then runs only where it can.
//!
//! Nearly every rule finds nothing on nearly every item (5,342 findings in 420,000 rule-item
//! runs on the 20,000-item benchmark corpus), and what a rule costs is the interpreter deciding
//! that, element by element. A screen decides the same thing with less: its values are small
//! copies (records are references, texts are borrowed), it follows the rule only up to its last
//! `when` (what comes after only words the finding), and each expression is a closure built
//! once, chosen for its shape (a field of a variable, a comparison with a literal), so running
//! one does not dispatch on the expression tree again. Screens run over a few dozen items at a
//! time, rule after rule (`eval::run_rules`): the same closures again and again, which the
//! processor predicts well.
//!
//! A screen is made of the operations of [`ops`], chosen for each step and expression by
//! [`plan::Builder`]. For a rule of any policy they are boxed closures, built when the policy is
//! compiled. For the built-in rules the same operations are also nested in Rust ahead of time
//! ([`generated`], written by a test from `policies/`), which the compiler inlines into one
//! function per rule: a rule whose operations, as [`plan::Source`] writes them, are the text of
//! a generated screen runs that function instead (the 21 rules' screens took ≈ 72 ms of a check
//! of the 20,000-item benchmark corpus as closures, ≈ 50 ms generated). Both read their literals
//! from the same table, built alike, so a generated screen answers for any rule of its shape.
//!
//! A screen is an accelerator, never a second semantics. It evaluates the rule's expressions in
//! the interpreter's order, with its short-circuits, and *gives up* ("the rule may report
//! something here") wherever it cannot be sure to compute what the interpreter computes: an
//! absent value where the interpreter would raise an evaluation error, a text built at run time
//! whose content it does not keep, a construct it does not know. It says "nothing here" only when
//! every path of the rule ended at a `when` that was false. So the findings — and the evaluation
//! errors — are always the interpreter's own: `tests/screens.rs` runs every rule with and without
//! screens on the sample corpus, every fixture, a generated corpus and probe rules built to make
//! screens give up, and compares the reports (`policy test` runs the rules' examples screened).

use std::sync::Arc;

use regex::Regex;

use self::ops::CdF;
use self::plan::{Boxed, Builder, Ex, Go, Source};
use super::RunOptions;
use crate::compile::cond::{MatTest, material_texts};
use crate::compile::types::{Builtin, Field};
use crate::compile::{CExpr, CompiledRule, Root, Step};
use crate::corpus::Corpus;
use crate::corpus::model::{Citation, Date, Item, Material, Waiver};
use crate::corpus::reference::{Certificate, Cover, References, SharedEntry, Statute};
use crate::source::Spanned;
use crate::syntax::ast::{BinOp, QuantKind};

#[rustfmt::skip]
mod generated;
mod ops;
mod plan;

/// A rule's screen: see the module documentation.
pub struct Screen {
    go: Run,
    consts: Consts,
    slots: usize,
    root_slot: usize,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen").field("slots", &self.slots).finish_non_exhaustive()
    }
}

/// How a screen runs: the function generated for its rule, called directly, or its closures
/// built when the policy was compiled.
enum Run {
    Generated(generated::Generated),
    Boxed(Go),
}

/// The literals a screen's closures hand out as values: held here, so that a value borrows them
/// for as long as it borrows the corpus.
#[derive(Default)]
pub struct Consts {
    texts: Vec<Arc<str>>,
    regexes: Vec<Arc<Regex>>,
    lists: Vec<Vec<CExpr>>,
    /// The compiler's functions of one material ([`crate::compile::cond::MatCond`]).
    tests: Vec<MatTest>,
    /// Sets of texts (`m.kind in [...]`).
    sets: Vec<Box<[Arc<str>]>>,
}

impl Consts {
    /// How many entries each table holds, for [`Consts::truncate`].
    fn sizes(&self) -> [usize; 5] {
        [self.texts.len(), self.regexes.len(), self.lists.len(), self.tests.len(), self.sets.len()]
    }

    /// Drops what was added to every table since `sizes` was taken.
    fn truncate(&mut self, [texts, regexes, lists, tests, sets]: [usize; 5]) {
        self.texts.truncate(texts);
        self.regexes.truncate(regexes);
        self.lists.truncate(lists);
        self.tests.truncate(tests);
        self.sets.truncate(sets);
    }
}

/// What a screen reads besides its variables.
pub struct Fx<'a> {
    corpus: &'a Corpus,
    refs: &'a References,
    as_of: Date,
    consts: &'a Consts,
}

/// A screen's value. `None` where one is expected means "give up".
#[derive(Clone, Copy)]
pub enum V<'a> {
    Absent,
    Bool(bool),
    Int(i64),
    Date(Date),
    Str(&'a str),
    /// A text made at run time (`norm(…)`, the phrase `catch_all` found): present, its content
    /// not kept, so a comparison with it gives up.
    Text,
    Regex(&'a Regex),
    Item(&'a Item, u32),
    /// A material, its item, the item's index and the material's.
    Mat(&'a Material, &'a Item, u32, u32),
    Cit(&'a Citation),
    Waiver(&'a Waiver),
    Statute(&'a Statute),
    Shared(&'a SharedEntry),
    Cert(&'a Certificate),
    Cover(&'a Cover),
    List(L<'a>),
}

/// A list value, as the interpreter's [`super::value::List`]: records in place, not copied.
#[derive(Clone, Copy)]
pub enum L<'a> {
    /// Materials `0..end` of an item (its index given): `item.materials`, `preceding(m)`.
    Mats(&'a Item, u32, u32),
    Cits(&'a [Citation]),
    /// `citations(item)`: the item's own, then each material's.
    ItemCits(&'a Item),
    Waivers(&'a [Waiver]),
    /// `waivers(item)`: the item's own, then each material's.
    ItemWaivers(&'a Item),
    /// `covers(name)`: indexes into the covers table.
    Covers(&'a [u32]),
    Strs(&'a [String]),
    /// `same_code(item)`: items with the code, except this one.
    Except(&'a [u32], u32),
    Lits(&'a [CExpr]),
    /// A list made at run time (`["a"] + []`): only its length is kept, it cannot be walked.
    Count(usize),
}

impl Screen {
    /// The screen of an item rule; `None` for a chain rule and for a rule without a `when`
    /// (which reports on every item it runs on).
    #[must_use]
    pub fn build(rule: &CompiledRule) -> Option<Screen> {
        Screen::build_with(rule, true)
    }

    /// [`Screen::build`], with or without the generated screens.
    fn build_with(rule: &CompiledRule, generated: bool) -> Option<Screen> {
        if rule.root != Root::Items {
            return None;
        }
        let steps = screened_steps(rule)?;
        // The screen generated ahead of time for this rule's operations, if there is one; the
        // table of literals is built alike either way.
        let mut source = Builder::new(Source);
        let text = source.steps(steps);
        let (go, consts) = match generated::SCREENS.iter().find(|(_, t, _)| generated && *t == text) {
            Some((_, _, f)) => (Run::Generated(*f), source.consts),
            None => {
                let mut b = Builder::new(Boxed);
                (Run::Boxed(b.steps(steps)), b.consts)
            }
        };
        Some(Screen { go, consts, slots: rule.slots, root_slot: rule.root_slot })
    }

    /// Whether the rule may report anything (a finding or an evaluation error) on item `index`.
    /// `env` is the worker's variable table, reused from item to item and rule to rule: the
    /// compiler resolves each name to a binding that runs before it is read.
    #[must_use]
    pub fn may_report<'a>(
        &'a self,
        corpus: &'a Corpus,
        refs: &'a References,
        opts: &RunOptions,
        index: u32,
        env: &mut Vec<V<'a>>,
    ) -> bool {
        let mut out = Vec::with_capacity(1);
        self.clears(corpus, refs, opts, index..index.saturating_add(1), env, &mut out);
        !out.first().copied().unwrap_or(false)
    }

    /// Pushes onto `out`, for each item of `items` in turn, whether the screen clears it (the
    /// rule can report nothing there): [`Screen::may_report`]'s answer negated, for a run of
    /// items at once — what each call sets up (the variables, what the screen reads, the
    /// choice of function) is set up once per run.
    pub fn clears<'a>(
        &'a self,
        corpus: &'a Corpus,
        refs: &'a References,
        opts: &RunOptions,
        items: std::ops::Range<u32>,
        env: &mut Vec<V<'a>>,
        out: &mut Vec<bool>,
    ) {
        let slots = self.slots.max(self.root_slot.saturating_add(1));
        if env.len() < slots {
            env.resize(slots, V::Absent);
        }
        let fx = Fx { corpus, refs, as_of: opts.as_of, consts: &self.consts };
        // One loop for each kind of screen, so that the generated function is called directly.
        fn each<'a, G: Fn(&Fx<'a>, &mut [V<'a>]) -> bool + ?Sized>(
            go: &G,
            fx: &Fx<'a>,
            root: usize,
            items: std::ops::Range<u32>,
            env: &mut [V<'a>],
            out: &mut Vec<bool>,
        ) {
            out.extend(items.map(|k| match fx.corpus.items.get(k as usize) {
                Some(item) => {
                    set(env, root, V::Item(item, k));
                    !go(fx, env)
                }
                None => false,
            }));
        }
        match &self.go {
            Run::Generated(f) => each(f, &fx, self.root_slot, items, env, out),
            Run::Boxed(go) => each(&**go, &fx, self.root_slot, items, env, out),
        }
    }
}

/// What a screen follows of a rule: its steps up to its last `when` (what comes after only
/// words the finding); `None` for a rule without one.
fn screened_steps(rule: &CompiledRule) -> Option<&[Step]> {
    let last = rule.steps.iter().rposition(|s| matches!(s, Step::When(_)))?;
    rule.steps.get(..=last)
}

#[inline]
fn set<'a>(env: &mut [V<'a>], slot: usize, v: V<'a>) {
    if let Some(s) = env.get_mut(slot) {
        *s = v;
    }
}

#[inline]
fn get<'a>(env: &[V<'a>], slot: usize) -> Option<V<'a>> {
    env.get(slot).copied()
}

/// A literal of a rule, as the builder keeps it.
#[derive(Clone, Copy)]
pub enum Const {
    /// A value that borrows nothing.
    V(V<'static>),
    /// Text `k` of the screen's table.
    Text(usize),
    /// List `k` of the screen's table.
    List(usize),
}

impl Const {
    #[inline(always)]
    fn value<'a>(self, fx: &Fx<'a>) -> Option<V<'a>> {
        match self {
            Const::V(v) => Some(v),
            Const::Text(k) => fx.consts.texts.get(k).map(|s| V::Str(s)),
            Const::List(k) => fx.consts.lists.get(k).map(|l| V::List(L::Lits(l))),
        }
    }
}

/// `empty(v)` as the interpreter answers it; `None` (give up) for a text made at run time.
#[inline(always)]
fn is_empty<'a>(fx: &Fx<'a>, v: V<'a>) -> Option<bool> {
    Some(match v {
        V::Absent => true,
        V::Str(s) => s.trim().is_empty(),
        V::Text => return None,
        V::List(l) => l.len(fx) == 0,
        _ => false,
    })
}

/// `v.f` of the record in variable `slot`, the field chosen once here rather than at every read.
fn var_field(slot: usize, f: Field) -> Ex {
    use Field as F;
    if let Some(read) = material_texts!(f, |read| Some(mat(slot, f, move |m| opt_str(read(m)))), None) {
        return read;
    }
    match f {
        F::MatBasis => mat(slot, f, |m| V::List(L::Cits(&m.basis))),
        F::ItemMaterials => Box::new(move |fx, env| match get(env, slot)? {
            V::Item(it, i) => Some(V::List(L::Mats(it, i, u32::try_from(it.materials.len()).ok()?))),
            v => field(fx, v, f),
        }),
        F::ItemCode => item(slot, f, |it| V::Str(&it.code.value)),
        F::ItemType => item(slot, f, |it| word(it.item_type.as_ref())),
        F::ItemDepartment => item(slot, f, |it| text(it.department.as_ref())),
        F::ItemHandling => item(slot, f, |it| word(it.handling.as_ref())),
        F::ItemPromise => item(slot, f, |it| word(it.promise.as_ref())),
        F::ItemOnline => item(slot, f, |it| word(it.online.as_ref())),
        F::ItemSuperior => item(slot, f, |it| text(it.superior.as_ref())),
        F::ItemBasis => item(slot, f, |it| V::List(L::Cits(&it.basis))),
        F::ItemLegalDays => item(slot, f, |it| int(it.legal_days.as_ref())),
        F::ItemPromisedDays => item(slot, f, |it| int(it.promised_days.as_ref())),
        F::ItemVisits => item(slot, f, |it| int(it.visits.as_ref())),
        F::StatLevel => statute(slot, f, |s| V::Str(s.level)),
        F::StatInForce => statute(slot, f, |s| s.in_force.map_or(V::Absent, V::Date)),
        F::StatRepealed => statute(slot, f, |s| s.repealed.map_or(V::Absent, V::Date)),
        F::CitStatute => Box::new(move |fx, env| match get(env, slot)? {
            V::Cit(c) => Some(c.statute.and_then(|s| fx.refs.registry.get(s)).map_or(V::Absent, V::Statute)),
            v => field(fx, v, f),
        }),
        F::CitArticleKnown => Box::new(move |fx, env| match get(env, slot)? {
            V::Cit(c) => Some(V::Bool(c.article_known)),
            v => field(fx, v, f),
        }),
        _ => Box::new(move |fx, env| field(fx, get(env, slot)?, f)),
    }
}

/// A field of the material in variable `slot`, read by `read`; any other value as [`field`].
fn mat<R>(slot: usize, f: Field, read: R) -> Ex
where
    R: for<'a> Fn(&'a Material) -> V<'a> + Send + Sync + 'static,
{
    Box::new(move |fx, env| match get(env, slot)? {
        V::Mat(m, ..) => Some(read(m)),
        v => field(fx, v, f),
    })
}

/// `any`, `all`, `first` or `count` of `cond` over `elements`, each bound to `slot` in turn, as
/// the interpreter's `Exec::quant`.
#[inline(always)]
fn quantify<'a>(
    fx: &Fx<'a>,
    env: &mut [V<'a>],
    (kind, slot, cond): (QuantKind, usize, &impl CdF),
    elements: impl Iterator<Item = V<'a>>,
) -> Option<V<'a>> {
    let mut count = 0i64;
    for v in elements {
        set(env, slot, v);
        let hit = cond(fx, env)?;
        match kind {
            QuantKind::Any if hit => return Some(V::Bool(true)),
            QuantKind::All if !hit => return Some(V::Bool(false)),
            QuantKind::First if hit => return get(env, slot),
            QuantKind::Count if hit => count = count.checked_add(1)?,
            _ => {}
        }
    }
    Some(match kind {
        QuantKind::Any => V::Bool(false),
        QuantKind::All => V::Bool(true),
        QuantKind::First => V::Absent,
        QuantKind::Count => V::Int(count),
    })
}

/// A field of the item in variable `slot`, read by `read`; any other value as [`field`].
fn item<R>(slot: usize, f: Field, read: R) -> Ex
where
    R: for<'a> Fn(&'a Item) -> V<'a> + Send + Sync + 'static,
{
    Box::new(move |fx, env| match get(env, slot)? {
        V::Item(it, _) => Some(read(it)),
        v => field(fx, v, f),
    })
}

/// A field of the statute in variable `slot`, read by `read`; any other value as [`field`].
fn statute<R>(slot: usize, f: Field, read: R) -> Ex
where
    R: for<'a> Fn(&'a Statute) -> V<'a> + Send + Sync + 'static,
{
    Box::new(move |fx, env| match get(env, slot)? {
        V::Statute(s) => Some(read(s)),
        v => field(fx, v, f),
    })
}

/// The record `shared`, `certificate` or `covers` finds for a normalised name.
#[inline]
fn table<'a>(fx: &Fx<'a>, b: Builtin, norm: &str) -> V<'a> {
    match b {
        Builtin::Shared => fx.refs.shared(norm).map_or(V::Absent, V::Shared),
        Builtin::Certificate => fx.refs.certificate(norm).map_or(V::Absent, V::Cert),
        _ => V::List(L::Covers(fx.refs.covers_indexes(norm))),
    }
}

/// `va op vb` for the operators that evaluate both sides (`and`, `or` and `??` do not).
#[inline(always)]
fn binary<'a>(fx: &Fx<'a>, op: BinOp, va: V<'a>, vb: V<'a>) -> Option<V<'a>> {
    Some(match op {
        BinOp::Eq => V::Bool(equals(va, vb)?),
        BinOp::Ne => V::Bool(!equals(va, vb)?),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = match (va, vb) {
                (V::Int(x), V::Int(y)) => x.cmp(&y),
                (V::Date(x), V::Date(y)) => x.cmp(&y),
                _ => return None,
            };
            V::Bool(op.holds(ord)?)
        }
        BinOp::In | BinOp::NotIn => {
            let V::List(l) = vb else { return None };
            V::Bool(contains(fx, l, va)? == (op == BinOp::In))
        }
        BinOp::Contains => match (va, vb) {
            (V::Str(x), V::Str(y)) => V::Bool(x.contains(y)),
            (V::List(l), y) => V::Bool(contains(fx, l, y)?),
            _ => return None,
        },
        BinOp::Matches => match (va, vb) {
            (V::Str(x), V::Regex(r)) => V::Bool(r.is_match(x)),
            _ => return None,
        },
        BinOp::Add => match (va, vb) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_add(y)?),
            (V::List(x), V::List(y)) => V::List(L::Count(x.len(fx).checked_add(y.len(fx))?)),
            (V::Str(_) | V::Text, V::Str(_) | V::Text) => V::Text,
            _ => return None,
        },
        BinOp::Sub => match (va, vb) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_sub(y)?),
            _ => return None,
        },
        BinOp::And | BinOp::Or | BinOp::Coalesce => return None,
    })
}

/// Equality as [`super::value::Value::equals`]; `None` where it depends on what a screen does
/// not keep (the content of a text made at run time, the elements of a list).
#[inline(always)]
fn equals(a: V<'_>, b: V<'_>) -> Option<bool> {
    Some(match (a, b) {
        (V::Absent, V::Absent) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Date(x), V::Date(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Text, V::Str(_) | V::Text) | (V::Str(_), V::Text) | (V::List(_), V::List(_)) => return None,
        (V::Item(_, i), V::Item(_, j)) => i == j,
        (V::Mat(_, _, i, k), V::Mat(_, _, j, l)) => (i, k) == (j, l),
        (V::Cit(x), V::Cit(y)) => std::ptr::eq(x, y),
        (V::Waiver(x), V::Waiver(y)) => std::ptr::eq(x, y),
        (V::Statute(x), V::Statute(y)) => std::ptr::eq(x, y),
        (V::Shared(x), V::Shared(y)) => std::ptr::eq(x, y),
        (V::Cert(x), V::Cert(y)) => std::ptr::eq(x, y),
        (V::Cover(x), V::Cover(y)) => std::ptr::eq(x, y),
        _ => false,
    })
}

/// Whether list `l` holds a value equal to `v`.
fn contains<'a>(fx: &Fx<'a>, l: L<'a>, v: V<'a>) -> Option<bool> {
    let mut it = Iter::new(l)?;
    while let Some(x) = it.next(fx) {
        if equals(x, v)? {
            return Some(true);
        }
    }
    Some(false)
}

#[inline]
fn text<'a>(s: Option<&'a Spanned<String>>) -> V<'a> {
    s.map_or(V::Absent, |s| V::Str(&s.value))
}

#[inline]
fn word<'a>(s: Option<&'a Spanned<&'static str>>) -> V<'a> {
    s.map_or(V::Absent, |s| V::Str(s.value))
}

#[inline]
fn int<'a>(n: Option<&Spanned<i64>>) -> V<'a> {
    n.map_or(V::Absent, |n| V::Int(n.value))
}

#[inline]
fn flag<'a>(b: Option<&Spanned<bool>>) -> V<'a> {
    b.map_or(V::Absent, |b| V::Bool(b.value))
}

#[inline]
fn opt_str(s: Option<&str>) -> V<'_> {
    s.map_or(V::Absent, V::Str)
}

/// Field `f` of record `v`, as the interpreter reads it (`Exec::text_field`, `Exec::field`);
/// `None` for a field of an absent record (an evaluation error) and for the fields a screen does
/// not read (lists of texts made at run time, file names, locations).
#[inline(always)]
fn field<'a>(fx: &Fx<'a>, v: V<'a>, f: Field) -> Option<V<'a>> {
    use Field as F;
    Some(match v {
        V::Item(it, i) => match f {
            F::ItemCode => V::Str(&it.code.value),
            F::ItemName => V::Str(&it.name.value),
            F::ItemType => word(it.item_type.as_ref()),
            F::ItemDepartment => text(it.department.as_ref()),
            F::ItemHandling => word(it.handling.as_ref()),
            F::ItemPromise => word(it.promise.as_ref()),
            F::ItemOnline => word(it.online.as_ref()),
            F::ItemSuperior => text(it.superior.as_ref()),
            F::ItemFee => text(it.fee.as_ref()),
            F::ItemBasis => V::List(L::Cits(&it.basis)),
            F::ItemLegalDays => int(it.legal_days.as_ref()),
            F::ItemPromisedDays => int(it.promised_days.as_ref()),
            F::ItemVisits => int(it.visits.as_ref()),
            F::ItemSteps => int(it.steps.as_ref()),
            F::ItemInHall => flag(it.in_hall.as_ref()),
            F::ItemExtendable => flag(it.extendable.as_ref()),
            F::ItemCitywide => flag(it.citywide.as_ref()),
            F::ItemWaivers => V::List(L::Waivers(&it.waivers)),
            F::ItemMaterials => V::List(L::Mats(it, i, u32::try_from(it.materials.len()).ok()?)),
            F::ItemRegion => opt_str(fx.corpus.list(it).and_then(|l| l.region.as_deref())),
            F::ItemCodePattern => V::Regex(&fx.corpus.list(it)?.code_pattern),
            F::ItemListTitle => {
                opt_str(fx.corpus.list(it).and_then(|l| l.header.title.as_ref()).map(|t| t.value.as_str()))
            }
            F::ItemLevel => opt_str(fx.corpus.list(it).and_then(|l| l.header.level.as_ref()).map(|t| t.value)),
            F::ItemVersion => {
                opt_str(fx.corpus.list(it).and_then(|l| l.header.version.as_ref()).map(|t| t.value.as_str()))
            }
            _ => return None,
        },
        V::Mat(m, it, i, k) => match f {
            _ if let Some(t) = material_texts!(f, |read| Some(read(m)), None) => opt_str(t),
            F::MatBasis => V::List(L::Cits(&m.basis)),
            F::MatCopies => int(m.copies.as_ref()),
            F::MatWaivers => V::List(L::Waivers(&m.waivers)),
            F::MatItem => V::Item(it, i),
            F::MatIndex => V::Int(i64::from(k)),
            _ => return None,
        },
        V::Cit(c) => match f {
            F::CitText => V::Str(&c.text.value),
            F::CitArticle => opt_str(c.article.as_deref()),
            F::CitArticleKnown => V::Bool(c.article_known),
            F::CitStatute => c.statute.and_then(|s| fx.refs.registry.get(s)).map_or(V::Absent, V::Statute),
            _ => return None,
        },
        V::Statute(s) => match f {
            F::StatId => V::Str(&s.id),
            F::StatTitle => V::Str(&s.title),
            F::StatLevel => V::Str(s.level),
            F::StatJurisdiction => V::Str(&s.jurisdiction),
            F::StatNumber => opt_str(s.number.as_deref()),
            F::StatInForce => s.in_force.map_or(V::Absent, V::Date),
            F::StatRepealed => s.repealed.map_or(V::Absent, V::Date),
            _ => return None,
        },
        V::Shared(s) => match f {
            F::SharedName => V::Str(&s.name),
            F::SharedProvider => opt_str(s.provider.as_deref()),
            F::SharedChannel => V::Str(&s.channel),
            _ => return None,
        },
        V::Cert(c) => match f {
            F::CertName => V::Str(&c.name),
            F::CertIssuer => opt_str(c.issuer.as_deref()),
            F::CertItems => V::List(L::Strs(&c.items)),
            _ => return None,
        },
        V::Cover(c) => match f {
            F::CoverKept => V::Str(&c.kept),
            F::CoverBasis => opt_str(c.basis.as_deref()),
            F::CoverReplaces => V::List(L::Strs(&c.replaces)),
            F::CoverObsolete => V::Bool(c.obsolete),
            _ => return None,
        },
        V::Waiver(w) => match f {
            F::WaiverRule => V::Str(&w.rule.value),
            F::WaiverReason => text(w.reason.as_ref()),
            F::WaiverApprovedBy => text(w.approved_by.as_ref()),
            F::WaiverExpires => w.expires.as_ref().map_or(V::Absent, |d| V::Date(d.value)),
            _ => return None,
        },
        _ => return None,
    })
}

impl<'a> L<'a> {
    #[inline(always)]
    fn len(self, fx: &Fx<'a>) -> usize {
        match self {
            L::Mats(it, _, end) => it.materials.len().min(end as usize),
            L::Cits(c) => c.len(),
            L::ItemCits(it) => it.materials.iter().fold(it.basis.len(), |n, m| n.saturating_add(m.basis.len())),
            L::Waivers(w) => w.len(),
            L::ItemWaivers(it) => it.materials.iter().fold(it.waivers.len(), |n, m| n.saturating_add(m.waivers.len())),
            L::Covers(ix) => ix.iter().filter(|&&i| fx.refs.covers.get(i as usize).is_some()).count(),
            L::Strs(s) => s.len(),
            L::Except(s, x) => s.len().saturating_sub(usize::from(s.binary_search(&x).is_ok())),
            L::Lits(l) => l.len(),
            L::Count(n) => n,
        }
    }
}

/// The elements of a list, in the interpreter's order.
struct Iter<'a> {
    list: L<'a>,
    /// The next element (of the current owner's list, for `citations(item)` and `waivers(item)`).
    k: usize,
    /// For `citations(item)` and `waivers(item)`: 0 for the item's own, then 1 + the material.
    owner: usize,
}

impl<'a> Iter<'a> {
    /// `None` for a list whose elements are not kept.
    #[inline]
    fn new(list: L<'a>) -> Option<Self> {
        match list {
            L::Count(n) if n > 0 => None,
            _ => Some(Iter { list, k: 0, owner: 0 }),
        }
    }

    #[inline(always)]
    fn next(&mut self, fx: &Fx<'a>) -> Option<V<'a>> {
        let k = self.k;
        match self.list {
            L::Mats(it, i, end) => {
                let k32 = u32::try_from(k).ok().filter(|&k| k < end)?;
                let m = it.materials.get(k)?;
                self.k = k.saturating_add(1);
                Some(V::Mat(m, it, i, k32))
            }
            L::Cits(c) => self.at(c).map(V::Cit),
            L::Waivers(w) => self.at(w).map(V::Waiver),
            L::Strs(s) => self.at(s).map(|s| V::Str(s)),
            L::Lits(l) => self.at(l).map(literal),
            L::ItemCits(it) => self.owned(it, |i| &i.basis, |m| &m.basis).map(V::Cit),
            L::ItemWaivers(it) => self.owned(it, |i| &i.waivers, |m| &m.waivers).map(V::Waiver),
            // An index the table does not hold is skipped, as the interpreter's list leaves it out.
            L::Covers(ix) => loop {
                let i = *self.at(ix)?;
                if let Some(c) = fx.refs.covers.get(i as usize) {
                    return Some(V::Cover(c));
                }
            },
            L::Except(s, x) => loop {
                let j = *self.at(s)?;
                if j != x {
                    return fx.corpus.items.get(j as usize).map(|it| V::Item(it, j));
                }
            },
            L::Count(_) => None,
        }
    }

    /// The next element of a slice.
    #[inline(always)]
    fn at<T>(&mut self, s: &'a [T]) -> Option<&'a T> {
        let x = s.get(self.k)?;
        self.k = self.k.saturating_add(1);
        Some(x)
    }

    /// The next record of the item's own list, then of each material's.
    #[inline(always)]
    fn owned<T>(
        &mut self,
        it: &'a Item,
        own: impl Fn(&'a Item) -> &'a Vec<T>,
        of: impl Fn(&'a Material) -> &'a Vec<T>,
    ) -> Option<&'a T> {
        loop {
            let list = match self.owner {
                0 => own(it),
                o => of(it.materials.get(o.saturating_sub(1))?),
            };
            if let Some(x) = self.at(list) {
                return Some(x);
            }
            self.owner = self.owner.saturating_add(1);
            self.k = 0;
        }
    }
}

/// The value of a literal of a list literal, as [`super::value::Value::literal`].
fn literal(e: &CExpr) -> V<'_> {
    match e {
        CExpr::Bool(b) => V::Bool(*b),
        CExpr::Int(n) => V::Int(*n),
        CExpr::Str(s) => V::Str(s),
        CExpr::Date(d) => V::Date(*d),
        CExpr::Regex(r) => V::Regex(r),
        _ => V::Absent,
    }
}

/// The text of `generated.rs`: a screen for each item rule of `program` that has one, made of
/// the calls [`plan::Source`] writes.
#[cfg(test)]
fn generated_file(program: &crate::compile::Program) -> String {
    use std::fmt::Write as _;
    let mut table = String::new();
    let mut fns = String::new();
    for rule in &program.rules {
        let Some(steps) = screened_steps(rule).filter(|_| rule.root == Root::Items) else { continue };
        let text = Builder::new(Source).steps(steps);
        let name = rule.id.to_lowercase();
        let _ = writeln!(table, "    ({:?}, {:?}, {name}),", rule.id, text);
        let _ = write!(
            fns,
            "\n/// {} {}\nfn {name}<'a>(fx: &Fx<'a>, env: &mut [V<'a>]) -> bool {{\n    let go = {};\n    go(fx, env)\n}}\n",
            rule.id,
            rule.name,
            indent(&text, 1)
        );
    }
    format!(
        "//! @generated by `cargo test --lib generated_screens_are_current` with `QINGDAN_BLESS=1`, from\n\
         //! the built-in rules (`policies/`): do not edit. The screen of each rule, the calls of\n\
         //! [`super::ops`] that [`super::plan::Source`] writes for it, nested so that the compiler\n\
         //! makes one function of them. A compiled rule uses one of these when the calls written\n\
         //! for it are the very text in the table.\n\
         #![allow(unused_imports, reason = \"the imports are those any generated screen may name\")]\n\
         \n\
         use super::ops;\n\
         use super::ops::MatRead;\n\
         use super::{{Const, Fx, V}};\n\
         use crate::compile::types::{{Builtin, Field}};\n\
         use crate::corpus::model::Date;\n\
         use crate::syntax::ast::{{BinOp, QuantKind}};\n\
         \n\
         /// A generated screen: whether the rule may report anything on the item in the root slot.\n\
         pub type Generated = for<'a> fn(&Fx<'a>, &mut [V<'a>]) -> bool;\n\
         \n\
         /// Rule id, the calls as [`super::plan::Source`] writes them, the function.\n\
         pub const SCREENS: &[(&str, &str, Generated)] = &[\n{table}];\n{fns}"
    )
}

/// `calls` laid out one part to a line where they do not fit on one, at `depth` levels of four
/// spaces.
#[cfg(test)]
fn indent(calls: &str, depth: usize) -> String {
    const WIDTH: usize = 100;
    if calls.len().saturating_add(depth.saturating_mul(4)) <= WIDTH {
        return calls.to_string();
    }
    let (Some(open), true) = (calls.find('('), calls.ends_with(')')) else { return calls.to_string() };
    let (Some(head), Some(inner)) =
        (calls.get(..=open), calls.get(open.saturating_add(1)..calls.len().saturating_sub(1)))
    else {
        return calls.to_string();
    };
    // The parts: split at the commas outside brackets.
    let mut parts = Vec::new();
    let (mut level, mut from) = (0i32, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '{' | '[' => level = level.saturating_add(1),
            ')' | '}' | ']' => level = level.saturating_sub(1),
            ',' if level == 0 => {
                parts.extend(inner.get(from..i).map(str::trim));
                from = i.saturating_add(1);
            }
            _ => {}
        }
    }
    parts.extend(inner.get(from..).map(str::trim));
    let pad = "    ".repeat(depth.saturating_add(1));
    let body: Vec<String> = parts.iter().map(|p| format!("{pad}{},\n", indent(p, depth.saturating_add(1)))).collect();
    format!("{head}\n{}{})", body.concat(), "    ".repeat(depth))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests may fail loudly")]

    use std::path::{Path, PathBuf};

    use super::*;
    use crate::corpus::config::PolicySource;

    fn builtin() -> (References, crate::compile::Program) {
        let refs = References::builtin().unwrap();
        let program = crate::policy::load(&[PolicySource::Builtin], &refs).unwrap();
        (refs, program)
    }

    /// `generated.rs` is what the built-in rules make now. After a change to a rule, to the
    /// compiler or to the screens' operations, `QINGDAN_BLESS=1 cargo test --lib
    /// generated_screens_are_current` writes it again (then build again for the new screens).
    #[test]
    fn generated_screens_are_current() {
        let (_, program) = builtin();
        let text = generated_file(&program);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/eval/screen/generated.rs");
        let now = std::fs::read_to_string(&path).unwrap_or_default();
        if std::env::var_os("QINGDAN_BLESS").is_some() {
            if now != text {
                std::fs::write(&path, &text).unwrap();
            }
            return;
        }
        assert!(
            now == text,
            "src/eval/screen/generated.rs is out of date: run `QINGDAN_BLESS=1 cargo test --lib \
             generated_screens_are_current` and build again\n{}",
            similar::TextDiff::from_lines(&now, &text).unified_diff().context_radius(2)
        );
        // Every built-in item rule with a `when` has its generated screen, and uses it.
        for rule in program.rules.iter().filter(|r| r.root == Root::Items && screened_steps(r).is_some()) {
            let text = Builder::new(Source).steps(screened_steps(rule).unwrap());
            assert!(generated::SCREENS.iter().any(|(id, t, _)| *id == rule.id && *t == text), "{}", rule.id);
        }
    }

    /// The YAML files of the sample corpus and of the test fixtures that load on their own.
    fn corpora(refs: &References) -> Vec<(PathBuf, Corpus)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("corpus"), root.join("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                let name = p.display().to_string();
                let corpus = Corpus::from_text(&name, &text, refs, None, Default::default()).ok()?;
                Some((p, corpus))
            })
            .collect()
    }

    /// A generated screen answers as the screen built of closures, item by item, on every item
    /// of the sample corpus and of the fixtures (the closures' own answers are held to the
    /// interpreter's by `tests/screens.rs`).
    #[test]
    fn generated_screens_answer_as_built_ones() {
        let (refs, program) = builtin();
        let corpora = corpora(&refs);
        assert!(corpora.iter().map(|(_, c)| c.items.len()).sum::<usize>() > 200);
        let mut compared = 0usize;
        for rule in &program.rules {
            let (Some(made), Some(built)) = (Screen::build_with(rule, true), Screen::build_with(rule, false)) else {
                continue;
            };
            for as_of in ["2020-01-01", "2026-11-22", "2040-01-01"] {
                let opts = RunOptions::all(&program, Date::parse(as_of).unwrap());
                for (path, corpus) in &corpora {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    for i in 0..u32::try_from(corpus.items.len()).unwrap() {
                        let (x, y) = (
                            made.may_report(corpus, &refs, &opts, i, &mut a),
                            built.may_report(corpus, &refs, &opts, i, &mut b),
                        );
                        assert_eq!(x, y, "{} on item {i} of {}", rule.id, path.display());
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }
}
