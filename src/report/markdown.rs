//! `--format markdown`: a summary for a pull-request comment — counts, a table per rule, and
//! the findings (the first 100).

use super::Report;
use super::human::summary_line;
use crate::tr;

const MAX_ROWS: usize = 100;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let mut out = format!("## {}\n\n{}\n\n", tr!("qingdan 检查结果", "qingdan results"), summary_line(report));
    if report.summary.by_rule.is_empty() {
        out.push_str(&tr!("没有发现问题。\n", "No findings.\n"));
        return out;
    }
    out.push_str(&tr!("| 规则 | 名称 | 数量 |\n|---|---|---:|\n", "| rule | name | count |\n|---|---|---:|\n"));
    for (rule, n) in &report.summary.by_rule {
        let title = report.program.rule(rule).map_or("", |r| r.title.get());
        out.push_str(&format!("| {rule} | {} | {n} |\n", cell(title)));
    }
    out.push_str(&tr!(
        "\n| 位置 | 规则 | 级别 | 事项 | 问题 |\n|---|---|---|---|---|\n",
        "\n| location | rule | severity | item | finding |\n|---|---|---|---|---|\n"
    ));
    let shown: Vec<_> = report.diagnostics.iter().filter(|d| !d.waived).collect();
    for d in shown.iter().take(MAX_ROWS) {
        out.push_str(&format!(
            "| `{}:{}:{}` | {} | {} | {} | {} |\n",
            d.file,
            d.line,
            d.column,
            d.rule,
            d.severity,
            cell(d.item.as_deref().unwrap_or("")),
            cell(&d.message)
        ));
    }
    if shown.len() > MAX_ROWS {
        out.push_str(&tr!("\n……另有 {} 项未列出。\n", "\n… and {} more.\n", shown.len() - MAX_ROWS));
    }
    out
}
