//! Stage 2: `.qd` policy text → AST.
//!
//! pest parses the text with `grammar/policy.pest`; `lower` turns the pairs into the AST with one
//! function per grammar rule. pest's types never leave this module.

pub mod ast;
mod lower;

use pest::Parser as _;
use pest_derive::Parser;

use crate::diag::SourceError;
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

#[derive(Parser)]
#[grammar = "../grammar/policy.pest"]
struct PolicyParser;

/// Parses a policy file. A syntax error stops the file (pest reports the first one).
pub fn parse(src: &SourceFile, file: FileId) -> Result<ast::PolicyFile, Vec<SourceError>> {
    check_nesting(src, file).map_err(|e| vec![e])?;
    let pairs = PolicyParser::parse(Rule::file, src.text()).map_err(|e| vec![syntax_error(src, file, &e)])?;
    let ast = lower::file(src, file, pairs)?;
    check_depth(src, &ast).map_err(|e| vec![e])?;
    Ok(ast)
}

// The parser, the lowering, the checker and the evaluator all recurse on the shape of an
// expression, so a policy nested absurdly deep would overflow the stack (an abort, not even a
// panic). These limits are far above what a rule needs and refuse such text with a located error.

/// Deepest nesting of brackets: outside strings, and inside one string (interpolations).
const MAX_NESTING: usize = 32;
/// Most `if`s in one declaration (`else if` chains nest without brackets).
const MAX_IFS: usize = 32;
/// Most operators in one expression between brackets, and field accesses in one chain.
pub(crate) const MAX_OPERATORS: usize = 32;
/// Deepest expression tree after parsing.
const MAX_EXPR_DEPTH: usize = 200;

pub(crate) fn too_complex(src: &SourceFile, span: Span, label: String) -> SourceError {
    let end = src
        .text()
        .get(span.start as usize..)
        .and_then(|s| s.chars().next())
        .map_or(span.start as usize, |c| (span.start as usize).saturating_add(c.len_utf8()));
    SourceError::new("qingdan::policy::too_complex", tr!("表达式过于复杂", "expression too complex"))
        .at(src, Span::new(span.file, span.start as usize, end), label)
        .help(tr!(
            "用 let 把表达式拆成几步；括号嵌套不超过 {} 层，一层中的运算符不超过 {} 个",
            "split the expression into steps with `let`; nest brackets at most {} deep, with at most {} operators at one level",
            MAX_NESTING,
            MAX_OPERATORS
        ))
}

