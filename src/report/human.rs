//! Human output: one miette diagnostic per finding — the YAML snippet with a label on the exact
//! value, the rule id and title, the statute and article with its key sentence, the help line —
//! and a summary.

use std::fmt;

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
};

use std::cell::RefCell;
use std::sync::Arc;

use rayon::prelude::*;

use super::{Diagnostic, Report};
use crate::corpus::config::Level;
use crate::corpus::memo::{Memo, memoized};
use crate::source::SourceFile;
use crate::tr;

struct Shown<'a> {
    d: &'a Diagnostic,
    src: Option<&'a SourceFile>,
    code: String,
    help: String,
    /// The message wrapped ahead ([`Layout`]), else the finding's own.
    message: Option<String>,
}

impl Shown<'_> {
    fn message(&self) -> &str {
        self.message.as_deref().unwrap_or(&self.d.message)
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
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
    super::written(|w| render_to(report, color, width, quiet, w))
}

/// Findings rendered together, in parallel, before they are written (in order): about a
/// megabyte of text, whatever the corpus size.
const RENDER_BATCH: usize = 1024;

/// [`render`], written out a batch of findings at a time (a national corpus can have a million).
/// Laying out a finding (wrapping its Chinese text, drawing its snippet) costs far more than
/// checking the item, so the findings of a batch are rendered on every core; the output is the
/// same, byte for byte, as rendering them one by one.
pub fn render_to(
    report: &Report<'_>,
    color: bool,
    width: usize,
    quiet: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    render_in_batches(report, color, width, quiet, w, RENDER_BATCH)
}

/// [`render_to`] with batches of `batch` findings (tests vary it).
fn render_in_batches(
    report: &Report<'_>,
    color: bool,
    width: usize,
    quiet: bool,
    w: &mut dyn std::io::Write,
    batch: usize,
) -> std::io::Result<()> {
    if !quiet {
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let layout = Layout::new(&theme, width);
        let wrapping = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
        let handlers = Handlers { plain: wrapping.clone().with_wrap_lines(false), wrapping, layout };
        for batch in report.diagnostics.chunks(batch.max(1)) {
            // Findings are sorted by file: each file's text is fetched once per batch.
            let texts: Vec<String> = batch
                .chunk_by(|a, b| a.span.file == b.span.file)
                .collect::<Vec<_>>()
                .par_iter()
                .flat_map_iter(|same_file| {
                    let src = same_file.first().and_then(|d| report.sources.get(d.span.file));
                    same_file.par_iter().map(|d| render_one(&handlers, d, src.as_deref())).collect::<Vec<_>>()
                })
                .collect();
            for t in &texts {
                w.write_all(t.as_bytes())?;
            }
        }
    }
    w.write_all(summary_line(report).as_bytes())?;
    w.write_all(b"\n")
}

/// miette's handler, the same one not wrapping lines, and how it would wrap them.
struct Handlers {
    wrapping: GraphicalReportHandler,
    plain: GraphicalReportHandler,
    layout: Layout,
}

/// Most lines remembered at a time in each thread's memo of [`Layout::prewrap`].
const WRAP_MEMO_LIMIT: usize = 1 << 12;

thread_local! {
    static WRAPPED: RefCell<Memo<Option<Arc<[String]>>>> = RefCell::new(Memo::default());
}

/// Wraps the message and the help of a finding as miette's handler does (textwrap with the same
/// options, after indents as wide), remembering how each line wraps: textwrap segments Chinese
/// text character by character (~300,000 instructions a finding), and the statute sentences
/// quoted in the help recur in most findings. miette then lays out the wrapped texts without
/// wrapping them again, indenting each line as textwrap would have: the same output.
struct Layout {
    /// The width textwrap is given: miette's less 2.
    width: usize,
    /// Columns of the indent before the first line of the message (`  × `), per severity.
    icons: [usize; 3],
    /// … before its other lines (`  │ `).
    bar: usize,
}

/// Columns of the help's indents, `  help: ` and eight spaces.
const HELP_INDENT: usize = 8;

impl Layout {
    fn new(theme: &GraphicalTheme, width: usize) -> Self {
        let columns = |s: String| textwrap::core::display_width(&s);
        let c = &theme.characters;
        Layout {
            width: width.saturating_sub(2),
            icons: [&c.error, &c.warning, &c.advice].map(|icon| columns(format!("  {icon} "))),
            bar: columns(format!("  {} ", c.vbar)),
        }
    }

    fn icon(&self, level: Level) -> usize {
        let k = match level {
            Level::Error => 0,
            Level::Warning => 1,
            Level::Info => 2,
        };
        self.icons.get(k).copied().unwrap_or(4)
    }

    /// `text` as textwrap wraps it after indents of `first` and `rest` columns, without the
    /// indents; `None` when miette would not indent the lines back as textwrap does (a blank
    /// line keeps no indent in one and a trimmed one in the other). Lines are remembered when
    /// `remember` (the help's: a message seldom repeats).
    fn prewrap(&self, text: &str, first: usize, rest: usize, remember: bool) -> Option<String> {
        let owner = (self.width as u64) << 16 | (first as u64) << 8 | rest as u64;
        let mut out = String::with_capacity(text.len().saturating_add(8));
        for (k, line) in text.split('\n').enumerate() {
            let segments = if remember {
                memoized(&WRAPPED, owner, WRAP_MEMO_LIMIT, line, |line| self.wrap_line(line, first, rest))
            } else {
                self.wrap_line(line, first, rest)
            }?;
            for (j, segment) in segments.iter().enumerate() {
                if segment.trim().is_empty() {
                    return None;
                }
                if k > 0 || j > 0 {
                    out.push('\n');
                }
                out.push_str(segment);
            }
        }
        Some(out)
    }

