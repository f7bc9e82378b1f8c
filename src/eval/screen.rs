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

use super::RunOptions;
use crate::compile::cond::{Cond, MatTest, material_texts};
use crate::compile::types::{Builtin, Field};
use crate::compile::{CExpr, CompiledRule, Lookup, Root, Step};
use crate::corpus::Corpus;
use crate::corpus::model::{Citation, Date, Item, Material, Waiver};
use crate::corpus::normalize;
use crate::corpus::reference::{Certificate, Cover, References, SharedEntry, Statute};
use crate::source::Spanned;
use crate::syntax::ast::{BinOp, QuantKind};

/// A rule's screen: see the module documentation.
pub struct Screen {
    go: Go,
    consts: Consts,
    slots: usize,
    root_slot: usize,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen").field("slots", &self.slots).finish_non_exhaustive()
    }
}

/// The literals a screen's closures hand out as values: held here, so that a value borrows them
/// for as long as it borrows the corpus.
#[derive(Default)]
struct Consts {
    texts: Vec<Arc<str>>,
    regexes: Vec<Arc<Regex>>,
    lists: Vec<Vec<CExpr>>,
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

type Ex = Box<dyn for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<V<'a>> + Send + Sync>;
type Cd = Box<dyn for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<bool> + Send + Sync>;
/// Runs the rest of a rule: `false` only when no path reaches its end.
type Go = Box<dyn for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> bool + Send + Sync>;

impl Screen {
    /// The screen of an item rule; `None` for a chain rule and for a rule without a `when`
    /// (which reports on every item it runs on).
    #[must_use]
    pub fn build(rule: &CompiledRule) -> Option<Screen> {
        if rule.root != Root::Items {
            return None;
        }
        let last = rule.steps.iter().rposition(|s| matches!(s, Step::When(_)))?;
        let steps = rule.steps.get(..=last)?;
        let mut b = Builder::default();
        let mut go: Go = Box::new(|_, _| true);
        for (i, step) in steps.iter().enumerate().rev() {
            // A `when` on the material a loop just bound is tested by the loop itself.
            if let Step::When(CExpr::Cond(c)) = step
                && let Cond::Mat(mc) = &c.0
                && let Some(Step::For(slot, _)) = i.checked_sub(1).and_then(|p| steps.get(p))
                && *slot == mc.slot
            {
                b.pending_filter = Some(mc.test.clone());
                continue;
            }
            go = b.step(step, go);
        }
        Some(Screen { go, consts: b.consts, slots: rule.slots, root_slot: rule.root_slot })
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
        let Some(item) = corpus.items.get(index as usize) else { return true };
        let slots = self.slots.max(self.root_slot.saturating_add(1));
        if env.len() < slots {
            env.resize(slots, V::Absent);
        }
        set(env, self.root_slot, V::Item(item, index));
        let fx = Fx { corpus, refs, as_of: opts.as_of, consts: &self.consts };
        (self.go)(&fx, env)
    }
}

fn set<'a>(env: &mut [V<'a>], slot: usize, v: V<'a>) {
    if let Some(s) = env.get_mut(slot) {
        *s = v;
    }
}

fn get<'a>(env: &[V<'a>], slot: usize) -> Option<V<'a>> {
    env.get(slot).copied()
}

#[derive(Default)]
struct Builder {
    consts: Consts,
    /// The material test of the `when` after the loop being built.
    pending_filter: Option<MatTest>,
}

impl Builder {
    fn step(&mut self, step: &Step, next: Go) -> Go {
        match step {
            Step::Let(slot, e) => {
                let (slot, e) = (*slot, self.ex(e));
                Box::new(move |fx, env| match e(fx, env) {
                    Some(v) => {
                        set(env, slot, v);
                        next(fx, env)
                    }
                    None => true,
                })
            }
            Step::When(c) => {
                let c = self.cond(c);
                Box::new(move |fx, env| match c(fx, env) {
                    Some(false) => false,
                    Some(true) => next(fx, env),
                    None => true,
                })
            }
            Step::For(slot, list) => {
                let (slot, list) = (*slot, self.ex(list));
                if let Some(test) = self.pending_filter.take() {
                    // The `when` after the loop tests the material alone: tested before binding.
                    return Box::new(move |fx, env| {
                        let Some(V::List(l)) = list(fx, env) else { return true };
                        let L::Mats(it, i, end) = l else { return true };
                        for (k, m) in it.materials.iter().enumerate().take(end as usize) {
                            match test(m) {
                                Some(false) => continue,
                                Some(true) => {}
                                None => return true,
                            }
                            let Ok(k) = u32::try_from(k) else { return true };
                            set(env, slot, V::Mat(m, it, i, k));
                            if next(fx, env) {
                                return true;
                            }
                        }
                        false
                    });
                }
                Box::new(move |fx, env| {
                    let Some(V::List(l)) = list(fx, env) else { return true };
                    let Some(mut it) = Iter::new(l) else { return true };
                    while let Some(v) = it.next(fx) {
                        set(env, slot, v);
                        if next(fx, env) {
                            return true;
                        }
                    }
                    false
                })
            }
        }
    }

