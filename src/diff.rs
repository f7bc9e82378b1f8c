//! `qingdan diff OLD NEW`: the reduction report (SPEC §6, §9.1).
//!
//! Items are matched by code. Figures over kept items compare each item with itself; added and
//! removed items are counted separately. Materials are matched by normalised name, so
//! `materials_old − materials_removed + materials_added = materials_new` over kept items.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::corpus::Corpus;
use crate::corpus::model::Item;
use crate::tr;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub items_old: usize,
    pub items_new: usize,
    pub added: usize,
    pub removed: usize,
    pub kept: usize,
    pub materials_old: usize,
    pub materials_new: usize,
    pub materials_removed: usize,
    pub materials_added: usize,
    pub steps_old: i64,
    pub steps_new: i64,
    pub steps_removed: i64,
    pub promised_days_old: i64,
    pub promised_days_new: i64,
    pub days_saved: i64,
    pub compression_pct: f64,
    pub visits_old: i64,
    pub visits_new: i64,
    pub visits_saved: i64,
}

#[derive(Debug, Serialize)]
pub struct DepartmentFigures {
    pub department: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize)]
pub struct RemovedMaterial {
    pub code: String,
    pub item: String,
    pub material: String,
    /// Rules that flagged the material in OLD.
    pub rules: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub version: u32,
    pub totals: Figures,
    pub departments: Vec<DepartmentFigures>,
    pub headline: String,
    pub removed_materials: Vec<RemovedMaterial>,
}

fn dept(item: &Item) -> String {
    item.department.as_ref().map_or_else(|| tr!("（未填部门）", "(no department)"), |d| d.value.clone())
}

fn first_by_code(c: &Corpus) -> HashMap<&str, &Item> {
    let mut m = HashMap::new();
    for it in &c.items {
        m.entry(it.code.value.as_str()).or_insert(it);
    }
    m
}

/// Compares one kept item with itself; returns the names of removed materials.
fn compare(f: &mut Figures, old: &Item, new: &Item) -> Vec<String> {
    f.kept += 1;
    f.materials_old += old.materials.len();
    f.materials_new += new.materials.len();
    let mut pool: HashMap<&str, usize> = HashMap::new();
    for m in &new.materials {
        *pool.entry(&*m.norm_name).or_default() += 1;
    }
    let mut removed = Vec::new();
    for m in &old.materials {
        match pool.get_mut(&*m.norm_name) {
            Some(n) if *n > 0 => *n -= 1,
            _ => removed.push(m.name.value.to_string()),
        }
    }
    f.materials_removed += removed.len();
    f.materials_added += pool.values().sum::<usize>();
    let (so, sn) = (old.steps.as_ref().map(|s| s.value), new.steps.as_ref().map(|s| s.value));
    if let (Some(so), Some(sn)) = (so, sn) {
        f.steps_old += so;
        f.steps_new += sn;
        f.steps_removed += (so - sn).max(0);
    }
    let (po, pn) = (old.promised_days.as_ref().map(|s| s.value), new.promised_days.as_ref().map(|s| s.value));
    if let (Some(po), Some(pn)) = (po, pn) {
        f.promised_days_old += po;
        f.promised_days_new += pn;
    }
    let (vo, vn) = (old.visits.as_ref().map(|s| s.value), new.visits.as_ref().map(|s| s.value));
    if let (Some(vo), Some(vn)) = (vo, vn) {
        f.visits_old += vo;
        f.visits_new += vn;
    }
    removed
}

fn finish(f: &mut Figures) {
    f.days_saved = f.promised_days_old - f.promised_days_new;
    f.visits_saved = f.visits_old - f.visits_new;
    f.compression_pct = if f.promised_days_old > 0 {
        #[expect(clippy::cast_precision_loss, reason = "day counts are far below 2^52")]
        let pct = f.days_saved as f64 / f.promised_days_old as f64 * 100.0;
        (pct * 10.0).round() / 10.0
    } else {
        0.0
    };
}

/// The headline in the form reform offices publish.
#[must_use]
pub fn headline(f: &Figures) -> String {
    tr!(
        "共梳理{}个事项，减少办事环节{}个、精简材料{}份，累计压缩时限{}个工作日，较原承诺时限压缩{:.1}%",
        "{} items reviewed: {} steps removed, {} materials cut, {} working days saved in total, {:.1}% below the former promises",
        f.items_new,
        f.steps_removed,
        f.materials_removed,
        f.days_saved,
        f.compression_pct
    )
}

