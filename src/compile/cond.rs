//! Conditions lowered once for the evaluator.
//!
//! A rule's conditions are tested on every element a `for` runs over: for most rules that is
//! every material of every item, and testing them is a large part of what the rules cost. The shapes
//! they are made of — `and`, `or`, `not`, and `==`, `!=`, `in`, `matches`, `exists`, `empty`
//! on fields such as `(m.kind ?? "其他")` — are lowered here into a form whose field reads are
//! resolved ahead (which record, which field, which literal set), so that testing one does not
//! dispatch on the expression tree again for every element.
//!
//! Each leaf keeps the expression it came from. When the lowered form has no answer — a
//! variable that does not hold the record it names, an absent text given to `matches` — the
//! evaluator tests that expression instead, so the answer and the errors are always those of
//! the expression itself (`tests/` and `eval::tests` compare the two).

use std::sync::Arc;

use regex::Regex;

use super::types::Field;
use super::{BinOp, Builtin, CExpr};
use crate::corpus::model::{Date, Item, Material};
use crate::corpus::reference::Statute;

/// A lowered condition: see the module documentation.
#[derive(Debug, Clone)]
pub enum Cond {
    /// `and` of two or more conditions, in order.
    All(Box<[Cond]>),
    /// `or` of two or more conditions, in order.
    Any(Box<[Cond]>),
    Not(Box<Cond>),
    /// A lowered test and the expression it came from.
    Leaf(Box<Leaf>, CExpr),
    /// Anything else, tested as it is.
    Other(CExpr),
    /// A condition on one material only, also built as a function of the material.
    Mat(Box<MatCond>),
}

/// A condition whose every leaf reads a field of the material in variable `slot`
/// (`(m.kind ?? "其他") != "申请表" and empty(m.basis)`), and the same condition as a function of
/// that material: a loop over an item's materials tests it on each without binding the
/// variable first, and only the materials that pass are bound. `test` answers `None` where a
/// leaf has no answer of its own (a text the checker proved present is absent, `matches` of an
/// absent text); `cond` is then tested, whose leaves fall back to their expressions.
#[derive(Clone)]
pub struct MatCond {
    pub slot: usize,
    pub test: MatTest,
    pub cond: Cond,
}

/// See [`MatCond`].
pub type MatTest = Arc<dyn Fn(&Material) -> Option<bool> + Send + Sync>;

impl std::fmt::Debug for MatCond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatCond").field("slot", &self.slot).field("cond", &self.cond).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum Leaf {
    /// The commonest test of all, `(m.kind ?? "其他") != "申请表"`: a text field of the
    /// material in a variable, or a default when it is absent, `==` (`true`) or `!=` (`false`)
    /// a literal.
    MatEq(MatText, Arc<str>, bool),
    /// `m.kind in [...]` (`true`) or `not in` (`false`), as [`Leaf::TextIn`].
    MatIn(MatText, Box<[Arc<str>]>, bool),
    /// `exists(m.kind)` (`true`) or `empty(m.kind)` (`false`), as [`Leaf::TextExists`].
    MatExists(MatText, bool),
    /// `a == b` (`true`) or `a != b` (`false`).
    TextEq(Text, Text, bool),
    /// `a in [...]` (`true`) or `a not in [...]` (`false`) of a list of text literals.
    TextIn(Text, Box<[Arc<str>]>, bool),
    /// `a matches /re/`.
    Matches(Text, Arc<Regex>),
    /// `exists(a)` (`true`) or `empty(a)` (`false`) of a text.
    TextExists(Text, bool),
    /// `exists(a)` (`true`) or `empty(a)` (`false`) of a list field.
    ListExists(Len, bool),
    /// `a < b`, `a <= b`, `a > b`, `a >= b`, `a == b`, `a != b` of numbers or dates.
    Cmp(Num, BinOp, Num),
    /// `exists(a)` (`true`) or `empty(a)` (`false`) of a number or a date.
    NumExists(Num, bool),
    /// A yes/no field of the record in a variable.
    Flag(usize, Field),
    /// `exists(c.statute)` (`true`) or `empty(c.statute)` (`false`) of the citation in a variable.
    StatuteExists(usize, bool),
    /// `exists(v)` (`true`) or `empty(v)` (`false`) of a variable, whatever it holds.
    VarExists(usize, bool),
}