    /// A condition: `Some(answer)`, or `None` to give up (which includes a value that is not a
    /// yes or no, an evaluation error for the interpreter).
    fn cond(&mut self, e: &CExpr) -> Cd {
        match e {
            CExpr::Cond(c) => match &c.0 {
                // A condition on one material: the compiler's own function of the material.
                Cond::Mat(mc) => {
                    let (slot, test) = (mc.slot, mc.test.clone());
                    Box::new(move |_, env| match get(env, slot)? {
                        V::Mat(m, ..) => test(m),
                        _ => None,
                    })
                }
                _ => self.cond(&c.1),
            },
            CExpr::Bin(BinOp::And, a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                Box::new(move |fx, env| if a(fx, env)? { b(fx, env) } else { Some(false) })
            }
            CExpr::Bin(BinOp::Or, a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                Box::new(move |fx, env| if a(fx, env)? { Some(true) } else { b(fx, env) })
            }
            CExpr::Not(a) => {
                let a = self.cond(a);
                Box::new(move |fx, env| a(fx, env).map(|b| !b))
            }
            // The commonest tests answered without making a value first.
            CExpr::Call(Builtin::Empty, args) if args.len() == 1 => {
                let Some(a) = args.first() else { return Box::new(|_, _| None) };
                let a = self.ex(a);
                Box::new(move |fx, env| is_empty(fx, a(fx, env)?))
            }
            CExpr::Call(Builtin::Exists, args) if args.len() == 1 => match args.first() {
                Some(CExpr::Var(slot)) => {
                    let slot = *slot;
                    Box::new(move |_, env| Some(!matches!(get(env, slot)?, V::Absent)))
                }
                Some(a) => {
                    let a = self.ex(a);
                    Box::new(move |fx, env| Some(!matches!(a(fx, env)?, V::Absent)))
                }
                None => Box::new(|_, _| Some(false)),
            },
            // `x == "字面"`, `x != "字面"`: the literal compared where it lies.
            CExpr::Bin(op @ (BinOp::Eq | BinOp::Ne), a, b) if literal_text(a, b).is_some() => {
                let Some((other, lit)) = literal_text(a, b) else { return Box::new(|_, _| None) };
                let (a, eq, lit) = (self.ex(other), *op == BinOp::Eq, lit.clone());
                Box::new(move |fx, env| {
                    let same = match a(fx, env)? {
                        V::Str(x) => x == &*lit,
                        V::Text => return None,
                        _ => false,
                    };
                    Some(same == eq)
                })
            }
            _ => {
                let e = self.ex(e);
                Box::new(move |fx, env| match e(fx, env)? {
                    V::Bool(b) => Some(b),
                    _ => None,
                })
            }
        }
    }

    /// A condition as a value.
    fn truth(&mut self, e: &CExpr) -> Ex {
        let c = self.cond(e);
        Box::new(move |fx, env| c(fx, env).map(V::Bool))
    }

    /// A literal, or a list of literals ([`is_constant`]), as a [`Const`] (its text or list
    /// held in the screen's table); `None` for anything else.
    fn constant(&mut self, e: &CExpr) -> Option<Const> {
        Some(match e {
            CExpr::Bool(b) => Const::V(V::Bool(*b)),
            CExpr::Int(n) => Const::V(V::Int(*n)),
            CExpr::Date(d) => Const::V(V::Date(*d)),
            CExpr::Str(s) => Const::Text(self.text(s)),
            CExpr::List(items) if items.iter().all(super::is_literal) => {
                self.consts.lists.push(items.clone());
                Const::List(self.consts.lists.len().saturating_sub(1))
            }
            _ => return None,
        })
    }

