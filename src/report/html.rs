//! `qingdan report`: one self-contained HTML file for public-comment reviewers (SPEC §7).
//!
//! Inline CSS, inline SVG charts and a small inline script for the filter box; a Content Security
//! Policy that forbids every fetch. Every value from the corpus goes through [`esc`]; no markup or
//! event handler is ever built from data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Diagnostic, Report};
use crate::corpus::Corpus;
use crate::corpus::model::Date;
use crate::i18n::{Lang, lang};
use crate::lists::Lists;
use crate::tr;

/// HTML-escapes text for element content and attribute values.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --fg:#1d2530; --muted:#5b6675; --line:#d9dee5; --err:#b42318; --warn:#b54708; --info:#175cd3; --ok:#067647; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.6 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
header { border-bottom: 3px solid var(--fg); background: #fff; max-width: none; }
header .inner { max-width: 1100px; margin: 0 auto; }
h1 { font-size: 26px; margin: 8px 0; } h2 { font-size: 20px; margin: 28px 0 10px; border-left: 4px solid var(--fg); padding-left: 8px; }
h3 { font-size: 17px; margin: 20px 0 8px; } h4 { font-size: 15px; margin: 0 0 6px; }
.meta { color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.card .n { font-size: 28px; font-weight: 700; } .card .l { color: var(--muted); font-size: 13px; }
.card.err .n { color: var(--err); } .card.warn .n { color: var(--warn); } .card.ok .n { color: var(--ok); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; }
table { border-collapse: collapse; width: 100%; background: #fff; } th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.item { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 10px 0; }
.item .code { font-family: ui-monospace, monospace; color: var(--muted); margin-right: 8px; }
.finding { border-top: 1px dashed var(--line); padding: 8px 0; } .finding:first-of-type { border-top: none; }
.badge { display: inline-block; font-size: 12px; border-radius: 4px; padding: 0 6px; margin-right: 6px; color: #fff; }
.badge.error { background: var(--err); } .badge.warning { background: var(--warn); } .badge.info { background: var(--info); } .badge.waived { background: var(--muted); }
.rule { font-family: ui-monospace, monospace; font-size: 13px; color: var(--muted); }
.help { color: var(--ok); } .where { color: var(--muted); font-size: 13px; font-family: ui-monospace, monospace; }
blockquote { margin: 6px 0; padding: 6px 10px; border-left: 3px solid var(--line); background: #fafbfc; font-size: 14px; white-space: pre-wrap; }
.filter { position: sticky; top: 0; background: var(--bg); padding: 8px 0; z-index: 1; }
.filter input { width: 100%; font: inherit; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; }
.hidden { display: none; } svg text { font-size: 12px; fill: var(--fg); } .clean { color: var(--muted); font-size: 14px; }
@media print { .filter { display: none; } body { background: #fff; } .item, .panel, .card { break-inside: avoid; } details > *:not(summary) { display: block; } a { color: inherit; } }
"#;

const SCRIPT: &str = r#"
(function () {
  var box = document.getElementById('filter');
  var items = Array.prototype.slice.call(document.querySelectorAll('.item'));
  var count = document.getElementById('filter-count');
  function apply() {
    var q = box.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (el) {
      var hit = q === '' || el.textContent.toLowerCase().indexOf(q) !== -1;
      el.classList.toggle('hidden', !hit);
      if (hit) { shown += 1; }
    });
    count.textContent = String(shown);
  }
  box.addEventListener('input', apply);
  apply();
})();
"#;

/// A horizontal bar chart: labels and counts.
fn bars(rows: &[(String, usize)], color: &str) -> String {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let row_h = 24;
    let label_w = 330;
    let bar_w = 560;
    let height = rows.len() * row_h + 8;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"100%\" viewBox=\"0 0 {} {height}\" preserveAspectRatio=\"xMinYMin meet\">",
        label_w + bar_w + 60
    );
    for (i, (full, n)) in rows.iter().enumerate() {
        let y = i * row_h + 4;
        // Long labels are shortened in the chart; the full text is in the bar's tooltip.
        let label = if full.chars().count() > 22 {
            format!("{}…", full.chars().take(21).collect::<String>())
        } else {
            full.clone()
        };
        let w = n * bar_w / max;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{}\" rx=\"3\" fill=\"{color}\"><title>{}: {n}</title></rect><text x=\"{}\" y=\"{}\">{n}</text>",
            label_w - 8,
            y + 15,
            esc(&label),
            row_h - 8,
            esc(full),
            label_w + w + 6,
            y + 15
        );
    }
    svg.push_str("</svg>");
    svg
}

fn severity_label(d: &Diagnostic) -> (&'static str, String) {
    if d.waived {
        return ("waived", tr!("已豁免", "waived"));
    }
    match d.severity {
        "error" => ("error", tr!("错误", "error")),
        "warning" => ("warning", tr!("警告", "warning")),
        _ => ("info", tr!("提示", "info")),
    }
}

/// Renders the report.
#[must_use]
pub fn render(report: &Report<'_>, corpus: &Corpus, lists: &Lists, as_of: Date, title: Option<&str>) -> String {
    let s = &report.summary;
    let mut h = String::with_capacity(64 * 1024);
    let html_lang = if lang() == Lang::Zh { "zh-CN" } else { "en" };
    let title = title
        .map_or_else(|| tr!("政务服务事项清单征求意见报告", "Public-comment report on the service item list"), esc);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    );
    let _ = write!(
        h,
        "<header><div class=\"inner\"><h1>{title}</h1><p class=\"meta\">{}</p></div></header>\n<main>\n",
        esc(&tr!(
            "由 qingdan 生成；检查日期 {}；{} 个文件。每项问题均注明规则、法规条文和所在位置。",
            "Generated by qingdan; checked at {}; {} files. Every finding names its rule, the statute and where it is.",
            as_of,
            s.files
        ))
    );
    // Summary figures.
    let cards = [
        ("", s.items, tr!("事项", "items")),
        ("", s.materials, tr!("申请材料", "materials")),
        ("err", s.errors, tr!("错误", "errors")),
        ("warn", s.warnings, tr!("警告", "warnings")),
        ("", s.infos, tr!("提示", "infos")),
        ("ok", s.waived, tr!("已豁免", "waived")),
    ];
    let _ = write!(h, "<section id=\"summary\"><h2>{}</h2><div class=\"cards\">", tr!("概况", "Summary"));
    for (class, n, label) in cards {
        let _ = write!(
            h,
            "<div class=\"card {class}\"><div class=\"n\">{n}</div><div class=\"l\">{}</div></div>",
            esc(&label)
        );
    }
    h.push_str("</div></section>\n");
    // Charts: findings by rule and by department.
    let by_rule: Vec<(String, usize)> = s
        .by_rule
        .iter()
        .map(|(r, n)| (format!("{r} {}", report.program.rule(r).map_or("", |x| x.title.get())), *n))
        .collect();
    let mut by_dept: BTreeMap<String, usize> = BTreeMap::new();
    for d in report.diagnostics.iter().filter(|d| !d.waived) {
        let dept = d
            .item
            .as_deref()
            .and_then(|code| corpus.items_with_code(code).first())
            .and_then(|&i| corpus.items.get(i as usize))
            .and_then(|it| it.department.as_ref())
            .map_or_else(|| tr!("（未填部门）", "(no department)"), |x| x.value.clone());
        *by_dept.entry(dept).or_default() += 1;
    }
    let by_dept: Vec<(String, usize)> = by_dept.into_iter().collect();
    let _ = write!(h, "<section id=\"charts\"><h2>{}</h2>", tr!("问题分布", "Findings"));
    if by_rule.is_empty() {
        let _ = write!(h, "<p class=\"clean\">{}</p>", tr!("没有发现问题。", "No findings."));
    } else {
        let _ =
            write!(h, "<div class=\"panel\"><h3>{}</h3>{}</div>", tr!("按规则", "By rule"), bars(&by_rule, "#b42318"));
        let _ = write!(
            h,
            "<div class=\"panel\"><h3>{}</h3>{}</div>",
            tr!("按部门", "By department"),
            bars(&by_dept, "#175cd3")
        );
    }
    h.push_str("</section>\n");
    // The nine lists and the 四办 lists.
    let _ = write!(
        h,
        "<section id=\"lists\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        tr!("九张清单与四办清单", "The nine lists and the 四办 lists"),
        tr!("清单", "list"),
        tr!("事项数", "items"),
        tr!("事项", "items")
    );
    for l in &lists.lists {
        let names: Vec<String> = l.items.iter().map(|i| esc(&i.name)).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td><details><summary>{}</summary>{}</details></td></tr>",
            esc(&l.title),
            l.count,
            tr!("展开", "show"),
            names.join("、")
        );
    }
    for sb in &lists.sibian {
        let names: Vec<String> = sb.items.iter().map(|i| esc(&i.name)).collect();
        let mismatch = if sb.mismatched.is_empty() {
            String::new()
        } else {
            esc(&tr!("（{} 个时限与类别不符）", " ({} contradicted)", sb.mismatched.len()))
        };
        let _ = write!(
            h,
            "<tr><td>{} {}</td><td class=\"num\">{}</td><td><details><summary>{}</summary>{}</details></td></tr>",
            tr!("四办：", "四办:"),
            esc(&sb.category),
            sb.count,
            esc(&format!("{}{}", tr!("展开", "show"), mismatch)),
            names.join("、")
        );
    }
    h.push_str("</tbody></table></section>\n");
    // Findings per department and item.
    let _ = write!(
        h,
        "<section id=\"findings\"><h2>{}</h2><div class=\"filter\"><input id=\"filter\" type=\"search\" placeholder=\"{}\" aria-label=\"{}\"> <span class=\"meta\">{} <span id=\"filter-count\"></span></span></div>",
        tr!("逐项意见", "Findings by item"),
        esc(&tr!(
            "输入事项名称、编码、部门、材料或规则编号筛选…",
            "Filter by item name, code, department, material or rule…"
        )),
        esc(&tr!("筛选", "filter")),
        tr!("显示事项：", "items shown:")
    );
    let mut per_item: BTreeMap<u32, Vec<&Diagnostic>> = BTreeMap::new();
    for d in &report.diagnostics {
        if let Some(&i) = d.item.as_deref().and_then(|c| {
            corpus.items_with_code(c).iter().find(|&&i| {
                corpus.items.get(i as usize).is_some_and(|it| corpus.sources.name(it.code.span.file) == &*d.file)
            })
        }) {
            per_item.entry(i).or_default().push(d);
        }
    }
    let mut departments: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, it) in corpus.items.iter().enumerate() {
        let dept = it.department.as_ref().map_or_else(|| tr!("（未填部门）", "(no department)"), |x| x.value.clone());
        departments.entry(dept).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    for (dept, items) in &departments {
        let flagged: Vec<&u32> = items.iter().filter(|i| per_item.contains_key(i)).collect();
        let _ = write!(
            h,
            "<h3>{} <span class=\"meta\">{}</span></h3>",
            esc(dept),
            esc(&tr!("{} 个事项，{} 个有问题", "{} items, {} with findings", items.len(), flagged.len()))
        );
        for &i in &flagged {
            let Some(it) = corpus.items.get(*i as usize) else { continue };
            let _ = write!(
                h,
                "<article class=\"item\"><h4><span class=\"code\">{}</span>{}</h4>",
                esc(&it.code.value),
                esc(&it.name.value)
            );
            for d in per_item.get(i).into_iter().flatten() {
                let (class, label) = severity_label(d);
                let _ = write!(
                    h,
                    "<div class=\"finding\"><span class=\"badge {class}\">{}</span><span class=\"rule\">{} {}</span><div>{}</div><div class=\"where\">{}:{}:{}</div><div class=\"help\">{}{}</div>",
                    esc(&label),
                    esc(&d.rule),
                    esc(&d.title),
                    esc(&d.message),
                    esc(&d.file),
                    d.line,
                    d.column,
                    esc(&tr!("建议：", "What to do: ")),
                    esc(&d.help)
                );
                if let Some(w) = &d.waiver {
                    let _ = write!(
                        h,
                        "<div class=\"meta\">{}</div>",
                        esc(&tr!(
                            "豁免理由：{}（批准文件：{}）",
                            "Waived: {} (approved by {})",
                            w.reason,
                            w.approved_by.as_deref().unwrap_or("—")
                        ))
                    );
                }
                for c in d.cites.iter() {
                    let number = c.number.as_deref().map(|n| format!("（{n}）")).unwrap_or_default();
                    let _ = write!(
                        h,
                        "<details><summary>{}</summary><blockquote>{}</blockquote></details>",
                        esc(&format!(
                            "{}《{}》{}{} — {}",
                            tr!("依据：", "Statute: "),
                            c.statute,
                            number,
                            c.article,
                            c.key_sentence
                        )),
                        esc(&c.text)
                    );
                }
                h.push_str("</div>");
            }
            h.push_str("</article>\n");
        }
        let clean: Vec<String> = items
            .iter()
            .filter(|i| !per_item.contains_key(i))
            .filter_map(|&i| corpus.items.get(i as usize))
            .map(|it| esc(&it.name.value))
            .collect();
        if !clean.is_empty() {
            let _ = write!(
                h,
                "<p class=\"clean\">{}{}</p>",
                esc(&tr!("无问题的事项：", "Items without findings: ")),
                clean.join("、")
            );
        }
    }
    h.push_str("</section>\n</main>\n<script>");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body>\n</html>\n");
    h
}
