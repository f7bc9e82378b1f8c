//! The policy AST. Every node keeps its span into the `.qd` file.

use crate::source::{Span, Spanned};

#[derive(Debug, Clone, Default)]
pub struct PolicyFile {
    pub rules: Vec<RuleDecl>,
    pub lists: Vec<ListDecl>,
}

#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub docs: Vec<String>,
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ListDecl {
    pub docs: Vec<String>,
    pub name: Spanned<String>,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    Safe,
    Unsafe,
    Display,
}

#[derive(Debug, Clone)]
pub enum Clause {
    Title(Text),
    Severity(Spanned<Severity>),
    Cites(Vec<Cite>),
    For(Spanned<String>, Expr),
    Let(Spanned<String>, Expr),
    When(Expr),
    At(Expr),
    Message(Text),
    Help(Text),
    Fix(Fix),
    Example(Example),
}

/// Chinese and English text, each a template with `{expr}` holes.
#[derive(Debug, Clone)]
pub struct Text {
    pub zh: Template,
    pub en: Template,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Lit(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub struct Cite {
    pub statute: Spanned<String>,
    pub article: Spanned<String>,
    /// A phrase of the article whose sentence is quoted as the key sentence.
    pub key: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub struct Fix {
    pub applicability: Applicability,
    pub action: FixAction,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FixAction {
    Remove(Expr),
    Set(Vec<(Expr, Expr)>),
}

#[derive(Debug, Clone)]
pub struct Example {
    pub pass: bool,
    pub body: ExampleBody,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExampleBody {
    /// Inline YAML (the braces included) and where it starts in the policy file.
    Inline(Spanned<String>),
    File(Spanned<String>),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantKind {
    Any,
    All,
    Count,
    First,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Coalesce,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Matches,
    Contains,
    Add,
    Sub,
}

impl BinOp {
    /// Whether a comparison holds for operands ordered `ord`; `None` for an operator that does
    /// not compare.
    #[must_use]
    pub fn holds(self, ord: std::cmp::Ordering) -> Option<bool> {
        Some(match self {
            BinOp::Lt => ord.is_lt(),
            BinOp::Le => ord.is_le(),
            BinOp::Gt => ord.is_gt(),
            BinOp::Ge => ord.is_ge(),
            BinOp::Eq => ord.is_eq(),
            BinOp::Ne => ord.is_ne(),
            _ => return None,
        })
    }

    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Coalesce => "??",
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Matches => "matches",
            BinOp::Contains => "contains",
            BinOp::Add => "+",
            BinOp::Sub => "-",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Expr>),
    Var(String),
    Field(Box<Expr>, Spanned<String>),
    Call(Spanned<String>, Vec<Expr>),
    Quant(QuantKind, Spanned<String>, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}
