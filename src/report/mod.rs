//! Stage 5: findings → what users read.
//!
//! [`Diagnostic`] is the one flat record every format renders: rule, severity, location (1-based
//! line and column in Unicode scalar values), item, material, message, help, the statutes that
//! apply to the item's region with their verbatim text, waiver and fix. `OutputFormat` is the only
//! place formats are matched.

pub mod baseline;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::compile::Program;
use crate::corpus::Corpus;
use crate::corpus::Discovery;
use crate::corpus::config::Level;
use crate::corpus::reference::References;
use crate::eval::Finding;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// What a format's `render_to` writes, as a string (the formats' `render`, for tests and
/// benches). Writing to memory fails only if serialising does, which the report's types never do.
fn written(render_to: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    let _ = render_to(&mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A citation as reported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CiteOut {
    pub statute: String,
    pub number: Option<String>,
    pub article: String,
    pub text: String,
    #[serde(skip)]
    pub key_sentence: String,
    #[serde(skip)]
    pub verification: String,
    #[serde(skip)]
    pub jurisdiction: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FixOut {
    pub applicability: &'static str,
    pub description: String,
    /// The text edits, 1-based lines and columns in Unicode scalar values; `text` replaces the range.
    pub edits: Vec<EditOut>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EditOut {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WaiverOut {
    pub reason: String,
    pub approved_by: Option<String>,
}

/// One finding, resolved for output. A national corpus has a million of them, held until they
/// are sorted and written: the texts many findings repeat (rule, file, item, help …) are shared.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub rule: Arc<str>,
    pub name: Arc<str>,
    pub severity: &'static str,
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub item: Option<Arc<str>>,
    pub item_name: Option<Arc<str>>,
    pub material: Option<Arc<str>>,
    #[serde(skip)]
    pub title: Arc<str>,
    pub message: Box<str>,
    pub help: Arc<str>,
    /// Shared by the findings of one rule in one region: a national corpus has a million findings.
    pub cites: Arc<[CiteOut]>,
    pub waived: bool,
    #[serde(skip)]
    /// Boxed, as `fix`: most findings have neither, and a million findings are held at once.
    pub waiver: Option<Box<WaiverOut>>,
    pub fix: Option<Box<FixOut>>,
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub level: Level,
    /// The material's normal form, which its fingerprint reads (see [`Diagnostic::fingerprint`]).
    #[serde(skip)]
    pub material_norm: Option<Arc<str>>,
    /// The index of the finding's item in the corpus it was found in.
    #[serde(skip)]
    pub item_index: Option<u32>,
}

impl Diagnostic {
    /// Stable identity across edits that move lines: rule, item code, normalised material and
    /// message (see [`fingerprint`]). Computed when asked (SARIF, baselines), not for every
    /// finding of every check: it reads the whole message a byte at a time.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.rule, self.item.as_deref(), self.material_norm.as_deref(), &self.message)
    }
}

/// A finding's fingerprint, written as 16 lowercase hex digits (SARIF, baselines). Kept as a
/// number: a national corpus holds a million of them until the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Reads the written form back; `None` for anything else (a hand-edited entry, upper case).
    #[must_use]
    pub fn parse(hex: &str) -> Option<Fingerprint> {
        if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        u64::from_str_radix(hex, 16).ok().map(Fingerprint)
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A fingerprint that survives lines moving: FNV-1a over rule, item code, normalised material
/// name and message (the message names the offending value). Locations a message quotes
/// (`file.yaml:151`) are left out, since they move with every edit.
#[must_use]
pub fn fingerprint(rule: &str, item: Option<&str>, material: Option<&str>, message: &str) -> Fingerprint {
    static LOCATION: std::sync::LazyLock<Option<regex::Regex>> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\.(ya?ml):\d+").ok());
    let message = match LOCATION.as_ref() {
        Some(re) => re.replace_all(message, ".$1"),
        None => std::borrow::Cow::Borrowed(message),
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [rule, item.unwrap_or(""), material.unwrap_or(""), message.as_ref()] {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Fingerprint(h)
}

/// Shares equal texts among the findings of one report. Hashed with Fx: the texts are the
/// report's own (help lines of a few hundred bytes, once per finding), not an attacker's.
#[derive(Default)]
struct Interner(rustc_hash::FxHashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(a.clone());
        a
    }
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub items: usize,
    pub materials: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub waived: usize,
    pub by_rule: std::collections::BTreeMap<String, usize>,
    /// Findings hidden because the baseline holds them (present only with `--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselined: Option<usize>,
    /// Baseline entries no longer found: fixed since the baseline was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gone: Option<usize>,
}

/// Where the texts of a report's files come from, for the formats that quote them.
pub enum Sources<'a> {
    /// Held in memory.
    Loaded(&'a SourceMap),
    /// Read again when quoted: a streaming check does not keep the files it has checked.
    Reread { discovery: &'a Discovery, overrides: &'a HashMap<PathBuf, String> },
}

impl Sources<'_> {
    /// The names of all list files, in order.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        match self {
            Sources::Loaded(map) => map.files().map(|(_, f)| f.name().to_string()).collect(),
            Sources::Reread { discovery, .. } => discovery.paths().map(|p| p.display().to_string()).collect(),
        }
    }

    /// The text of file `id`; `None` when it cannot be read (any more).
    #[must_use]
    pub fn get(&self, id: FileId) -> Option<Cow<'_, SourceFile>> {
        match self {
            Sources::Loaded(map) => map.get(id).map(Cow::Borrowed),
            Sources::Reread { discovery, overrides } => {
                discovery.read(id.0 as usize, overrides).ok().map(|(src, _)| Cow::Owned(src))
            }
        }
    }
}

/// Everything a format needs.
pub struct Report<'a> {
    pub sources: Sources<'a>,
    pub program: &'a Program,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

fn applicability(a: crate::syntax::ast::Applicability) -> &'static str {
    match a {
        crate::syntax::ast::Applicability::Safe => "safe",
        crate::syntax::ast::Applicability::Unsafe => "unsafe",
        crate::syntax::ast::Applicability::Display => "display",
    }
}

