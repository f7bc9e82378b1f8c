//! Baselines: record today's findings (by fingerprint) so a CI gate reports only new ones.
//!
//! A baseline is a multiset of fingerprints: two identical findings need two entries. Entries
//! no longer found are reported as gone — fixed since the baseline was written.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Diagnostic, Fingerprint, Report};
use crate::diag::SourceError;
use crate::tr;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub material: Option<String>,
    pub message: String,
}

impl Baseline {
    /// The findings of a report that are not waived.
    #[must_use]
    pub fn of(report: &Report<'_>) -> Baseline {
        let findings = report
            .diagnostics
            .iter()
            .filter(|d| !d.waived)
            .map(|d| Entry {
                fingerprint: d.fingerprint().to_string(),
                rule: d.rule.to_string(),
                file: d.file.to_string(),
                item: d.item.as_deref().map(str::to_string),
                material: d.material.as_deref().map(str::to_string),
                message: d.message.to_string(),
            })
            .collect();
        Baseline { version: 1, findings }
    }

    pub fn write(&self, path: &Path) -> Result<(), SourceError> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(|e| {
            SourceError::new(
                "qingdan::baseline::write",
                tr!("无法写入基线 `{}`：{}", "cannot write baseline `{}`: {}", path.display(), e),
            )
            .help(tr!("检查路径和权限", "check the path and permissions"))
        })
    }

    pub fn read(path: &Path) -> Result<Baseline, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SourceError::new(
                "qingdan::baseline::read",
                tr!("无法读取基线 `{}`：{}", "cannot read baseline `{}`: {}", path.display(), e),
            )
            .help(tr!("先用 --write-baseline 生成基线", "write one first with --write-baseline"))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            SourceError::new(
                "qingdan::baseline::invalid",
                tr!("基线 `{}` 格式有误：{}", "invalid baseline `{}`: {}", path.display(), e),
            )
            .help(tr!("重新用 --write-baseline 生成", "write it again with --write-baseline"))
        })
    }

    /// Removes baselined findings from the report; returns the entries that are gone.
    pub fn apply(&self, report: &mut Report<'_>) -> Vec<Entry> {
        // An entry whose fingerprint is not one qingdan writes matches nothing.
        let mut remaining: BTreeMap<Fingerprint, Vec<&Entry>> = BTreeMap::new();
        for e in &self.findings {
            if let Some(fp) = Fingerprint::parse(&e.fingerprint) {
                remaining.entry(fp).or_default().push(e);
            }
        }
        let mut kept: Vec<Diagnostic> = Vec::with_capacity(report.diagnostics.len());
        let mut baselined = 0;
        for d in report.diagnostics.drain(..) {
            let hit = !d.waived && remaining.get_mut(&d.fingerprint()).is_some_and(|v| v.pop().is_some());
            if hit {
                baselined += 1;
                match d.level {
                    crate::corpus::config::Level::Error => report.summary.errors -= 1,
                    crate::corpus::config::Level::Warning => report.summary.warnings -= 1,
                    crate::corpus::config::Level::Info => report.summary.infos -= 1,
                }
                if let Some(n) = report.summary.by_rule.get_mut(&*d.rule) {
                    *n -= 1;
                    if *n == 0 {
                        report.summary.by_rule.remove(&*d.rule);
                    }
                }
            } else {
                kept.push(d);
            }
        }
        report.diagnostics = kept;
        let gone: Vec<Entry> = remaining.into_values().flatten().cloned().collect();
        report.summary.baselined = Some(baselined);
        report.summary.gone = Some(gone.len());
        gone
    }
}
