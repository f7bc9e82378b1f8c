//! pest pairs → AST, one function per grammar rule.

use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::{
    Applicability, BinOp, Cite, Clause, Example, ExampleBody, Expr, ExprKind, Fix, FixAction, ListDecl, PolicyFile,
    QuantKind, RuleDecl, Severity, Template, TemplatePart, Text, UnOp,
};
use super::{PolicyParser, Rule};
use crate::diag::SourceError;
use crate::source::{FileId, SourceFile, Span, Spanned};
use crate::tr;

/// Operator precedence, lowest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left)
            | Op::infix(Rule::op_matches, Assoc::Left)
            | Op::infix(Rule::op_contains, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

#[derive(Clone, Copy)]
struct Ctx<'a> {
    src: &'a SourceFile,
    file: FileId,
    /// Added to pest offsets (non-zero when parsing an interpolation inside a string).
    offset: usize,
}

impl Ctx<'_> {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn spanned(&self, p: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(p.as_str().to_string(), self.span(p))
    }

    fn error(&self, span: Span, message: String, help: String) -> SourceError {
        SourceError::new("qingdan::policy::syntax", tr!("策略语法错误", "policy syntax error"))
            .at(self.src, span, message)
            .help(help)
    }
}

type R<T> = Result<T, SourceError>;