/// The rule's citations that bind in the item's region: national ones always, local ones only
/// where the region lies in their jurisdiction.
#[must_use]
pub fn cites_for(program: &Program, refs: &References, rule: usize, region: Option<&str>) -> Vec<CiteOut> {
    let Some(r) = program.rules.get(rule) else { return Vec::new() };
    r.cites
        .iter()
        .filter_map(|c| {
            let s = refs.registry.get(c.statute)?;
            let binds = s.is_national() || region.is_some_and(|reg| refs.region_within(reg, &s.jurisdiction));
            if !binds {
                return None;
            }
            Some(CiteOut {
                statute: s.title.clone(),
                number: s.number.clone(),
                article: c.article.clone(),
                text: s.quotable(&c.article).unwrap_or("").to_string(),
                key_sentence: c.key_sentence.clone(),
                verification: s.verification.to_string(),
                jurisdiction: s.jurisdiction.clone(),
            })
        })
        .collect()
}

/// What the reports of one run share: each rule's texts, and its citations per region. The
/// streaming check makes a report per file; each building its own copies cost a corpus of a
/// hundred files a few megabytes (the articles' texts) and tens of thousands of allocations.
pub struct Shared {
    /// Per rule: its id, name and title.
    rules: Vec<[Arc<str>; 3]>,
    cites: Mutex<Cites>,
}

/// Citations per rule and region.
type Cites = FxHashMap<(usize, Option<Box<str>>), Arc<[CiteOut]>>;

impl Shared {
    #[must_use]
    pub fn new(program: &Program) -> Self {
        let rules = program.rules.iter().map(|r| [&*r.id, &*r.name, r.title.get()].map(Arc::from)).collect();
        Shared { rules, cites: Mutex::default() }
    }

    /// [`cites_for`], worked out once per rule and region.
    fn cites(&self, program: &Program, refs: &References, rule: usize, region: Option<&str>) -> Arc<[CiteOut]> {
        let mut cites = self.cites.lock().unwrap_or_else(PoisonError::into_inner);
        cites
            .entry((rule, region.map(Box::from)))
            .or_insert_with(|| cites_for(program, refs, rule, region).into())
            .clone()
    }
}

impl<'a> Report<'a> {
    #[must_use]
    pub fn new(corpus: &'a Corpus, refs: &References, program: &'a Program, findings: &[Finding]) -> Self {
        Self::with_edits(corpus, refs, program, findings, false)
    }

    /// [`Report::new`], with each fix's text edits worked out (JSON and SARIF carry them; working
    /// them out parses the files with fixes again, so the other formats skip it).
    #[must_use]
    pub fn with_edits(
        corpus: &'a Corpus,
        refs: &References,
        program: &'a Program,
        findings: &[Finding],
        with_edits: bool,
    ) -> Self {
        Self::sharing(corpus, refs, program, findings, with_edits, &Shared::new(program))
    }

