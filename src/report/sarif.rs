//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning reads it. Columns are Unicode code
//! points (`columnKind`), the rules carry their documentation and statute texts, results carry
//! fingerprints that survive lines moving, and waived findings are in-source suppressions.

use std::io::Write;

use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer};
use serde_json::{Value, json};

use super::{Diagnostic, Report};
use crate::compile::CompiledRule;
use crate::corpus::reference::References;
use crate::eval::default_level;

fn level(s: &str) -> &'static str {
    match s {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// A documentation section of a rule (`## What it checks` …), in English for SARIF consumers.
fn section(rule: &CompiledRule, heading: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in &rule.docs {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim() == heading;
            continue;
        }
        if inside {
            out.push(line.trim());
        }
    }
    out.join(" ").trim().to_string()
}

fn rule_json(rule: &CompiledRule, refs: &References) -> Value {
    let mut help = section(rule, "Remediation");
    let mut markdown = format!("{}\n\n", section(rule, "Why"));
    for c in &rule.cites {
        if let Some(s) = refs.registry.get(c.statute) {
            let text = s.quotable(&c.article).unwrap_or("");
            help.push_str(&format!("\n《{}》{}：{}", s.title, c.article, text));
            markdown.push_str(&format!(
                "> **《{}》{}**（{}，{}）：{}\n\n",
                s.title,
                c.article,
                s.jurisdiction,
                s.verification,
                text.replace('\n', " ")
            ));
        }
    }
    markdown.push_str(&format!("**Remediation.** {}", section(rule, "Remediation")));
    json!({
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title.get()},
        "fullDescription": {"text": section(rule, "What it checks")},
        "help": {"text": help, "markdown": markdown},
        "defaultConfiguration": {"level": level(default_level(rule.severity).as_str())},
        "properties": {"tags": ["qingdan", "compliance"], "titleZh": rule.title.zh, "titleEn": rule.title.en},
    })
}

fn result_json(d: &Diagnostic, rule_index: usize) -> Value {
    let mut r = json!({
        "ruleId": d.rule,
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": {"text": d.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": d.file.replace('\\', "/")},
                "region": {
                    "startLine": d.line, "startColumn": d.column,
                    "endLine": d.end_line, "endColumn": d.end_column,
                },
            },
        }],
        "partialFingerprints": {"qingdan/v1": d.fingerprint()},
    });
    let mut props = serde_json::Map::new();
    if let Some(item) = &d.item {
        props.insert("item".into(), json!(item));
    }
    if let Some(m) = &d.material {
        props.insert("material".into(), json!(m));
    }
    let mut fixes = Vec::new();
    if let Some(f) = &d.fix {
        props.insert("fix".into(), json!({"applicability": f.applicability, "description": f.description}));
        if !f.edits.is_empty() {
            let replacements: Vec<Value> = f
                .edits
                .iter()
                .map(|e| {
                    json!({
                        "deletedRegion": {"startLine": e.line, "startColumn": e.column, "endLine": e.end_line, "endColumn": e.end_column},
                        "insertedContent": {"text": e.text},
                    })
                })
                .collect();
            fixes.push(json!({
                "description": {"text": format!("{}（{}）", f.description, f.applicability)},
                "artifactChanges": [{"artifactLocation": {"uri": d.file.replace('\\', "/")}, "replacements": replacements}],
            }));
        }
    }
    let Some(obj) = r.as_object_mut() else { return r };
    if !fixes.is_empty() {
        obj.insert("fixes".into(), Value::Array(fixes));
    }
    if !props.is_empty() {
        obj.insert("properties".into(), Value::Object(props));
    }
    if let Some(w) = &d.waiver {
        let just = match &w.approved_by {
            Some(a) => format!("{}（{}）", w.reason, a),
            None => w.reason.clone(),
        };
        obj.insert("suppressions".into(), json!([{"kind": "inSource", "justification": just}]));
    }
    r
}

/// The report as a SARIF 2.1.0 log.
#[must_use]
pub fn render(report: &Report<'_>, refs: &References) -> String {
    super::written(|w| render_to(report, refs, w))
}

/// [`render`], written to `w` as it is serialised, one result at a time: the log of a national
/// corpus runs to gigabytes, and neither it nor a tree of all its results is held whole.
pub fn render_to(report: &Report<'_>, refs: &References, w: &mut dyn Write) -> std::io::Result<()> {
    let rules: Vec<Value> = report.program.rules.iter().map(|r| rule_json(r, refs)).collect();
    // Field order is what a `serde_json::Value` object prints: keys sorted.
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            results: Results(report),
            tool: json!({"driver": {
                "name": "qingdan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/qingdan/qingdan",
                "rules": rules,
            }}),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *w, &log)?;
    w.write_all(b"\n")
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    column_kind: &'static str,
    results: Results<'a>,
    tool: Value,
}

/// The results, each made and written in turn.
struct Results<'a>(&'a Report<'a>);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let mut seq = s.serialize_seq(Some(report.diagnostics.len()))?;
        for d in &report.diagnostics {
            let index = report.program.rules.iter().position(|r| *r.id == *d.rule).unwrap_or(0);
            seq.serialize_element(&result_json(d, index))?;
        }
        seq.end()
    }
}
