//! Reference tables (SPEC §2.3): the statute registry, regions, retained certificates, the
//! sharing catalog, covers and catch-all phrases. Built-in defaults are embedded from
//! `policies/`; a corpus replaces or extends them through `qingdan.yaml`.
//!
//! These files are small, so serde_yaml reads them; errors still point at file, line and column.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use indexmap::IndexMap;
use regex::{Regex, RegexSet};
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::memo::{Memo, memoized, memoized_shared};
use super::model::{CHANNEL, Date, Domain, STATUTE_LEVEL, VERIFICATION};
use super::normalize;
use crate::diag::SourceError;
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

/// The built-in tables, embedded so that `qingdan check FILE` works from any directory.
pub mod builtin {
    pub const STATUTES: &str = include_str!("../../policies/statutes.yaml");
    pub const REGIONS: &str = include_str!("../../policies/regions.yaml");
    pub const CERTIFICATES: &str = include_str!("../../policies/certificates.yaml");
    pub const SHARED: &str = include_str!("../../policies/shared.yaml");
    pub const COVERS: &str = include_str!("../../policies/covers.yaml");
    pub const PHRASES: &str = include_str!("../../policies/phrases.yaml");

    pub mod json {
        include!(concat!(env!("OUT_DIR"), "/builtin_tables.rs"));
    }
}

/// Which table a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Statutes,
    Regions,
    Certificates,
    Shared,
    Covers,
    Phrases,
}

impl Table {
    pub const ALL: [Table; 6] =
        [Table::Statutes, Table::Regions, Table::Certificates, Table::Shared, Table::Covers, Table::Phrases];

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Table::Statutes => "statutes",
            Table::Regions => "regions",
            Table::Certificates => "certificates",
            Table::Shared => "shared",
            Table::Covers => "covers",
            Table::Phrases => "phrases",
        }
    }

    /// The built-in table's values as JSON, when build.rs could convert it: read instead of the
    /// YAML at start-up.
    #[must_use]
    pub fn builtin_json(self) -> Option<&'static str> {
        match self {
            Table::Statutes => builtin::json::STATUTES,
            Table::Regions => builtin::json::REGIONS,
            Table::Certificates => builtin::json::CERTIFICATES,
            Table::Shared => builtin::json::SHARED,
            Table::Covers => builtin::json::COVERS,
            Table::Phrases => builtin::json::PHRASES,
        }
    }

    /// The built-in table: its YAML as a source (what messages quote) and its values as JSON,
    /// which start-up reads instead when build.rs could convert them.
    #[must_use]
    pub fn builtin_source(self) -> (SourceFile, Option<&'static str>) {
        let (name, text) = self.builtin();
        (SourceFile::new(name, text), self.builtin_json())
    }

    #[must_use]
    pub fn builtin(self) -> (&'static str, &'static str) {
        match self {
            Table::Statutes => ("<builtin>/policies/statutes.yaml", builtin::STATUTES),
            Table::Regions => ("<builtin>/policies/regions.yaml", builtin::REGIONS),
            Table::Certificates => ("<builtin>/policies/certificates.yaml", builtin::CERTIFICATES),
            Table::Shared => ("<builtin>/policies/shared.yaml", builtin::SHARED),
            Table::Covers => ("<builtin>/policies/covers.yaml", builtin::COVERS),
            Table::Phrases => ("<builtin>/policies/phrases.yaml", builtin::PHRASES),
        }
    }
}