    /// [`Report::with_edits`], with the texts and citations the reports of one run share.
    #[must_use]
    pub fn sharing(
        corpus: &'a Corpus,
        refs: &References,
        program: &'a Program,
        findings: &[Finding],
        with_edits: bool,
        shared: &Shared,
    ) -> Self {
        let mut summary = Summary {
            files: corpus.lists.len(),
            items: corpus.items.len(),
            materials: corpus.material_count(),
            ..Summary::default()
        };
        let mut diagnostics = Vec::with_capacity(findings.len());
        let mut trees = crate::fix::Trees::default();
        // The shared citations, looked up once per rule and region of this report.
        let mut cites: FxHashMap<(usize, Option<&str>), Arc<[CiteOut]>> = FxHashMap::default();
        let mut strings = Interner::default();
        for f in findings {
            let (Some(rule), Some([id, name, title])) = (program.rules.get(f.rule), shared.rules.get(f.rule)) else {
                continue;
            };
            let item = f.item.and_then(|i| corpus.items.get(i as usize));
            let material = item.zip(f.material).and_then(|(it, m)| it.materials.get(m as usize));
            let region = item.and_then(|it| corpus.list(it)).and_then(|l| l.region.as_deref());
            let (start, end) = corpus.sources.line_col(f.span);
            let waiver = f.waived_by.and_then(|(owner, w)| {
                let it = corpus.items.get(owner.item as usize)?;
                let list = match owner.material {
                    Some(m) => &it.materials.get(m as usize)?.waivers,
                    None => &it.waivers,
                };
                let w = list.get(w as usize)?;
                Some(WaiverOut {
                    reason: w.reason.as_ref().map(|r| r.value.clone()).unwrap_or_default(),
                    approved_by: w.approved_by.as_ref().map(|a| a.value.clone()),
                })
            });
            let waived = waiver.is_some();
            if waived {
                summary.waived += 1;
            } else {
                match f.level {
                    Level::Error => summary.errors += 1,
                    Level::Warning => summary.warnings += 1,
                    Level::Info => summary.infos += 1,
                }
                *summary.by_rule.entry(rule.id.clone()).or_default() += 1;
            }
            diagnostics.push(Diagnostic {
                rule: id.clone(),
                name: name.clone(),
                severity: f.level.as_str(),
                file: strings.get(corpus.sources.name(f.span.file)),
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                item: item.map(|i| strings.get(&i.code.value)),
                item_name: item.map(|i| strings.get(&i.name.value)),
                material: material.map(|m| strings.get(&m.name.value)),
                title: title.clone(),
                message: f.message.as_str().into(),
                help: strings.get(&f.help),
                cites: cites
                    .entry((f.rule, region))
                    .or_insert_with(|| shared.cites(program, refs, f.rule, region))
                    .clone(),
                waived,
                waiver: waiver.map(Box::new),
                fix: f.fix.as_ref().map(|x| {
                    Box::new(FixOut {
                        applicability: applicability(x.applicability),
                        description: x.description.clone(),
                        edits: if with_edits { crate::fix::edits_with(corpus, x, &mut trees) } else { Vec::new() }
                            .into_iter()
                            .map(|e| {
                                let (s, t) = corpus.sources.line_col(crate::source::Span::new(e.file, e.start, e.end));
                                EditOut {
                                    line: s.line,
                                    column: s.column,
                                    end_line: t.line,
                                    end_column: t.column,
                                    text: e.text,
                                }
                            })
                            .collect(),
                    })
                }),
                material_norm: material.map(|m| m.norm_name.clone()),
                span: f.span,
                level: f.level,
                item_index: f.item,
            });
        }
        Report { sources: Sources::Loaded(&corpus.sources), program, diagnostics, summary }
    }

    /// True when a finding that is not waived is at or above `fail_on`.
    #[must_use]
    pub fn fails(&self, fail_on: Level) -> bool {
        self.diagnostics.iter().any(|d| !d.waived && d.level >= fail_on)
    }
}

/// Renders problems that stopped a run (exit code 2) for standard error.
#[must_use]
pub fn render_problems(problems: &crate::diag::Problems, color: bool) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(110).with_links(false);
    let mut out = String::new();
    for p in &problems.problems {
        let _ = handler.render_report(&mut out, p);
    }
    if problems.problems.is_empty() {
        out.push_str(&problems.summary);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_only_as_written() {
        let fp = fingerprint("QD101", Some("230600-XK-0001"), Some("营业执照"), "材料「营业执照」没有设定依据");
        let written = fp.to_string();
        assert_eq!(written.len(), 16);
        assert_eq!(Fingerprint::parse(&written), Some(fp));
        assert_eq!(Fingerprint::parse(&written.to_uppercase()).filter(|_| written != written.to_uppercase()), None);
        assert_eq!(Fingerprint::parse("0123"), None);
        assert_eq!(Fingerprint::parse("+123456789abcdef"), None);
        assert_eq!(Fingerprint(0xab).to_string(), "00000000000000ab");
        assert_eq!(serde_json::to_string(&Fingerprint(0xab)).ok().as_deref(), Some("\"00000000000000ab\""));
    }
}
