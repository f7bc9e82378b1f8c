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
    let max = |es: &mut dyn Iterator<Item = &CExpr>| es.map(expr_scope).max().unwrap_or(Scope::Item);
    match e {
        CExpr::Bool(_)
        | CExpr::Int(_)
        | CExpr::Str(_)
        | CExpr::Date(_)
        | CExpr::Regex(_)
        | CExpr::Var(_)
        | CExpr::AsOf => Scope::Item,
        CExpr::Items | CExpr::Chains => Scope::Corpus,
        CExpr::List(es) => max(&mut es.iter()),
        CExpr::Field(e, _) | CExpr::Unwrap(e, _) | CExpr::Not(e) | CExpr::Neg(e) => expr_scope(e),
        CExpr::Call(b, args) => {
            let own = if *b == Builtin::SameCode { Scope::SameCode } else { Scope::Item };
            own.max(max(&mut args.iter()))
        }
        CExpr::Quant(_, _, a, b) | CExpr::Bin(_, a, b) => expr_scope(a).max(expr_scope(b)),
        CExpr::If(a, b, c) => expr_scope(a).max(expr_scope(b)).max(expr_scope(c)),
        CExpr::Lookup(l) => expr_scope(&l.list).max(expr_scope(&l.cond)).max(expr_scope(&l.key)),
    }
}