/// A text field of the material in variable `slot`, or `default` when it is absent; `present`
/// when the checker proved it present (absent is then an evaluation error, which the expression
/// reports).
#[derive(Debug, Clone)]
pub struct MatText {
    pub slot: usize,
    pub get: fn(&Material) -> Option<&str>,
    /// The field `get` reads.
    pub field: Field,
    pub default: Option<Arc<str>>,
    pub present: bool,
}

impl MatText {
    /// The text of material `m`: `Some(None)` when absent, `None` when absent although the
    /// checker proved it present.
    #[inline(always)]
    #[must_use]
    pub fn read<'m>(&'m self, m: &'m Material) -> Option<Option<&'m str>> {
        let v = (self.get)(m).or(self.default.as_deref());
        if self.present && v.is_none() {
            return None;
        }
        Some(v)
    }

    pub(crate) fn of(t: &Text) -> Option<MatText> {
        let (src, default, present) = match t {
            Text::One(s) => (s, None, false),
            Text::Or(s, d) => (s, Some(d.clone()), false),
            Text::Unwrap(inner) => match &**inner {
                Text::One(s) => (s, None, true),
                _ => return None,
            },
            Text::Coalesce(..) => return None,
        };
        match src {
            Src::Material(slot, get, field) => {
                Some(MatText { slot: *slot, get: *get, field: *field, default, present })
            }
            _ => None,
        }
    }
}

/// Where a number or a date comes from.
#[derive(Debug, Clone)]
pub enum Num {
    Int(i64),
    Date(Date),
    AsOf,
    /// A variable holding a number or a date (a `let`), or nothing.
    Var(usize),
    /// A number field of the item in a variable.
    Item(usize, fn(&Item) -> Option<i64>),
    /// A date of the statute in a variable.
    Statute(usize, fn(&Statute) -> Option<Date>),
    /// The expiry of the waiver in a variable.
    WaiverExpires(usize),
    /// `count(v)` of a variable holding a list.
    Count(usize),
}

/// Where a text comes from: one place, one place or a literal (`m.kind ?? "其他"`, the most
/// common shape, read without recursion), or any `??` and `!` of those.
#[derive(Debug, Clone)]
pub enum Text {
    One(Src),
    Or(Src, Arc<str>),
    Coalesce(Box<Text>, Box<Text>),
    Unwrap(Box<Text>),
}

#[derive(Debug, Clone)]
pub enum Src {
    Lit(Arc<str>),
    /// A variable holding text (a `let`), or nothing.
    Var(usize),
    /// A text field of the material in a variable: how it is read, and which it is.
    Material(usize, fn(&Material) -> Option<&str>, Field),
    /// A text field of the item in a variable.
    Item(usize, fn(&Item) -> Option<&str>),
    /// A text field of another record in a variable.
    Field(usize, Field),
}

/// The length of a list field of the record in a variable.
#[derive(Debug, Clone, Copy)]
pub enum Len {
    /// A list field of the material in a variable: how its length is read ([`material_len`]),
    /// and which it is.
    Material(usize, fn(&Material) -> usize, Field),
    Item(usize, fn(&Item) -> usize),
}

/// Lowers a condition; `None` when nothing in it has a lowered form (it is then best tested
/// as it is).
#[must_use]
pub fn lower(e: &CExpr) -> Option<Cond> {
    let c = lower_any(e);
    if !c.has_leaf() {
        return None;
    }
    let mut slot = None;
    Some(match material_test(&c, &mut slot).zip(slot) {
        Some((test, slot)) => Cond::Mat(Box::new(MatCond { slot, test, cond: c })),
        None => c,
    })
}

