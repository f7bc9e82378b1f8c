//! The operations a screen is made of, each a function that takes its parts (other operations,
//! slots, fields, literals) and returns the closure that runs it. They are the one definition of
//! what a screen computes: the screens built when a policy is compiled box each closure
//! ([`super::plan::Boxed`]), and the screens generated ahead of time for the built-in rules
//! ([`super::generated`]) nest the same calls, which the compiler then inlines into one function
//! per rule — no call through a pointer from one part to the next.
//!
//! Texts, regexes, lists and material tests are not built into a closure: each is read from the
//! screen's table ([`Consts`]) by its index when it runs, so that what a generated screen computes
//! depends on the shape of its rule only (see [`super::plan::Source`]).
//!
//! Every closure is `#[inline(always)]`: left to its own judgement the compiler kept some as
//! functions of their own — `var_field`'s, with the dispatch on the field inside, called for
//! every field of every rule — so a generated screen did not read its fields directly. Inlined
//! all the way down, a field known when the screen is written is read as such (the screens' 21
//! functions: 369 → 306 M instructions of a check of the 20,000-item corpus).

use super::{Const, Fx, Iter, L, V, field, get, is_empty, quantify, set};
use crate::compile::cond::{material_len, material_text};
use crate::compile::types::{Builtin, Field};
use crate::corpus::model::Material;
use crate::corpus::normalize;
use crate::syntax::ast::{BinOp, QuantKind};

/// An expression: its value, or `None` to give up.
pub trait ExF: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<V<'a>> + Send + Sync {}
impl<T: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<V<'a>> + Send + Sync> ExF for T {}
/// A condition: yes or no, or `None` to give up.
pub trait CdF: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<bool> + Send + Sync {}
impl<T: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<bool> + Send + Sync> CdF for T {}
/// A condition on one material alone: yes or no, or `None` to give up.
pub trait MtF: for<'a> Fn(&Fx<'a>, &'a Material) -> Option<bool> + Send + Sync {}
impl<T: for<'a> Fn(&Fx<'a>, &'a Material) -> Option<bool> + Send + Sync> MtF for T {}
/// The rest of a rule: `false` only when no path reaches its end.
pub trait GoF: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> bool + Send + Sync {}
impl<T: for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> bool + Send + Sync> GoF for T {}

