//! `--format github`: GitHub Actions workflow commands, which annotate the changed lines of a
//! pull request. Waived findings are not annotated.

use super::Report;

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for d in report.diagnostics.iter().filter(|d| !d.waived) {
        let kind = match d.severity {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            property(&d.file),
            d.line,
            d.column,
            d.end_line,
            d.end_column,
            property(&format!("{} {}", d.rule, d.name)),
            data(&format!("{}（{}）", d.message, d.help)),
        ));
    }
    out
}