/// `c` as a function of one material, when every leaf of it reads a field of the material in
/// the same variable (`slot`, set by the first leaf).
fn material_test(c: &Cond, slot: &mut Option<usize>) -> Option<MatTest> {
    let mut same = |s: usize| *slot.get_or_insert(s) == s;
    Some(match c {
        Cond::All(parts) | Cond::Any(parts) => {
            let tests = parts.iter().map(|p| material_test(p, slot)).collect::<Option<Box<[MatTest]>>>()?;
            // `and` stops at the first false operand, `or` at the first true one.
            let stop = matches!(c, Cond::Any(_));
            Arc::new(move |m| {
                for t in &tests {
                    if t(m)? == stop {
                        return Some(stop);
                    }
                }
                Some(!stop)
            })
        }
        Cond::Not(a) => {
            let t = material_test(a, slot)?;
            Arc::new(move |m| Some(!t(m)?))
        }
        Cond::Leaf(leaf, _) => match &**leaf {
            Leaf::MatEq(t, lit, eq) if same(t.slot) => {
                let (lit, eq) = (lit.clone(), *eq);
                text_test(t, move |v| (v == Some(&*lit)) == eq)
            }
            Leaf::MatIn(t, set, is_in) if same(t.slot) => {
                let (set, is_in) = (set.clone(), *is_in);
                text_test(t, move |v| v.is_some_and(|x| set.iter().any(|s| **s == *x)) == is_in)
            }
            Leaf::MatExists(t, true) if same(t.slot) => text_test(t, |v| v.is_some()),
            Leaf::MatExists(t, false) if same(t.slot) => text_test(t, |v| v.is_none_or(|s| s.trim().is_empty())),
            Leaf::ListExists(Len::Material(s, get, _), exists) if same(*s) => {
                let (get, exists) = (*get, *exists);
                Arc::new(move |m| Some(exists || get(m) == 0))
            }
            Leaf::Matches(t, re) => {
                let t = MatText::of(t).filter(|t| same(t.slot))?;
                let re = re.clone();
                Arc::new(move |m| Some(re.is_match(t.read(m)??)))
            }
            _ => return None,
        },
        Cond::Other(_) | Cond::Mat(_) => return None,
    })
}