// The closures' own types, spelled out where they are returned: a closure's signature is taken
// from them, with the lifetime every call chooses.
macro_rules! ex {
    () => { impl for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<V<'a>> + Send + Sync };
}
macro_rules! cd {
    () => { impl for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> Option<bool> + Send + Sync };
}
macro_rules! mt {
    () => { impl for<'a> Fn(&Fx<'a>, &'a Material) -> Option<bool> + Send + Sync };
}
macro_rules! go {
    () => { impl for<'a> Fn(&Fx<'a>, &mut [V<'a>]) -> bool + Send + Sync };
}

// ----- steps -----

/// The end of the rule (after its last `when`): a path that gets here may report.
#[inline]
pub fn done() -> go!() {
    #[inline(always)]
    |_, _| true
}

/// `let slot = e`, then the rest.
#[inline]
pub fn let_(slot: usize, e: impl ExF, next: impl GoF) -> go!() {
    #[inline(always)]
    move |fx, env| match e(fx, env) {
        Some(v) => {
            set(env, slot, v);
            next(fx, env)
        }
        None => true,
    }
}

/// `when c`, then the rest.
#[inline]
pub fn when(c: impl CdF, next: impl GoF) -> go!() {
    #[inline(always)]
    move |fx, env| match c(fx, env) {
        Some(false) => false,
        Some(true) => next(fx, env),
        None => true,
    }
}

/// `for slot in list`, then the rest for each element.
#[inline]
pub fn for_(slot: usize, list: impl ExF, next: impl GoF) -> go!() {
    #[inline(always)]
    move |fx, env| {
        let Some(V::List(l)) = list(fx, env) else { return true };
        let Some(mut it) = Iter::new(l) else { return true };
        while let Some(v) = it.next(fx) {
            set(env, slot, v);
            if next(fx, env) {
                return true;
            }
        }
        false
    }
}

/// `for slot in list` over materials followed by a `when` on the material alone, the compiler's
/// material test `test` of the table.
#[inline]
pub fn for_tested(slot: usize, list: impl ExF, test: usize, next: impl GoF) -> go!() {
    for_mat(slot, list, compiled(test), next)
}

/// `for slot in list` over materials followed by a `when` on the material alone, `test`: each
/// material is tested before it is bound.
#[inline]
pub fn for_mat(slot: usize, list: impl ExF, test: impl MtF, next: impl GoF) -> go!() {
    #[inline(always)]
    move |fx, env| {
        let Some(V::List(l)) = list(fx, env) else { return true };
        let L::Mats(it, i, end) = l else { return true };
        for (k, m) in it.materials.iter().enumerate().take(end as usize) {
            match test(fx, m) {
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
    }
}

// ----- conditions -----

/// `test` on the material in `slot`.
#[inline]
pub fn mat_cond(slot: usize, test: impl MtF) -> cd!() {
    #[inline(always)]
    move |fx, env| match get(env, slot)? {
        V::Mat(m, ..) => test(fx, m),
        _ => None,
    }
}

/// The compiler's material test `test` of the table on the material in `slot`.
#[inline]
pub fn mat_test(slot: usize, test: usize) -> cd!() {
    mat_cond(slot, compiled(test))
}

#[inline]
pub fn and(a: impl CdF, b: impl CdF) -> cd!() {
    #[inline(always)]
    move |fx, env| if a(fx, env)? { b(fx, env) } else { Some(false) }
}

#[inline]
pub fn or(a: impl CdF, b: impl CdF) -> cd!() {
    #[inline(always)]
    move |fx, env| if a(fx, env)? { Some(true) } else { b(fx, env) }
}

#[inline]
pub fn not(a: impl CdF) -> cd!() {
    #[inline(always)]
    move |fx, env| a(fx, env).map(|b| !b)
}

/// `empty(a)`, answered without making a value first.
#[inline]
pub fn is_empty_cd(a: impl ExF) -> cd!() {
    #[inline(always)]
    move |fx, env| is_empty(fx, a(fx, env)?)
}

/// `exists(v)` of variable `slot`.
#[inline]
pub fn exists_var(slot: usize) -> cd!() {
    #[inline(always)]
    move |_, env| Some(!matches!(get(env, slot)?, V::Absent))
}

/// `exists(a)`, answered without making a value first.
#[inline]
pub fn exists_cd(a: impl ExF) -> cd!() {
    #[inline(always)]
    move |fx, env| Some(!matches!(a(fx, env)?, V::Absent))
}

/// A condition that is always `answer`.
#[inline]
pub fn answer(answer: Option<bool>) -> cd!() {
    #[inline(always)]
    move |_, _| answer
}

/// `a == "字面"` (`eq`) or `a != "字面"`, the literal text `lit` of the table compared where it lies.
#[inline]
pub fn text_is(a: impl ExF, eq: bool, lit: usize) -> cd!() {
    #[inline(always)]
    move |fx, env| {
        let same = match a(fx, env)? {
            V::Str(x) => x == &**fx.consts.texts.get(lit)?,
            V::Text => return None,
            _ => false,
        };
        Some(same == eq)
    }
}

/// A value that must be a yes or no.
#[inline]
pub fn truth_of(e: impl ExF) -> cd!() {
    #[inline(always)]
    move |fx, env| match e(fx, env)? {
        V::Bool(b) => Some(b),
        _ => None,
    }
}

// ----- values -----

/// A condition as a value.
#[inline]
pub fn truth(c: impl CdF) -> ex!() {
    #[inline(always)]
    move |fx, env| c(fx, env).map(V::Bool)
}

/// A literal, or a list of literals.
#[inline]
pub fn constant(c: Const) -> ex!() {
    #[inline(always)]
    move |fx, _| c.value(fx)
}

/// A value that is always `v`: absent, or `None` to give up.
#[inline]
pub fn always(v: Option<V<'static>>) -> ex!() {
    #[inline(always)]
    move |_, _| v
}

/// Regex `k` of the table.
#[inline]
pub fn regex(k: usize) -> ex!() {
    #[inline(always)]
    move |fx, _| fx.consts.regexes.get(k).map(|r| V::Regex(r))
}

/// The empty list made at run time (`[]` of an expression that is not a literal).
#[inline]
pub fn list_end() -> ex!() {
    #[inline(always)]
    |_, _| Some(V::List(L::Count(0)))
}

/// A list made at run time, one element (`head`, evaluated for its errors) before the `rest`.
#[inline]
pub fn list_item(head: impl ExF, rest: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        head(fx, env)?;
        match rest(fx, env)? {
            V::List(L::Count(n)) => Some(V::List(L::Count(n.checked_add(1)?))),
            _ => None,
        }
    }
}

/// Variable `slot`.
#[inline]
pub fn var(slot: usize) -> ex!() {
    #[inline(always)]
    move |_, env| get(env, slot)
}

#[inline]
pub fn as_of() -> ex!() {
    #[inline(always)]
    |fx, _| Some(V::Date(fx.as_of))
}

/// Field `f` of the record in variable `slot`.
#[inline]
pub fn var_field(slot: usize, f: Field) -> ex!() {
    #[inline(always)]
    move |fx, env| field(fx, get(env, slot)?, f)
}

/// Field `f` of the value of `inner`.
#[inline]
pub fn field_of(inner: impl ExF, f: Field) -> ex!() {
    #[inline(always)]
    move |fx, env| field(fx, inner(fx, env)?, f)
}

/// A value the checker proved present: absent is an evaluation error.
#[inline]
pub fn unwrap(inner: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match inner(fx, env)? {
        V::Absent => None,
        v => Some(v),
    }
}

/// `if c then a else b` of two literals.
#[inline]
pub fn if_const(c: impl CdF, a: Const, b: Const) -> ex!() {
    #[inline(always)]
    move |fx, env| if c(fx, env)? { a.value(fx) } else { b.value(fx) }
}

#[inline]
pub fn if_(c: impl CdF, a: impl ExF, b: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| if c(fx, env)? { a(fx, env) } else { b(fx, env) }
}

#[inline]
pub fn neg(a: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match a(fx, env)? {
        V::Int(n) => n.checked_neg().map(V::Int),
        _ => None,
    }
}

/// `a ?? b`.
#[inline]
pub fn coalesce(a: impl ExF, b: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match a(fx, env)? {
        V::Absent => b(fx, env),
        v => Some(v),
    }
}

/// `a op b` for the operators that evaluate both sides.
#[inline]
pub fn binary(op: BinOp, a: impl ExF, b: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        let va = a(fx, env)?;
        let vb = b(fx, env)?;
        super::binary(fx, op, va, vb)
    }
}

/// `any`, `all`, `first` or `count` of `cond` over `list`, each element bound to `slot`.
#[inline]
pub fn quant(kind: QuantKind, slot: usize, list: impl ExF, cond: impl CdF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        let V::List(l) = list(fx, env)? else { return None };
        let mut it = Iter::new(l)?;
        quantify(fx, env, (kind, slot, &cond), std::iter::from_fn(|| it.next(fx)))
    }
}

/// A quantifier over an item's materials whose condition starts with `x.f == key` (`f` a text
/// field of a material), as the interpreter runs it: the key evaluated once, each material's
/// field compared in place, and only the equal ones bound and tested. `plain` is the
/// quantifier as such, for any other list.
#[inline]
pub fn lookup(
    plain: impl ExF,
    (kind, slot, f): (QuantKind, usize, Field),
    list: impl ExF,
    key: impl ExF,
    cond: impl CdF,
) -> ex!() {
    let read = material_text(f);
    #[inline(always)]
    move |fx, env| {
        let Some(read) = read else { return plain(fx, env) };
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
    }
}

// ----- built-in functions -----

#[inline]
pub fn exists(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| Some(V::Bool(!matches!(arg(fx, env)?, V::Absent)))
}

#[inline]
pub fn empty(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| is_empty(fx, arg(fx, env)?).map(V::Bool)
}

#[inline]
pub fn count(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match arg(fx, env)? {
        V::List(l) => Some(V::Int(i64::try_from(l.len(fx)).unwrap_or(i64::MAX))),
        _ => Some(V::Int(0)),
    }
}

#[inline]
pub fn norm(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match arg(fx, env)? {
        V::Str(_) | V::Text => Some(V::Text),
        _ => Some(V::Absent),
    }
}

#[inline]
pub fn catch_all(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match arg(fx, env)? {
        V::Str(s) => Some(if fx.refs.phrases.find(s).is_some() { V::Text } else { V::Absent }),
        V::Text => None,
        _ => Some(V::Absent),
    }
}

/// `catch_all` of a material's own name (`note` false) or note (`note` true), `mat` the
/// material: asked of the text the loader shares among the materials written alike, without
/// reading it again.
#[inline]
pub fn catch_all_of(mat: impl ExF, note: bool) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        let V::Mat(m, ..) = mat(fx, env)? else { return Some(V::Absent) };
        let text = if note { m.note.as_ref().map(|n| &n.value) } else { Some(&m.name.value) };
        Some(if text.is_some_and(|t| fx.refs.phrases.of_shared(t)) { V::Text } else { V::Absent })
    }
}

/// `shared`, `certificate` or `covers` (`b`) of a material's own name, `mat` the material: its
/// name was normalised once, at load, as the interpreter uses it.
#[inline]
pub fn table_by_own_name(b: Builtin, mat: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match mat(fx, env)? {
        V::Mat(m, ..) => Some(super::table(fx, b, &m.norm_name)),
        _ => Some(V::Absent),
    }
}

/// `shared`, `certificate` or `covers` (`b`) of any other text.
#[inline]
pub fn table_by(b: Builtin, arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| match arg(fx, env)? {
        // A text of the rule's own: normalised here, rarely.
        V::Str(s) => Some(super::table(fx, b, &normalize::name(s))),
        V::Text => None,
        _ => Some(V::Absent),
    }
}

/// `citations(item)` (`b`) or `waivers(item)`.
#[inline]
pub fn owned(b: Builtin, arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        Some(V::List(match arg(fx, env)? {
            V::Item(it, _) if b == Builtin::Citations => L::ItemCits(it),
            V::Item(it, _) => L::ItemWaivers(it),
            _ => L::Count(0),
        }))
    }
}