    fn text(&mut self, s: &Arc<str>) -> usize {
        self.consts.texts.push(s.clone());
        self.consts.texts.len().saturating_sub(1)
    }

    fn ex(&mut self, e: &CExpr) -> Ex {
        if let Some(c) = self.constant(e) {
            return Box::new(move |fx, _| c.value(fx));
        }
        match e {
            // Literals are constants, answered above.
            CExpr::Bool(_) | CExpr::Int(_) | CExpr::Date(_) | CExpr::Str(_) => Box::new(|_, _| None),
            CExpr::Regex(r) => {
                self.consts.regexes.push(r.clone());
                let k = self.consts.regexes.len().saturating_sub(1);
                Box::new(move |fx, _| fx.consts.regexes.get(k).map(|r| V::Regex(r)))
            }
            CExpr::List(items) => {
                let items: Vec<Ex> = items.iter().map(|i| self.ex(i)).collect();
                Box::new(move |fx, env| {
                    for i in &items {
                        i(fx, env)?;
                    }
                    Some(V::List(L::Count(items.len())))
                })
            }
            CExpr::Var(slot) => {
                let slot = *slot;
                Box::new(move |_, env| get(env, slot))
            }
            CExpr::AsOf => Box::new(|fx, _| Some(V::Date(fx.as_of))),
            CExpr::Field(inner, f) => {
                let f = *f;
                if let CExpr::Var(slot) = **inner {
                    return var_field(slot, f);
                }
                let inner = self.ex(inner);
                Box::new(move |fx, env| field(fx, inner(fx, env)?, f))
            }
            CExpr::Unwrap(inner, _) => {
                let inner = self.ex(inner);
                Box::new(move |fx, env| match inner(fx, env)? {
                    V::Absent => None,
                    v => Some(v),
                })
            }
            CExpr::Call(b, args) => self.call(*b, args),
            CExpr::Quant(kind, slot, list, cond) => self.quant(*kind, *slot, list, cond),
            CExpr::Lookup(q) => self.lookup(q),
            // `if c then [..] else []` and the like: the branches read where they lie, not run.
            CExpr::If(c, a, b) if is_constant(a) && is_constant(b) => {
                let (c, a, b) = (self.cond(c), self.constant(a), self.constant(b));
                let (Some(a), Some(b)) = (a, b) else { return Box::new(|_, _| None) };
                Box::new(move |fx, env| if c(fx, env)? { a.value(fx) } else { b.value(fx) })
            }
            CExpr::If(c, a, b) => {
                let (c, a, b) = (self.cond(c), self.ex(a), self.ex(b));
                Box::new(move |fx, env| if c(fx, env)? { a(fx, env) } else { b(fx, env) })
            }
            CExpr::Not(_) | CExpr::Cond(_) | CExpr::Bin(BinOp::And | BinOp::Or, ..) => self.truth(e),
            CExpr::Bin(BinOp::Eq | BinOp::Ne, a, b) if literal_text(a, b).is_some() => self.truth(e),
            CExpr::Neg(a) => {
                let a = self.ex(a);
                Box::new(move |fx, env| match a(fx, env)? {
                    V::Int(n) => n.checked_neg().map(V::Int),
                    _ => None,
                })
            }
            CExpr::Bin(op, a, b) => self.binary(*op, a, b),
            // Every record of the corpus: the loops these make are the interpreter's to run.
            CExpr::Items | CExpr::Chains => Box::new(|_, _| None),
        }
    }

    /// A [`CExpr::Lookup`] as the interpreter runs it on an item's materials: the key evaluated
    /// once, each material's field compared in place, and only the equal ones bound and tested.
    /// Elsewhere the plain quantifier, which tests the same elements (the condition starts with
    /// the equality, and `and` stops there on the others).
    fn lookup(&mut self, q: &Lookup) -> Ex {
        let plain = self.quant(q.kind, q.slot, &q.list, &q.cond);
        let Some(read) = q.material_text else { return plain };
        let (list, key, cond, kind, slot) = (self.ex(&q.list), self.ex(&q.key), self.cond(&q.cond), q.kind, q.slot);
        Box::new(move |fx, env| {
            let V::List(L::Mats(it, i, end)) = list(fx, env)? else { return plain(fx, env) };
            if end == 0 {
                return plain(fx, env);
            }
            let key = match key(fx, env)? {
                V::Str(s) => Some(s),
                V::Absent => None,
                _ => return plain(fx, env),
            };
            let equal = it.materials.iter().zip(0..end).filter(|(m, _)| read(m) == key);
            quantify(fx, env, (kind, slot, &cond), equal.map(|(m, k)| V::Mat(m, it, i, k)))
        })
    }