/// A test of a text field of a material, `t`, by `verdict`: the field read by a closure of its own
/// (this runs on every material of every item, and a call through `t.get` for each leaf is an
/// indirect call the processor has to guess).
fn text_test(t: &MatText, verdict: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> MatTest {
    fn with<R>(read: R, t: &MatText, verdict: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> MatTest
    where
        R: for<'m> Fn(&'m Material) -> Option<&'m str> + Send + Sync + 'static,
    {
        let (default, present) = (t.default.clone(), t.present);
        Arc::new(move |m| {
            let v = read(m).or(default.as_deref());
            if present && v.is_none() {
                return None;
            }
            Some(verdict(v))
        })
    }
    material_texts!(t.field, |read| with(read, t, verdict), with(t.get, t, verdict))
}

fn lower_any(e: &CExpr) -> Cond {
    let leaf = |l: Option<Leaf>| match l {
        Some(l) => Cond::Leaf(Box::new(l), e.clone()),
        None => Cond::Other(e.clone()),
    };
    match e {
        CExpr::Bin(op @ (BinOp::And | BinOp::Or), ..) => {
            // `a and b and c` parses as `(a and b) and c`: one flat list, tested left to right.
            let mut parts = Vec::new();
            flatten(e, *op, &mut parts);
            let parts = parts.into_iter().map(lower_any).collect();
            if *op == BinOp::And { Cond::All(parts) } else { Cond::Any(parts) }
        }
        CExpr::Not(a) => Cond::Not(Box::new(lower_any(a))),
        CExpr::Bin(op @ (BinOp::Eq | BinOp::Ne), a, b) => leaf(
            text(a)
                .zip(text(b))
                .map(|(x, y)| match (MatText::of(&x), &y, MatText::of(&y), &x) {
                    (Some(m), Text::One(Src::Lit(lit)), ..) | (_, _, Some(m), Text::One(Src::Lit(lit))) => {
                        Leaf::MatEq(m, lit.clone(), *op == BinOp::Eq)
                    }
                    _ => Leaf::TextEq(x, y, *op == BinOp::Eq),
                })
                .or_else(|| compared(a).zip(compared(b)).map(|(x, y)| Leaf::Cmp(x, *op, y))),
        ),
        CExpr::Bin(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
            leaf(compared(a).zip(compared(b)).map(|(x, y)| Leaf::Cmp(x, *op, y)))
        }
        CExpr::Bin(op @ (BinOp::In | BinOp::NotIn), a, b) => {
            let set: Option<Box<[Arc<str>]>> = match &**b {
                CExpr::List(items) => items
                    .iter()
                    .map(|it| match it {
                        CExpr::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            };
            leaf(text(a).zip(set).map(|(x, set)| match MatText::of(&x) {
                Some(m) => Leaf::MatIn(m, set, *op == BinOp::In),
                None => Leaf::TextIn(x, set, *op == BinOp::In),
            }))
        }
        CExpr::Bin(BinOp::Matches, a, b) => match &**b {
            CExpr::Regex(re) => leaf(text(a).map(|x| Leaf::Matches(x, re.clone()))),
            _ => leaf(None),
        },
        CExpr::Call(b @ (Builtin::Exists | Builtin::Empty), args) => {
            let exists = *b == Builtin::Exists;
            match args.as_slice() {
                [CExpr::Var(slot)] => leaf(Some(Leaf::VarExists(*slot, exists))),
                [a] => leaf(
                    text(a)
                        .map(|t| match MatText::of(&t) {
                            Some(m) => Leaf::MatExists(m, exists),
                            None => Leaf::TextExists(t, exists),
                        })
                        .or_else(|| len(a).map(|l| Leaf::ListExists(l, exists)))
                        .or_else(|| num(a).map(|n| Leaf::NumExists(n, exists)))
                        .or_else(|| match var_field(a)? {
                            (slot, Field::CitStatute) => Some(Leaf::StatuteExists(slot, exists)),
                            _ => None,
                        }),
                ),
                _ => leaf(None),
            }
        }
        _ => leaf(match var_field(e) {
            Some((
                slot,
                f @ (Field::CitArticleKnown
                | Field::CoverObsolete
                | Field::ItemInHall
                | Field::ItemExtendable
                | Field::ItemCitywide),
            )) => Some(Leaf::Flag(slot, f)),
            _ => None,
        }),
    }
}

/// The operands of a chain of `op` (`and` or `or`), left to right.
fn flatten<'e>(e: &'e CExpr, op: BinOp, out: &mut Vec<&'e CExpr>) {
    match e {
        CExpr::Bin(o, a, b) if *o == op => {
            flatten(a, op, out);
            flatten(b, op, out);
        }
        _ => out.push(e),
    }
}

impl Cond {
    fn has_leaf(&self) -> bool {
        match self {
            Cond::All(parts) | Cond::Any(parts) => parts.iter().any(Cond::has_leaf),
            Cond::Not(a) => a.has_leaf(),
            Cond::Leaf(..) | Cond::Mat(_) => true,
            Cond::Other(_) => false,
        }
    }
}

/// The variable a field is read from.
fn var_field(e: &CExpr) -> Option<(usize, Field)> {
    match e {
        CExpr::Field(inner, f) => match **inner {
            CExpr::Var(slot) => Some((slot, *f)),
            _ => None,
        },
        _ => None,
    }
}

fn text(e: &CExpr) -> Option<Text> {
    Some(match e {
        CExpr::Bin(BinOp::Coalesce, a, b) => match (src(a), &**b) {
            (Some(s), CExpr::Str(d)) => Text::Or(s, d.clone()),
            _ => Text::Coalesce(Box::new(text(a)?), Box::new(text(b)?)),
        },
        CExpr::Unwrap(inner, _) => Text::Unwrap(Box::new(text(inner)?)),
        _ => Text::One(src(e)?),
    })
}

fn src(e: &CExpr) -> Option<Src> {
    use Field as F;
    use text_of as o;
    Some(match e {
        CExpr::Str(s) => Src::Lit(s.clone()),
        CExpr::Var(slot) => Src::Var(*slot),
        _ => {
            let (slot, field) = var_field(e)?;
            if let Some(get) = material_text(field) {
                return Some(Src::Material(slot, get, field));
            }
            let i = |get: fn(&Item) -> Option<&str>| Src::Item(slot, get);
            match field {
                F::ItemCode => i(|x| Some(&x.code.value)),
                F::ItemName => i(|x| Some(&x.name.value)),
                F::ItemType => i(|x| o(x.item_type.as_ref())),
                F::ItemDepartment => i(|x| o(x.department.as_ref())),
                F::ItemHandling => i(|x| o(x.handling.as_ref())),
                F::ItemPromise => i(|x| o(x.promise.as_ref())),
                F::ItemOnline => i(|x| o(x.online.as_ref())),
                F::ItemSuperior => i(|x| o(x.superior.as_ref())),
                F::ItemFee => i(|x| o(x.fee.as_ref())),
                F::StepCode
                | F::WaiverRule
                | F::WaiverReason
                | F::WaiverApprovedBy
                | F::CitText
                | F::CitArticle
                | F::StatId
                | F::StatTitle
                | F::StatLevel
                | F::StatJurisdiction
                | F::StatNumber
                | F::SharedName
                | F::SharedProvider
                | F::SharedChannel
                | F::CertName
                | F::CertIssuer
                | F::CoverKept
                | F::CoverBasis => Src::Field(slot, field),
                _ => return None,
            }
        }
    })
}

/// The text of an optional field as written.
#[must_use]
pub fn text_of<T: AsRef<str>>(x: Option<&crate::source::Spanned<T>>) -> Option<&str> {
    x.map(|v| v.value.as_ref())
}

/// Makes `read` a reader of a text field of a material, for every material and every lifetime.
pub fn reader<R: for<'m> Fn(&'m Material) -> Option<&'m str>>(read: R) -> R {
    read
}

