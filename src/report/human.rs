//! Human output: one miette diagnostic per finding — the YAML snippet with a label on the exact
//! value, the rule id and title, the statute and article with its key sentence, the help line —
//! and a summary.

use std::fmt;

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
};

use super::{Diagnostic, Report};
use crate::corpus::config::Level;
use crate::source::SourceFile;
use crate::tr;

struct Shown<'a> {
    d: &'a Diagnostic,
    src: Option<&'a SourceFile>,
    code: String,
    help: String,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl MietteDiagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.d.level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src?;
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(
            Some(self.d.title.to_string()),
            self.d.span.to_source_span(),
        ))))
    }
}

/// Renders every diagnostic and the summary. `color` and `width` are decided by the caller (a
/// terminal, `NO_COLOR`, or a fixed plain width in tests).
#[must_use]
pub fn render(report: &Report<'_>, color: bool, width: usize, quiet: bool) -> String {
    let mut out = Vec::new();
    let _ = render_to(report, color, width, quiet, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render`], written out one finding at a time (a national corpus can have a million).
pub fn render_to(
    report: &Report<'_>,
    color: bool,
    width: usize,
    quiet: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let mut out = String::new();
    // Findings are sorted by file: each file's text is fetched once.
    let mut current: Option<(crate::source::FileId, Option<std::borrow::Cow<'_, SourceFile>>)> = None;
    if !quiet {
        for d in &report.diagnostics {
            let mut help = d.help.to_string();
            for c in d.cites.iter() {
                help.push('\n');
                let number = c.number.as_deref().map(|n| format!("（{n}）")).unwrap_or_default();
                if c.key_sentence.is_empty() || c.text.is_empty() {
                    help.push_str(&tr!("依据：《{}》{}{}", "basis: 《{}》{}{}", c.statute, number, c.article));
                } else {
                    help.push_str(&tr!(
                        "依据：《{}》{}{}：{} [{}]",
                        "basis: 《{}》{}{}: {} [{}]",
                        c.statute,
                        number,
                        c.article,
                        c.key_sentence,
                        c.verification
                    ));
                }
            }
            if let Some(f) = &d.fix {
                help.push('\n');
                let how = match f.applicability {
                    "safe" => tr!("可用 qingdan fix 自动修复", "qingdan fix applies it"),
                    "unsafe" => tr!(
                        "需人工判断，qingdan fix --unsafe 才会应用",
                        "a legal judgement: applied only by qingdan fix --unsafe"
                    ),
                    _ => tr!("仅供参考", "shown only"),
                };
                help.push_str(&tr!("修复建议：{}（{}）", "suggested fix: {} ({})", f.description, how));
            }
            if let Some(w) = &d.waiver {
                help.push('\n');
                let by = w.approved_by.as_deref().unwrap_or("—");
                help.push_str(&tr!("已豁免：{}（批准文件：{}）", "waived: {} (approved by {})", w.reason, by));
            }
            let code = if d.waived {
                format!("{} {} ({})", d.rule, d.name, tr!("已豁免", "waived"))
            } else {
                format!("{} {}", d.rule, d.name)
            };
            if current.as_ref().is_none_or(|(id, _)| *id != d.span.file) {
                current = Some((d.span.file, report.sources.get(d.span.file)));
            }
            let src = current.as_ref().and_then(|(_, s)| s.as_deref());
            let shown = Shown { d, src, code, help };
            out.clear();
            let _ = handler.render_report(&mut out, &shown);
            w.write_all(out.as_bytes())?;
        }
    }
    w.write_all(summary_line(report).as_bytes())?;
    w.write_all(b"\n")
}

/// "检查了 3 个文件、64 个事项、310 份材料：7 个错误，2 个警告，0 个提示（1 个已豁免）"
#[must_use]
pub fn summary_line(report: &Report<'_>) -> String {
    let s = &report.summary;
    tr!(
        "检查了 {} 个文件、{} 个事项、{} 份材料：{} 个错误，{} 个警告，{} 个提示（{} 个已豁免）",
        "checked {} files, {} items, {} materials: {} errors, {} warnings, {} infos ({} waived)",
        s.files,
        s.items,
        s.materials,
        s.errors,
        s.warnings,
        s.infos,
        s.waived
    )
}

/// `--statistics`: findings per rule.
#[must_use]
pub fn statistics(report: &Report<'_>) -> String {
    let mut out = String::new();
    for (rule, n) in &report.summary.by_rule {
        let r = report.program.rule(rule);
        let name = r.map_or("", |r| r.name.as_str());
        let title = r.map_or("", |r| r.title.get());
        out.push_str(&format!("{n:>6}  {rule}  {name:<28} {title}\n"));
    }
    out
}
