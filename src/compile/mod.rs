//! Stage 3: AST → checked, lowered rules.
//!
//! The checker walks every rule once, resolving names to slots, fields to [`Field`]s and functions
//! to [`Builtin`]s, so evaluation never looks at a string name again. It collects every error it
//! finds (unknown names with a "did you mean", type errors, unknown statutes and articles, an
//! optional value used without saying what its absence means) rather than stopping at the first.
//!
//! Optional values: a field such as `item.legal_days` has type `optional int`. It can be used as
//! an int only where the rule has said what absence means — after `exists(item.legal_days) and`,
//! in the right operand of `not exists(…) or`, after a `when exists(…)` clause, or through
//! `item.legal_days ?? 0`. This is checked statically; a value that is nonetheless absent at run
//! time is an evaluation error for that item, never a silent pass.

pub mod cond;
pub mod scope;
pub mod types;

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use self::types::{BUILTINS, Builtin, Field, Rec, Ty, fields};
use crate::corpus::model::{Date, Material};
use crate::corpus::normalize;
use crate::corpus::reference::{References, canonical_article};
use crate::diag::{SourceError, did_you_mean};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::syntax::ast::{
    self, Applicability, BinOp, Clause, ExampleBody, Expr, ExprKind, QuantKind, Severity, Template, TemplatePart, UnOp,
};
use crate::tr;

/// A compiled expression: names resolved, types checked.
#[derive(Debug, Clone)]
pub enum CExpr {
    Bool(bool),
    Int(i64),
    Str(Arc<str>),
    Date(Date),
    Regex(Arc<Regex>),
    List(Vec<CExpr>),
    Var(usize),
    AsOf,
    Items,
    Chains,
    Field(Box<CExpr>, Field),
    /// An optional value the checker proved present; absent at run time is an evaluation error.
    Unwrap(Box<CExpr>, Span),
    Call(Builtin, Vec<CExpr>),
    Quant(QuantKind, usize, Box<CExpr>, Box<CExpr>),
    /// A quantifier whose condition starts with `x.field == key` (`key` not mentioning `x`):
    /// on a long list of records the evaluator finds the candidates in an index by field value
    /// instead of testing every element.
    Lookup(Box<Lookup>),
    If(Box<CExpr>, Box<CExpr>, Box<CExpr>),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    Bin(BinOp, Box<CExpr>, Box<CExpr>),
    /// A condition lowered for the evaluator ([`cond`]), and the expression it came from.
    Cond(Box<(cond::Cond, CExpr)>),
}

/// See [`CExpr::Lookup`]. `quant` is the plain quantifier, run as such on short lists; its
/// condition is evaluated on every candidate, so `field == key` is only a filter.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub kind: QuantKind,
    pub slot: usize,
    pub list: CExpr,
    pub cond: CExpr,
    pub field: Field,
    pub key: CExpr,
    /// How `field` is read when it is a text field of a material: a few materials are then
    /// compared in place rather than indexed.
    pub material_text: Option<fn(&Material) -> Option<&str>>,
}

impl CExpr {
    /// Calls `f` on each direct sub-expression: the one list of them that every walk over
    /// expressions (`mentions`, `scope::expr_scope`) uses.
    pub fn for_each_child(&self, f: &mut dyn FnMut(&CExpr)) {
        match self {
            CExpr::Bool(_)
            | CExpr::Int(_)
            | CExpr::Str(_)
            | CExpr::Date(_)
            | CExpr::Regex(_)
            | CExpr::Var(_)
            | CExpr::AsOf
            | CExpr::Items
            | CExpr::Chains => {}
            CExpr::List(v) | CExpr::Call(_, v) => v.iter().for_each(f),
            CExpr::Field(e, _) | CExpr::Unwrap(e, _) | CExpr::Not(e) | CExpr::Neg(e) => f(e),
            CExpr::Quant(_, _, l, c) | CExpr::Bin(_, l, c) => {
                f(l);
                f(c);
            }
            CExpr::Lookup(q) => {
                f(&q.list);
                f(&q.cond);
                f(&q.key);
            }
            CExpr::Cond(c) => f(&c.1),
            CExpr::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
        }
    }

    /// [`CExpr::for_each_child`], mutably, telling `f` whether the sub-expression is tested as a
    /// condition (that of a quantifier or an `if`): the walk [`cond`] lowers conditions with. A
    /// condition already lowered is not entered.
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut CExpr, bool)) {
        match self {
            CExpr::Bool(_)
            | CExpr::Int(_)
            | CExpr::Str(_)
            | CExpr::Date(_)
            | CExpr::Regex(_)
            | CExpr::Var(_)
            | CExpr::AsOf
            | CExpr::Items
            | CExpr::Chains
            | CExpr::Cond(_) => {}
            CExpr::List(v) | CExpr::Call(_, v) => v.iter_mut().for_each(|c| f(c, false)),
            CExpr::Field(a, _) | CExpr::Unwrap(a, _) | CExpr::Not(a) | CExpr::Neg(a) => f(a, false),
            CExpr::Bin(_, a, b) => {
                f(a, false);
                f(b, false);
            }
            CExpr::Quant(_, _, l, c) => {
                f(l, false);
                f(c, true);
            }
            CExpr::Lookup(q) => {
                f(&mut q.list, false);
                f(&mut q.key, false);
                f(&mut q.cond, true);
            }
            CExpr::If(c, a, b) => {
                f(c, true);
                f(a, false);
                f(b, false);
            }
        }
    }

    /// Whether the expression reads the variable in `slot`.
    #[must_use]
    pub fn mentions(&self, slot: usize) -> bool {
        if matches!(self, CExpr::Var(s) if *s == slot) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |c| found = found || c.mentions(slot));
        found
    }
}

/// The `x.field == key` that a condition on `x` (in `slot`) starts with, if any. Only `any`,
/// `first` and `count` qualify: for them an element that fails the equality is simply not
/// counted, and since `and` stops at its left operand, nothing else of the condition would have
/// been evaluated on it.
fn lookup_of(kind: QuantKind, slot: usize, cond: &CExpr) -> Option<(Field, CExpr)> {
    if kind == QuantKind::All {
        return None;
    }
    let mut c = cond;
    while let CExpr::Bin(BinOp::And, left, _) = c {
        c = left;
    }
    let CExpr::Bin(BinOp::Eq, a, b) = c else { return None };
    let is_field = |e: &CExpr| match e {
        CExpr::Field(inner, f) if matches!(**inner, CExpr::Var(s) if s == slot) => Some(*f),
        _ => None,
    };
    match (is_field(a), is_field(b)) {
        (Some(f), None) if !b.mentions(slot) => Some((f, (**b).clone())),
        (None, Some(f)) if !a.mentions(slot) => Some((f, (**a).clone())),
        _ => None,
    }
}