    fn quant(&mut self, kind: QuantKind, slot: usize, list: &CExpr, cond: &CExpr) -> Ex {
        let (list, cond) = (self.ex(list), self.cond(cond));
        Box::new(move |fx, env| {
            let V::List(l) = list(fx, env)? else { return None };
            let mut it = Iter::new(l)?;
            quantify(fx, env, (kind, slot, &cond), std::iter::from_fn(|| it.next(fx)))
        })
    }

    fn binary(&mut self, op: BinOp, a: &CExpr, b: &CExpr) -> Ex {
        let (a, b) = (self.ex(a), self.ex(b));
        if op == BinOp::Coalesce {
            return Box::new(move |fx, env| match a(fx, env)? {
                V::Absent => b(fx, env),
                v => Some(v),
            });
        }
        Box::new(move |fx, env| {
            let va = a(fx, env)?;
            let vb = b(fx, env)?;
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
                    (V::Str(x), V::Regex(re)) => V::Bool(re.is_match(x)),
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
        })
    }

    fn call(&mut self, b: Builtin, args: &[CExpr]) -> Ex {
        // The first argument; a call without one is given an absent value, as the interpreter does.
        let arg: Ex = match args.first() {
            Some(a) => self.ex(a),
            None => Box::new(|_, _| Some(V::Absent)),
        };
        match b {
            Builtin::Exists => Box::new(move |fx, env| Some(V::Bool(!matches!(arg(fx, env)?, V::Absent)))),
            Builtin::Empty => Box::new(move |fx, env| is_empty(fx, arg(fx, env)?).map(V::Bool)),
            Builtin::Count => Box::new(move |fx, env| match arg(fx, env)? {
                V::List(l) => Some(V::Int(i64::try_from(l.len(fx)).unwrap_or(i64::MAX))),
                _ => Some(V::Int(0)),
            }),
            Builtin::Norm => Box::new(move |fx, env| match arg(fx, env)? {
                V::Str(_) | V::Text => Some(V::Text),
                _ => Some(V::Absent),
            }),
            Builtin::CatchAll => Box::new(move |fx, env| match arg(fx, env)? {
                V::Str(s) => Some(if fx.refs.phrases.find(s).is_some() { V::Text } else { V::Absent }),
                V::Text => None,
                _ => Some(V::Absent),
            }),
            Builtin::Shared | Builtin::Certificate | Builtin::Covers => {
                // A material's own name is normalised once, at load, as the interpreter uses it.
                let own_name = match args.first() {
                    Some(CExpr::Field(inner, Field::MatName)) => Some(self.ex(inner)),
                    _ => None,
                };
                Box::new(move |fx, env| {
                    let norm: &str = match &own_name {
                        Some(inner) => match inner(fx, env)? {
                            V::Mat(m, ..) => &m.norm_name,
                            _ => return Some(V::Absent),
                        },
                        None => match arg(fx, env)? {
                            V::Str(s) => {
                                // A text of the rule's own: normalised here, rarely.
                                return Some(lookup(fx, b, &normalize::name(s)));
                            }
                            V::Text => return None,
                            _ => return Some(V::Absent),
                        },
                    };
                    Some(lookup(fx, b, norm))
                })
            }
            Builtin::Citations | Builtin::Waivers => Box::new(move |fx, env| {
                Some(V::List(match arg(fx, env)? {
                    V::Item(it, _) if b == Builtin::Citations => L::ItemCits(it),
                    V::Item(it, _) => L::ItemWaivers(it),
                    _ => L::Count(0),
                }))
            }),
            Builtin::SameCode => Box::new(move |fx, env| {
                Some(V::List(match arg(fx, env)? {
                    V::Item(it, i) => L::Except(fx.corpus.items_with_code(&it.code.value), i),
                    _ => L::Count(0),
                }))
            }),
            Builtin::Preceding => Box::new(move |fx, env| {
                Some(V::List(match arg(fx, env)? {
                    V::Mat(_, it, i, k) => L::Mats(it, i, k),
                    _ => L::Count(0),
                }))
            }),
            Builtin::Date => Box::new(|_, _| Some(V::Absent)),
            // What other rules found (`used`), and the region tree: the interpreter's to answer.
            Builtin::Used | Builtin::InJurisdiction => Box::new(|_, _| None),
        }
    }
}

