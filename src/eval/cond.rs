//! Testing lowered conditions ([`crate::compile::cond`]).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{Exec, R, Value};
use crate::compile::cond::{Cond, Leaf, Len, MatText, Num, Src, Text};
use crate::compile::types::Field;
use crate::corpus::model::{Date, Item, Material};

/// A number or a date read in place.
#[derive(Clone, Copy)]
enum Scalar {
    Int(i64),
    Date(Date),
}

impl Scalar {
    /// `None` for a number against a date: the expression says what that is.
    fn cmp(self, other: Scalar) -> Option<Ordering> {
        match (self, other) {
            (Scalar::Int(x), Scalar::Int(y)) => Some(x.cmp(&y)),
            (Scalar::Date(x), Scalar::Date(y)) => Some(x.cmp(&y)),
            _ => None,
        }
    }
}

impl<'a> Exec<'a, '_> {
    /// The same answer and the same errors as `test` of the expression `c` was lowered from.
    pub(super) fn cond(&mut self, c: &'a Cond) -> R<bool> {
        match c {
            Cond::All(parts) => {
                for p in parts {
                    if !self.part(p)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Cond::Any(parts) => {
                for p in parts {
                    if self.part(p)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => self.part(c),
        }
    }

    /// One operand of `and` / `or`: leaves are answered here, without a call per operand.
    #[inline]
    fn part(&mut self, c: &'a Cond) -> R<bool> {
        match c {
            Cond::Leaf(l, orig) => match self.leaf(l) {
                Some(b) => Ok(b),
                None => self.test(orig),
            },
            Cond::Not(a) => Ok(!self.cond(a)?),
            Cond::Other(e) => self.test(e),
            Cond::All(_) | Cond::Any(_) => self.cond(c),
            Cond::Mat(mc) => match self.material_in(mc.slot).and_then(|m| (mc.test)(m)) {
                Some(b) => Ok(b),
                None => self.cond(&mc.cond),
            },
        }
    }

    /// A lowered test's answer; `None` when it has none (the expression is then tested).
    #[inline(always)]
    fn leaf(&self, l: &'a Leaf) -> Option<bool> {
        Some(match l {
            Leaf::MatEq(m, lit, eq) => (self.mat_text(m)? == Some(&**lit)) == *eq,
            Leaf::MatIn(m, set, is_in) => {
                let found = self.mat_text(m)?.is_some_and(|x| set.iter().any(|s| **s == *x));
                found == *is_in
            }
            Leaf::MatExists(m, true) => self.mat_text(m)?.is_some(),
            Leaf::MatExists(m, false) => self.mat_text(m)?.is_none_or(|s| s.trim().is_empty()),
            Leaf::TextEq(a, b, eq) => (self.text(a)? == self.text(b)?) == *eq,
            Leaf::TextIn(a, set, is_in) => {
                let found = self.text(a)?.is_some_and(|x| set.iter().any(|s| **s == *x));
                found == *is_in
            }
            Leaf::Matches(a, re) => re.is_match(self.text(a)??),
            Leaf::TextExists(a, true) => self.text(a)?.is_some(),
            Leaf::TextExists(a, false) => self.text(a)?.is_none_or(|s| s.trim().is_empty()),
            // A list is never absent; it is empty when it has no element.
            Leaf::ListExists(n, exists) => *exists || self.len(*n)? == 0,
            // Absent operands are left to the expression (an error for an order, `==` of two
            // absent values is true).
            Leaf::Cmp(a, op, b) => op.holds(self.num(a)??.cmp(self.num(b)??)?)?,
            Leaf::NumExists(n, exists) => self.num(n)?.is_some() == *exists,
            Leaf::Flag(slot, field) => match (self.env.get(*slot)?, field) {
                (Value::Citation(o, c), Field::CitArticleKnown) => self.citation(*o, *c).ok()?.article_known,
                (Value::Cover(c), Field::CoverObsolete) => c.obsolete,
                (rec, _) => match self.field(rec, *field).ok()? {
                    Value::Bool(b) => b,
                    _ => return None,
                },
            },
            Leaf::VarExists(slot, true) => !self.env.get(*slot)?.is_absent(),
            Leaf::VarExists(slot, false) => super::empty(self.env.get(*slot)?),
            Leaf::StatuteExists(slot, exists) => match self.env.get(*slot)? {
                Value::Citation(o, c) => {
                    let known = self.citation(*o, *c).ok()?.statute.and_then(|s| self.cx.refs.registry.get(s));
                    known.is_some() == *exists
                }
                _ => return None,
            },
        })
    }

    /// A number or a date read in place: `Some(None)` when absent, `None` when the variable does
    /// not hold what it is read from.
    fn num(&self, n: &'a Num) -> Option<Option<Scalar>> {
        Some(match n {
            Num::Int(v) => Some(Scalar::Int(*v)),
            Num::Date(d) => Some(Scalar::Date(*d)),
            Num::AsOf => Some(Scalar::Date(self.cx.opts.as_of)),
            Num::Var(slot) => match self.env.get(*slot)? {
                Value::Int(v) => Some(Scalar::Int(*v)),
                Value::Date(d) => Some(Scalar::Date(*d)),
                Value::Absent => None,
                _ => return None,
            },
            Num::Item(slot, get) => get(self.item_in(*slot)?).map(Scalar::Int),
            Num::Statute(slot, get) => match self.env.get(*slot)? {
                Value::Statute(s) => get(s).map(Scalar::Date),
                _ => return None,
            },
            Num::Count(slot) => match self.env.get(*slot)? {
                Value::List(l) => Some(Scalar::Int(i64::try_from(l.len()).ok()?)),
                _ => return None,
            },
            Num::WaiverExpires(slot) => match self.env.get(*slot)? {
                Value::Waiver(o, w) => self.waiver(*o, *w).ok()?.expires.as_ref().map(|e| Scalar::Date(e.value)),
                _ => return None,
            },
        })
    }

    /// A text read in place: `Some(None)` when absent, `None` when the variable does not hold
    /// what the text is read from.
    #[inline(always)]
    fn text(&self, t: &'a Text) -> Option<Option<&'a str>> {
        match t {
            Text::One(s) => self.src(s),
            Text::Or(s, default) => Some(Some(self.src(s)?.unwrap_or(default))),
            _ => self.text_nested(t),
        }
    }

    fn text_nested(&self, t: &'a Text) -> Option<Option<&'a str>> {
        match t {
            Text::Coalesce(a, b) => match self.text(a)? {
                Some(s) => Some(Some(s)),
                None => self.text(b),
            },
            // Absent where the checker proved it present is an error: the expression says so.
            Text::Unwrap(a) => Some(Some(self.text(a)??)),
            Text::One(_) | Text::Or(..) => self.text(t),
        }
    }

    /// A material's text read in place: `Some(None)` when absent, `None` when the variable
    /// does not hold a material or the text must be present and is not.
    #[inline(always)]
    fn mat_text(&self, m: &'a MatText) -> Option<Option<&'a str>> {
        m.read(self.material_in(m.slot)?)
    }

    /// The material in variable `slot`, if it holds one.
    #[inline(always)]
    pub(super) fn material_in(&self, slot: usize) -> Option<&'a Material> {
        match self.env.get(slot)? {
            Value::Material(i, m) => self.cx.corpus.items.get(*i as usize)?.materials.get(*m as usize),
            _ => None,
        }
    }

    /// The item in variable `slot`, if it holds one.
    #[inline(always)]
    fn item_in(&self, slot: usize) -> Option<&'a Item> {
        match self.env.get(slot)? {
            Value::Item(i) => self.cx.corpus.items.get(*i as usize),
            _ => None,
        }
    }

    #[inline(always)]
    fn src(&self, s: &'a Src) -> Option<Option<&'a str>> {
        match s {
            Src::Lit(s) => Some(Some(s)),
            Src::Material(slot, get, _) => Some(get(self.material_in(*slot)?)),
            Src::Item(slot, get) => Some(get(self.item_in(*slot)?)),
            Src::Var(slot) => match self.env.get(*slot)? {
                Value::Absent => Some(None),
                Value::Str(Cow::Borrowed(s)) => Some(Some(s)),
                _ => None,
            },
            Src::Field(slot, field) => self.text_field(self.env.get(*slot)?, *field),
        }
    }

    fn len(&self, n: Len) -> Option<usize> {
        match n {
            Len::Material(slot, get, _) => Some(get(self.material_in(slot)?)),
            Len::Item(slot, get) => Some(get(self.item_in(slot)?)),
        }
    }
}