/// One step of a rule's body, run in order.
#[derive(Debug, Clone)]
pub enum Step {
    For(usize, CExpr),
    Let(usize, CExpr),
    When(CExpr),
}

/// What a rule iterates over at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Items,
    Chains,
}

#[derive(Debug, Clone)]
pub enum CPart {
    Lit(String),
    Expr(CExpr),
}

/// Chinese and English templates.
#[derive(Debug, Clone, Default)]
pub struct CText {
    pub zh: Vec<CPart>,
    pub en: Vec<CPart>,
}

/// Plain bilingual text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    #[must_use]
    pub fn get(&self) -> &str {
        crate::i18n::t(&self.zh, &self.en)
    }
}

#[derive(Debug, Clone)]
pub enum CFixAction {
    Remove(CExpr),
    Set(Vec<(CExpr, String, CExpr)>),
}

#[derive(Debug, Clone)]
pub struct CFix {
    pub applicability: Applicability,
    pub action: CFixAction,
}

#[derive(Debug, Clone)]
pub struct CExample {
    pub pass: bool,
    pub body: ExampleBody,
    pub span: Span,
}

/// A citation of a rule: a registry statute and one of its articles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCite {
    pub statute: u32,
    pub article: String,
    /// The key sentence of the article (the one holding the cite's phrase, else the first).
    pub key_sentence: String,
}

/// A rule ready to run.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    pub title: Bilingual,
    pub docs: Vec<String>,
    pub cites: Vec<RuleCite>,
    pub root: Root,
    /// The slot of the root variable (`item`, or the chain of a chain rule).
    pub root_slot: usize,
    pub steps: Vec<Step>,
    pub slots: usize,
    /// The slot of the innermost `for` variable: its value locates the finding.
    pub scope_slot: usize,
    /// What the innermost scope ranges over (item, material, citation, waiver …).
    pub scope_rec: Option<Rec>,
    pub at: Option<CExpr>,
    pub message: CText,
    pub help: CText,
    pub fix: Option<CFix>,
    pub examples: Vec<CExample>,
    /// Needs the outcome of the other rules (`used(w)`): runs after waivers are applied.
    pub second_phase: bool,
    pub span: Span,
    /// What tells, cheaply, that the rule has nothing to say on an item ([`crate::eval::screen`]).
    pub screen: Option<Arc<crate::eval::screen::Screen>>,
}

/// A classification list (`list 跑一次事项 { … }`).
#[derive(Debug, Clone)]
pub struct CompiledList {
    pub name: String,
    pub title: Option<Bilingual>,
    pub docs: Vec<String>,
    pub steps: Vec<Step>,
    pub slots: usize,
    pub span: Span,
}

/// All compiled policies of a run.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub rules: Vec<CompiledRule>,
    pub lists: Vec<CompiledList>,
    /// The policy files, for diagnostics that point into them.
    pub sources: SourceMap,
}

impl Program {
    #[must_use]
    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

struct Scope {
    name: String,
    ty: Ty,
    slot: usize,
}

struct Checker<'a> {
    refs: &'a References,
    src: &'a SourceFile,
    errors: Vec<SourceError>,
    scopes: Vec<Scope>,
    facts: Vec<String>,
    slots: usize,
    second_phase: bool,
    /// In message templates a field of an absent record shows as "—" instead of being an error.
    lenient: bool,
}

type Typed = (CExpr, Ty);

fn path_key(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Var(n) => Some(n.clone()),
        ExprKind::Field(inner, f) => path_key(inner).map(|k| format!("{k}.{}", f.value)),
        _ => None,
    }
}

/// Paths known present when `e` is true.
fn facts_true(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Call(name, args) if name.value == "exists" => out.extend(args.first().and_then(path_key)),
        ExprKind::Binary(BinOp::And, a, b) => {
            facts_true(a, out);
            facts_true(b, out);
        }
        ExprKind::Unary(UnOp::Not, a) => facts_false(a, out),
        _ => {}
    }
}

/// Paths known present when `e` is false.
fn facts_false(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Call(name, args) if name.value == "empty" => out.extend(args.first().and_then(path_key)),
        ExprKind::Binary(BinOp::Or, a, b) => {
            facts_false(a, out);
            facts_false(b, out);
        }
        ExprKind::Unary(UnOp::Not, a) => facts_true(a, out),
        _ => {}
    }
}

impl<'a> Checker<'a> {
    fn new(refs: &'a References, src: &'a SourceFile) -> Self {
        Checker {
            refs,
            src,
            errors: Vec::new(),
            scopes: Vec::new(),
            facts: Vec::new(),
            slots: 0,
            second_phase: false,
            lenient: false,
        }
    }

    fn err(&mut self, code: &'static str, span: Span, message: String, label: String, help: String) {
        self.errors.push(SourceError::new(code, message).at(self.src, span, label).help(help));
    }

    fn bind(&mut self, name: &str, ty: Ty) -> usize {
        let slot = self.slots;
        self.slots += 1;
        self.scopes.push(Scope { name: name.to_string(), ty, slot });
        // Facts about an earlier variable of the same name no longer hold.
        let prefix = format!("{name}.");
        self.facts.retain(|f| f != name && !f.starts_with(&prefix));
        slot
    }

    fn with_facts<T>(&mut self, facts: Vec<String>, f: impl FnOnce(&mut Self) -> T) -> T {
        let n = self.facts.len();
        self.facts.extend(facts);
        let r = f(self);
        self.facts.truncate(n);
        r
    }

    /// Unwraps an optional value the facts prove present.
    fn narrow(&self, e: &Expr, c: CExpr, t: Ty) -> Typed {
        if let Ty::Opt(inner) = &t
            && path_key(e).is_some_and(|k| self.facts.contains(&k))
        {
            return (CExpr::Unwrap(Box::new(c), e.span), (**inner).clone());
        }
        (c, t)
    }

