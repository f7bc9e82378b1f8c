//! How far a compiled rule looks: at one item, at items sharing its code, at chains, or at the
//! whole corpus. The streaming check (`crate::check`) runs each kind where its inputs are.

use super::types::Builtin;
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
        let mut visit = |e: &CExpr| s = s.max(expr_scope(e));
        for step in &self.steps {
            match step {
                Step::For(_, e) | Step::Let(_, e) | Step::When(e) => visit(e),
            }
        }
        if let Some(at) = &self.at {
            visit(at);
        }
        for part in self.message.zh.iter().chain(&self.message.en).chain(&self.help.zh).chain(&self.help.en) {
            if let CPart::Expr(e) = part {
                visit(e);
            }
        }
        match self.fix.as_ref().map(|f| &f.action) {
            Some(CFixAction::Remove(e)) => visit(e),
            Some(CFixAction::Set(sets)) => {
                for (target, _, value) in sets {
                    visit(target);
                    visit(value);
                }
            }
            None => {}
        }
        s
    }
}

fn expr_scope(e: &CExpr) -> Scope {
    let mut s = match e {
        CExpr::Items | CExpr::Chains => Scope::Corpus,
        CExpr::Call(Builtin::SameCode, _) => Scope::SameCode,
        _ => Scope::Item,
    };
    e.for_each_child(&mut |c| s = s.max(expr_scope(c)));
    s
}