// ----- file formats -----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatutesFile {
    /// Read only to validate the file with located errors; entries are kept as mappings.
    #[expect(dead_code, reason = "parsed for validation; the mappings are used")]
    statutes: Vec<StatuteEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatuteEntry {
    id: String,
    title: String,
    #[serde(default)]
    short: Vec<String>,
    #[serde(default)]
    number: Option<String>,
    level: String,
    #[serde(default)]
    in_force: Option<String>,
    #[serde(default)]
    repealed: Option<String>,
    #[serde(default)]
    complete: bool,
    #[serde(default)]
    jurisdiction: Option<String>,
    #[serde(default)]
    verification: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    articles: IndexMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawStatutes {
    statutes: Vec<serde_yaml::Mapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    regions: Vec<RegionEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionEntry {
    name: String,
    #[serde(default)]
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificatesFile {
    certificates: Vec<Certificate>,
}

/// A retained certificate (保留证明事项).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub basis: Vec<String>,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedFile {
    shared: Vec<SharedEntry>,
}

/// A material the government can obtain itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedEntry {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub provider: Option<String>,
    pub channel: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoversFile {
    covers: Vec<Cover>,
}

/// Materials replaced by another (五证合一 …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cover {
    pub kept: String,
    pub replaces: Vec<String>,
    #[serde(default)]
    pub obsolete: bool,
    #[serde(default)]
    pub basis: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhrasesFile {
    #[serde(default)]
    catch_all: Vec<String>,
    #[serde(default)]
    vague: Vec<String>,
    #[serde(default)]
    patterns: Vec<PatternEntry>,
    #[serde(default)]
    exceptions: Vec<String>,
    #[serde(default)]
    examples: PhraseExamples,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternEntry {
    pattern: String,
    /// A name for readers of `phrases.yaml`; findings quote the phrase as written instead.
    #[serde(default)]
    #[expect(dead_code, reason = "part of the file format, read by people")]
    label: Option<String>,
}

/// Names a test asserts the phrase matcher catches or keeps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseExamples {
    #[serde(default)]
    pub catch: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
}

// ----- the tables in memory -----

/// A statute registry entry.
#[derive(Debug, Clone)]
pub struct Statute {
    pub id: String,
    pub title: String,
    pub short: Vec<String>,
    pub number: Option<String>,
    pub level: &'static str,
    pub in_force: Option<Date>,
    pub repealed: Option<Date>,
    pub complete: bool,
    pub jurisdiction: String,
    pub verification: &'static str,
    pub source: Option<String>,
    pub note: Option<String>,
    /// Article (canonical, 第二十二条) → verbatim text.
    pub articles: IndexMap<String, String>,
}

impl Statute {
    /// True when the statute binds everywhere.
    #[must_use]
    pub fn is_national(&self) -> bool {
        matches!(self.jurisdiction.as_str(), "全国" | "national" | "")
    }

    /// Article text that may be quoted: only VERIFIED and VERIFIED-SECONDARY texts.
    #[must_use]
    pub fn quotable(&self, article: &str) -> Option<&str> {
        if self.verification == "UNVERIFIED" {
            return None;
        }
        self.articles.get(article).map(String::as_str)
    }
}

/// The canonical key of an article reference: `第31条` → `第三十一条`; other keys unchanged.
#[must_use]
pub fn canonical_article(s: &str) -> String {
    let s = normalize::simplify(s.trim());
    if let Some(rest) = s.strip_prefix('第')
        && let Some(num) = rest.strip_suffix('条')
        && let Some(n) = normalize::parse_number(num)
    {
        return format!("第{}条", normalize::chinese_number(n));
    }
    s
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub statutes: Vec<Statute>,
    by_id: FxHashMap<String, u32>,
    by_name: FxHashMap<String, u32>,
}

impl Registry {
    #[must_use]
    pub fn by_id(&self, id: &str) -> Option<(u32, &Statute)> {
        let i = *self.by_id.get(id)?;
        self.statutes.get(i as usize).map(|s| (i, s))
    }

    #[must_use]
    pub fn get(&self, i: u32) -> Option<&Statute> {
        self.statutes.get(i as usize)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.statutes.iter().map(|s| s.id.as_str())
    }

    /// Finds a statute by (normalised) title, short name or document number; a title followed
    /// by its document number (《优化营商环境条例》（国务院令第722号）) is found too.
    #[must_use]
    pub fn lookup(&self, name: &str) -> Option<u32> {
        let key = normalize::citation(name);
        let exact = |k: &str| {
            self.by_name.get(k).or_else(|| self.by_name.get(k.strip_prefix("中华人民共和国").unwrap_or(k))).copied()
        };
        if let Some(i) = exact(&key) {
            return Some(i);
        }
        // Title + 文号: a known title followed by something that reads as a document number.
        key.char_indices().rev().find_map(|(at, _)| {
            (at > 0 && looks_like_document_number(key.get(at..)?)).then(|| exact(key.get(..at)?)).flatten()
        })
    }

    fn rebuild(&mut self) {
        self.by_id.clear();
        self.by_name.clear();
        for (i, s) in self.statutes.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            self.by_id.insert(s.id.clone(), i);
            let mut names = vec![s.title.clone()];
            names.extend(s.short.iter().cloned());
            names.extend(s.number.iter().cloned());
            for n in names {
                let key = normalize::citation(&n);
                self.by_name.entry(key.clone()).or_insert(i);
                if let Some(k) = key.strip_prefix("中华人民共和国") {
                    self.by_name.entry(k.to_string()).or_insert(i);
                }
            }
        }
    }

    /// Splits a citation into statute and article and resolves it.
    #[must_use]
    pub fn resolve(&self, text: &str) -> (Option<u32>, Option<String>, bool) {
        let norm = normalize::citation(text);
        let (statute_part, article) = split_article(&norm);
        let statute = self.lookup(statute_part);
        let known = match (statute.and_then(|i| self.get(i)), &article) {
            (Some(s), Some(a)) if s.complete => s.articles.contains_key(a),
            _ => true,
        };
        (statute, article, known)
    }
}

/// 国务院令第722号, 中华人民共和国主席令第七号, 国办发201586号 (brackets already dropped).
fn looks_like_document_number(s: &str) -> bool {
    let s = s.strip_prefix("中华人民共和国").unwrap_or(s);
    s.ends_with('号') && s.chars().count() <= 16 && ['令', '发', '函', '字'].iter().any(|c| s.contains(*c))
}

/// `行政许可法第三十一条第一款` → (`行政许可法`, `第三十一条`).
fn split_article(norm: &str) -> (&str, Option<String>) {
    // The article reference is the last `第…条` in the text.
    let mut found = None;
    let mut search = 0;
    while let Some(pos) = norm.get(search..).and_then(|s| s.find('第')) {
        let at = search.saturating_add(pos);
        let rest = norm.get(at.saturating_add('第'.len_utf8())..).unwrap_or("");
        if let Some(end) = rest.find('条') {
            let num = rest.get(..end).unwrap_or("");
            if let Some(n) = normalize::parse_number(num) {
                found = Some((at, format!("第{}条", normalize::chinese_number(n))));
            }
        }
        search = at.saturating_add('第'.len_utf8());
    }
    match found {
        Some((at, article)) => (norm.get(..at).unwrap_or(norm), Some(article)),
        None => (norm, None),
    }
}

/// Holders whose documents a material may name: 申请人营业执照 is still a 营业执照.
const OWNERS: &[&str] = &[
    "申请人",
    "申请单位",
    "本人",
    "法定代表人",
    "负责人",
    "主要负责人",
    "企业",
    "单位",
    "股东",
    "出资人",
    "投资人",
    "经营者",
    "举办者",
    "户主",
    "父母",
    "配偶",
    "子女",
    "监护人",
    "被监护人",
    "委托人",
    "受托人",
    "代理人",
    "驾驶人",
    "车主",
    "权利人",
    "产权人",
    "所有权人",
    "房屋所有权人",
    "被继承人",
    "继承人",
    "当事人",
    "双方",
    "夫妻双方",
];

/// Issuers: a document that another body issues under the same name is a different one.
const ISSUED: &[&str] = &["出具的", "开具的", "签发的", "核发的", "提供的", "制作的", "盖章的"];

fn owner_prefix(prefix: &str) -> bool {
    let bare = prefix.strip_suffix('的').unwrap_or(prefix);
    if OWNERS
        .iter()
        .any(|o| bare == *o || bare.ends_with(o) && bare.chars().count() <= o.chars().count().saturating_add(4))
    {
        return !ISSUED.iter().any(|i| prefix.ends_with(i));
    }
    // Any "X的" that is not an issuing clause: 父母的结婚证, 拟任人员的居民户口簿.
    prefix.ends_with('的') && !ISSUED.iter().any(|i| prefix.ends_with(i))
}

/// A name table with exact-or-suffix look-up: `申请人居民户口簿` finds `居民户口簿`.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    map: FxHashMap<String, u32>,
    /// The first characters of the names: a suffix that starts with any other character
    /// cannot be a name, and is not hashed and looked up.
    starts: rustc_hash::FxHashSet<char>,
    /// The last characters of the names: a name that ends with any other character has no
    /// suffix in the table (most materials are in no catalogue: one set look-up answers them).
    ends: rustc_hash::FxHashSet<char>,
    /// The longest name, in bytes: longer suffixes are not looked up.
    longest: usize,
}