pub(super) fn file(src: &SourceFile, file: FileId, mut pairs: Pairs<'_, Rule>) -> Result<PolicyFile, Vec<SourceError>> {
    let cx = Ctx { src, file, offset: 0 };
    let mut out = PolicyFile::default();
    let mut errors = Vec::new();
    let Some(top) = pairs.next() else { return Ok(out) };
    for p in top.into_inner() {
        match p.as_rule() {
            Rule::rule_decl => match rule_decl(cx, p) {
                Ok(r) => out.rules.push(r),
                Err(e) => errors.push(e),
            },
            Rule::list_decl => match list_decl(cx, p) {
                Ok(l) => out.lists.push(l),
                Err(e) => errors.push(e),
            },
            _ => {}
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn doc_line(p: &Pair<'_, Rule>) -> String {
    let s = p.as_str().trim_start_matches("///");
    s.strip_prefix(' ').unwrap_or(s).trim_end().to_string()
}

fn rule_decl(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<RuleDecl> {
    let span = cx.span(&p);
    let mut docs = Vec::new();
    let mut id = None;
    let mut name = None;
    let mut clauses = Vec::new();
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::doc_line => docs.push(doc_line(&q)),
            Rule::rule_id => id = Some(cx.spanned(&q)),
            Rule::rule_name => name = Some(cx.spanned(&q)),
            Rule::kw_rule => {}
            _ => clauses.push(clause(cx, q)?),
        }
    }
    let (Some(id), Some(name)) = (id, name) else { unreachable!("the grammar requires an id and a name") };
    Ok(RuleDecl { docs, id, name, clauses, span })
}

fn list_decl(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<ListDecl> {
    let span = cx.span(&p);
    let mut docs = Vec::new();
    let mut name = None;
    let mut clauses = Vec::new();
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::doc_line => docs.push(doc_line(&q)),
            Rule::list_name => name = Some(cx.spanned(&q)),
            Rule::kw_list => {}
            _ => clauses.push(clause(cx, q)?),
        }
    }
    let Some(name) = name else { unreachable!("the grammar requires a name") };
    Ok(ListDecl { docs, name, clauses, span })
}

fn clause(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Clause> {
    let span = cx.span(&p);
    let rule = p.as_rule();
    let mut inner = p.into_inner();
    let mut next = || inner.next().ok_or_else(|| cx.error(span, tr!("子句不完整", "incomplete clause"), String::new()));
    Ok(match rule {
        Rule::title_clause => Clause::Title(text(cx, next()?)?),
        Rule::message_clause => Clause::Message(text(cx, next()?)?),
        Rule::help_clause => Clause::Help(text(cx, next()?)?),
        Rule::severity_clause => {
            let s = next()?;
            let sev = match s.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => Severity::Info,
            };
            Clause::Severity(Spanned::new(sev, cx.span(&s)))
        }
        Rule::cites_clause => {
            let mut cites = Vec::new();
            for c in inner {
                cites.push(cite(cx, c)?);
            }
            Clause::Cites(cites)
        }
        Rule::for_clause | Rule::let_clause => {
            let var = next()?;
            let mut e = next()?;
            if e.as_rule() == Rule::kw_in {
                e = next()?;
            }
            let var = cx.spanned(&var);
            let e = expr(cx, e)?;
            if rule == Rule::for_clause { Clause::For(var, e) } else { Clause::Let(var, e) }
        }
        Rule::when_clause => Clause::When(expr(cx, next()?)?),
        Rule::at_clause => Clause::At(expr(cx, next()?)?),
        Rule::fix_clause => {
            let a = next()?;
            let applicability = match a.as_str() {
                "safe" => Applicability::Safe,
                "unsafe" => Applicability::Unsafe,
                _ => Applicability::Display,
            };
            let action = next()?;
            let action = match action.as_rule() {
                Rule::fix_remove => {
                    let e = action.into_inner().next().ok_or_else(|| {
                        cx.error(span, tr!("`remove` 缺少对象", "`remove` needs a value"), String::new())
                    })?;
                    FixAction::Remove(expr(cx, e)?)
                }
                _ => {
                    let mut sets = Vec::new();
                    for asg in action.into_inner() {
                        let mut parts = asg.into_inner();
                        let (Some(path), Some(value)) = (parts.next(), parts.next()) else { continue };
                        sets.push((expr_path(cx, path)?, expr(cx, value)?));
                    }
                    FixAction::Set(sets)
                }
            };
            Clause::Fix(Fix { applicability, action, span })
        }
        Rule::example_clause => {
            let verdict = next()?;
            let body = next()?;
            let body = match body.as_rule() {
                Rule::example_file => {
                    let s = body
                        .into_inner()
                        .next()
                        .ok_or_else(|| cx.error(span, tr!("缺少文件路径", "missing path"), String::new()))?;
                    ExampleBody::File(Spanned::new(string_value(&s), cx.span(&s)))
                }
                _ => ExampleBody::Inline(cx.spanned(&body)),
            };
            Clause::Example(Example { pass: verdict.as_str() == "pass", body, span })
        }
        _ => unreachable!("the grammar admits only clauses here"),
    })
}

fn cite(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Cite> {
    let span = cx.span(&p);
    let mut inner = p.into_inner();
    let reference = inner.next();
    let key = inner.next().map(|k| Spanned::new(string_value(&k), cx.span(&k)));
    let mut parts = reference.map(Pair::into_inner).into_iter().flatten();
    match (parts.next(), parts.next()) {
        (Some(s), Some(a)) => Ok(Cite { statute: cx.spanned(&s), article: cx.spanned(&a), key }),
        _ => Err(cx.error(
            span,
            tr!("引用不完整", "incomplete citation"),
            tr!("写作 statute-id.第N条", "write statute-id.第N条"),
        )),
    }
}

fn string_value(p: &Pair<'_, Rule>) -> String {
    let raw = p.as_str();
    let inner = raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(raw);
    unescape(inner)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn text(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Text> {
    let span = cx.span(&p);
    let mut inner = p.into_inner();
    let (Some(zh), Some(en)) = (inner.next(), inner.next()) else {
        return Err(cx.error(
            span,
            tr!("文本应写作 zh \"…\" en \"…\"", "text must be zh \"…\" en \"…\""),
            String::new(),
        ));
    };
    Ok(Text { zh: template(cx, &zh)?, en: template(cx, &en)?, span })
}

/// Splits a string into literal parts and `{expr}` holes; `{{` and `}}` are literal braces.
fn template(cx: Ctx<'_>, p: &Pair<'_, Rule>) -> R<Template> {
    let span = cx.span(p);
    let raw = p.as_str();
    // Offset of the string's content (after the opening quote) in the file.
    let base = span.start as usize + 1;
    let body = raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(raw);
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let bytes = body.as_bytes();
    while i < body.len() {
        let rest = body.get(i..).unwrap_or("");
        if rest.starts_with("{{") {
            lit.push('{');
            i += 2;
        } else if rest.starts_with("}}") {
            lit.push('}');
            i += 2;
        } else if rest.starts_with('{') {
            let Some(close) = rest.find('}') else {
                return Err(cx.error(
                    Span::new(cx.file, base + i, base + i + 1),
                    tr!("插值缺少 `}}`", "interpolation without a closing `}}`"),
                    tr!(
                        "写作 {{m.name}}；字面的花括号写作 {{{{ 和 }}}}",
                        "write {{m.name}}; literal braces are {{{{ and }}}}"
                    ),
                ));
            };
            if !lit.is_empty() {
                parts.push(TemplatePart::Lit(unescape(&std::mem::take(&mut lit))));
            }
            let hole = rest.get(1..close).unwrap_or("");
            let hole_cx = Ctx { offset: base + i + 1, ..cx };
            let pairs = PolicyParser::parse(Rule::expr_only, hole).map_err(|e| {
                let pos = match e.location {
                    pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
                };
                cx.error(
                    Span::new(cx.file, hole_cx.offset + pos, hole_cx.offset + pos + 1),
                    tr!("插值 `{{{}}}` 不是有效的表达式", "`{{{}}}` is not a valid expression", hole),
                    tr!("插值里写表达式，如 {{m.name}}", "put an expression in the braces, e.g. {{m.name}}"),
                )
            })?;
            let e = pairs
                .into_iter()
                .next()
                .and_then(|p| p.into_inner().next())
                .ok_or_else(|| cx.error(span, tr!("空插值", "empty interpolation"), String::new()))?;
            parts.push(TemplatePart::Expr(expr(hole_cx, e)?));
            i += close + 1;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            // Keep escapes together so `\"` is not split.
            if c == '\\' && bytes.get(i + 1).is_some() {
                let next = rest.get(1..).and_then(|r| r.chars().next()).unwrap_or(' ');
                lit.push(c);
                lit.push(next);
                i += 1 + next.len_utf8();
            } else {
                lit.push(c);
                i += c.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Lit(unescape(&lit)));
    }
    Ok(Template { parts, span })
}

fn expr_path(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Expr> {
    let span = cx.span(&p);
    if p.clone().into_inner().count() > super::MAX_OPERATORS {
        return Err(super::too_complex(
            cx.src,
            span,
            tr!("字段访问超过 {} 层", "more than {} field accesses in a row", super::MAX_OPERATORS),
        ));
    }
    let mut inner = p.into_inner();
    let Some(first) = inner.next() else {
        return Err(cx.error(span, tr!("缺少字段", "missing field"), String::new()));
    };
    let mut e = Expr { kind: ExprKind::Var(first.as_str().to_string()), span: cx.span(&first) };
    for f in inner {
        let fs = cx.spanned(&f);
        e = Expr { span: e.span.join(fs.span), kind: ExprKind::Field(Box::new(e), fs) };
    }
    Ok(e)
}

fn expr(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Expr> {
    let span = cx.span(&p);
    // The Pratt parser recurses once per prefix operator and per right-associative operator.
    let operators = p.clone().into_inner().filter(|q| q.as_rule() != Rule::postfix).count();
    if operators > super::MAX_OPERATORS {
        return Err(super::too_complex(
            cx.src,
            span,
            tr!("一层中的运算符超过 {} 个", "more than {} operators at one level", super::MAX_OPERATORS),
        ));
    }
    PRATT
        .map_primary(|q| postfix(cx, q))
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let s = cx.span(&op).join(rhs.span);
            let op = if op.as_rule() == Rule::op_not { UnOp::Not } else { UnOp::Neg };
            Ok(Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span: s })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let s = lhs.span.join(rhs.span);
            let op = match op.as_rule() {
                Rule::op_coalesce => BinOp::Coalesce,
                Rule::op_or => BinOp::Or,
                Rule::op_and => BinOp::And,
                Rule::op_eq => BinOp::Eq,
                Rule::op_ne => BinOp::Ne,
                Rule::op_lt => BinOp::Lt,
                Rule::op_le => BinOp::Le,
                Rule::op_gt => BinOp::Gt,
                Rule::op_ge => BinOp::Ge,
                Rule::op_in => BinOp::In,
                Rule::op_not_in => BinOp::NotIn,
                Rule::op_matches => BinOp::Matches,
                Rule::op_contains => BinOp::Contains,
                Rule::op_add => BinOp::Add,
                _ => BinOp::Sub,
            };
            Ok(Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span: s })
        })
        .parse(p.into_inner())
        .map(|mut e| {
            if e.span.is_empty() {
                e.span = span;
            }
            e
        })
}

fn postfix(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Expr> {
    if p.clone().into_inner().count() > super::MAX_OPERATORS {
        return Err(super::too_complex(
            cx.src,
            cx.span(&p),
            tr!("字段访问超过 {} 层", "more than {} field accesses in a row", super::MAX_OPERATORS),
        ));
    }
    let mut inner = p.into_inner();
    let Some(first) = inner.next() else { unreachable!("a postfix expression has a primary") };
    let mut e = primary(cx, first)?;
    for f in inner {
        let fs = cx.spanned(&f);
        e = Expr { span: e.span.join(fs.span), kind: ExprKind::Field(Box::new(e), fs) };
    }
    Ok(e)
}

fn primary(cx: Ctx<'_>, p: Pair<'_, Rule>) -> R<Expr> {
    let span = cx.span(&p);
    let kind = match p.as_rule() {
        Rule::string => ExprKind::Str(string_value(&p)),
        Rule::int => ExprKind::Int(p.as_str().parse().map_err(|_| {
            cx.error(span, tr!("数字过大", "number too large"), tr!("用较小的整数", "use a smaller number"))
        })?),
        Rule::boolean => ExprKind::Bool(p.as_str() == "true"),
        Rule::ident => ExprKind::Var(p.as_str().to_string()),
        Rule::expr => return expr(cx, p),
        Rule::list_literal => {
            let mut items = Vec::new();
            for q in p.into_inner() {
                items.push(expr(cx, q)?);
            }
            ExprKind::List(items)
        }
        Rule::call => {
            let mut inner = p.into_inner();
            let Some(name) = inner.next() else { unreachable!("a call has a name") };
            let mut args = Vec::new();
            for q in inner {
                args.push(expr(cx, q)?);
            }
            ExprKind::Call(cx.spanned(&name), args)
        }
        Rule::if_expr => {
            let mut inner = p.into_inner().filter(|q| q.as_rule() == Rule::expr);
            let (Some(c), Some(a), Some(b)) = (inner.next(), inner.next(), inner.next()) else {
                unreachable!("an if expression has three parts")
            };
            ExprKind::If(Box::new(expr(cx, c)?), Box::new(expr(cx, a)?), Box::new(expr(cx, b)?))
        }
        Rule::quantifier => {
            let mut inner = p.into_inner().filter(|q| !matches!(q.as_rule(), Rule::kw_in | Rule::kw_where));
            let (Some(kind), Some(var), Some(list), Some(cond)) =
                (inner.next(), inner.next(), inner.next(), inner.next())
            else {
                unreachable!("a quantifier has four parts")
            };
            let k = match kind.as_str() {
                "any" => QuantKind::Any,
                "all" => QuantKind::All,
                "count" => QuantKind::Count,
                _ => QuantKind::First,
            };
            ExprKind::Quant(k, cx.spanned(&var), Box::new(expr(cx, list)?), Box::new(expr(cx, cond)?))
        }
        _ => unreachable!("the grammar admits only primaries here"),
    };
    Ok(Expr { kind, span })
}
