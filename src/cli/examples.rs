//! `qingdan policy test`: runs every rule's `example pass` / `example fail` blocks.

use crate::compile::{CExample, Program};
use crate::corpus::Corpus;
use crate::corpus::load::LoadOptions;
use crate::corpus::model::Date;
use crate::corpus::reference::References;
use crate::corpus::yaml::{self, NodeKind};
use crate::eval::{self, RunOptions};
use crate::policy;
use crate::source::{FileId, SourceFile};
use crate::syntax::ast::ExampleBody;
use crate::tr;

/// The outcome of one example.
#[derive(Debug)]
pub struct ExampleResult {
    pub rule: String,
    pub location: String,
    pub pass: bool,
    pub ok: bool,
    pub detail: String,
}

impl ExampleResult {
    #[must_use]
    pub fn line(&self) -> String {
        let verdict = if self.pass { "pass" } else { "fail" };
        let status = if self.ok { "ok" } else { "FAILED" };
        format!(
            "{status:<6} {} example {verdict} ({}){}",
            self.rule,
            self.location,
            if self.detail.is_empty() { String::new() } else { format!(": {}", self.detail) }
        )
    }
}

/// Examples are checked at a fixed date so their outcome never depends on the day.
pub const EXAMPLE_DATE: Date = Date { year: 2026, month: 1, day: 1 };

const FILE_KEYS: &[&str] = &["items", "事项", "list", "清单", "chains", "一件事"];

/// Turns an inline example into list-file text: one item, or a whole file with `items:`.
fn example_text(inline: &str) -> String {
    let src = SourceFile::new("<example>", inline);
    let whole_file = match yaml::parse(&src, FileId(0), yaml::Limits::default()) {
        Ok(Some(node)) => match &node.kind {
            NodeKind::Map(entries) => entries.iter().any(|(k, _)| k.as_str().is_some_and(|k| FILE_KEYS.contains(&k))),
            _ => false,
        },
        _ => false,
    };
    if whole_file { inline.to_string() } else { format!("{{items: [{inline}]}}") }
}

fn run_one(program: &Program, refs: &References, rule_idx: usize, ex: &CExample) -> Result<usize, String> {
    let policy_file = program.sources.name(ex.span.file);
    let (name, text) = match &ex.body {
        ExampleBody::Inline(t) => (format!("{policy_file} (example)"), example_text(&t.value)),
        ExampleBody::File(p) => match policy::read_fixture(policy_file, &p.value) {
            Some(t) => (p.value.clone(), t),
            None => return Err(tr!("找不到示例文件 `{}`", "example file `{}` not found", p.value)),
        },
    };
    let corpus =
        Corpus::from_text(&name, &text, refs, None, LoadOptions { placeholder_identity: true }).map_err(|p| {
            p.problems.iter().map(|e| format!("{} ({})", e.message, e.label)).collect::<Vec<_>>().join("; ")
        })?;
    // Every rule runs (a rule such as QD902 depends on the others); only this rule's findings count.
    let opts = RunOptions::all(program, EXAMPLE_DATE);
    let findings = eval::run(program, &corpus, refs, &opts);
    if let Some(e) = findings.iter().find(|f| f.rule == rule_idx && f.eval_error) {
        return Err(e.message.clone());
    }
    Ok(findings.iter().filter(|f| f.rule == rule_idx && f.waived_by.is_none()).count())
}

/// Runs every example of every rule.
#[must_use]
pub fn run_all(program: &Program, refs: &References) -> Vec<ExampleResult> {
    let mut out = Vec::new();
    for (i, rule) in program.rules.iter().enumerate() {
        for ex in &rule.examples {
            let (lc, _) = program.sources.line_col(ex.span);
            let location = format!("{}:{}", program.sources.name(ex.span.file), lc.line);
            let (ok, detail) = match run_one(program, refs, i, ex) {
                Ok(n) if ex.pass => (
                    n == 0,
                    if n == 0 {
                        String::new()
                    } else {
                        tr!("规则报告了 {} 个问题，应为 0", "the rule reported {} findings, expected none", n)
                    },
                ),
                Ok(n) => (
                    n > 0,
                    if n > 0 { String::new() } else { tr!("规则没有报告问题", "the rule reported nothing") },
                ),
                Err(e) => (false, tr!("示例无法加载：{}", "the example does not load: {}", e)),
            };
            out.push(ExampleResult { rule: rule.id.clone(), location, pass: ex.pass, ok, detail });
        }
    }
    out
}