impl NameIndex {
    fn insert(&mut self, name: &str, i: u32) {
        let key = normalize::name(name);
        if key.chars().count() >= 2 {
            if let (Some(first), Some(last)) = (key.chars().next(), key.chars().next_back()) {
                self.starts.insert(first);
                self.ends.insert(last);
            }
            self.longest = self.longest.max(key.len());
            self.map.entry(key).or_insert(i);
        }
    }

    /// `norm` must already be normalised. An exact match, or the longest listed name that ends
    /// the name after an owner (申请人居民户口簿, 法定代表人的营业执照, 父母的结婚证) — but not after
    /// an issuer (社区出具的无犯罪记录证明) or a qualifier (境外投资者营业执照, 游艇驾驶证), which
    /// name another document.
    fn find(&self, norm: &str) -> Option<u32> {
        if !norm.chars().next_back().is_some_and(|c| self.ends.contains(&c)) {
            return None;
        }
        if let Some(&i) = self.map.get(norm) {
            return Some(i);
        }
        norm.char_indices().skip(1).find_map(|(at, c)| {
            if norm.len().saturating_sub(at) > self.longest || !self.starts.contains(&c) {
                return None;
            }
            let prefix = norm.get(..at)?;
            let rest = norm.get(at..)?;
            let i = *self.map.get(rest)?;
            owner_prefix(prefix).then_some(i)
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct PhraseMatcher {
    literals: Vec<String>,
    automaton: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    /// All `patterns` at once: one pass tells which of them can match a text at all, so most
    /// names (which match none) cost one search instead of one per pattern.
    pattern_set: Option<RegexSet>,
    exceptions: Option<AhoCorasick>,
    pub examples: PhraseExamples,
    /// Tells matchers apart in the per-thread memo of [`PhraseMatcher::find`]; a clone has the
    /// same phrases and so may share the id.
    id: u64,
}

/// A pattern of the phrase table, compiled on its first match. `pattern_set` tells whether it can
/// match at all, and most patterns never do in a run: compiling each of them as well as the set
/// was a quarter of start-up.
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    regex: OnceLock<Option<Regex>>,
}

/// Ids of built matchers; 0 is left to the empty default matcher.
static NEXT_MATCHER_ID: AtomicU64 = AtomicU64::new(1);

/// How many texts the memo keeps per thread before it starts again: names and notes repeat
/// a great deal across a corpus (营业执照, 居民身份证 …), and this bounds memory on one that
/// does not.
const PHRASE_MEMO_LIMIT: usize = 1 << 16;

/// Per matcher (its `id`): the phrase found in each text, for all threads. A thread asks it only
/// when its own memo does not know a text, and searches only when no thread has: each of two
/// threads searching the same few hundred texts again was a quarter of QD102's time.
static SHARED_PHRASES: std::sync::LazyLock<std::sync::Mutex<Memo<Option<Box<str>>>>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(Memo::default()));

thread_local! {
    /// Per matcher (its `id`): the phrase found in each text.
    static PHRASE_MEMO: RefCell<Memo<Option<Box<str>>>> = RefCell::new(Memo::default());
    /// Per matcher (its `id`): whether a phrase is found in each shared text (a material's name
    /// or note, see [`material_name`](super::normalize::material_name)), keyed by where the text
    /// is ([`PhraseMatcher::of_shared`]): it is not read again. Each entry holds its text, so no
    /// other text can be put where it is while the entry stands.
    static SHARED_MEMO: RefCell<Memo<(Arc<str>, bool), usize>> = RefCell::new(Memo::default());
}

impl PhraseMatcher {
    fn build(file: PhrasesFile) -> Result<Self, String> {
        let mut literals: Vec<String> =
            file.catch_all.iter().chain(&file.vague).map(|p| normalize::token(p)).filter(|p| !p.is_empty()).collect();
        literals.sort();
        literals.dedup();
        let automaton =
            if literals.is_empty() { None } else { Some(AhoCorasick::new(&literals).map_err(|e| e.to_string())?) };
        let sources: Vec<String> = file.patterns.into_iter().map(|p| p.pattern).collect();
        let pattern_set = if sources.is_empty() {
            None
        } else {
            Some(RegexSet::new(&sources).map_err(|e| {
                // Name the pattern at fault.
                sources
                    .iter()
                    .find_map(|p| Regex::new(p).err().map(|e| format!("`{p}`: {e}")))
                    .unwrap_or_else(|| e.to_string())
            })?)
        };
        let patterns = sources.into_iter().map(|source| Pattern { source, regex: OnceLock::new() }).collect();
        let exceptions: Vec<String> =
            file.exceptions.iter().map(|p| normalize::token(p)).filter(|p| !p.is_empty()).collect();
        let exceptions =
            if exceptions.is_empty() { None } else { Some(AhoCorasick::new(&exceptions).map_err(|e| e.to_string())?) };
        let id = NEXT_MATCHER_ID.fetch_add(1, Ordering::Relaxed);
        Ok(PhraseMatcher { literals, automaton, patterns, pattern_set, exceptions, examples: file.examples, id })
    }

    /// The first catch-all or vague phrase in `text` (as written in the normalised text), unless
    /// it lies inside an exception.
    #[must_use]
    pub fn find(&self, text: &str) -> Option<String> {
        memoized(&PHRASE_MEMO, self.id, PHRASE_MEMO_LIMIT, text, |t| {
            memoized_shared(&SHARED_PHRASES, self.id, PHRASE_MEMO_LIMIT, t, |t| self.search(t).map(Box::from))
        })
        .map(String::from)
    }

    /// Whether [`find`](Self::find) finds a phrase in a material's name or note: the same
    /// answer, asked of the text where the loader shares it among the materials written alike. A
    /// check asks this of every material, and the texts are scattered through memory: reading
    /// them again to look them up in the memo of texts was most of the time of the rule that asks
    /// it (QD102).
    #[must_use]
    pub fn of_shared(&self, text: &Arc<str>) -> bool {
        let at = Arc::as_ptr(text).cast::<u8>() as usize;
        if let Some(found) = SHARED_MEMO.with_borrow(|m| m.get(self.id, &at).map(|e| e.1)) {
            return found;
        }
        let found = self.find(text).is_some();
        SHARED_MEMO.with_borrow_mut(|m| m.remember(self.id, PHRASE_MEMO_LIMIT, at, (text.clone(), found)));
        found
    }

    fn search(&self, text: &str) -> Option<String> {
        let norm = normalize::token(text);
        let mut hits: Vec<(usize, usize)> = Vec::new();
        if let Some(ac) = &self.automaton {
            hits.extend(ac.find_overlapping_iter(&norm).map(|m| (m.start(), m.end())));
        }
        if let Some(set) = &self.pattern_set {
            for k in set.matches(&norm).iter() {
                // The set compiled the same pattern, so compiling it alone cannot fail.
                if let Some(p) = self.patterns.get(k)
                    && let Some(re) = p.regex.get_or_init(|| Regex::new(&p.source).ok())
                {
                    hits.extend(re.find_iter(&norm).map(|m| (m.start(), m.end())));
                }
            }
        }
        if hits.is_empty() {
            return None;
        }
        let excepted: Vec<(usize, usize)> = self
            .exceptions
            .as_ref()
            .map(|ac| ac.find_overlapping_iter(&norm).map(|m| (m.start(), m.end())).collect())
            .unwrap_or_default();
        let inside = |s: usize, e: usize| excepted.iter().any(|&(a, b)| a <= s && e <= b);
        let mut best: Option<(usize, usize)> = None;
        for (s, e) in hits {
            if !inside(s, e) && best.is_none_or(|(bs, be)| s < bs || (s == bs && e > be)) {
                best = Some((s, e));
            }
        }
        best.and_then(|(s, e)| norm.get(s..e)).map(str::to_string)
    }

    #[must_use]
    pub fn literal_count(&self) -> usize {
        self.literals.len()
    }
}

/// All reference tables of one run.
#[derive(Debug, Clone, Default)]
pub struct References {
    pub registry: Registry,
    regions: HashMap<String, Option<String>>,
    pub certificates: Vec<Certificate>,
    cert_index: NameIndex,
    pub shared: Vec<SharedEntry>,
    shared_index: NameIndex,
    pub covers: Vec<Cover>,
    covers_index: FxHashMap<String, Vec<u32>>,
    pub phrases: PhraseMatcher,
}

/// The raw tables before indexing, so `qingdan.yaml` can replace or extend each.
#[derive(Debug, Default)]
pub struct RawTables {
    /// Entries as written (mappings), so that `extend` can merge only the fields a corpus gives.
    statutes: Vec<(serde_yaml::Mapping, SourceFile)>,
    regions: Vec<RegionEntry>,
    certificates: Vec<Certificate>,
    shared: Vec<SharedEntry>,
    covers: Vec<Cover>,
    phrases: PhrasesFile,
    phrases_source: Option<SourceFile>,
}

fn yaml_error(src: &SourceFile, file: FileId, e: &serde_yaml::Error, what: &str) -> SourceError {
    let base =
        SourceError::new("qingdan::reference::invalid", tr!("参考表 {} 格式有误", "invalid reference table {}", what))
            .help(tr!(
                "参考表的格式见 SPEC §2.3；对照内置的 policies/{}.yaml",
                "see SPEC §2.3 for the format; compare with the built-in policies/{}.yaml",
                what
            ));
    match e.location() {
        Some(loc) => {
            let off = loc.index().min(src.text().len());
            let end =
                src.text().get(off..).and_then(|s| s.chars().next()).map_or(off, |c| off.saturating_add(c.len_utf8()));
            base.at(src, Span::new(file, off, end), e.to_string())
        }
        None => {
            let mut b = base.in_file(src);
            b.message = format!("{}: {e}", b.message);
            b
        }
    }
}

fn parse_date(s: Option<&String>, src: &SourceFile, what: &str) -> Result<Option<Date>, SourceError> {
    match s {
        None => Ok(None),
        Some(t) if t.trim().is_empty() || t == "null" => Ok(None),
        Some(t) => Date::parse(t).map(Some).ok_or_else(|| {
            SourceError::new(
                "qingdan::reference::date",
                tr!("{} 的日期 `{}` 无效", "invalid date `{1}` in {0}", what, t),
            )
            .in_file(src)
            .help(tr!("日期写作 YYYY-MM-DD", "write dates as YYYY-MM-DD"))
        }),
    }
}

fn domain_value(d: &Domain, v: &str, src: &SourceFile, what: &str) -> Result<&'static str, SourceError> {
    d.find(&normalize::token(v)).ok_or_else(|| {
        SourceError::new(
            "qingdan::reference::value",
            tr!("{} 的{}「{}」无效", "invalid {1} `{2}` in {0}", what, d.name, v),
        )
        .in_file(src)
        .help(tr!("可选值：{}", "valid values: {}", d.values.join(" | ")))
    })
}

impl RawTables {
    /// Reads one table file into these tables: replacing (`extend == false`) or adding to the
    /// table of the same kind. `json` is the same values as JSON (a built-in table's), read
    /// instead of the text when it reads.
    pub fn read(
        &mut self,
        table: Table,
        src: &SourceFile,
        json: Option<&str>,
        file: FileId,
        extend: bool,
    ) -> Result<(), SourceError> {
        let text = src.text();
        let err = |e: serde_yaml::Error| yaml_error(src, file, &e, table.key());
        fn parse<T: serde::de::DeserializeOwned>(json: Option<&str>, text: &str) -> Result<T, serde_yaml::Error> {
            match json.and_then(|j| serde_json::from_str(j).ok()) {
                Some(v) => Ok(v),
                None => serde_yaml::from_str(text),
            }
        }
        match table {
            Table::Statutes => {
                // Parsed once (the largest table, and parsing YAML is most of start-up), checked
                // as typed statutes from the tree, and kept as mappings for merging. Only a
                // table that fails the check is read again from the text: for an error with a
                // location.
                let tree: serde_yaml::Value = parse(json, text).map_err(err)?;
                // The built-in table (read as JSON) is checked by the tests, not at every start.
                if json.is_none() && StatutesFile::deserialize(&tree).is_err() {
                    let _: StatutesFile = serde_yaml::from_str(text).map_err(err)?;
                }
                let raw: RawStatutes = serde_yaml::from_value(tree).map_err(err)?;
                let new: Vec<_> = raw.statutes.into_iter().map(|s| (s, src.clone())).collect();
                if extend {
                    for (entry, s) in new {
                        // An entry with the title of an existing one is merged into it: articles
                        // are united, and the fields the new entry gives win; the others stay.
                        let title = entry.get("title").cloned();
                        if let Some((old, _)) = self.statutes.iter_mut().find(|(o, _)| o.get("title") == title.as_ref())
                        {
                            for (k, v) in entry {
                                let merged = match (k.as_str(), old.get(&k), &v) {
                                    (
                                        Some("articles"),
                                        Some(serde_yaml::Value::Mapping(a)),
                                        serde_yaml::Value::Mapping(b),
                                    ) => {
                                        let mut a = a.clone();
                                        for (ak, av) in b {
                                            a.insert(ak.clone(), av.clone());
                                        }
                                        serde_yaml::Value::Mapping(a)
                                    }
                                    _ => v,
                                };
                                old.insert(k, merged);
                            }
                        } else {
                            self.statutes.push((entry, s));
                        }
                    }
                } else {
                    self.statutes = new;
                }
            }
            Table::Regions => {
                let f: RegionsFile = parse(json, text).map_err(err)?;
                replace_or_extend(&mut self.regions, f.regions, extend);
            }
            Table::Certificates => {
                let f: CertificatesFile = parse(json, text).map_err(err)?;
                replace_or_extend(&mut self.certificates, f.certificates, extend);
            }
            Table::Shared => {
                let f: SharedFile = parse(json, text).map_err(err)?;
                replace_or_extend(&mut self.shared, f.shared, extend);
            }
            Table::Covers => {
                let f: CoversFile = parse(json, text).map_err(err)?;
                replace_or_extend(&mut self.covers, f.covers, extend);
            }
            Table::Phrases => {
                let f: PhrasesFile = parse(json, text).map_err(err)?;
                if extend {
                    self.phrases.catch_all.extend(f.catch_all);
                    self.phrases.vague.extend(f.vague);
                    self.phrases.patterns.extend(f.patterns);
                    self.phrases.exceptions.extend(f.exceptions);
                } else {
                    self.phrases = f;
                }
                self.phrases_source = Some(src.clone());
            }
        }
        Ok(())
    }