/// Bracket nesting and `if` chains, on the text before pest sees it (pest recurses on both).
fn check_nesting(src: &SourceFile, file: FileId) -> Result<(), SourceError> {
    let text = src.text();
    let (mut depth, mut string_depth, mut ifs) = (0usize, 0usize, 0usize);
    let mut in_string = false;
    let mut line_start = true;
    let mut chars = text.char_indices().peekable();
    let fail = |at: usize, label: String| Err(too_complex(src, Span::new(file, at, at), label));
    while let Some((i, c)) = chars.next() {
        let at_line_start = std::mem::replace(&mut line_start, c == '\n');
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                '(' | '[' | '{' => {
                    string_depth = string_depth.saturating_add(1);
                    if string_depth > MAX_NESTING {
                        return fail(i, tr!("括号嵌套超过 {} 层", "brackets nested deeper than {}", MAX_NESTING));
                    }
                }
                ')' | ']' | '}' => string_depth = string_depth.saturating_sub(1),
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                string_depth = 0;
            }
            '/' if chars.peek().is_some_and(|&(_, n)| n == '/') => {
                // A comment (or documentation) runs to the end of the line.
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        line_start = true;
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth = depth.saturating_add(1);
                if depth > MAX_NESTING {
                    return fail(i, tr!("括号嵌套超过 {} 层", "brackets nested deeper than {}", MAX_NESTING));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            'r' | 'l' if at_line_start && (word_at(text, i, "rule") || word_at(text, i, "list")) => ifs = 0,
            'i' if word_at(text, i, "if") => {
                ifs = ifs.saturating_add(1);
                if ifs > MAX_IFS {
                    return fail(i, tr!("一条规则中的 if 超过 {} 个", "more than {} `if`s in one rule", MAX_IFS));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `word` stands at byte `i` of `text` as a whole word.
fn word_at(text: &str, i: usize, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.get(i..).and_then(|r| r.strip_prefix(word)).is_some_and(|after| !after.starts_with(ident))
        && !text.get(..i).and_then(|b| b.chars().next_back()).is_some_and(ident)
}

/// The depth of every expression tree, measured without recursion.
fn check_depth(src: &SourceFile, file: &ast::PolicyFile) -> Result<(), SourceError> {
    use ast::{Clause, ExprKind, FixAction, TemplatePart};
    let clauses = file.rules.iter().flat_map(|r| &r.clauses).chain(file.lists.iter().flat_map(|l| &l.clauses));
    let mut roots: Vec<&ast::Expr> = Vec::new();
    for c in clauses {
        match c {
            Clause::For(_, e) | Clause::Let(_, e) | Clause::When(e) | Clause::At(e) => roots.push(e),
            Clause::Title(t) | Clause::Message(t) | Clause::Help(t) => {
                for part in t.zh.parts.iter().chain(&t.en.parts) {
                    if let TemplatePart::Expr(e) = part {
                        roots.push(e);
                    }
                }
            }
            Clause::Fix(f) => match &f.action {
                FixAction::Remove(e) => roots.push(e),
                FixAction::Set(pairs) => roots.extend(pairs.iter().flat_map(|(a, b)| [a, b])),
            },
            Clause::Severity(_) | Clause::Cites(_) | Clause::Example(_) => {}
        }
    }
    let mut stack: Vec<(&ast::Expr, usize)> = roots.into_iter().map(|e| (e, 1)).collect();
    while let Some((e, d)) = stack.pop() {
        if d > MAX_EXPR_DEPTH {
            return Err(too_complex(
                src,
                e.span,
                tr!("表达式嵌套超过 {} 层", "expression nested deeper than {}", MAX_EXPR_DEPTH),
            ));
        }
        let d = d.saturating_add(1);
        match &e.kind {
            ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Var(_) => {}
            ExprKind::List(v) | ExprKind::Call(_, v) => stack.extend(v.iter().map(|c| (c, d))),
            ExprKind::Field(a, _) | ExprKind::Unary(_, a) => stack.push((a, d)),
            ExprKind::Quant(_, _, a, b) | ExprKind::Binary(_, a, b) => stack.extend([(&**a, d), (&**b, d)]),
            ExprKind::If(a, b, c) => stack.extend([(&**a, d), (&**b, d), (&**c, d)]),
        }
    }
    Ok(())
}

fn syntax_error(src: &SourceFile, file: FileId, e: &pest::error::Error<Rule>) -> SourceError {
    let (start, end) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    let end = if end > start {
        end
    } else {
        src.text().get(start..).and_then(|s| s.chars().next()).map_or(start, |c| start + c.len_utf8())
    };
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<String> = positives.iter().filter_map(|r| rule_name(*r)).map(str::to_string).collect();
            names.sort();
            names.dedup();
            names.join(", ")
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let label = if expected.is_empty() {
        tr!("无法解析", "unexpected input")
    } else {
        tr!("这里应为 {}", "expected {}", expected)
    };
    SourceError::new("qingdan::policy::syntax", tr!("策略语法错误", "policy syntax error"))
        .at(src, Span::new(file, start, end), label)
        .help(tr!(
            "规则的写法见 docs/policy-language.md；每个子句以关键字开头（title, severity, cites, for, let, when, at, message, help, fix, example）",
            "see docs/policy-language.md; each clause starts with a keyword (title, severity, cites, for, let, when, at, message, help, fix, example)"
        ))
}

/// Human names for grammar rules in "expected …" messages.
fn rule_name(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::rule_decl | Rule::kw_rule => "`rule`",
        Rule::list_decl | Rule::kw_list => "`list`",
        Rule::rule_id => "a rule id (QD101)",
        Rule::rule_name => "a kebab-case rule name",
        Rule::list_name => "a list name",
        Rule::title_clause
        | Rule::severity_clause
        | Rule::cites_clause
        | Rule::for_clause
        | Rule::let_clause
        | Rule::when_clause
        | Rule::at_clause
        | Rule::message_clause
        | Rule::help_clause
        | Rule::fix_clause
        | Rule::example_clause => "a clause",
        Rule::text => "`zh \"…\" en \"…\"`",
        Rule::severity => "`error`, `warning` or `info`",
        Rule::cite => "a citation (statute-id.第N条)",
        Rule::statute_id => "a statute id",
        Rule::article => "an article",
        Rule::applicability => "`safe`, `unsafe` or `display`",
        Rule::verdict => "`pass` or `fail`",
        Rule::yaml_block => "`{ inline YAML }`",
        Rule::example_file => "`file \"path\"`",
        Rule::expr | Rule::postfix | Rule::expr_only => "an expression",
        Rule::ident => "a name",
        Rule::string => "a string",
        Rule::int => "a number",
        Rule::kw_in => "`in`",
        Rule::kw_where => "`where`",
        Rule::EOI => "end of file",
        Rule::op_coalesce
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_in
        | Rule::op_matches
        | Rule::op_contains
        | Rule::op_add
        | Rule::op_sub => "an operator",
        _ => return None,
    })
}