/// The text fields of a material and how each is read: `material_texts!(field, |read| then,
/// otherwise)` is `then` with `read` the reader of `field` (a closure of its own type, which a
/// caller can call directly or turn into a function pointer), or `otherwise` when `field` is not
/// one of them. The one table that the lowered conditions, the interpreter, the material tests
/// and the screens read material texts by.
macro_rules! material_texts {
    ($field:expr, |$read:ident| $then:expr, $otherwise:expr) => {
        $crate::compile::cond::material_texts!(@table $field, |$read| $then, $otherwise;
            MatKind kind, MatSource source, MatAcquisition acquisition, MatProvider provider,
            MatFormat format, MatNote note)
    };
    // The two texts every material has, then the optional ones: `Field` variant, `Material` field.
    (@table $field:expr, |$read:ident| $then:expr, $otherwise:expr; $($variant:ident $optional:ident),*) => {{
        use $crate::compile::cond::{reader, text_of};
        use $crate::compile::types::Field as F;
        match $field {
            F::MatName => {
                let $read = reader(|x| Some(&*x.name.value));
                $then
            }
            F::MatNormName => {
                let $read = reader(|x| Some(&*x.norm_name));
                $then
            }
            $(F::$variant => {
                let $read = reader(|x| text_of(x.$optional.as_ref()));
                $then
            })*
            _ => $otherwise,
        }
    }};
}
pub(crate) use material_texts;

/// How the length of a list field of a material is read, if `field` is one.
#[must_use]
pub fn material_len(field: Field) -> Option<fn(&Material) -> usize> {
    match field {
        Field::MatBasis => Some(|x| x.basis.len()),
        Field::MatWaivers => Some(|x| x.waivers.len()),
        _ => None,
    }
}

/// How a text field of a material is read, if `field` is one.
#[must_use]
#[inline(always)]
pub fn material_text(field: Field) -> Option<fn(&Material) -> Option<&str>> {
    material_texts!(field, |read| Some(read as fn(&Material) -> Option<&str>), None)
}

/// An operand of a comparison of numbers or dates. One the checker proved present
/// (`exists(item.visits) and item.visits > 1`) is read as it is: [`Leaf::Cmp`] leaves an absent
/// operand to the expression, which reports it.
fn compared(e: &CExpr) -> Option<Num> {
    match e {
        CExpr::Unwrap(inner, _) => num(inner),
        _ => num(e),
    }
}