    /// Validates and indexes the tables.
    pub fn build(self) -> Result<References, SourceError> {
        let mut statutes = Vec::new();
        let mut seen_ids: HashMap<String, ()> = HashMap::new();
        for (raw, src) in self.statutes {
            let e: StatuteEntry = serde_yaml::from_value(serde_yaml::Value::Mapping(raw)).map_err(|e| {
                SourceError::new(
                    "qingdan::reference::invalid",
                    tr!("法规库条目有误：{}", "invalid statute entry: {}", e),
                )
                .in_file(&src)
                .help(tr!("对照 policies/statutes.yaml 的格式", "compare with the format of policies/statutes.yaml"))
            })?;
            let what = format!("statutes: {}", e.id);
            if seen_ids.insert(e.id.clone(), ()).is_some() {
                return Err(SourceError::new(
                    "qingdan::reference::duplicate_id",
                    tr!("法规编号 `{}` 重复", "statute id `{}` is used twice", e.id),
                )
                .in_file(&src)
                .help(tr!("每条法规的 id 必须唯一", "give every statute its own id")));
            }
            let articles = e.articles.iter().map(|(k, v)| (canonical_article(k), v.trim().to_string())).collect();
            statutes.push(Statute {
                level: domain_value(&STATUTE_LEVEL, &e.level, &src, &what)?,
                in_force: parse_date(e.in_force.as_ref(), &src, &what)?,
                repealed: parse_date(e.repealed.as_ref(), &src, &what)?,
                verification: domain_value(
                    &VERIFICATION,
                    e.verification.as_deref().unwrap_or("UNVERIFIED"),
                    &src,
                    &what,
                )?,
                jurisdiction: e.jurisdiction.clone().unwrap_or_else(|| "全国".into()),
                id: e.id,
                title: e.title,
                short: e.short,
                number: e.number,
                complete: e.complete,
                source: e.source,
                note: e.note,
                articles,
            });
        }
        let mut registry = Registry { statutes, ..Registry::default() };
        registry.rebuild();

        let regions = self.regions.into_iter().map(|r| (r.name, r.parent)).collect();

        let mut cert_index = NameIndex::default();
        for (i, c) in self.certificates.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            cert_index.insert(&c.name, i);
            for a in &c.aliases {
                cert_index.insert(a, i);
            }
        }
        let mut shared_index = NameIndex::default();
        for (i, s) in self.shared.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if CHANNEL.find(&normalize::token(&s.channel)).is_none() {
                return Err(SourceError::new(
                    "qingdan::reference::value",
                    tr!(
                        "共享目录「{}」的渠道「{}」无效",
                        "invalid channel `{1}` for shared entry `{0}`",
                        s.name,
                        s.channel
                    ),
                )
                .help(tr!("可选值：{}", "valid values: {}", CHANNEL.values.join(" | "))));
            }
            shared_index.insert(&s.name, i);
            for a in &s.aliases {
                shared_index.insert(a, i);
            }
        }
        let mut covers_index: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (i, c) in self.covers.iter().enumerate() {
            for r in &c.replaces {
                covers_index.entry(normalize::name(r)).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        let phrases = PhraseMatcher::build(self.phrases).map_err(|e| {
            let err = SourceError::new(
                "qingdan::reference::pattern",
                tr!("措辞表中的正则表达式无效：{}", "invalid pattern in the phrase table: {}", e),
            )
            .help(tr!(
                "模式使用 Rust regex 语法（不支持环视和反向引用）",
                "patterns use Rust regex syntax (no look-around, no back-references)"
            ));
            match &self.phrases_source {
                Some(src) => err.in_file(src),
                None => err,
            }
        })?;
        Ok(References {
            registry,
            regions,
            certificates: self.certificates,
            cert_index,
            shared: self.shared,
            shared_index,
            covers: self.covers,
            covers_index,
            phrases,
        })
    }
}

fn replace_or_extend<T>(table: &mut Vec<T>, new: Vec<T>, extend: bool) {
    if extend {
        table.extend(new);
    } else {
        *table = new;
    }
}

impl References {
    /// The built-in tables alone.
    pub fn builtin() -> Result<References, SourceError> {
        let mut raw = RawTables::default();
        for t in Table::ALL {
            let (src, json) = t.builtin_source();
            raw.read(t, &src, json, FileId(u32::MAX), false)?;
        }
        raw.build()
    }

