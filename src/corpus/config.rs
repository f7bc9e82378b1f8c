//! `qingdan.yaml` (SPEC §2.6): the corpus configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use super::reference::Table;
use crate::diag::SourceError;
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

pub const CONFIG_NAME: &str = "qingdan.yaml";
pub const DEFAULT_CODE_PATTERN: &str = r"^\d{6}-[A-Z]{2}-\d{4}$";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, alias = "管辖地区")]
    jurisdiction: Option<String>,
    #[serde(default)]
    code_pattern: Option<String>,
    #[serde(default)]
    policies: Option<Vec<String>>,
    #[serde(default)]
    references: Option<TablePaths>,
    #[serde(default)]
    extend: Option<TablePaths>,
    #[serde(default)]
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Option<Vec<String>>,
    #[serde(default)]
    severity: Option<BTreeMap<String, String>>,
    #[serde(default)]
    baseline: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TablePaths {
    statutes: Option<String>,
    regions: Option<String>,
    certificates: Option<String>,
    shared: Option<String>,
    covers: Option<String>,
    phrases: Option<String>,
}

impl TablePaths {
    fn entries(&self) -> Vec<(Table, &str)> {
        [
            (Table::Statutes, &self.statutes),
            (Table::Regions, &self.regions),
            (Table::Certificates, &self.certificates),
            (Table::Shared, &self.shared),
            (Table::Covers, &self.covers),
            (Table::Phrases, &self.phrases),
        ]
        .into_iter()
        .filter_map(|(t, p)| p.as_deref().map(|p| (t, p)))
        .collect()
    }
}

/// A policy directory named in `qingdan.yaml` or on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    Builtin,
    Dir(PathBuf),
}

/// Severity override for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    #[must_use]
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "info" => Some(Level::Info),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// A loaded `qingdan.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub jurisdiction: Option<String>,
    pub code_pattern: Option<Regex>,
    pub policies: Vec<PolicySource>,
    /// Tables replaced by the corpus.
    pub references: Vec<(Table, PathBuf)>,
    /// Tables added to the built-in ones.
    pub extend: Vec<(Table, PathBuf)>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// Rule id → level, or `None` for `off`.
    pub severity: BTreeMap<String, Option<Level>>,
    pub baseline: Option<PathBuf>,
}

impl Config {
    /// Reads a `qingdan.yaml`.
    pub fn read(path: &Path) -> Result<Config, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SourceError::new(
                "qingdan::config::read",
                tr!("无法读取配置文件 `{}`：{}", "cannot read `{}`: {}", path.display(), e),
            )
            .help(tr!("检查路径和文件权限", "check the path and the file's permissions"))
        })?;
        let src = SourceFile::new(path.display().to_string(), text);
        Self::parse(&src, path)
    }

    pub fn parse(src: &SourceFile, path: &Path) -> Result<Config, SourceError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let invalid = |msg: String, at: Option<(usize, usize)>| {
            let e = SourceError::new("qingdan::config::invalid", tr!("配置文件 qingdan.yaml 有误", "invalid qingdan.yaml"))
                .help(tr!("配置项见 SPEC §2.6：jurisdiction, code_pattern, policies, references, extend, select, ignore, severity, baseline", "see SPEC §2.6 for the keys: jurisdiction, code_pattern, policies, references, extend, select, ignore, severity, baseline"));
            match at {
                Some((s, e2)) => e.at(src, Span::new(FileId(u32::MAX), s, e2), msg),
                None => {
                    let mut e = e.in_file(src);
                    e.message = format!("{}: {msg}", e.message);
                    e
                }
            }
        };
        let file: ConfigFile = if src.text().trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_yaml::from_str(src.text()).map_err(|e| {
                let at = e.location().map(|l| (l.index(), l.index().saturating_add(1)));
                invalid(e.to_string(), at)
            })?
        };
        let code_pattern = match &file.code_pattern {
            Some(p) => Some(Regex::new(p).map_err(|e| {
                invalid(tr!("code_pattern 不是有效的正则表达式：{}", "code_pattern is not a valid regex: {}", e), None)
            })?),
            None => None,
        };
        let mut severity = BTreeMap::new();
        for (rule, level) in file.severity.unwrap_or_default() {
            let l = if level == "off" {
                None
            } else {
                Some(Level::parse(&level).ok_or_else(|| {
                    invalid(
                        tr!(
                            "规则 {} 的严重程度「{}」无效（可选 error | warning | info | off）",
                            "invalid severity `{1}` for {0} (error | warning | info | off)",
                            rule,
                            level
                        ),
                        None,
                    )
                })?)
            };
            severity.insert(rule.to_uppercase(), l);
        }
        let tables = |t: &Option<TablePaths>| {
            t.as_ref().map(|t| t.entries().into_iter().map(|(k, p)| (k, base.join(p))).collect()).unwrap_or_default()
        };
        Ok(Config {
            path: Some(path.to_path_buf()),
            jurisdiction: file.jurisdiction,
            code_pattern,
            policies: file
                .policies
                .unwrap_or_default()
                .into_iter()
                .map(|p| if p == "builtin" { PolicySource::Builtin } else { PolicySource::Dir(base.join(p)) })
                .collect(),
            references: tables(&file.references),
            extend: tables(&file.extend),
            select: file.select.unwrap_or_default(),
            ignore: file.ignore.unwrap_or_default(),
            severity,
            baseline: file.baseline.map(|b| base.join(b)),
        })
    }

    /// Paths of reference files this config names (skipped when searching for lists).
    #[must_use]
    pub fn reference_paths(&self) -> Vec<PathBuf> {
        self.references.iter().chain(&self.extend).map(|(_, p)| p.clone()).collect()
    }

    /// True when the config sets anything beyond the per-directory `jurisdiction` and `code_pattern`.
    #[must_use]
    pub fn has_run_settings(&self) -> bool {
        !self.policies.is_empty()
            || !self.references.is_empty()
            || !self.select.is_empty()
            || !self.ignore.is_empty()
            || !self.severity.is_empty()
            || self.baseline.is_some()
    }
}