    /// Requires a value that is never absent.
    fn present(&mut self, e: &Expr, typed: Typed) -> Option<Typed> {
        if typed.1.is_opt() {
            let shown = path_key(e).unwrap_or_else(|| self.src.slice(e.span).to_string());
            self.err(
                "qingdan::policy::optional",
                e.span,
                tr!(
                    "`{}` 可能缺失，规则须说明缺失时的含义",
                    "`{}` may be absent; the rule must say what its absence means",
                    shown
                ),
                tr!("可能缺失的{}", "an {}", typed.1),
                tr!(
                    "写 `exists({0}) and …`，或用 `{0} ?? 默认值` 给出缺失时的取值",
                    "write `exists({0}) and …`, or give a default with `{0} ?? value`",
                    shown
                ),
            );
            return None;
        }
        Some(typed)
    }

    fn expect(&mut self, e: &Expr, typed: Typed, want: &Ty) -> Option<CExpr> {
        let typed = self.present(e, typed)?;
        if &typed.1 == want || (want.is_text() && typed.1.is_text()) {
            Some(typed.0)
        } else {
            self.err(
                "qingdan::policy::type",
                e.span,
                tr!("类型不符：应为 {}，实为 {}", "type mismatch: expected {}, found {}", want, typed.1),
                tr!("这里是 {}", "this is {}", typed.1),
                tr!(
                    "检查字段和函数的类型（docs/policy-language.md）",
                    "check the types of fields and functions (docs/policy-language.md)"
                ),
            );
            None
        }
    }

    /// Checks a string literal against an enum domain, returning its canonical spelling.
    fn enum_literal(&mut self, domain_ty: &Ty, lit: &Expr, c: CExpr) -> CExpr {
        let (Ty::Enum(d), CExpr::Str(s)) = (domain_ty.inner(), &c) else { return c };
        let token = normalize::token(s);
        if let Some(v) = d.find(&token) {
            return CExpr::Str(Arc::from(v));
        }
        let help = match did_you_mean(&token, d.values.iter().copied()) {
            Some(g) => tr!("是不是「{}」？可选值：{}", "did you mean `{}`? valid values: {}", g, d.values.join(" | ")),
            None => tr!("可选值：{}", "valid values: {}", d.values.join(" | ")),
        };
        self.err(
            "qingdan::policy::enum",
            lit.span,
            tr!("「{}」不是{}的有效值", "`{}` is not a valid {}", s, d.name),
            tr!("无效值", "invalid value"),
            help,
        );
        c
    }