    /// Is `region` (a city, county …) inside `jurisdiction`?
    #[must_use]
    pub fn region_within(&self, region: &str, jurisdiction: &str) -> bool {
        if matches!(jurisdiction, "全国" | "national" | "") {
            return true;
        }
        let mut current = Some(region.to_string());
        let mut steps = 0u8;
        while let Some(r) = current {
            if r == jurisdiction {
                return true;
            }
            steps = steps.saturating_add(1);
            if steps > 16 {
                break;
            }
            current = self.regions.get(&r).cloned().flatten();
        }
        false
    }

    #[must_use]
    pub fn knows_region(&self, region: &str) -> bool {
        self.regions.contains_key(region)
    }

    /// The sharing-catalog entry for a normalised material name.
    #[must_use]
    pub fn shared(&self, norm: &str) -> Option<&SharedEntry> {
        self.shared_index.find(norm).and_then(|i| self.shared.get(i as usize))
    }

    /// The retained certificate for a normalised name.
    #[must_use]
    pub fn certificate(&self, norm: &str) -> Option<&Certificate> {
        self.cert_index.find(norm).and_then(|i| self.certificates.get(i as usize))
    }

    /// Where in `covers` the entries whose `replaces` names this (normalised) material are.
    #[must_use]
    pub fn covers_indexes(&self, norm: &str) -> &[u32] {
        self.covers_index.get(norm).map_or(&[], Vec::as_slice)
    }