/// `flagged(code, material)` names the rules that flagged a material of OLD.
pub fn diff(old: &Corpus, new: &Corpus, flagged: &dyn Fn(&str, &str) -> Vec<String>) -> Diff {
    let old_by = first_by_code(old);
    let new_by = first_by_code(new);
    let mut totals = Figures::default();
    let mut by_dept: BTreeMap<String, Figures> = BTreeMap::new();
    let mut removed_materials = Vec::new();
    totals.items_old = old_by.len();
    totals.items_new = new_by.len();
    for it in new_by.values() {
        by_dept.entry(dept(it)).or_default().items_new += 1;
    }
    for it in old_by.values() {
        by_dept.entry(dept(it)).or_default().items_old += 1;
    }
    let mut old_codes: Vec<&&str> = old_by.keys().collect();
    old_codes.sort();
    for code in old_codes {
        let Some(o) = old_by.get(*code) else { continue };
        match new_by.get(*code) {
            Some(n) => {
                let d = by_dept.entry(dept(n)).or_default();
                let removed = compare(d, o, n);
                compare(&mut totals, o, n);
                for m in removed {
                    let rules = flagged(code, &m);
                    removed_materials.push(RemovedMaterial {
                        code: (*code).to_string(),
                        item: n.name.value.clone(),
                        material: m,
                        rules,
                    });
                }
            }
            None => {
                totals.removed += 1;
                by_dept.entry(dept(o)).or_default().removed += 1;
            }
        }
    }
    for (code, n) in &new_by {
        if !old_by.contains_key(code) {
            totals.added += 1;
            by_dept.entry(dept(n)).or_default().added += 1;
        }
    }
    finish(&mut totals);
    let departments = by_dept
        .into_iter()
        .map(|(department, mut figures)| {
            finish(&mut figures);
            DepartmentFigures { department, figures }
        })
        .collect();
    let headline = headline(&totals);
    Diff { version: 1, totals, departments, headline, removed_materials }
}

pub fn json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
    s.push('\n');
    s
}

fn table_rows(out: &mut String, name: &str, f: &Figures) {
    out.push_str(&format!(
        "| {} | {} → {} | +{} −{} | {} → {}（−{}） | {} → {}（−{}） | {} → {}（−{}，{:.1}%） | {} → {}（−{}） |\n",
        name.replace('|', "\\|"),
        f.items_old,
        f.items_new,
        f.added,
        f.removed,
        f.materials_old,
        f.materials_new,
        f.materials_removed,
        f.steps_old,
        f.steps_new,
        f.steps_removed,
        f.promised_days_old,
        f.promised_days_new,
        f.days_saved,
        f.compression_pct,
        f.visits_old,
        f.visits_new,
        f.visits_saved
    ));
}

/// Markdown (also the human form: it reads well in a terminal).
pub fn markdown(d: &Diff) -> String {
    let mut out = format!("# {}\n\n{}\n\n", tr!("精简情况", "Reduction report"), d.headline);
    out.push_str(&tr!(
        "| 部门 | 事项 | 增减 | 材料（份） | 环节 | 承诺时限（工作日） | 到现场次数 |\n|---|---|---|---|---|---|---|\n",
        "| department | items | added/removed | materials | steps | promised days | visits |\n|---|---|---|---|---|---|---|\n"
    ));
    table_rows(&mut out, &tr!("合计", "total"), &d.totals);
    for dep in &d.departments {
        table_rows(&mut out, &dep.department, &dep.figures);
    }
    if !d.removed_materials.is_empty() {
        out.push_str(&format!("\n## {}\n\n", tr!("精简的材料", "Materials removed")));
        out.push_str(&tr!(
            "| 事项编码 | 事项 | 材料 | 原清单中的问题 |\n|---|---|---|---|\n",
            "| code | item | material | flagged in OLD by |\n|---|---|---|---|\n"
        ));
        for r in &d.removed_materials {
            out.push_str(&format!("| {} | {} | {} | {} |\n", r.code, r.item, r.material, r.rules.join(" ")));
        }
    }
    out
}
