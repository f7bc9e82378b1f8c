//! Run-time values of the policy language. Records are handles into the corpus or the reference
//! tables, so evaluation copies no item data.

use std::borrow::Cow;
use std::rc::Rc;

use regex::Regex;

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
    List(Rc<Vec<Value<'a>>>),
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

impl<'a> Value<'a> {
    pub fn str(s: &'a str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }

    pub fn opt_str(s: Option<&'a str>) -> Self {
        s.map_or(Value::Absent, Value::str)
    }

    pub fn list(v: Vec<Value<'a>>) -> Self {
        Value::List(Rc::new(v))
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
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y)),
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