    /// Covers entries whose `replaces` names this (normalised) material.
    pub fn covers_of(&self, norm: &str) -> impl Iterator<Item = &Cover> {
        self.covers_indexes(norm).iter().filter_map(|&i| self.covers.get(i as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_read_as_json_are_the_tables_read_as_yaml() {
        let read = |json: bool| {
            let mut raw = RawTables::default();
            for t in Table::ALL {
                let (name, text) = t.builtin();
                let src = SourceFile::new(name, text);
                let json = if json { t.builtin_json() } else { None };
                raw.read(t, &src, json, FileId(0), false).unwrap();
            }
            format!("{raw:?}")
        };
        for t in Table::ALL {
            let json = t.builtin_json().unwrap_or_else(|| panic!("build.rs did not convert {}", t.key()));
            assert!(serde_json::from_str::<serde_json::Value>(json).is_ok());
        }
        assert_eq!(read(true), read(false));
        // A JSON form that does not read (an older build's, say) falls back to the YAML.
        let mut raw = RawTables::default();
        let (name, text) = Table::Regions.builtin();
        raw.read(Table::Regions, &SourceFile::new(name, text), Some("{\"regions\": 7}"), FileId(0), false).unwrap();
        assert!(!raw.regions.is_empty());
    }

    #[test]
    fn phrase_patterns_compile_when_they_first_match() {
        let file = |yaml: &str| serde_yaml::from_str::<PhrasesFile>(yaml).unwrap_or_default();
        let m = PhraseMatcher::build(file("patterns:\n  - pattern: '其[他它]证明$'\n  - pattern: '视情况'\n"));
        let Ok(m) = m else { panic!("a valid table is refused") };
        assert!(m.patterns.iter().all(|p| p.regex.get().is_none()), "compiled before any match");
        assert_eq!(m.search("户籍证明").as_deref(), None);
        assert_eq!(m.search("其他证明").as_deref(), Some("其他证明"));
        let compiled: Vec<bool> = m.patterns.iter().map(|p| p.regex.get().is_some()).collect();
        assert_eq!(compiled, [true, false]);
        // An invalid pattern is refused when the table is built, and named.
        let e = PhraseMatcher::build(file("patterns:\n  - pattern: '视情况'\n  - pattern: '(?=后)'\n")).err();
        assert!(e.as_deref().is_some_and(|e| e.starts_with("`(?=后)`")), "{e:?}");
    }

    /// A name's phrase, asked by where the shared name is, is the one found in its text; a name
    /// dropped by every material still has its entry, so no other name can take its place and
    /// its answer (each entry holds its name).
    #[test]
    fn phrases_of_shared_texts_are_those_of_their_texts() {
        let file = |yaml: &str| serde_yaml::from_str::<PhrasesFile>(yaml).unwrap_or_default();
        let Ok(m) = PhraseMatcher::build(file("catch_all: [其他相关材料]\n")) else {
            panic!("a valid table is refused")
        };
        for text in ["其他相关材料", "营业执照", "營業執照", "申请人的其他相关材料", ""] {
            let shared: Arc<str> = Arc::from(text);
            assert_eq!(m.of_shared(&shared), m.find(text).is_some(), "{text}");
            // Again, from the memo; and a name written alike elsewhere answers alike.
            assert_eq!(m.of_shared(&shared), m.find(text).is_some(), "{text}");
            assert_eq!(m.of_shared(&Arc::from(text)), m.find(text).is_some(), "{text}");
        }
        // Names of the same length, made and dropped one after another: the allocator would put
        // each where the one before it was.
        for round in 0..100 {
            let text = if round % 2 == 0 { "其他相关材料" } else { "居民身份证明" };
            assert_eq!(m.of_shared(&Arc::from(text)), round % 2 == 0, "round {round}: {text}");
        }
        // Another matcher does not read this one's answers.
        let Ok(other) = PhraseMatcher::build(file("catch_all: [身份证明]\n")) else {
            panic!("a valid table is refused")
        };
        let name: Arc<str> = Arc::from("居民身份证明");
        assert!(!m.of_shared(&name));
        assert!(other.of_shared(&name));
        assert!(!m.of_shared(&name));
    }

    #[test]
    fn phrases_found_by_one_thread_answer_the_others() {
        let file = |yaml: &str| serde_yaml::from_str::<PhrasesFile>(yaml).unwrap_or_default();
        let (Ok(m), Ok(other)) = (
            PhraseMatcher::build(file("catch_all: [其他相关材料]\n")),
            PhraseMatcher::build(file("catch_all: [身份证明]\n")),
        ) else {
            panic!("a valid table is refused")
        };
        let texts = ["申请人的其他相关材料", "居民身份证明", "营业执照"];
        // Each text asked first on a thread of its own (whose memo is empty), then here.
        for text in texts {
            let asked = std::thread::scope(|s| s.spawn(|| (m.find(text), other.find(text))).join().ok());
            assert_eq!(asked, Some((m.search(text), other.search(text))), "{text}");
            assert_eq!((m.find(text), other.find(text)), (m.search(text), other.search(text)), "{text}");
        }
        // A thread that has asked nothing yet reads the other threads' answers of this matcher
        // only: another matcher's are its own.
        let fresh = std::thread::scope(|s| {
            s.spawn(|| texts.map(|t| (m.find(t).is_some(), other.find(t).is_some()))).join().ok()
        });
        assert_eq!(fresh, Some([(true, false), (false, true), (false, false)]));
    }

    #[test]
    fn articles_are_canonical() {
        assert_eq!(canonical_article("第31条"), "第三十一条");
        assert_eq!(canonical_article("第二十二條"), "第二十二条");
        assert_eq!(canonical_article("摘录"), "摘录");
    }

    #[test]
    fn owner_prefixes() {
        assert!(owner_prefix("申请人"));
        assert!(owner_prefix("法定代表人的"));
        assert!(owner_prefix("父母的"));
        assert!(!owner_prefix("社区出具的"));
        assert!(!owner_prefix("境外投资者"));
        assert!(!owner_prefix("游艇"));
        assert!(!owner_prefix("初中以上"));
    }

    /// Exact names and names after an owner are found; the tests that skip a look-up (the last
    /// character, the longest name, the first character) skip only what cannot match.
    #[test]
    fn names_are_found_whole_or_after_an_owner() {
        let mut index = NameIndex::default();
        for (i, name) in ["居民户口簿", "营业执照", "结婚证"].into_iter().enumerate() {
            index.insert(name, u32::try_from(i).unwrap_or(0));
        }
        for (name, found) in [
            ("居民户口簿", Some(0)),
            ("营业执照复印件", Some(1)),
            ("申请人居民户口簿", Some(0)),
            ("法定代表人的营业执照", Some(1)),
            ("父母的结婚证", Some(2)),
            ("社区出具的结婚证", None),
            ("境外投资者营业执照", None),
            ("申请书", None),
            ("证", None),
            ("", None),
        ] {
            assert_eq!(index.find(&normalize::name(name)), found, "{name}");
        }
    }

    #[test]
    fn title_with_document_number() {
        let refs = References::builtin().unwrap_or_default();
        let (statute, article, _) = refs.registry.resolve("《优化营商环境条例》（国务院令第722号）第三十五条");
        assert_eq!(statute.and_then(|i| refs.registry.get(i)).map(|s| s.id.as_str()), Some("yhyshj"));
        assert_eq!(article.as_deref(), Some("第三十五条"));
        assert_eq!(refs.registry.resolve("道路运输条例实施细则 第三条").0, None);
    }

    #[test]
    fn split() {
        assert_eq!(split_article("行政许可法第三十一条第一款"), ("行政许可法", Some("第三十一条".into())));
        assert_eq!(split_article("国办发201586号"), ("国办发201586号", None));
    }
}