    fn expr(&mut self, e: &Expr) -> Option<Typed> {
        match &e.kind {
            ExprKind::Str(s) => Some((CExpr::Str(Arc::from(s.as_str())), Ty::Str)),
            ExprKind::Int(n) => Some((CExpr::Int(*n), Ty::Int)),
            ExprKind::Bool(b) => Some((CExpr::Bool(*b), Ty::Bool)),
            ExprKind::List(items) => {
                let mut out = Vec::new();
                let mut elem = Ty::Any;
                for it in items {
                    let typed = self.expr(it)?;
                    let (c, t) = self.present(it, typed)?;
                    if elem == Ty::Any {
                        elem = t;
                    } else if !elem.comparable(&t) {
                        self.err(
                            "qingdan::policy::type",
                            it.span,
                            tr!("列表元素类型不一致", "list elements of different types"),
                            tr!("这里是 {}，前面是 {}", "this is {}, earlier ones are {}", t, elem),
                            tr!("列表里只放同一种值", "put values of one type in a list"),
                        );
                    }
                    out.push(c);
                }
                Some((CExpr::List(out), Ty::list(elem)))
            }
            ExprKind::Var(name) => {
                if let Some(s) = self.scopes.iter().rev().find(|s| &s.name == name) {
                    let (c, t) = (CExpr::Var(s.slot), s.ty.clone());
                    return Some(self.narrow(e, c, t));
                }
                match name.as_str() {
                    "as_of" => return Some((CExpr::AsOf, Ty::Date)),
                    "items" => return Some((CExpr::Items, Ty::list(Ty::Rec(Rec::Item)))),
                    "chains" => return Some((CExpr::Chains, Ty::list(Ty::Rec(Rec::Chain)))),
                    _ => {}
                }
                let mut names: Vec<&str> = self.scopes.iter().map(|s| s.name.as_str()).collect();
                names.extend(["as_of", "items", "chains"]);
                let help = match did_you_mean(name, names.iter().copied()) {
                    Some(g) => tr!("是不是 `{}`？", "did you mean `{}`?", g),
                    None => tr!("可用的名称：{}", "names in scope: {}", names.join(", ")),
                };
                self.err(
                    "qingdan::policy::unknown_name",
                    e.span,
                    tr!("未知的名称 `{}`", "unknown name `{}`", name),
                    tr!("未定义", "not defined"),
                    help,
                );
                None
            }
            ExprKind::Field(inner, f) => {
                let typed = self.expr(inner)?;
                let lenient_opt = self.lenient && typed.1.is_opt();
                let (c, t) = if lenient_opt { (typed.0, typed.1.inner().clone()) } else { self.present(inner, typed)? };
                let Ty::Rec(rec) = t else {
                    self.err(
                        "qingdan::policy::field",
                        f.span,
                        tr!("{} 没有字段", "{} has no fields", t),
                        tr!("不能取字段 `{}`", "cannot read `{}` here", f.value),
                        tr!(
                            "只有记录（item、material、waiver …）有字段",
                            "only records (item, material, waiver …) have fields"
                        ),
                    );
                    return None;
                };
                let table = fields(rec);
                if let Some((_, field, ty)) = table.iter().find(|(n, _, _)| *n == f.value) {
                    let ty = if lenient_opt { Ty::opt(ty.clone()) } else { ty.clone() };
                    return Some(self.narrow(e, CExpr::Field(Box::new(c), *field), ty));
                }
                let names: Vec<&str> = table.iter().map(|(n, _, _)| *n).collect();
                let help = match did_you_mean(&f.value, names.iter().copied()) {
                    Some(g) => tr!(
                        "是不是 `{}`？{} 的字段：{}",
                        "did you mean `{}`? fields of {}: {}",
                        g,
                        rec.name(),
                        names.join(", ")
                    ),
                    None => tr!("{} 的字段：{}", "fields of {}: {}", rec.name(), names.join(", ")),
                };
                self.err(
                    "qingdan::policy::unknown_field",
                    f.span,
                    tr!("{} 没有字段 `{}`", "{} has no field `{}`", rec.name(), f.value),
                    tr!("未知字段", "unknown field"),
                    help,
                );
                None
            }
            ExprKind::Call(name, args) => self.call(e, name, args),
            ExprKind::Quant(kind, var, list, cond) => {
                let typed = self.expr(list)?;
                let (lc, lt) = self.present(list, typed)?;
                let Ty::List(elem) = lt else {
                    self.err(
                        "qingdan::policy::type",
                        list.span,
                        tr!("量词需要列表，实为 {}", "a quantifier needs a list, found {}", lt),
                        tr!("不是列表", "not a list"),
                        tr!("写作 any(x in 列表 where 条件)", "write any(x in list where condition)"),
                    );
                    return None;
                };
                let n = self.scopes.len();
                // Facts of the enclosing scope hold inside the condition, except those about a
                // variable the quantifier shadows (`bind` drops them); restore them afterwards.
                let saved = self.facts.clone();
                let slot = self.bind(&var.value, (*elem).clone());
                let cond_t = self.expr(cond);
                self.facts = saved;
                self.scopes.truncate(n);
                let cc = self.expect(cond, cond_t?, &Ty::Bool)?;
                let ty = match kind {
                    QuantKind::Any | QuantKind::All => Ty::Bool,
                    QuantKind::Count => Ty::Int,
                    QuantKind::First => Ty::opt(*elem),
                };
                let quant = match lookup_of(*kind, slot, &cc) {
                    Some((field, key)) => {
                        let material_text = cond::material_text(field);
                        CExpr::Lookup(Box::new(Lookup {
                            kind: *kind,
                            slot,
                            list: lc,
                            cond: cc,
                            field,
                            key,
                            material_text,
                        }))
                    }
                    None => CExpr::Quant(*kind, slot, Box::new(lc), Box::new(cc)),
                };
                Some((quant, ty))
            }
            ExprKind::If(c, a, b) => {
                let tc = self.expr(c);
                let mut yes = Vec::new();
                facts_true(c, &mut yes);
                let mut no = Vec::new();
                facts_false(c, &mut no);
                let ta = self.with_facts(yes, |ch| ch.expr(a));
                let tb = self.with_facts(no, |ch| ch.expr(b));
                let cc = self.expect(c, tc?, &Ty::Bool)?;
                let (ca, ta) = ta?;
                let (cb, tb) = tb?;
                if !ta.inner().comparable(tb.inner()) {
                    self.mismatch(e, &ta, &tb, BinOp::Eq);
                    return None;
                }
                let ty = match (&ta, &tb) {
                    (Ty::List(x), _) if **x == Ty::Any => tb.clone(),
                    (t, u) if u.is_opt() => Ty::opt(t.inner().clone()),
                    (t, _) => t.clone(),
                };
                Some((CExpr::If(Box::new(cc), Box::new(ca), Box::new(cb)), ty))
            }
            ExprKind::Unary(op, a) => {
                let typed = self.expr(a)?;
                match op {
                    UnOp::Not => Some((CExpr::Not(Box::new(self.expect(a, typed, &Ty::Bool)?)), Ty::Bool)),
                    UnOp::Neg => Some((CExpr::Neg(Box::new(self.expect(a, typed, &Ty::Int)?)), Ty::Int)),
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(e, *op, a, b),
        }
    }

    fn binary(&mut self, e: &Expr, op: BinOp, a: &Expr, b: &Expr) -> Option<Typed> {
        let bin = |op, x, y| CExpr::Bin(op, Box::new(x), Box::new(y));
        match op {
            BinOp::And | BinOp::Or => {
                let ta = self.expr(a);
                let mut facts = Vec::new();
                if op == BinOp::And {
                    facts_true(a, &mut facts)
                } else {
                    facts_false(a, &mut facts)
                }
                let tb = self.with_facts(facts, |c| c.expr(b));
                let ca = self.expect(a, ta?, &Ty::Bool);
                let cb = self.expect(b, tb?, &Ty::Bool);
                Some((bin(op, ca?, cb?), Ty::Bool))
            }
            BinOp::Coalesce => {
                let (ca, ta) = self.expr(a)?;
                let (ca, ta) = match (ca, ta) {
                    (CExpr::Unwrap(inner, _), t) => (*inner, Ty::opt(t)),
                    other => other,
                };
                let Ty::Opt(inner) = ta else {
                    self.err(
                        "qingdan::policy::never_absent",
                        a.span,
                        tr!("`??` 的左边从不缺失", "the left side of `??` is never absent"),
                        tr!("总是有值的 {}", "always a {}", ta),
                        tr!("去掉 `??` 和默认值", "drop the `??` and the default"),
                    );
                    return None;
                };
                let (cb, tb) = self.expr(b)?;
                let cb = self.enum_literal(&inner, b, cb);
                if !inner.comparable(tb.inner()) {
                    self.err(
                        "qingdan::policy::type",
                        b.span,
                        tr!(
                            "默认值的类型不符：应为 {}，实为 {}",
                            "default of the wrong type: expected {}, found {}",
                            inner,
                            tb
                        ),
                        tr!("默认值", "the default"),
                        tr!("默认值要与左边同类型", "the default must have the type of the left side"),
                    );
                    return None;
                }
                let ty = if tb.is_opt() { Ty::opt(*inner) } else { *inner };
                Some((bin(op, ca, cb), ty))
            }
            BinOp::Eq | BinOp::Ne => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                if !ta.comparable(&tb) {
                    self.mismatch(e, &ta, &tb, op);
                    return None;
                }
                let cb = self.enum_literal(&ta, b, cb);
                let ca = self.enum_literal(&tb, a, ca);
                Some((bin(op, ca, cb), Ty::Bool))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Sub => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                let ok = (ta == Ty::Int && tb == Ty::Int) || (ta == Ty::Date && tb == Ty::Date && op != BinOp::Sub);
                if !ok {
                    self.mismatch(e, &ta, &tb, op);
                    return None;
                }
                Some((bin(op, ca, cb), if op == BinOp::Sub { Ty::Int } else { Ty::Bool }))
            }
            BinOp::Add => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                let ty = match (&ta, &tb) {
                    (Ty::Int, Ty::Int) => Ty::Int,
                    (Ty::List(x), Ty::List(y)) if x.comparable(y) => {
                        if **x == Ty::Any {
                            tb.clone()
                        } else {
                            ta.clone()
                        }
                    }
                    (x, y) if x.is_text() && y.is_text() => Ty::Str,
                    _ => {
                        self.mismatch(e, &ta, &tb, op);
                        return None;
                    }
                };
                Some((bin(op, ca, cb), ty))
            }
            BinOp::In | BinOp::NotIn => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                let ok = match &tb {
                    Ty::List(elem) => ta.comparable(elem),
                    _ => false,
                };
                if !ok {
                    self.mismatch(e, &ta, &tb, op);
                    return None;
                }
                let cb = match cb {
                    CExpr::List(items) => {
                        let mut out = Vec::with_capacity(items.len());
                        for it in items {
                            out.push(self.enum_literal(&ta, b, it));
                        }
                        CExpr::List(out)
                    }
                    other => other,
                };
                Some((bin(op, ca, cb), Ty::Bool))
            }
            BinOp::Contains => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                let ok = (ta.is_text() && tb.is_text()) || matches!(&ta, Ty::List(elem) if elem.comparable(&tb));
                if !ok {
                    self.mismatch(e, &ta, &tb, op);
                    return None;
                }
                Some((bin(op, ca, cb), Ty::Bool))
            }
            BinOp::Matches => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                let (ca, ta) = self.present(a, ta?)?;
                let (cb, tb) = self.present(b, tb?)?;
                if !ta.is_text() {
                    self.mismatch(e, &ta, &tb, op);
                    return None;
                }
                let cb = match (cb, &tb) {
                    (CExpr::Str(pat), _) => match Regex::new(&pat) {
                        Ok(re) => CExpr::Regex(Arc::new(re)),
                        Err(err) => {
                            self.err(
                                "qingdan::policy::regex",
                                b.span,
                                tr!("正则表达式无效", "invalid regular expression"),
                                err.to_string(),
                                tr!("使用 Rust regex 语法", "use Rust regex syntax"),
                            );
                            return None;
                        }
                    },
                    (c, Ty::Regex) => c,
                    _ => {
                        self.mismatch(e, &ta, &tb, op);
                        return None;
                    }
                };
                Some((bin(op, ca, cb), Ty::Bool))
            }
        }
    }

    fn mismatch(&mut self, e: &Expr, ta: &Ty, tb: &Ty, op: BinOp) {
        self.err(
            "qingdan::policy::type",
            e.span,
            tr!("`{}` 不能用于 {} 和 {}", "`{}` cannot be used with {} and {}", op.symbol(), ta, tb),
            tr!("类型不符", "type mismatch"),
            tr!("运算符的用法见 docs/policy-language.md", "see docs/policy-language.md for what each operator takes"),
        );
    }

    fn call(&mut self, e: &Expr, name: &crate::source::Spanned<String>, args: &[Expr]) -> Option<Typed> {
        let Some((_, builtin, sig)) = BUILTINS.iter().find(|(n, _, _)| *n == name.value) else {
            let help = match did_you_mean(&name.value, BUILTINS.iter().map(|(n, _, _)| *n)) {
                Some(g) => tr!("是不是 `{}`？", "did you mean `{}`?", g),
                None => tr!(
                    "内置函数：{}",
                    "built-in functions: {}",
                    BUILTINS.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            };
            self.err(
                "qingdan::policy::unknown_function",
                name.span,
                tr!("未知的函数 `{}`", "unknown function `{}`", name.value),
                tr!("未定义", "not defined"),
                help,
            );
            return None;
        };
        let arity = match builtin {
            Builtin::InJurisdiction => 2,
            _ => 1,
        };
        if args.len() != arity {
            self.err(
                "qingdan::policy::arity",
                e.span,
                tr!(
                    "`{}` 需要 {} 个参数，给了 {} 个",
                    "`{}` takes {} argument(s), {} given",
                    name.value,
                    arity,
                    args.len()
                ),
                tr!("参数个数不对", "wrong number of arguments"),
                (*sig).to_string(),
            );
            return None;
        }
        let arg = args.first()?;
        let mut typed = Vec::new();
        for a in args {
            typed.push(self.expr(a)?);
        }
        let mut typed = typed.into_iter();
        let (c, t) = typed.next()?;
        let wrong = |this: &mut Self, t: &Ty| {
            this.err(
                "qingdan::policy::type",
                arg.span,
                tr!("`{}` 的参数类型不对：{}", "wrong argument type for `{}`: {}", name.value, t),
                tr!("这里是 {}", "this is {}", t),
                (*sig).to_string(),
            );
        };
        let out = match builtin {
            Builtin::Exists => {
                let (c, t) = match (c, t) {
                    (CExpr::Unwrap(inner, _), t) => (*inner, Ty::opt(t)),
                    other => other,
                };
                if !t.is_opt() {
                    self.err(
                        "qingdan::policy::never_absent",
                        arg.span,
                        tr!(
                            "`{}` 从不缺失，exists() 永远为真",
                            "`{}` is never absent, so exists() is always true",
                            self.src.slice(arg.span)
                        ),
                        tr!("总是有值的 {}", "always a {}", t),
                        tr!(
                            "去掉 exists()；要判断空值用 empty()",
                            "drop exists(); use empty() to test for an empty value"
                        ),
                    );
                    return None;
                }
                (CExpr::Call(Builtin::Exists, vec![c]), Ty::Bool)
            }
            Builtin::Empty => {
                let (c, t) = match (c, t) {
                    (CExpr::Unwrap(inner, _), t) => (*inner, Ty::opt(t)),
                    other => other,
                };
                if !matches!(t.inner(), Ty::Str | Ty::Enum(_) | Ty::List(_)) {
                    wrong(self, &t);
                    return None;
                }
                (CExpr::Call(Builtin::Empty, vec![c]), Ty::Bool)
            }
            Builtin::Count => match t {
                Ty::List(_) => (CExpr::Call(Builtin::Count, vec![c]), Ty::Int),
                t => {
                    wrong(self, &t);
                    return None;
                }
            },
            Builtin::Norm => {
                let c = self.expect(arg, (c, t), &Ty::Str)?;
                (CExpr::Call(Builtin::Norm, vec![c]), Ty::Str)
            }
            Builtin::CatchAll => {
                if !t.inner().is_text() {
                    wrong(self, &t);
                    return None;
                }
                (CExpr::Call(Builtin::CatchAll, vec![c]), Ty::opt(Ty::Str))
            }
            Builtin::Shared | Builtin::Certificate | Builtin::Covers => {
                let c = self.expect(arg, (c, t), &Ty::Str)?;
                let ty = match builtin {
                    Builtin::Shared => Ty::opt(Ty::Rec(Rec::Shared)),
                    Builtin::Certificate => Ty::opt(Ty::Rec(Rec::Certificate)),
                    _ => Ty::list(Ty::Rec(Rec::Cover)),
                };
                (CExpr::Call(*builtin, vec![c]), ty)
            }
            Builtin::Citations | Builtin::Waivers | Builtin::SameCode => {
                let c = self.expect(arg, (c, t), &Ty::Rec(Rec::Item))?;
                let ty = match builtin {
                    Builtin::Citations => Ty::list(Ty::Rec(Rec::Citation)),
                    Builtin::Waivers => Ty::list(Ty::Rec(Rec::Waiver)),
                    _ => Ty::list(Ty::Rec(Rec::Item)),
                };
                (CExpr::Call(*builtin, vec![c]), ty)
            }
            Builtin::Preceding => match t {
                Ty::Rec(r @ (Rec::Material | Rec::Step)) => {
                    (CExpr::Call(Builtin::Preceding, vec![c]), Ty::list(Ty::Rec(r)))
                }
                t => {
                    wrong(self, &t);
                    return None;
                }
            },
            Builtin::Date => {
                let CExpr::Str(s) = &c else {
                    wrong(self, &t);
                    return None;
                };
                let Some(d) = Date::parse(s) else {
                    self.err(
                        "qingdan::policy::date",
                        arg.span,
                        tr!("日期「{}」无效", "invalid date `{}`", s),
                        tr!("无效日期", "invalid date"),
                        tr!("写作 date(\"YYYY-MM-DD\")", "write date(\"YYYY-MM-DD\")"),
                    );
                    return None;
                };
                (CExpr::Date(d), Ty::Date)
            }
            Builtin::Used => {
                let c = self.expect(arg, (c, t), &Ty::Rec(Rec::Waiver))?;
                self.second_phase = true;
                (CExpr::Call(Builtin::Used, vec![c]), Ty::Bool)
            }
            Builtin::InJurisdiction => {
                let c = self.expect(arg, (c, t), &Ty::Rec(Rec::Item))?;
                let (c2, t2) = typed.next()?;
                let second = args.get(1)?;
                let c2 = self.expect(second, (c2, t2), &Ty::Str)?;
                (CExpr::Call(Builtin::InJurisdiction, vec![c, c2]), Ty::Bool)
            }
        };
        Some(out)
    }

    fn template(&mut self, t: &Template) -> Vec<CPart> {
        let mut out = Vec::new();
        for p in &t.parts {
            match p {
                TemplatePart::Lit(s) => out.push(CPart::Lit(s.clone())),
                TemplatePart::Expr(e) => {
                    if let Some((c, _)) = self.expr(e) {
                        out.push(CPart::Expr(c));
                    }
                }
            }
        }
        out
    }

    fn text(&mut self, t: &ast::Text) -> CText {
        self.lenient = true;
        let out = CText { zh: self.template(&t.zh), en: self.template(&t.en) };
        self.lenient = false;
        out
    }

    fn plain(&mut self, t: &ast::Text) -> Bilingual {
        let flat = |tpl: &Template| {
            tpl.parts
                .iter()
                .map(|p| match p {
                    TemplatePart::Lit(s) => s.clone(),
                    TemplatePart::Expr(_) => String::new(),
                })
                .collect::<String>()
        };
        if t.zh.parts.iter().chain(&t.en.parts).any(|p| matches!(p, TemplatePart::Expr(_))) {
            self.err(
                "qingdan::policy::title",
                t.span,
                tr!("标题不能插值", "a title cannot interpolate values"),
                tr!("这里有 {{…}}", "this has {{…}}"),
                tr!("标题是固定文字；值写进 message", "titles are fixed text; put values in the message"),
            );
        }
        Bilingual { zh: flat(&t.zh), en: flat(&t.en) }
    }

    /// Checks the `for` / `let` / `when` clauses; returns the steps, the root and the innermost
    /// scope slot.
    fn body(&mut self, clauses: &[Clause], allow_chains: bool) -> (Vec<Step>, Root, usize, usize) {
        let mut steps = Vec::new();
        let mut root = Root::Items;
        // An explicit `for x in items` or `for c in chains` first makes that the root; otherwise
        // the rule runs once per item with `item` bound.
        let first_for = clauses.iter().find_map(|c| match c {
            Clause::For(v, e) => Some((v, e)),
            _ => None,
        });
        let explicit_root = first_for.and_then(|(v, e)| match &e.kind {
            ExprKind::Var(n) if n == "items" => Some((v.value.clone(), Root::Items)),
            ExprKind::Var(n) if n == "chains" && allow_chains => Some((v.value.clone(), Root::Chains)),
            _ => None,
        });
        let root_slot = match &explicit_root {
            Some((name, r)) => {
                root = *r;
                let ty = if *r == Root::Items { Ty::Rec(Rec::Item) } else { Ty::Rec(Rec::Chain) };
                self.bind(name, ty)
            }
            None => self.bind("item", Ty::Rec(Rec::Item)),
        };
        let mut scope_slot = root_slot;
        let mut skipped_root = explicit_root.is_none();
        for c in clauses {
            match c {
                Clause::For(v, e) => {
                    if !skipped_root {
                        skipped_root = true;
                        continue;
                    }
                    let Some(typed) = self.expr(e) else { continue };
                    let Some((ce, t)) = self.present(e, typed) else { continue };
                    let Ty::List(elem) = t else {
                        self.err(
                            "qingdan::policy::type",
                            e.span,
                            tr!("`for` 需要列表，实为 {}", "`for` needs a list, found {}", t),
                            tr!("不是列表", "not a list"),
                            tr!("写作 for m in item.materials", "write for m in item.materials"),
                        );
                        continue;
                    };
                    let slot = self.bind(&v.value, *elem);
                    scope_slot = slot;
                    steps.push(Step::For(slot, ce));
                }
                Clause::Let(v, e) => {
                    let Some((ce, t)) = self.expr(e) else { continue };
                    let slot = self.bind(&v.value, t);
                    steps.push(Step::Let(slot, ce));
                }
                Clause::When(e) => {
                    let Some(typed) = self.expr(e) else { continue };
                    let Some(ce) = self.expect(e, typed, &Ty::Bool) else { continue };
                    let mut facts = Vec::new();
                    facts_true(e, &mut facts);
                    self.facts.extend(facts);
                    steps.push(Step::When(ce));
                }
                _ => {}
            }
        }
        for s in &mut steps {
            match s {
                Step::When(e) => cond::lower_condition(e),
                Step::For(_, e) | Step::Let(_, e) => cond::lower_within(e),
            }
        }
        (steps, root, root_slot, scope_slot)
    }

    fn missing(&mut self, span: Span, what: &str) {
        self.err(
            "qingdan::policy::missing_clause",
            span,
            tr!("规则缺少 `{}` 子句", "the rule has no `{}` clause", what),
            tr!("这条规则", "this rule"),
            tr!(
                "每条规则都要有 title、severity、cites、message、help 和通过/不通过的示例",
                "every rule needs title, severity, cites, message, help and passing and failing examples"
            ),
        );
    }

    fn cites(&mut self, cites: &[ast::Cite]) -> Vec<RuleCite> {
        let mut out = Vec::new();
        for c in cites {
            let Some((idx, statute)) = self.refs.registry.by_id(&c.statute.value) else {
                let ids: Vec<&str> = self.refs.registry.ids().collect();
                let help = match did_you_mean(&c.statute.value, ids.iter().copied()) {
                    Some(g) => tr!(
                        "是不是 `{}`？法规编号见 policies/statutes.yaml",
                        "did you mean `{}`? statute ids are in policies/statutes.yaml",
                        g
                    ),
                    None => tr!("法规编号见 policies/statutes.yaml", "statute ids are in policies/statutes.yaml"),
                };
                self.err(
                    "qingdan::policy::unknown_statute",
                    c.statute.span,
                    tr!("法规库中没有 `{}`", "no statute `{}` in the registry", c.statute.value),
                    tr!("未知法规", "unknown statute"),
                    help,
                );
                continue;
            };
            let article = canonical_article(&c.article.value);
            if statute.verification == "UNVERIFIED" {
                self.err(
                    "qingdan::policy::unverified",
                    c.statute.span,
                    tr!(
                        "《{}》的条文未经核实，不能引用",
                        "`{}` has no verified text and cannot be cited",
                        statute.title
                    ),
                    tr!("UNVERIFIED", "UNVERIFIED"),
                    tr!(
                        "只引用 VERIFIED 或 VERIFIED-SECONDARY 的条文",
                        "cite only VERIFIED or VERIFIED-SECONDARY texts"
                    ),
                );
                continue;
            }
            if !statute.articles.contains_key(&article) {
                let keys: Vec<&str> = statute.articles.keys().map(String::as_str).collect();
                let help = match did_you_mean(&article, keys.iter().copied()) {
                    Some(g) => tr!(
                        "是不是「{}」？法规库收录的条文：{}",
                        "did you mean `{}`? articles in the registry: {}",
                        g,
                        keys.join("、")
                    ),
                    None => tr!("法规库收录的条文：{}", "articles in the registry: {}", keys.join("、")),
                };
                self.err(
                    "qingdan::policy::unknown_article",
                    c.article.span,
                    tr!(
                        "《{}》没有收录「{}」",
                        "`{}` has no article `{}` in the registry",
                        statute.title,
                        c.article.value
                    ),
                    tr!("未收录的条文", "article not in the registry"),
                    help,
                );
                continue;
            }
            let text = statute.articles.get(&article).map_or("", String::as_str);
            let key_sentence = match &c.key {
                Some(k) => match key_sentence(text, &k.value) {
                    Some(s) => s,
                    None => {
                        self.err(
                            "qingdan::policy::key_phrase",
                            k.span,
                            tr!(
                                "《{}》{}中没有「{}」",
                                "`{}` {} does not contain `{}`",
                                statute.title,
                                article,
                                k.value
                            ),
                            tr!("条文中找不到", "not in the article"),
                            tr!(
                                "引号中的短语须逐字出现在条文中",
                                "the quoted phrase must occur verbatim in the article"
                            ),
                        );
                        continue;
                    }
                },
                None => first_sentence(text),
            };
            out.push(RuleCite { statute: idx, article, key_sentence });
        }
        out
    }

    fn rule(&mut self, r: &ast::RuleDecl) -> Option<CompiledRule> {
        let (steps, root, root_slot, scope_slot) = self.body(&r.clauses, true);
        let scope_rec = self.scopes.iter().find(|s| s.slot == scope_slot).and_then(|s| match s.ty {
            Ty::Rec(r) => Some(r),
            _ => None,
        });
        let mut title = None;
        let mut severity = None;
        let mut cites = Vec::new();
        let mut at = None;
        let mut message = None;
        let mut help = None;
        let mut fix = None;
        let mut examples = Vec::new();
        let mut saw_cites = false;
        let mut seen: Vec<&'static str> = Vec::new();
        for c in &r.clauses {
            let single = match c {
                Clause::Title(t) => Some(("title", t.span)),
                Clause::Severity(s) => Some(("severity", s.span)),
                Clause::At(e) => Some(("at", e.span)),
                Clause::Message(t) => Some(("message", t.span)),
                Clause::Help(t) => Some(("help", t.span)),
                Clause::Fix(f) => Some(("fix", f.span)),
                _ => None,
            };
            if let Some((what, span)) = single {
                if seen.contains(&what) {
                    self.err(
                        "qingdan::policy::duplicate_clause",
                        span,
                        tr!("`{}` 子句重复", "`{}` is given twice", what),
                        tr!("第二个 `{}`", "a second `{}`", what),
                        tr!("每条规则只写一个 `{}`", "write one `{}` per rule", what),
                    );
                }
                seen.push(what);
            }
        }
        for c in &r.clauses {
            match c {
                Clause::Title(t) => title = Some(self.plain(t)),
                Clause::Severity(s) => severity = Some(s.value),
                Clause::Cites(cs) => {
                    saw_cites = true;
                    cites.extend(self.cites(cs));
                }
                Clause::At(e) => at = self.expr(e).map(|(c, _)| c),
                Clause::Message(t) => message = Some(self.text(t)),
                Clause::Help(t) => help = Some(self.text(t)),
                Clause::Fix(f) => fix = self.fix(f),
                Clause::Example(ex) => examples.push(CExample { pass: ex.pass, body: ex.body.clone(), span: ex.span }),
                Clause::For(..) | Clause::Let(..) | Clause::When(..) => {}
            }
        }
        let head = Span::new(r.id.span.file, r.span.start as usize, r.name.span.end as usize);
        for (present, what) in [
            (title.is_some(), "title"),
            (severity.is_some(), "severity"),
            (saw_cites, "cites"),
            (message.is_some(), "message"),
            (help.is_some(), "help"),
            (examples.iter().any(|e| e.pass), "example pass"),
            (examples.iter().any(|e| !e.pass), "example fail"),
        ] {
            if !present {
                self.missing(head, what);
            }
        }
        let mut rule = CompiledRule {
            id: r.id.value.clone(),
            name: r.name.value.clone(),
            severity: severity?,
            title: title?,
            docs: r.docs.clone(),
            cites,
            root,
            root_slot,
            steps,
            slots: self.slots,
            scope_slot,
            scope_rec,
            at,
            message: message?,
            help: help?,
            fix,
            examples,
            second_phase: self.second_phase,
            span: r.span,
            screen: None,
        };
        rule.screen = crate::eval::screen::Screen::build(&rule).map(Arc::new);
        Some(rule)
    }

    fn fix(&mut self, f: &ast::Fix) -> Option<CFix> {
        let action = match &f.action {
            ast::FixAction::Remove(e) => {
                let (c, t) = self.expr(e)?;
                if t != Ty::Rec(Rec::Material) {
                    self.err(
                        "qingdan::policy::fix",
                        e.span,
                        tr!("`remove` 只能删除材料", "`remove` can only remove a material"),
                        tr!("这里是 {}", "this is {}", t),
                        tr!("写作 fix safe remove m", "write fix safe remove m"),
                    );
                    return None;
                }
                CFixAction::Remove(c)
            }
            ast::FixAction::Set(sets) => {
                let mut out = Vec::new();
                for (path, value) in sets {
                    let ExprKind::Field(target, field) = &path.kind else { continue };
                    let (ct, tt) = self.expr(target)?;
                    if !matches!(tt, Ty::Rec(Rec::Material | Rec::Item)) {
                        self.err(
                            "qingdan::policy::fix",
                            target.span,
                            tr!(
                                "`set` 只能修改材料或事项的字段",
                                "`set` can only change fields of a material or an item"
                            ),
                            tr!("这里是 {}", "this is {}", tt),
                            tr!(
                                "写作 fix safe set m.acquisition = \"内部共享\"",
                                "write fix safe set m.acquisition = \"内部共享\""
                            ),
                        );
                        return None;
                    }
                    let Ty::Rec(rec) = tt else { return None };
                    let Some((_, _, fty)) = fields(rec).into_iter().find(|(n, _, _)| *n == field.value) else {
                        self.err(
                            "qingdan::policy::unknown_field",
                            field.span,
                            tr!("{} 没有字段 `{}`", "{} has no field `{}`", rec.name(), field.value),
                            tr!("未知字段", "unknown field"),
                            tr!("`set` 只能修改已有的字段", "`set` can only change existing fields"),
                        );
                        return None;
                    };
                    let (cv, vt) = self.expr(value)?;
                    let cv = self.enum_literal(&fty, value, cv);
                    if !fty.inner().comparable(vt.inner()) {
                        self.mismatch(value, &fty, &vt, BinOp::Eq);
                        return None;
                    }
                    out.push((ct, field.value.clone(), cv));
                }
                CFixAction::Set(out)
            }
        };
        Some(CFix { applicability: f.applicability, action })
    }

    fn list(&mut self, l: &ast::ListDecl) -> CompiledList {
        let (steps, _, _, _) = self.body(&l.clauses, false);
        let title = l.clauses.iter().find_map(|c| match c {
            Clause::Title(t) => Some(t),
            _ => None,
        });
        let title = title.map(|t| self.plain(t));
        CompiledList { name: l.name.value.clone(), title, docs: l.docs.clone(), steps, slots: self.slots, span: l.span }
    }
}