#[inline]
pub fn same_code(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        Some(V::List(match arg(fx, env)? {
            V::Item(it, i) => L::Except(fx.corpus.items_with_code(&it.code.value), i),
            _ => L::Count(0),
        }))
    }
}

#[inline]
pub fn preceding(arg: impl ExF) -> ex!() {
    #[inline(always)]
    move |fx, env| {
        Some(V::List(match arg(fx, env)? {
            V::Mat(_, it, i, k) => L::Mats(it, i, k),
            _ => L::Count(0),
        }))
    }
}

// ----- conditions on one material, as the compiler's material tests (`compile::cond`) -----

/// A text field of a material as a lowered condition reads it: `default` (a text of the table)
/// when it is absent, and absent a reason to give up when the checker proved it `present`.
#[derive(Debug, Clone, Copy)]
pub struct MatRead {
    pub field: Field,
    pub default: Option<usize>,
    pub present: bool,
}

impl MatRead {
    /// Reads the text of a material: `Some(None)` when absent, `None` to give up. The field's
    /// reader is chosen here, once, not at every material.
    #[inline(always)]
    fn reader(self) -> impl for<'a> Fn(&Fx<'a>, &'a Material) -> Option<Option<&'a str>> + Send + Sync {
        let get = material_text(self.field);
        move |fx, m| {
            let v = match get?(m) {
                Some(v) => Some(v),
                None => match self.default {
                    Some(k) => Some(&**fx.consts.texts.get(k)?),
                    None => None,
                },
            };
            if self.present && v.is_none() {
                return None;
            }
            Some(v)
        }
    }
}

