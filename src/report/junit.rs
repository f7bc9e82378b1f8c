//! `--format junit`: JUnit XML, which CI servers show as test results. One test suite per list
//! file; one failing test case per finding, a skipped one per waived finding, and one passing
//! case for a file without findings.

use std::collections::BTreeMap;
use std::io::Write;

use super::{Diagnostic, Report};

/// XML-escapes text; XML 1.0 cannot hold most control characters at all, so they are dropped.
fn esc(s: &str) -> String {
    let kept: String = s.chars().filter(|&c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r')).collect();
    super::html::esc(&kept)
}

/// The report as JUnit XML.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    super::written(|w| render_to(report, w))
}

/// [`render`], written to `w` as it is made: every failure quotes its statutes, and the report of
/// a national corpus runs to gigabytes.
pub fn render_to(report: &Report<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    let mut by_file: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
    for name in report.sources.names() {
        by_file.entry(name).or_default();
    }
    for d in &report.diagnostics {
        by_file.entry(d.file.to_string()).or_default().push(d);
    }
    let total: usize = by_file.values().map(|v| v.len().max(1)).sum();
    let failures: usize = report.diagnostics.iter().filter(|d| !d.waived).count();
    let skipped = report.diagnostics.len() - failures;
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        w,
        "<testsuites name=\"qingdan\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    )?;
    for (file, diags) in &by_file {
        let f = diags.iter().filter(|d| !d.waived).count();
        let s = diags.len() - f;
        writeln!(
            w,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{s}\">",
            esc(file),
            diags.len().max(1)
        )?;
        if diags.is_empty() {
            writeln!(w, "    <testcase name=\"qingdan\" classname=\"{}\"/>", esc(file))?;
        }
        for d in diags {
            let name = format!(
                "{} {} {}{}",
                d.rule,
                d.item.as_deref().unwrap_or("-"),
                d.material.as_deref().unwrap_or(""),
                format_args!(" ({}:{})", d.line, d.column)
            );
            writeln!(
                w,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">",
                esc(&name),
                esc(file),
                esc(file),
                d.line
            )?;
            if let Some(waiver) = &d.waiver {
                writeln!(w, "      <skipped message=\"{}\"/>", esc(&waiver.reason))?;
            } else {
                let body: Vec<String> =
                    d.cites.iter().map(|c| format!("《{}》{}：{}", c.statute, c.article, c.text)).collect();
                writeln!(
                    w,
                    "      <failure type=\"{}\" message=\"{}\">{}:{}:{} {}\n{}\n{}</failure>",
                    esc(&format!("{} {}", d.rule, d.name)),
                    esc(&d.message),
                    esc(file),
                    d.line,
                    d.column,
                    esc(&d.message),
                    esc(&d.help),
                    esc(&body.join("\n"))
                )?;
            }
            writeln!(w, "    </testcase>")?;
        }
        writeln!(w, "  </testsuite>")?;
    }
    writeln!(w, "</testsuites>")
}