/// The sentence of `text` that holds `phrase`.
fn key_sentence(text: &str, phrase: &str) -> Option<String> {
    let at = text.find(phrase)?;
    let start = text
        .get(..at)?
        .rfind(['。', '；', '\n'])
        .map_or(0, |i| i + text.get(i..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8));
    let end = text.get(at..)?.find(['。', '；', '\n']).map_or(text.len(), |i| {
        let e = at + i;
        e + text.get(e..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8)
    });
    text.get(start..end).map(|s| s.trim().to_string())
}

fn first_sentence(text: &str) -> String {
    let end = text
        .find(['。', '\n'])
        .map_or(text.len(), |i| i + text.get(i..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8));
    text.get(..end).unwrap_or(text).trim().to_string()
}

/// One parsed policy file, ready to compile.
pub struct ParsedPolicy {
    pub src: SourceFile,
    pub file: FileId,
    pub ast: ast::PolicyFile,
}

/// Compiles parsed policy files against the reference tables. Every error of every file is
/// returned together.
pub fn compile(files: Vec<ParsedPolicy>, refs: &References, sources: SourceMap) -> Result<Program, Vec<SourceError>> {
    let mut program = Program { sources, ..Program::default() };
    let mut errors = Vec::new();
    let mut seen: HashMap<String, (SourceFile, Span)> = HashMap::new();
    let mut seen_lists: HashMap<String, ()> = HashMap::new();
    for pf in &files {
        for r in &pf.ast.rules {
            if let Some((first_src, first)) = seen.get(&r.id.value) {
                let line = first_src.line_col(first.start as usize).line;
                errors.push(
                    SourceError::new(
                        "qingdan::policy::duplicate_rule",
                        tr!("规则编号 `{}` 重复", "rule id `{}` is used twice", r.id.value),
                    )
                    .at(
                        &pf.src,
                        r.id.span,
                        tr!("{}:{} 已有同编号的规则", "already defined at {}:{}", first_src.name(), line),
                    )
                    .help(tr!(
                        "规则编号不得重复使用；给新规则一个新编号",
                        "rule ids are never reused; give the new rule a new id"
                    )),
                );
                continue;
            }
            seen.insert(r.id.value.clone(), (pf.src.clone(), r.id.span));
            let mut checker = Checker::new(refs, &pf.src);
            let compiled = checker.rule(r);
            errors.append(&mut checker.errors);
            if let Some(c) = compiled {
                program.rules.push(c);
            }
        }
        for l in &pf.ast.lists {
            if seen_lists.insert(l.name.value.clone(), ()).is_some() {
                errors.push(
                    SourceError::new(
                        "qingdan::policy::duplicate_list",
                        tr!("清单 `{}` 重复定义", "list `{}` is defined twice", l.name.value),
                    )
                    .at(&pf.src, l.name.span, tr!("重复", "duplicate"))
                    .help(tr!("每个清单只定义一次", "define each list once")),
                );
                continue;
            }
            let mut checker = Checker::new(refs, &pf.src);
            let compiled = checker.list(l);
            errors.append(&mut checker.errors);
            program.lists.push(compiled);
        }
    }
    if errors.is_empty() {
        program.rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(program)
    } else {
        Err(errors)
    }
}
