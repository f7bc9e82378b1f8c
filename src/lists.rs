//! `qingdan lists`: the nine lists and the 四办 lists (SPEC §6), each defined by a `list` block in
//! the policies. A list whose name is a 四办 category (即收即办, 当日办结, 限时办结, 代办服务) is a
//! 四办 list; its `mismatched` items are those of the category whose figures QD202 contradicts.

use serde::Serialize;

use crate::compile::Program;
use crate::corpus::Corpus;
use crate::corpus::model::{Date, PROMISE};
use crate::corpus::reference::References;
use crate::eval::{self, Finding};
use crate::tr;

#[derive(Debug, Clone, Serialize)]
pub struct ListedItem {
    pub code: String,
    pub name: String,
    pub department: Option<String>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Serialize)]
pub struct NamedList {
    pub name: String,
    pub title: String,
    pub count: usize,
    pub items: Vec<ListedItem>,
}

#[derive(Debug, Serialize)]
pub struct Sibian {
    pub category: String,
    pub count: usize,
    pub items: Vec<ListedItem>,
    pub mismatched: Vec<ListedItem>,
}

#[derive(Debug, Serialize)]
pub struct Lists {
    pub version: u32,
    pub lists: Vec<NamedList>,
    pub sibian: Vec<Sibian>,
}

fn listed(corpus: &Corpus, i: u32) -> Option<ListedItem> {
    let item = corpus.items.get(i as usize)?;
    let (lc, _) = corpus.sources.line_col(item.code.span);
    Some(ListedItem {
        code: item.code.value.clone(),
        name: item.name.value.clone(),
        department: item.department.as_ref().map(|d| d.value.clone()),
        file: corpus.sources.name(item.code.span.file).to_string(),
        line: lc.line,
    })
}

/// Evaluates every list block.
#[must_use]
pub fn build(program: &Program, corpus: &Corpus, refs: &References, findings: &[Finding], as_of: Date) -> Lists {
    let qd202 = program.rules.iter().position(|r| r.id == "QD202");
    let mut out = Lists { version: 1, lists: Vec::new(), sibian: Vec::new() };
    for list in &program.lists {
        let members = eval::list_members(list, corpus, refs, program, as_of);
        let items: Vec<ListedItem> = members.iter().filter_map(|&i| listed(corpus, i)).collect();
        if PROMISE.find(&list.name).is_some() {
            let mismatched = members
                .iter()
                .filter(|&&i| {
                    findings.iter().any(|f| Some(f.rule) == qd202 && f.item == Some(i) && f.waived_by.is_none())
                })
                .filter_map(|&i| listed(corpus, i))
                .collect();
            out.sibian.push(Sibian { category: list.name.clone(), count: items.len(), items, mismatched });
        } else {
            let title = list.title.as_ref().map_or_else(|| list.name.clone(), |t| t.get().to_string());
            out.lists.push(NamedList { name: list.name.clone(), title, count: items.len(), items });
        }
    }
    out
}

pub fn json(l: &Lists) -> String {
    let mut s = serde_json::to_string_pretty(l).unwrap_or_default();
    s.push('\n');
    s
}

pub fn yaml(l: &Lists) -> String {
    serde_yaml::to_string(l).unwrap_or_default()
}

/// CSV for Excel: UTF-8 with a byte-order mark, one row per (list, item).
pub fn csv(l: &Lists) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        tr!("清单", "list"),
        tr!("事项编码", "code"),
        tr!("事项名称", "name"),
        tr!("实施主体", "department"),
        tr!("文件", "file"),
        tr!("行", "line"),
        tr!("四办类别不符", "category contradicted"),
    ];
    let _ = w.write_record(&header);
    let mut row = |list: &str, it: &ListedItem, flag: &str| {
        let _ = w.write_record([
            list,
            &it.code,
            &it.name,
            it.department.as_deref().unwrap_or(""),
            &it.file,
            &it.line.to_string(),
            flag,
        ]);
    };
    for nl in &l.lists {
        for it in &nl.items {
            row(&nl.name, it, "");
        }
    }
    for s in &l.sibian {
        for it in &s.items {
            let flag = if s.mismatched.iter().any(|m| m.code == it.code && m.file == it.file && m.line == it.line) {
                tr!("是", "yes")
            } else {
                String::new()
            };
            row(&s.category, it, &flag);
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut out = String::from("\u{feff}");
    out.push_str(&String::from_utf8_lossy(&bytes));
    out
}

fn md_items(out: &mut String, items: &[ListedItem]) {
    out.push_str(&tr!(
        "| 事项编码 | 事项名称 | 实施主体 |\n|---|---|---|\n",
        "| code | name | department |\n|---|---|---|\n"
    ));
    for it in items {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            it.code,
            it.name.replace('|', "\\|"),
            it.department.as_deref().unwrap_or("").replace('|', "\\|")
        ));
    }
}

pub fn markdown(l: &Lists) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n", tr!("清单", "Lists")));
    out.push_str(&tr!("| 清单 | 事项数 |\n|---|---:|\n", "| list | items |\n|---|---:|\n"));
    for nl in &l.lists {
        out.push_str(&format!("| {} | {} |\n", nl.title, nl.count));
    }
    for s in &l.sibian {
        out.push_str(&format!("| {} | {} |\n", s.category, s.count));
    }
    for nl in &l.lists {
        out.push_str(&format!("\n## {}（{}）\n\n", nl.title, nl.count));
        md_items(&mut out, &nl.items);
    }
    out.push_str(&format!("\n# {}\n", tr!("四办清单", "四办 lists")));
    for s in &l.sibian {
        out.push_str(&format!("\n## {}（{}）\n\n", s.category, s.count));
        md_items(&mut out, &s.items);
        if !s.mismatched.is_empty() {
            out.push_str(&format!(
                "\n{}\n\n",
                tr!("时限与类别不符的事项：", "items whose figures contradict the category:")
            ));
            md_items(&mut out, &s.mismatched);
        }
    }
    out
}

/// A short human summary.
pub fn human(l: &Lists) -> String {
    let mut out = String::new();
    for nl in &l.lists {
        out.push_str(&format!("{:>5}  {}\n", nl.count, nl.title));
    }
    out.push_str(&format!("{}\n", tr!("四办：", "四办:")));
    for s in &l.sibian {
        let mismatch = if s.mismatched.is_empty() {
            String::new()
        } else {
            tr!("（{} 个时限与类别不符）", " ({} contradicted by their figures)", s.mismatched.len())
        };
        out.push_str(&format!("{:>5}  {}{}\n", s.count, s.category, mismatch));
    }
    out
}
