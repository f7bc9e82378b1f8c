//! Run-time values of the policy language. Records are handles into the corpus or the reference
//! tables, so evaluation copies no item data.

use std::borrow::Cow;
use std::ops::Range;
use std::rc::Rc;

use regex::Regex;

use crate::compile::CExpr;
use crate::corpus::model::Date;
use crate::corpus::reference::{Certificate, Cover, SharedEntry, Statute};

/// Where a waiver or citation sits: an item, or one of its materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    pub item: u32,
    pub material: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum Value<'a> {
    Absent,
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    Date(Date),
    Regex(&'a Regex),
    List(List<'a>),
    Item(u32),
    Material(u32, u32),
    Chain(u32),
    Step(u32, u32),
    Waiver(Owner, u32),
    Citation(Owner, u32),
    Statute(&'a Statute),
    Shared(&'a SharedEntry),
    Certificate(&'a Certificate),
    Cover(&'a Cover),
}

/// Records of one kind numbered from 0: the `k`-th is made on demand by [`Seq::at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seq {
    Items,
    Chains,
    /// The materials of an item.
    Materials(u32),
    /// The steps of a chain.
    Steps(u32),
    Citations(Owner),
    Waivers(Owner),
}

impl Seq {
    #[must_use]
    pub fn at<'a>(self, k: u32) -> Value<'a> {
        match self {
            Seq::Items => Value::Item(k),
            Seq::Chains => Value::Chain(k),
            Seq::Materials(i) => Value::Material(i, k),
            Seq::Steps(c) => Value::Step(c, k),
            Seq::Citations(o) => Value::Citation(o, k),
            Seq::Waivers(o) => Value::Waiver(o, k),
        }
    }
}

/// A list value. Lists of records the corpus already numbers (`item.materials`, `preceding(m)`,
/// `same_code(item)`) are not materialised: a rule that only counts them or stops at the first
/// match then costs nothing per element, and an item with many materials or a code shared by
/// many items stays linear.
#[derive(Debug, Clone)]
pub enum List<'a> {
    /// Values built at run time.
    Vals(Rc<Vec<Value<'a>>>),
    /// The records `start..end` of a sequence.
    Seq(Seq, Range<u32>),
    /// Items of an index slice in corpus order, except one (`same_code`: the item itself).
    ItemsExcept(&'a [u32], u32),
    /// A list literal of literals (`["申请表", "告知承诺"]`, `[]`), read from the rule itself:
    /// nothing is built, however often the rule runs.
    Lits(&'a [CExpr]),
}

impl<'a> List<'a> {
    #[must_use]
    pub fn seq(seq: Seq, len: usize) -> Self {
        List::Seq(seq, 0..u32::try_from(len).unwrap_or(u32::MAX))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            List::Vals(v) => v.len(),
            List::Seq(_, r) => r.len(),
            // The slice is in corpus order, so the excluded item is found by bisection.
            List::ItemsExcept(s, x) => s.len().saturating_sub(usize::from(s.binary_search(x).is_ok())),
            List::Lits(l) => l.len(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[must_use]
    pub fn iter(&self) -> ListIter<'_, 'a> {
        match self {
            List::Vals(v) => ListIter::Vals(v.iter()),
            List::Seq(s, r) => ListIter::Seq(*s, r.clone()),
            List::ItemsExcept(s, x) => ListIter::Except(s.iter(), *x),
            List::Lits(l) => ListIter::Lits(l.iter()),
        }
    }
}

/// The elements of a [`List`], by value (values are handles: cloning one is cheap).
pub enum ListIter<'l, 'a> {
    Vals(std::slice::Iter<'l, Value<'a>>),
    Seq(Seq, Range<u32>),
    Except(std::slice::Iter<'a, u32>, u32),
    Lits(std::slice::Iter<'a, CExpr>),
}

impl<'a> Iterator for ListIter<'_, 'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        match self {
            ListIter::Vals(it) => it.next().cloned(),
            ListIter::Seq(s, r) => r.next().map(|k| s.at(k)),
            ListIter::Except(it, x) => it.find(|&&j| j != *x).map(|&j| Value::Item(j)),
            ListIter::Lits(it) => it.next().map(Value::literal),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            ListIter::Vals(it) => it.size_hint(),
            ListIter::Seq(_, r) => r.size_hint(),
            ListIter::Except(it, _) => (0, it.size_hint().1),
            ListIter::Lits(it) => it.size_hint(),
        }
    }
}

impl<'a> Value<'a> {
    pub fn str(s: &'a str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }

    pub fn opt_str(s: Option<&'a str>) -> Self {
        s.map_or(Value::Absent, Value::str)
    }

    /// The value of a literal expression; anything else is absent (see [`List::Lits`]).
    #[must_use]
    pub fn literal(e: &'a CExpr) -> Self {
        match e {
            CExpr::Bool(b) => Value::Bool(*b),
            CExpr::Int(n) => Value::Int(*n),
            CExpr::Str(s) => Value::str(s),
            CExpr::Date(d) => Value::Date(*d),
            CExpr::Regex(r) => Value::Regex(r),
            _ => Value::Absent,
        }
    }

    pub fn list(v: Vec<Value<'a>>) -> Self {
        // Most lists built at run time (`covers(m.name)`) are empty: those need no allocation.
        if v.is_empty() {
            return Value::List(List::Lits(&[]));
        }
        Value::List(List::Vals(Rc::new(v)))
    }

    /// The records `0..len` of a sequence, as a list.
    pub fn seq(seq: Seq, len: usize) -> Self {
        Value::List(List::seq(seq, len))
    }

    #[must_use]
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Absent)
    }

    /// Equality as the language defines it: text with text, numbers, dates, booleans, lists
    /// element-wise, records by identity.
    #[must_use]
    pub fn equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Absent, Value::Absent) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(&y)),
            (Value::Item(a), Value::Item(b)) | (Value::Chain(a), Value::Chain(b)) => a == b,
            (Value::Material(a, b), Value::Material(c, d)) | (Value::Step(a, b), Value::Step(c, d)) => a == c && b == d,
            (Value::Waiver(a, b), Value::Waiver(c, d)) | (Value::Citation(a, b), Value::Citation(c, d)) => {
                a == c && b == d
            }
            (Value::Statute(a), Value::Statute(b)) => std::ptr::eq(*a, *b),
            (Value::Shared(a), Value::Shared(b)) => std::ptr::eq(*a, *b),
            (Value::Certificate(a), Value::Certificate(b)) => std::ptr::eq(*a, *b),
            (Value::Cover(a), Value::Cover(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}
