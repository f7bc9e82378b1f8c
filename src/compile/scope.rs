//! How far a compiled rule looks: at one item, at items sharing its code, at chains, or at the
//! whole corpus; and which fields it reads. The streaming check (`crate::check`) runs each kind
//! where its inputs are, and keeps of an item only what the rules it runs again read.

use std::collections::HashSet;

use super::types::{Builtin, Field};
use super::{CExpr, CFixAction, CPart, CompiledRule, Root, Step};

/// What a rule can see beyond the item it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Only the item (its materials, citations, waivers, its file's header).
    Item,
    /// Also the other items with the same code (`same_code`).
    SameCode,
    /// A chain and the items its steps name (a rule over `chains`).
    Chain,
    /// `items` or `chains` as a value: any item of the corpus.
    Corpus,
}

impl CompiledRule {
    /// The widest thing the rule looks at.
    #[must_use]
    pub fn scope(&self) -> Scope {
        let mut s = if self.root == Root::Chains { Scope::Chain } else { Scope::Item };
        self.for_each_expr(&mut |e| {
            let here = match e {
                CExpr::Items | CExpr::Chains => Scope::Corpus,
                CExpr::Call(Builtin::SameCode, _) => Scope::SameCode,
                _ => Scope::Item,
            };
            s = s.max(here);
        });
        s
    }

    /// The fields of records the rule reads: by name (`m.note`, a look-up by the field) or
    /// through a function that reads them (`citations` reads the bases).
    #[must_use]
    pub fn fields_read(&self) -> HashSet<Field> {
        let mut read = HashSet::new();
        self.for_each_expr(&mut |e| match e {
            CExpr::Field(_, f) => {
                read.insert(*f);
            }
            CExpr::Lookup(l) => {
                read.insert(l.field);
            }
            CExpr::Call(Builtin::Citations, _) => read.extend([Field::ItemBasis, Field::MatBasis]),
            _ => {}
        });
        read
    }

    /// Every expression of the rule (its steps, place, message, help and fix), at every depth.
    fn for_each_expr(&self, f: &mut dyn FnMut(&CExpr)) {
        fn walk(e: &CExpr, f: &mut dyn FnMut(&CExpr)) {
            f(e);
            e.for_each_child(&mut |c| walk(c, f));
        }
        for step in &self.steps {
            match step {
                Step::For(_, e) | Step::Let(_, e) | Step::When(e) => walk(e, f),
            }
        }
        if let Some(at) = &self.at {
            walk(at, f);
        }
        for part in self.message.zh.iter().chain(&self.message.en).chain(&self.help.zh).chain(&self.help.en) {
            if let CPart::Expr(e) = part {
                walk(e, f);
            }
        }
        match self.fix.as_ref().map(|x| &x.action) {
            Some(CFixAction::Remove(e)) => walk(e, f),
            Some(CFixAction::Set(sets)) => {
                for (target, _, value) in sets {
                    walk(target, f);
                    walk(value, f);
                }
            }
            None => {}
        }
    }
}
