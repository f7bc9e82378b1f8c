//! `--format json`: SPEC §9, version 1.

use serde::Serialize;

use super::{Diagnostic, Report, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: &'a Summary,
    diagnostics: &'a [Diagnostic],
}

/// The report as pretty-printed JSON (stable field order).
pub fn render(report: &Report<'_>) -> String {
    let out = JsonReport { version: 1, summary: &report.summary, diagnostics: &report.diagnostics };
    let mut s = serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
