//! `--format json`: SPEC §9, version 1.

use std::io::Write;

use serde::Serialize;

use super::{Diagnostic, Report, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: &'a Summary,
    diagnostics: &'a [Diagnostic],
}

/// The report as pretty-printed JSON (stable field order).
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    super::written(|w| render_to(report, w))
}

/// [`render`], written to `w` as it is serialised: the report of a national corpus runs to
/// gigabytes, and is never held whole as text.
pub fn render_to(report: &Report<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    let out = JsonReport { version: 1, summary: &report.summary, diagnostics: &report.diagnostics };
    serde_json::to_writer_pretty(&mut *w, &out)?;
    w.write_all(b"\n")
}