    /// One line as `textwrap::fill` wraps each line of a text (the first of its lines as wide
    /// as the first line of the text), without the indents.
    fn wrap_line(&self, line: &str, first: usize, rest: usize) -> Option<Arc<[String]>> {
        // A line that fits whole on the first line is left as it is: textwrap places its words
        // one after the other and breaks nowhere (spaces only at word ends, none at its ends).
        let fits = !line.starts_with(' ')
            && !line.ends_with(' ')
            && line.chars().all(|c| c == ' ' || !(c.is_whitespace() || c.is_control()))
            && textwrap::core::display_width(line).saturating_add(first) <= self.width;
        if fits {
            return Some(Arc::from([line.to_string()]));
        }
        let (indent, rest_indent) = (" ".repeat(first), " ".repeat(rest));
        let opts = textwrap::Options::new(self.width)
            .initial_indent(&indent)
            .subsequent_indent(&rest_indent)
            .break_words(true);
        textwrap::wrap(line, opts)
            .iter()
            .enumerate()
            .map(|(k, l)| {
                l.strip_prefix(if k == 0 { indent.as_str() } else { rest_indent.as_str() }).map(str::to_string)
            })
            .collect::<Option<Vec<String>>>()
            .map(Arc::from)
    }
}

/// One finding as miette lays it out.
fn render_one(handlers: &Handlers, d: &Diagnostic, src: Option<&SourceFile>) -> String {
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
            "unsafe" => {
                tr!(
                    "需人工判断，qingdan fix --unsafe 才会应用",
                    "a legal judgement: applied only by qingdan fix --unsafe"
                )
            }
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
    let layout = &handlers.layout;
    let message = layout.prewrap(&d.message, layout.icon(d.level), layout.bar, false);
    let wrapped_help = layout.prewrap(&help, HELP_INDENT, HELP_INDENT, true);
    let mut out = String::new();
    match message.zip(wrapped_help) {
        Some((message, wrapped_help)) => {
            let shown = Shown { d, src, code: code.clone(), help: wrapped_help, message: Some(message) };
            let _ = handlers.plain.render_report(&mut out, &shown);
            if cfg!(debug_assertions) {
                // Tests lay out every finding also as miette alone does: the same text, or a bug.
                let mut alone = String::new();
                let _ = handlers.wrapping.render_report(&mut alone, &Shown { d, src, code, help, message: None });
                debug_assert_eq!(out, alone, "a finding wrapped ahead differs from miette's own wrapping");
            }
        }
        None => {
            let _ = handlers.wrapping.render_report(&mut out, &Shown { d, src, code, help, message: None });
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;
    use crate::check::{self, CheckOptions};
    use crate::corpus::config::PolicySource;
    use crate::corpus::model::Date;
    use crate::eval::RunOptions;
    use crate::{corpus, policy};

    #[test]
    fn texts_wrapped_ahead_are_indented_back_to_what_textwrap_fills() {
        // Chinese and ASCII words, punctuation that may not start or end a line, long words,
        // runs of spaces, line breaks; many widths and indents.
        let parts = [
            "材料",
            "申请人提交",
            "、",
            "。",
            "「",
            "」",
            "（第三十条）",
            "abc ",
            "QD102 ",
            "  ",
            "x",
            "\n",
            "https://example.org/a/very/long/path/that/must/be/broken ",
            "《中华人民共和国行政许可法》",
            "[VERIFIED]",
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut compared = 0;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let text: String =
                (0..(x % 40)).map(|k| parts[(x.rotate_left(k as u32 * 3) % parts.len() as u64) as usize]).collect();
            let layout = Layout { width: 16 + (x % 100) as usize, icons: [4; 3], bar: 4 };
            let (first, rest) = ((x >> 20) as usize % 9, (x >> 30) as usize % 9);
            let (indent, rest_indent) = (" ".repeat(first), " ".repeat(rest));
            let filled = textwrap::fill(
                &text,
                textwrap::Options::new(layout.width)
                    .initial_indent(&indent)
                    .subsequent_indent(&rest_indent)
                    .break_words(true),
            );
            for remember in [false, true] {
                let Some(ahead) = layout.prewrap(&text, first, rest, remember) else { continue };
                let back: Vec<String> = ahead
                    .split('\n')
                    .enumerate()
                    .map(|(k, l)| format!("{}{l}", if k == 0 { &indent } else { &rest_indent }))
                    .collect();
                assert_eq!(back.join("\n"), filled, "{text:?} at width {}", layout.width);
                compared += 1;
            }
        }
        assert!(compared > 2000, "only {compared} texts compared");
    }

    #[test]
    fn findings_rendered_in_parallel_batches_come_out_as_rendered_one_by_one() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let d = corpus::discover(&[root], None).unwrap();
        let refs = corpus::references(&d).unwrap();
        let program = policy::load(&[PolicySource::Builtin], &refs).unwrap();
        let run = RunOptions::all(&program, Date::parse("2026-11-22").unwrap());
        let overrides = HashMap::new();
        let opts = CheckOptions::new(&run, &overrides);
        let report = check::check(&d, &refs, &program, &opts).unwrap().report;
        let files: std::collections::HashSet<_> = report.diagnostics.iter().map(|d| d.span.file).collect();
        assert!(report.diagnostics.len() > 20 && files.len() > 3, "a report of many findings in several files");
        let render = |batch: usize| {
            let mut out = Vec::new();
            render_in_batches(&report, false, 100, false, &mut out, batch).unwrap();
            String::from_utf8(out).unwrap()
        };
        // One finding a batch is the plain loop; other sizes cut the files' findings apart.
        let one_by_one = render(1);
        for batch in [2, 3, 7, RENDER_BATCH] {
            assert!(render(batch) == one_by_one, "batches of {batch} differ");
        }
    }
}