/// The compiler's material test `test` of the table, for a condition it has no operations for.
#[inline]
fn compiled(test: usize) -> mt!() {
    #[inline(always)]
    move |fx, m| fx.consts.tests.get(test)?(m)
}

/// `and` of two material conditions.
#[inline]
pub fn mt_and(a: impl MtF, b: impl MtF) -> mt!() {
    #[inline(always)]
    move |fx, m| if a(fx, m)? { b(fx, m) } else { Some(false) }
}

/// `or` of two material conditions.
#[inline]
pub fn mt_or(a: impl MtF, b: impl MtF) -> mt!() {
    #[inline(always)]
    move |fx, m| if a(fx, m)? { Some(true) } else { b(fx, m) }
}

#[inline]
pub fn mt_not(a: impl MtF) -> mt!() {
    #[inline(always)]
    move |fx, m| a(fx, m).map(|b| !b)
}

/// `and` (`false`) or `or` (`true`) of no conditions.
#[inline]
pub fn mt_none(any: bool) -> mt!() {
    #[inline(always)]
    move |_, _| Some(!any)
}

/// The text `== lit` (`eq`) or `!= lit`, `lit` a text of the table.
#[inline]
pub fn mt_eq(r: MatRead, lit: usize, eq: bool) -> mt!() {
    let read = r.reader();
    #[inline(always)]
    move |fx, m| {
        let v = read(fx, m)?;
        Some((v == Some(&**fx.consts.texts.get(lit)?)) == eq)
    }
}

/// The text `in` (`is_in`) or `not in` the texts `set` of the table.
#[inline]
pub fn mt_in(r: MatRead, set: usize, is_in: bool) -> mt!() {
    let read = r.reader();
    #[inline(always)]
    move |fx, m| {
        let v = read(fx, m)?;
        let set = fx.consts.sets.get(set)?;
        Some(v.is_some_and(|x| set.iter().any(|s| **s == *x)) == is_in)
    }
}

/// `exists(text)` (`true`) or `empty(text)` (`false`).
#[inline]
pub fn mt_exists(r: MatRead, exists: bool) -> mt!() {
    let read = r.reader();
    #[inline(always)]
    move |fx, m| {
        let v = read(fx, m)?;
        Some(if exists { v.is_some() } else { v.is_none_or(|s| s.trim().is_empty()) })
    }
}

/// `exists(list)` (`true`, always) or `empty(list)` (`false`) of a list field.
#[inline]
pub fn mt_list_exists(f: Field, exists: bool) -> mt!() {
    let len = material_len(f);
    #[inline(always)]
    move |_, m| Some(exists || len?(m) == 0)
}

/// The text `matches` regex `re` of the table (absent: give up).
#[inline]
pub fn mt_matches(r: MatRead, re: usize) -> mt!() {
    let read = r.reader();
    #[inline(always)]
    move |fx, m| Some(fx.consts.regexes.get(re)?.is_match(read(fx, m)??))
}
