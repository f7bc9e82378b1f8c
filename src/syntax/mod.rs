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
    let pairs = PolicyParser::parse(Rule::file, src.text()).map_err(|e| vec![syntax_error(src, file, &e)])?;
    lower::file(src, file, pairs)
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
