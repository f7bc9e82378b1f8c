//! `qingdan explain`: what a rule means, and why an item was (or was not) flagged.
//!
//! For a rule: its title, documentation sections in the chosen language, examples and every
//! statute it cites with the verbatim article, verification mark and jurisdiction. For an item:
//! every rule's verdict on the item and on each material, with the evidence — the look-ups in the
//! reference tables (sharing catalog, certificate list, covers, catch-all phrases), the statutes
//! its bases resolve to, and each finding's message, which names the matched phrase, catalog
//! entry, repeal date or earlier chain step.

use serde::Serialize;

use crate::compile::types::Rec;
use crate::compile::{CompiledRule, Program};
use crate::corpus::Corpus;
use crate::corpus::model::{Citation, Item, Material};
use crate::corpus::reference::References;
use crate::eval::Finding;
use crate::i18n::{Lang, lang};
use crate::report::{Diagnostic, Report, cites_for};
use crate::syntax::ast::ExampleBody;
use crate::tr;

/// The documentation sections of a rule in the current language: (heading, text).
#[must_use]
pub fn sections(rule: &CompiledRule) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in &rule.docs {
        if let Some(h) = line.strip_prefix("## ") {
            out.push((h.trim().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
        }
    }
    // Sections come in pairs, Chinese heading first; keep the language asked for.
    let is_chinese = |h: &str| h.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    out.into_iter().filter(|(h, _)| is_chinese(h) == (lang() == Lang::Zh)).collect()
}

/// `qingdan explain QD103`.
#[must_use]
pub fn rule_text(program: &Program, refs: &References, rule: &CompiledRule) -> String {
    let mut out = format!(
        "{} {} — {}\n{}: {}\n\n",
        rule.id,
        rule.name,
        rule.title.get(),
        tr!("严重程度", "severity"),
        crate::eval::default_level(rule.severity).as_str()
    );
    for (heading, body) in sections(rule) {
        out.push_str(&format!("## {heading}\n{}\n\n", body.trim()));
    }
    out.push_str(&format!("## {}\n", tr!("依据", "Statutes")));
    for c in &rule.cites {
        let Some(s) = refs.registry.get(c.statute) else { continue };
        let number = s.number.as_deref().map(|n| format!("（{n}）")).unwrap_or_default();
        let scope = if s.is_national() {
            tr!("全国适用", "binds nationwide")
        } else {
            tr!("仅适用于{}的清单", "binds only lists from {}", s.jurisdiction)
        };
        out.push_str(&format!("《{}》{}{} [{}; {}]\n", s.title, number, c.article, s.verification, scope));
        for para in s.quotable(&c.article).unwrap_or("").lines() {
            out.push_str(&format!("    {para}\n"));
        }
    }
    out.push_str(&format!("\n## {}\n", tr!("示例", "Examples")));
    for ex in &rule.examples {
        let verdict = if ex.pass { tr!("通过", "passes") } else { tr!("报告问题", "is reported") };
        let body = match &ex.body {
            ExampleBody::Inline(t) => t.value.clone(),
            ExampleBody::File(p) => {
                let file = program.sources.name(ex.span.file);
                crate::policy::read_fixture(file, &p.value).unwrap_or_else(|| p.value.clone())
            }
        };
        out.push_str(&format!("{verdict}:\n"));
        for line in body.trim().lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// What the reference tables say about one material.
#[derive(Debug, Serialize)]
pub struct MaterialEvidence {
    pub name: String,
    pub normalized: String,
    pub line: usize,
    pub shared: Option<String>,
    pub certificate: Option<String>,
    pub catch_all: Option<String>,
    pub covered_by: Vec<String>,
    pub basis: Vec<CitationEvidence>,
    pub verdicts: Vec<Verdict>,
}

#[derive(Debug, Serialize)]
pub struct CitationEvidence {
    pub text: String,
    pub statute: Option<String>,
    pub level: Option<String>,
    pub article: Option<String>,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct Verdict {
    pub rule: String,
    pub name: String,
    pub title: String,
    /// `fail`, `waived` or `pass`.
    pub verdict: &'static str,
    pub findings: Vec<Diagnostic>,
}

#[derive(Debug, Serialize)]
pub struct ItemTrace {
    pub version: u32,
    pub code: String,
    pub name: String,
    pub file: String,
    pub line: usize,
    pub region: Option<String>,
    pub basis: Vec<CitationEvidence>,
    pub item_verdicts: Vec<Verdict>,
    pub materials: Vec<MaterialEvidence>,
}

fn citation_evidence(c: &Citation, refs: &References, as_of: crate::corpus::model::Date) -> CitationEvidence {
    let statute = c.statute.and_then(|i| refs.registry.get(i));
    let status = match statute {
        None => tr!("法规库中没有这部法规", "not in the statute registry"),
        Some(s) if s.repealed.is_some_and(|d| d <= as_of) => {
            tr!("已于 {} 废止", "repealed on {}", s.repealed.map(|d| d.to_string()).unwrap_or_default())
        }
        Some(s) if s.in_force.is_some_and(|d| d > as_of) => {
            tr!("尚未施行（{} 起施行）", "not in force until {}", s.in_force.map(|d| d.to_string()).unwrap_or_default())
        }
        Some(_) if !c.article_known => tr!("法规库中没有这一条", "the registry has no such article"),
        Some(s) => tr!("有效（{}，{}）", "in force ({}, {})", s.level, s.verification),
    };
    CitationEvidence {
        text: c.text.value.clone(),
        statute: statute.map(|s| s.title.clone()),
        level: statute.map(|s| s.level.to_string()),
        article: c.article.clone(),
        status,
    }
}

fn verdicts(program: &Program, diags: &[&Diagnostic], rules: &[&CompiledRule]) -> Vec<Verdict> {
    rules
        .iter()
        .map(|r| {
            let findings: Vec<Diagnostic> = diags.iter().filter(|d| *d.rule == *r.id).map(|d| (*d).clone()).collect();
            let verdict = if findings.is_empty() {
                "pass"
            } else if findings.iter().all(|d| d.waived) {
                "waived"
            } else {
                "fail"
            };
            let _ = program;
            Verdict { rule: r.id.clone(), name: r.name.clone(), title: r.title.get().to_string(), verdict, findings }
        })
        .collect()
}

fn material_evidence(
    corpus: &Corpus,
    refs: &References,
    m: &Material,
    as_of: crate::corpus::model::Date,
    verdicts: Vec<Verdict>,
) -> MaterialEvidence {
    let (lc, _) = corpus.sources.line_col(m.name.span);
    MaterialEvidence {
        name: m.name.value.to_string(),
        normalized: m.norm_name.to_string(),
        line: lc.line,
        shared: refs.shared(&m.norm_name).map(|s| format!("{}（{}）", s.name, s.channel)),
        certificate: refs.certificate(&m.norm_name).map(|c| c.name.clone()),
        catch_all: refs
            .phrases
            .find(&m.name.value)
            .or_else(|| m.note.as_ref().and_then(|n| refs.phrases.find(&n.value))),
        covered_by: refs.covers_of(&m.norm_name).map(|c| c.kept.clone()).collect(),
        basis: m.basis.iter().map(|c| citation_evidence(c, refs, as_of)).collect(),
        verdicts,
    }
}

/// The trace of one item: every rule's verdict, on the item and on each material.
#[must_use]
pub fn item_trace(
    corpus: &Corpus,
    refs: &References,
    program: &Program,
    findings: &[Finding],
    item_idx: u32,
    material_filter: Option<&str>,
    as_of: crate::corpus::model::Date,
) -> Option<ItemTrace> {
    let item: &Item = corpus.items.get(item_idx as usize)?;
    let report = Report::new(corpus, refs, program, findings);
    let mine: Vec<(&Finding, &Diagnostic)> =
        findings.iter().zip(&report.diagnostics).filter(|(f, _)| f.item == Some(item_idx)).collect();
    let material_rules: Vec<&CompiledRule> =
        program.rules.iter().filter(|r| r.scope_rec == Some(Rec::Material)).collect();
    let item_rules: Vec<&CompiledRule> = program.rules.iter().filter(|r| r.scope_rec != Some(Rec::Material)).collect();
    let item_level: Vec<&Diagnostic> = mine
        .iter()
        .filter(|(f, _)| {
            f.material.is_none() || program.rules.get(f.rule).is_some_and(|r| r.scope_rec != Some(Rec::Material))
        })
        .map(|(_, d)| *d)
        .collect();
    let wanted = material_filter.map(crate::corpus::normalize::name);
    let materials = item
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| wanted.as_ref().is_none_or(|w| *m.norm_name == **w || m.name.value.contains(w.as_str())))
        .map(|(k, m)| {
            let k = u32::try_from(k).unwrap_or(u32::MAX);
            let diags: Vec<&Diagnostic> = mine.iter().filter(|(f, _)| f.material == Some(k)).map(|(_, d)| *d).collect();
            material_evidence(corpus, refs, m, as_of, verdicts(program, &diags, &material_rules))
        })
        .collect();
    let (lc, _) = corpus.sources.line_col(item.code.span);
    Some(ItemTrace {
        version: 1,
        code: item.code.value.clone(),
        name: item.name.value.clone(),
        file: corpus.sources.name(item.code.span.file).to_string(),
        line: lc.line,
        region: corpus.list(item).and_then(|l| l.region.as_deref()).map(str::to_string),
        basis: item.basis.iter().map(|c| citation_evidence(c, refs, as_of)).collect(),
        item_verdicts: verdicts(program, &item_level, &item_rules),
        materials,
    })
}

fn verdict_word(v: &str) -> String {
    match v {
        "fail" => tr!("✗ 不通过", "✗ fails"),
        "waived" => tr!("◌ 已豁免", "◌ waived"),
        _ => tr!("✓ 通过", "✓ passes"),
    }
}

fn push_verdicts(out: &mut String, verdicts: &[Verdict], indent: &str) {
    let passed: Vec<&str> = verdicts.iter().filter(|v| v.verdict == "pass").map(|v| v.rule.as_str()).collect();
    for v in verdicts.iter().filter(|v| v.verdict != "pass") {
        out.push_str(&format!("{indent}{} {} {}（{}）\n", verdict_word(v.verdict), v.rule, v.title, v.name));
        for d in &v.findings {
            out.push_str(&format!("{indent}    {}:{}:{} {}\n", d.file, d.line, d.column, d.message));
            if let Some(w) = &d.waiver {
                out.push_str(&format!(
                    "{indent}    {}\n",
                    tr!(
                        "豁免理由：{}（批准文件：{}）",
                        "waiver: {} (approved by {})",
                        w.reason,
                        w.approved_by.as_deref().unwrap_or("—")
                    )
                ));
            }
            out.push_str(&format!("{indent}    {} {}\n", tr!("怎么改：", "what to do:"), d.help));
            for c in d.cites.iter() {
                out.push_str(&format!(
                    "{indent}    {}《{}》{}：{}\n",
                    tr!("依据", "basis"),
                    c.statute,
                    c.article,
                    c.key_sentence
                ));
            }
        }
    }
    if !passed.is_empty() {
        out.push_str(&format!("{indent}{} {}\n", verdict_word("pass"), passed.join(" ")));
    }
}

/// The trace in plain language.
#[must_use]
pub fn trace_text(t: &ItemTrace) -> String {
    let mut out = format!(
        "{} {} — {}:{}{}\n",
        t.code,
        t.name,
        t.file,
        t.line,
        t.region.as_deref().map(|r| format!("（{r}）")).unwrap_or_default()
    );
    let fails = t
        .item_verdicts
        .iter()
        .chain(t.materials.iter().flat_map(|m| &m.verdicts))
        .filter(|v| v.verdict == "fail")
        .count();
    out.push_str(&if fails == 0 {
        tr!("结论：没有未豁免的问题\n", "verdict: no unwaived findings\n")
    } else {
        tr!("结论：{} 条规则不通过\n", "verdict: {} rule(s) fail\n", fails)
    });
    out.push_str(&format!("\n{}\n", tr!("设定依据：", "basis:")));
    if t.basis.is_empty() {
        out.push_str(&tr!("    （未填写）\n", "    (none given)\n"));
    }
    for b in &t.basis {
        out.push_str(&format!("    {} → {}\n", b.text, b.status));
    }
    out.push_str(&format!("\n{}\n", tr!("事项规则：", "item rules:")));
    push_verdicts(&mut out, &t.item_verdicts, "    ");
    for m in &t.materials {
        out.push_str(&format!("\n{}\n", tr!("材料「{}」（第 {} 行）", "material `{}` (line {})", m.name, m.line)));
        if m.normalized != m.name {
            out.push_str(&format!("    {}{}\n", tr!("规范化名称：", "normalised: "), m.normalized));
        }
        // What each reference table says of the material: (found, label, when absent).
        let lookups = [
            (&m.shared, tr!("共享目录：", "sharing catalog: "), tr!("未收录", "not listed")),
            (&m.certificate, tr!("保留证明清单：", "retained certificates: "), tr!("未收录", "not listed")),
            (&m.catch_all, tr!("兜底表述：", "catch-all wording: "), tr!("无", "none")),
        ];
        for (found, label, absent) in lookups {
            out.push_str(&format!("    {label}{}\n", found.as_deref().unwrap_or(&absent)));
        }
        if !m.covered_by.is_empty() {
            out.push_str(&format!("    {}{}\n", tr!("可被替代：", "covered by: "), m.covered_by.join("、")));
        }
        for b in &m.basis {
            out.push_str(&format!("    {}{} → {}\n", tr!("依据：", "basis: "), b.text, b.status));
        }
        push_verdicts(&mut out, &m.verdicts, "    ");
    }
    out
}

/// Item codes close to `code`, for "did you mean".
#[must_use]
pub fn nearest_codes(corpus: &Corpus, code: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> =
        corpus.items.iter().map(|i| (strsim::levenshtein(code, &i.code.value), i.code.value.as_str())).collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c.to_string()).collect()
}

/// `qingdan rules --coverage`: quotable articles that no rule cites.
#[must_use]
pub fn coverage(program: &Program, refs: &References) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, s) in refs.registry.statutes.iter().enumerate() {
        if s.verification == "UNVERIFIED" {
            continue;
        }
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        for article in s.articles.keys() {
            let cited = program.rules.iter().any(|r| r.cites.iter().any(|c| c.statute == i && &c.article == article));
            if !cited {
                out.push((s.id.clone(), s.title.clone(), article.clone()));
            }
        }
    }
    out
}

/// Citations of a rule for a region, for callers that show them outside a report.
#[must_use]
pub fn rule_cites(
    program: &Program,
    refs: &References,
    rule: usize,
    region: Option<&str>,
) -> Vec<crate::report::CiteOut> {
    cites_for(program, refs, rule, region)
}