/// A literal of a rule, as [`Builder::constant`] keeps it.
#[derive(Clone, Copy)]
enum Const {
    /// A value that borrows nothing.
    V(V<'static>),
    /// Text `k` of the screen's table.
    Text(usize),
    /// List `k` of the screen's table.
    List(usize),
}

impl Const {
    fn value<'a>(self, fx: &Fx<'a>) -> Option<V<'a>> {
        match self {
            Const::V(v) => Some(v),
            Const::Text(k) => fx.consts.texts.get(k).map(|s| V::Str(s)),
            Const::List(k) => fx.consts.lists.get(k).map(|l| V::List(L::Lits(l))),
        }
    }
}

fn is_constant(e: &CExpr) -> bool {
    super::is_literal(e) || matches!(e, CExpr::List(items) if items.iter().all(super::is_literal))
}

/// `empty(v)` as the interpreter answers it; `None` (give up) for a text made at run time.
fn is_empty<'a>(fx: &Fx<'a>, v: V<'a>) -> Option<bool> {
    Some(match v {
        V::Absent => true,
        V::Str(s) => s.trim().is_empty(),
        V::Text => return None,
        V::List(l) => l.len(fx) == 0,
        _ => false,
    })
}

/// The other operand and the text of a comparison with a text literal.
fn literal_text<'e>(a: &'e CExpr, b: &'e CExpr) -> Option<(&'e CExpr, &'e Arc<str>)> {
    match (a, b) {
        (_, CExpr::Str(lit)) => Some((a, lit)),
        (CExpr::Str(lit), _) => Some((b, lit)),
        _ => None,
    }
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
fn quantify<'a>(
    fx: &Fx<'a>,
    env: &mut [V<'a>],
    (kind, slot, cond): (QuantKind, usize, &Cd),
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
fn lookup<'a>(fx: &Fx<'a>, b: Builtin, norm: &str) -> V<'a> {
    match b {
        Builtin::Shared => fx.refs.shared(norm).map_or(V::Absent, V::Shared),
        Builtin::Certificate => fx.refs.certificate(norm).map_or(V::Absent, V::Cert),
        _ => V::List(L::Covers(fx.refs.covers_indexes(norm))),
    }
}

/// Equality as [`super::value::Value::equals`]; `None` where it depends on what a screen does
/// not keep (the content of a text made at run time, the elements of a list).
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

fn text<'a>(s: Option<&'a Spanned<String>>) -> V<'a> {
    s.map_or(V::Absent, |s| V::Str(&s.value))
}

fn word<'a>(s: Option<&'a Spanned<&'static str>>) -> V<'a> {
    s.map_or(V::Absent, |s| V::Str(s.value))
}

fn int<'a>(n: Option<&Spanned<i64>>) -> V<'a> {
    n.map_or(V::Absent, |n| V::Int(n.value))
}

fn flag<'a>(b: Option<&Spanned<bool>>) -> V<'a> {
    b.map_or(V::Absent, |b| V::Bool(b.value))
}

fn opt_str(s: Option<&str>) -> V<'_> {
    s.map_or(V::Absent, V::Str)
}

/// Field `f` of record `v`, as the interpreter reads it (`Exec::text_field`, `Exec::field`);
/// `None` for a field of an absent record (an evaluation error) and for the fields a screen does
/// not read (lists of texts made at run time, file names, locations).
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
    fn new(list: L<'a>) -> Option<Self> {
        match list {
            L::Count(n) if n > 0 => None,
            _ => Some(Iter { list, k: 0, owner: 0 }),
        }
    }

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
    fn at<T>(&mut self, s: &'a [T]) -> Option<&'a T> {
        let x = s.get(self.k)?;
        self.k = self.k.saturating_add(1);
        Some(x)
    }

    /// The next record of the item's own list, then of each material's.
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