fn num(e: &CExpr) -> Option<Num> {
    use Field as F;
    Some(match e {
        CExpr::Int(n) => Num::Int(*n),
        CExpr::Date(d) => Num::Date(*d),
        CExpr::AsOf => Num::AsOf,
        CExpr::Var(slot) => Num::Var(*slot),
        CExpr::Call(Builtin::Count, args) => match args.as_slice() {
            [CExpr::Var(slot)] => Num::Count(*slot),
            _ => return None,
        },
        _ => {
            let (slot, field) = var_field(e)?;
            let i = |get: fn(&Item) -> Option<i64>| Num::Item(slot, get);
            let s = |get: fn(&Statute) -> Option<Date>| Num::Statute(slot, get);
            match field {
                F::ItemLegalDays => i(|x| x.legal_days.as_ref().map(|v| v.value)),
                F::ItemPromisedDays => i(|x| x.promised_days.as_ref().map(|v| v.value)),
                F::ItemVisits => i(|x| x.visits.as_ref().map(|v| v.value)),
                F::ItemSteps => i(|x| x.steps.as_ref().map(|v| v.value)),
                F::StatInForce => s(|x| x.in_force),
                F::StatRepealed => s(|x| x.repealed),
                F::WaiverExpires => Num::WaiverExpires(slot),
                _ => return None,
            }
        }
    })
}

fn len(e: &CExpr) -> Option<Len> {
    use Field as F;
    let (slot, field) = var_field(e)?;
    Some(match field {
        F::MatBasis | F::MatWaivers => Len::Material(slot, material_len(field)?, field),
        F::ItemBasis => Len::Item(slot, |x| x.basis.len()),
        F::ItemMaterials => Len::Item(slot, |x| x.materials.len()),
        F::ItemWaivers => Len::Item(slot, |x| x.waivers.len()),
        F::ItemDepartments => Len::Item(slot, |x| x.departments.len()),
        F::ItemComplex => Len::Item(slot, |x| x.complex.len()),
        _ => return None,
    })
}

/// Lowers, in place, every condition within `e`: those of quantifiers and of `if`, and every
/// `and`, `or` and `not`.
pub fn lower_within(e: &mut CExpr) {
    // An `and`, `or` or `not` whose value is used (`let repealed = a and b`) is a condition too;
    // within one, the operands are lowered with it.
    let within_bool = is_bool_op(e);
    e.for_each_child_mut(&mut |c, tested| {
        if tested || (is_bool_op(c) && !within_bool) { lower_condition(c) } else { lower_within(c) }
    });
}

fn is_bool_op(e: &CExpr) -> bool {
    matches!(e, CExpr::Bin(BinOp::And | BinOp::Or, ..) | CExpr::Not(_))
}

/// Undoes [`lower_within`]: every lowered condition in `e` back to the expression it came from
/// (tests compare the two).
pub fn restore(e: &mut CExpr) {
    if let CExpr::Cond(c) = e {
        let orig = std::mem::replace(&mut c.1, CExpr::Bool(false));
        *e = orig;
    }
    e.for_each_child_mut(&mut |c, _| restore(c));
}

/// Lowers `e`, a condition, in place (and the conditions within it).
pub fn lower_condition(e: &mut CExpr) {
    lower_within(e);
    if let Some(c) = lower(e) {
        let orig = std::mem::replace(e, CExpr::Bool(false));
        *e = CExpr::Cond(Box::new((c, orig)));
    }
}

/// Undoes the lowering in every rule and list of `program`: the conditions as written, tested
/// by the general evaluator. Tests compare the two programs' reports.
pub fn restore_program(program: &mut super::Program) {
    let steps = program.rules.iter_mut().map(|r| &mut r.steps).chain(program.lists.iter_mut().map(|l| &mut l.steps));
    for steps in steps {
        for s in steps.iter_mut() {
            match s {
                super::Step::For(_, e) | super::Step::Let(_, e) | super::Step::When(e) => restore(e),
            }
        }
    }
}
