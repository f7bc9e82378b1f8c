//! YAML node tree → item model (SPEC §2.1–§2.2).
//!
//! Every key has an English name and Chinese aliases; keys and enumerated values are also
//! accepted in Traditional script. Unknown keys, duplicate keys, wrong types and unknown
//! enumerated values are errors with a span and a "did you mean" — never silently dropped.
//! Errors are collected for the whole file, not just the first.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::model::{
    ACQUISITION, COMPLEX, Chain, Citation, Date, Domain, FORMAT, HANDLING, ITEM_TYPE, Item, LEVEL, ListHeader,
    MATERIAL_KIND, Material, ONLINE, PROMISE, SOURCE, Waiver,
};
use super::normalize;
use super::reference::Registry;
use super::yaml::{Node, NodeKind};
use crate::diag::{SourceError, did_you_mean};
use crate::source::{SourceFile, Span, Spanned};
use crate::tr;

/// The keys of one kind of mapping: canonical English key → accepted aliases.
struct Keys {
    table: &'static [(&'static str, &'static [&'static str])],
    /// Every spelling → canonical key, built on first use: a file has a key for every value, and
    /// comparing it with each spelling in turn showed in profiles.
    index: OnceLock<HashMap<&'static str, &'static str, BuildHasherDefault<Fnv>>>,
}

/// FNV-1a: keys are a few bytes long and come from a fixed table, so a simple hash does.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

static FILE_KEYS: Keys = Keys::new(&[("list", &["清单"]), ("items", &["事项"]), ("chains", &["一件事"])]);
static HEADER_KEYS: Keys = Keys::new(&[
    ("title", &["标题"]),
    ("region", &["地区"]),
    ("level", &["层级"]),
    ("department", &["部门", "实施主体"]),
    ("version", &["版本"]),
]);
static ITEM_KEYS: Keys = Keys::new(&[
    ("code", &["事项编码"]),
    ("name", &["事项名称", "名称"]),
    ("type", &["事项类型"]),
    ("department", &["部门", "实施主体"]),
    ("basis", &["设定依据", "依据"]),
    ("handling", &["办件类型"]),
    ("promise", &["四办类别"]),
    ("legal_days", &["法定时限", "法定办结时限"]),
    ("promised_days", &["承诺时限", "承诺办结时限"]),
    ("visits", &["到现场次数"]),
    ("online", &["网办深度"]),
    ("departments", &["办理部门"]),
    ("steps", &["办理环节", "办理环节数"]),
    ("in_hall", &["入驻大厅", "入驻服务大厅"]),
    ("extendable", &["基层延伸", "可向基层延伸"]),
    ("citywide", &["同城通办"]),
    ("complex", &["复杂情形"]),
    ("superior", &["上级机关"]),
    ("fee", &["收费"]),
    ("waivers", &["豁免"]),
    ("materials", &["申请材料"]),
]);
static MATERIAL_KEYS: Keys = Keys::new(&[
    ("name", &["材料名称", "名称"]),
    ("kind", &["材料类型"]),
    ("source", &["材料来源"]),
    ("acquisition", &["获取方式"]),
    ("provider", &["获取部门", "材料获取部门", "出具单位"]),
    ("basis", &["依据", "材料依据", "设定依据"]),
    ("copies", &["份数"]),
    ("format", &["形式"]),
    ("note", &["备注"]),
    ("waivers", &["豁免"]),
]);
static WAIVER_KEYS: Keys = Keys::new(&[
    ("rule", &["规则"]),
    ("reason", &["理由"]),
    ("approved_by", &["批准文件"]),
    ("expires", &["失效日期"]),
]);
static CHAIN_KEYS: Keys = Keys::new(&[("name", &["名称", "一件事名称", "事项名称"]), ("steps", &["环节"])]);
static CITATION_KEYS: Keys = Keys::new(&[("statute", &["法规"]), ("article", &["条款", "条"])]);

/// The key a file would use for a canonical field: the English key, or its first Chinese alias
/// when the file writes Chinese keys. `material` selects the material table, else the item table.
#[must_use]
pub fn key_for(material: bool, canonical: &str, chinese: bool) -> Option<&'static str> {
    let table = if material { &MATERIAL_KEYS } else { &ITEM_KEYS };
    let (en, zh) = table.table.iter().find(|(en, _)| *en == canonical)?;
    Some(if chinese { zh.first().copied().unwrap_or(en) } else { en })
}

/// Every spelling of a canonical field's key (normalised), for finding it in a mapping.
#[must_use]
pub fn aliases(material: bool, canonical: &str) -> Vec<&'static str> {
    let table = if material { &MATERIAL_KEYS } else { &ITEM_KEYS };
    table
        .table
        .iter()
        .filter(|(en, _)| *en == canonical)
        .flat_map(|(en, zh)| std::iter::once(*en).chain(zh.iter().copied()))
        .collect()
}

impl Keys {
    const fn new(table: &'static [(&'static str, &'static [&'static str])]) -> Keys {
        Keys { table, index: OnceLock::new() }
    }

    fn canonical(&self, key: &str) -> Option<&'static str> {
        // Nearly every key is written exactly as in the table; every spelling in the table is
        // already normalised (a test checks), so an exact hit is what normalising would find.
        self.find(key).or_else(|| self.find(&normalize::token(key)))
    }

    fn find(&self, k: &str) -> Option<&'static str> {
        let index = self.index.get_or_init(|| {
            let mut index = HashMap::default();
            // The first table entry with a spelling wins, as a search in table order would find.
            for &(en, zh) in self.table {
                for k in std::iter::once(en).chain(zh.iter().copied()) {
                    index.entry(k).or_insert(en);
                }
            }
            index
        });
        index.get(k).copied()
    }

    fn all(&self) -> impl Iterator<Item = &'static str> {
        self.table.iter().flat_map(|(en, zh)| std::iter::once(*en).chain(zh.iter().copied()))
    }
}

/// Options for loading.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Give items without `code` or `name` a placeholder (policy examples only).
    pub placeholder_identity: bool,
}

pub struct Loaded {
    pub header: ListHeader,
    pub items: Vec<Item>,
    pub chains: Vec<Chain>,
}

/// Most items one list file may hold by default (see [`Loader::max_items`]).
pub const MAX_ITEMS: usize = 100_000;

/// Most problems reported for one file; the rest are counted in a last message, so a broken or
/// hostile file cannot fill memory with diagnostics.
pub const MAX_ERRORS: usize = 200;

/// A file with at least this many items is loaded in parallel, in chunks of half as many.
const PARALLEL_ITEMS: usize = 512;

pub struct Loader<'a> {
    src: &'a SourceFile,
    registry: &'a Registry,
    /// Citations resolved so far: a list cites the same few statutes over and over, and resolving
    /// one (normalising, finding the statute, checking the article) was an eighth of loading.
    resolved: rustc_hash::FxHashMap<String, (Option<u32>, Option<String>, bool)>,
    list: u32,
    opts: LoadOptions,
    errors: Vec<SourceError>,
    max_items: usize,
    /// Problems past [`MAX_ERRORS`]: how many, and where the last one was.
    suppressed: usize,
    last_suppressed: Option<Span>,
}

/// A mapping's entries with their canonical keys, taken out of the tree: values are moved into
/// the model, not copied.
type Entries = Vec<(&'static str, Node, Node)>;

impl<'a> Loader<'a> {
    pub fn new(src: &'a SourceFile, registry: &'a Registry, list: u32, opts: LoadOptions) -> Self {
        Loader {
            src,
            registry,
            resolved: rustc_hash::FxHashMap::default(),
            list,
            opts,
            errors: Vec::new(),
            max_items: MAX_ITEMS,
            suppressed: 0,
            last_suppressed: None,
        }
    }

    /// Refuse files with more than `n` items (default [`MAX_ITEMS`]).
    #[must_use]
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = n;
        self
    }

    fn error(&mut self, code: &'static str, message: String, span: Span, label: String, help: String) {
        if self.errors.len() >= MAX_ERRORS {
            self.suppressed = self.suppressed.saturating_add(1);
            self.last_suppressed = Some(span);
            return;
        }
        self.errors.push(SourceError::new(code, message).at(self.src, span, label).help(help));
    }

    /// The items of a file. Many are loaded in parallel, in chunks with a loader each, whose
    /// problems are then taken in order: the same as one loader going through them all.
    fn items(&mut self, nodes: Vec<Node>, header: &ListHeader) -> Vec<Item> {
        if nodes.len() < PARALLEL_ITEMS {
            return nodes.into_iter().filter_map(|n| self.item(n, header)).collect();
        }
        let mut chunks: Vec<Vec<Node>> = Vec::new();
        let mut nodes = nodes.into_iter();
        loop {
            let chunk: Vec<Node> = nodes.by_ref().take(PARALLEL_ITEMS / 2).collect();
            if chunk.is_empty() {
                break;
            }
            chunks.push(chunk);
        }
        let loaded: Vec<(Vec<Item>, Loader<'a>)> = chunks
            .into_par_iter()
            .map(|chunk| {
                let mut l = Loader::new(self.src, self.registry, self.list, self.opts);
                let items = chunk.into_iter().filter_map(|n| l.item(n, header)).collect();
                (items, l)
            })
            .collect();
        let mut out = Vec::with_capacity(loaded.iter().map(|(v, _)| v.len()).sum());
        for (items, l) in loaded {
            out.extend(items);
            self.absorb(l);
        }
        out
    }

    /// Takes the problems another loader found after this one's, as if this one had found them.
    fn absorb(&mut self, other: Loader<'_>) {
        for e in other.errors {
            if self.errors.len() >= MAX_ERRORS {
                self.suppressed = self.suppressed.saturating_add(1);
                self.last_suppressed = e.span.or(self.last_suppressed);
            } else {
                self.errors.push(e);
            }
        }
        self.suppressed = self.suppressed.saturating_add(other.suppressed);
        self.last_suppressed = other.last_suppressed.or(self.last_suppressed);
    }

    /// The problems found, with a last one that counts those not shown.
    fn finish(mut self) -> Vec<SourceError> {
        if let Some(span) = self.last_suppressed {
            let n = self.suppressed;
            self.errors.push(
                SourceError::new(
                    "qingdan::load::more",
                    tr!("此文件还有 {} 处问题未列出", "{} more problems in this file are not shown", n),
                )
                .at(self.src, self.first_line(span), tr!("最后一处在这里", "the last of them is here"))
                .help(tr!(
                    "先改正上面列出的 {} 处问题，再运行一次",
                    "fix the {} problems shown above and run qingdan again",
                    MAX_ERRORS
                )),
            );
        }
        self.errors
    }

    /// The part of a span on its first line (for labels on whole mappings).
    fn first_line(&self, span: Span) -> Span {
        let text = self.src.slice(span);
        match text.find('\n') {
            Some(i) => Span::new(span.file, span.start as usize, (span.start as usize).saturating_add(i)),
            None => span,
        }
    }

    fn type_error(&mut self, node: &Node, field: &str, expected: &str) {
        self.error(
            "qingdan::load::type",
            tr!("字段 `{}` 的类型不对", "wrong type for `{}`", field),
            node.span,
            tr!("应为{}，实为{}", "expected {}, found {}", expected, node.kind_name()),
            tr!("把 `{}` 写成{}", "write `{}` as {}", field, expected),
        );
    }

    /// Loads a whole file.
    pub fn load(mut self, root: Node) -> Result<Loaded, Vec<SourceError>> {
        let mut out = Loaded { header: ListHeader::default(), items: Vec::new(), chains: Vec::new() };
        let root_span = root.span;
        let Some(entries) = self.entries(root, &FILE_KEYS, &tr!("清单文件顶层", "the top level of a list file"))
        else {
            return Err(self.finish());
        };
        // The header is read first (items take their department from it); the rest in file order.
        let mut saw_items = false;
        let mut rest = Vec::with_capacity(entries.len());
        for (key, k, value) in entries {
            match key {
                "list" => out.header = self.header(value),
                "items" => {
                    saw_items = true;
                    rest.push((key, k, value));
                }
                _ => rest.push((key, k, value)),
            }
        }
        let header = Arc::new(out.header.clone());
        for (key, _, value) in rest {
            match key {
                "items" => {
                    if value.is_null() {
                        continue;
                    }
                    let (items, span) = match value {
                        Node { kind: NodeKind::Seq(items), span } => (items, span),
                        other => {
                            self.type_error(&other, "items", &tr!("事项列表", "a list of items"));
                            continue;
                        }
                    };
                    if items.len() > self.max_items {
                        self.error(
                            "qingdan::load::too_many_items",
                            tr!(
                                "文件中的事项过多：{} 个（上限 {} 个）",
                                "too many items in one file: {} (the limit is {})",
                                items.len(),
                                self.max_items
                            ),
                            self.first_line(span),
                            tr!("事项列表从这里开始", "the list of items starts here"),
                            tr!(
                                "把清单拆成按部门或领域的多个文件，每个文件至多 {} 个事项",
                                "split the list into files by department or field, at most {} items each",
                                self.max_items
                            ),
                        );
                        continue;
                    }
                    out.items = self.items(items, &header);
                }
                "chains" => {
                    if let Some(seq) = self.seq(value, "chains") {
                        for n in seq {
                            if let Some(c) = self.chain(n) {
                                out.chains.push(c);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if !saw_items && out.chains.is_empty() {
            self.error(
                "qingdan::load::no_items",
                tr!("文件中没有 `items`（事项）", "the file has no `items`"),
                root_span,
                tr!("这里缺少 `items:`", "`items:` is missing here"),
                tr!("清单文件的顶层应有 `items:`（或 `事项:`）", "a list file needs a top-level `items:` (or `事项:`)"),
            );
        }
        if self.errors.is_empty() { Ok(out) } else { Err(self.finish()) }
    }

    /// The entries of a mapping, with keys resolved; unknown and duplicate keys are errors.
    fn entries(&mut self, node: Node, keys: &Keys, what: &str) -> Option<Entries> {
        let map = match node {
            Node { kind: NodeKind::Map(map), .. } => map,
            other => {
                self.type_error(&other, what, &tr!("映射（键: 值）", "a mapping (key: value)"));
                return None;
            }
        };
        let mut out: Entries = Vec::with_capacity(map.len());
        for (k, v) in map {
            let Some(key_text) = k.as_str() else {
                self.type_error(&k, what, &tr!("文字键", "a text key"));
                continue;
            };
            let Some(canonical) = keys.canonical(key_text) else {
                let suggestion = did_you_mean(key_text, keys.all());
                let help = match suggestion {
                    Some(s) => tr!(
                        "是不是 `{}`？可用的键：{}",
                        "did you mean `{}`? valid keys: {}",
                        s,
                        keys.all().collect::<Vec<_>>().join(", ")
                    ),
                    None => tr!("可用的键：{}", "valid keys: {}", keys.all().collect::<Vec<_>>().join(", ")),
                };
                self.error(
                    "qingdan::load::unknown_key",
                    tr!("未知的键 `{}`", "unknown key `{}`", key_text),
                    k.span,
                    tr!("{}中没有这个键", "not a key of {}", what),
                    help,
                );
                continue;
            };
            if let Some((_, first, _)) = out.iter().find(|(c, _, _)| *c == canonical) {
                let line = self.src.line_col(first.span.start as usize).line;
                self.error(
                    "qingdan::load::duplicate_key",
                    tr!("键 `{}` 重复", "duplicate key `{}`", key_text),
                    k.span,
                    tr!("第 {} 行已有同一个键", "the same key is already on line {}", line),
                    tr!("删掉其中一个，或合并两处的内容", "remove one of them or merge their values"),
                );
                continue;
            }
            out.push((canonical, k, v));
        }
        Some(out)
    }

    fn seq(&mut self, node: Node, field: &str) -> Option<Vec<Node>> {
        match node {
            Node { kind: NodeKind::Seq(items), .. } => Some(items),
            n if n.is_null() => Some(Vec::new()),
            n => {
                self.type_error(&n, field, &tr!("列表", "a list"));
                None
            }
        }
    }

    fn string(&mut self, node: Node, field: &str) -> Option<Spanned<String>> {
        if node.is_null() {
            return None;
        }
        match node {
            Node { kind: NodeKind::Scalar { value, .. }, span } => Some(Spanned::new(trimmed(value), span)),
            n => {
                self.type_error(&n, field, &tr!("文字", "text"));
                None
            }
        }
    }

    /// A scalar's trimmed text, without copying it; `None` for null (no error) and, after a type
    /// error, for collections.
    fn text<'n>(&mut self, node: &'n Node, field: &str) -> Option<&'n str> {
        if node.is_null() {
            return None;
        }
        match node.as_str() {
            Some(s) => Some(s.trim()),
            None => {
                self.type_error(node, field, &tr!("文字", "text"));
                None
            }
        }
    }

    fn int(&mut self, node: &Node, field: &str) -> Option<Spanned<i64>> {
        if node.is_null() {
            return None;
        }
        // Plain digits parse as they are; normalising (full-width digits, spaces) only on a miss.
        let parsed = node
            .as_str()
            .and_then(|s| s.trim().parse::<i64>().ok().or_else(|| normalize::token(s).parse::<i64>().ok()));
        match parsed {
            Some(n) if n >= 0 => Some(Spanned::new(n, node.span)),
            _ => {
                self.type_error(node, field, &tr!("非负整数", "a whole number ≥ 0"));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, field: &str) -> Option<Spanned<bool>> {
        if node.is_null() {
            return None;
        }
        let word = |s: &str| match s {
            "true" | "True" | "TRUE" | "是" => Some(true),
            "false" | "False" | "FALSE" | "否" => Some(false),
            _ => None,
        };
        let v = node.as_str().and_then(|s| word(s.trim()).or_else(|| word(&normalize::token(s))));
        match v {
            Some(b) => Some(Spanned::new(b, node.span)),
            None => {
                self.type_error(node, field, &tr!("true / false（是 / 否）", "true / false (是 / 否)"));
                None
            }
        }
    }

    fn date(&mut self, node: &Node, field: &str) -> Option<Spanned<Date>> {
        let s = self.text(node, field)?;
        match Date::parse(s) {
            Some(d) => Some(Spanned::new(d, node.span)),
            None => {
                self.type_error(node, field, &tr!("日期 YYYY-MM-DD", "a date YYYY-MM-DD"));
                None
            }
        }
    }

    fn enumerated(&mut self, node: &Node, field: &str, domain: &'static Domain) -> Option<Spanned<&'static str>> {
        let s = self.text(node, field)?;
        // The canonical spellings are normalised already: an exact hit needs no normalising.
        if let Some(v) = domain.find(s) {
            return Some(Spanned::new(v, node.span));
        }
        let token = normalize::token(s);
        if let Some(v) = domain.find(&token) {
            return Some(Spanned::new(v, node.span));
        }
        let help = match did_you_mean(&token, domain.values.iter().copied()) {
            Some(g) => {
                tr!("是不是「{}」？可选值：{}", "did you mean `{}`? valid values: {}", g, domain.values.join(" | "))
            }
            None => tr!("可选值：{}", "valid values: {}", domain.values.join(" | ")),
        };
        self.error(
            "qingdan::load::enum",
            tr!("{}「{}」不是有效值", "`{1}` is not a valid {0}", domain.name, s),
            node.span,
            tr!("无效的{}", "invalid {}", domain.name),
            help,
        );
        None
    }

    fn strings(&mut self, node: Node, field: &str) -> Vec<Spanned<String>> {
        match node {
            Node { kind: NodeKind::Seq(items), .. } => {
                let mut out = Vec::with_capacity(items.len());
                out.extend(items.into_iter().filter_map(|n| self.string(n, field)));
                out
            }
            n => self.string(n, field).into_iter().collect(),
        }
    }

    fn citations(&mut self, node: Node, field: &str) -> Vec<Citation> {
        let nodes: Vec<Node> = match node {
            Node { kind: NodeKind::Seq(items), .. } => items,
            n if n.is_null() => Vec::new(),
            n => vec![n],
        };
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            let text = match &n.kind {
                NodeKind::Map(_) => {
                    let span = n.span;
                    let Some(entries) = self.entries(n, &CITATION_KEYS, field) else { continue };
                    let mut statute = String::new();
                    let mut article = String::new();
                    for (k, _, v) in entries {
                        if let Some(s) = self.string(v, k) {
                            if k == "statute" { statute = s.value } else { article = s.value }
                        }
                    }
                    if statute.is_empty() {
                        self.error(
                            "qingdan::load::missing",
                            tr!("依据缺少 `statute`", "citation without `statute`"),
                            span,
                            tr!("这里", "here"),
                            tr!(
                                "写成 {{statute: 行政许可法, article: 第三十条}}",
                                "write {{statute: 行政许可法, article: 第三十条}}"
                            ),
                        );
                        continue;
                    }
                    Spanned::new(format!("{statute} {article}").trim().to_string(), span)
                }
                _ => match self.string(n, field) {
                    Some(s) => s,
                    None => continue,
                },
            };
            let (statute, article, article_known) = match self.resolved.get(&text.value) {
                Some(r) => r.clone(),
                None => {
                    let r = self.registry.resolve(&text.value);
                    self.resolved.insert(text.value.clone(), r.clone());
                    r
                }
            };
            out.push(Citation { text, statute, article, article_known });
        }
        out
    }

    fn waivers(&mut self, node: Node) -> Vec<Waiver> {
        let Some(seq) = self.seq(node, "waivers") else { return Vec::new() };
        let mut out = Vec::new();
        for n in seq {
            let span = n.span;
            let Some(entries) = self.entries(n, &WAIVER_KEYS, &tr!("豁免", "a waiver")) else { continue };
            let mut rule = None;
            let mut w = Waiver {
                rule: Spanned::new(String::new(), span),
                reason: None,
                approved_by: None,
                expires: None,
                span,
            };
            for (k, _, v) in entries {
                match k {
                    "rule" => rule = self.string(v, k),
                    "reason" => w.reason = self.string(v, k).filter(|s| !s.value.is_empty()),
                    "approved_by" => w.approved_by = self.string(v, k),
                    "expires" => w.expires = self.date(&v, k),
                    _ => {}
                }
            }
            match rule {
                Some(r) => {
                    w.rule = Spanned::new(normalize::token(&r.value).to_uppercase(), r.span);
                    out.push(w);
                }
                None => self.error(
                    "qingdan::load::missing",
                    tr!("豁免缺少 `rule`", "waiver without `rule`"),
                    span,
                    tr!("这个豁免", "this waiver"),
                    tr!("写明豁免的规则编号，如 `rule: QD203`", "name the rule it waives, e.g. `rule: QD203`"),
                ),
            }
        }
        out
    }

    fn header(&mut self, node: Node) -> ListHeader {
        let mut h = ListHeader::default();
        if node.is_null() {
            return h;
        }
        let Some(entries) = self.entries(node, &HEADER_KEYS, &tr!("清单头", "the list header")) else { return h };
        for (k, _, v) in entries {
            match k {
                "title" => h.title = self.string(v, k),
                "region" => h.region = self.string(v, k),
                "level" => h.level = self.enumerated(&v, k, &LEVEL),
                "department" => h.department = self.string(v, k),
                "version" => h.version = self.string(v, k),
                _ => {}
            }
        }
        h
    }

    fn item(&mut self, node: Node, header: &ListHeader) -> Option<Item> {
        let span = node.span;
        let entries = self.entries(node, &ITEM_KEYS, &tr!("事项", "an item"))?;
        let mut code = None;
        let mut name = None;
        let mut item = Item {
            list: self.list,
            span,
            code: Spanned::new(String::new(), span),
            name: Spanned::new(String::new(), span),
            item_type: None,
            department: None,
            basis: Vec::new(),
            handling: None,
            promise: None,
            legal_days: None,
            promised_days: None,
            visits: None,
            online: None,
            departments: Vec::new(),
            steps: None,
            in_hall: None,
            extendable: None,
            citywide: None,
            complex: Vec::new(),
            superior: None,
            fee: None,
            waivers: Vec::new(),
            materials: Vec::new(),
        };
        for (k, _, v) in entries {
            match k {
                "code" => code = self.string(v, k).filter(|s| !s.value.is_empty()),
                "name" => name = self.string(v, k).filter(|s| !s.value.is_empty()),
                "type" => item.item_type = self.enumerated(&v, k, &ITEM_TYPE),
                "department" => item.department = self.string(v, k),
                "basis" => item.basis = self.citations(v, k),
                "handling" => item.handling = self.enumerated(&v, k, &HANDLING),
                "promise" => item.promise = self.enumerated(&v, k, &PROMISE),
                "legal_days" => item.legal_days = self.int(&v, k),
                "promised_days" => item.promised_days = self.int(&v, k),
                "visits" => item.visits = self.int(&v, k),
                "online" => item.online = self.enumerated(&v, k, &ONLINE),
                "departments" => item.departments = self.strings(v, k),
                "steps" => item.steps = self.int(&v, k),
                "in_hall" => item.in_hall = self.boolean(&v, k),
                "extendable" => item.extendable = self.boolean(&v, k),
                "citywide" => item.citywide = self.boolean(&v, k),
                "complex" => {
                    item.complex = match &v.kind {
                        NodeKind::Seq(items) => {
                            let mut out = Vec::with_capacity(items.len());
                            out.extend(items.iter().filter_map(|n| self.enumerated(n, k, &COMPLEX)));
                            out
                        }
                        _ => self.enumerated(&v, k, &COMPLEX).into_iter().collect(),
                    }
                }
                "superior" => item.superior = self.string(v, k),
                "fee" => item.fee = self.string(v, k),
                "waivers" => item.waivers = self.waivers(v),
                "materials" => {
                    if let Some(seq) = self.seq(v, k) {
                        // Sized up front: a filtered iterator would grow the vector by doubling.
                        item.materials = Vec::with_capacity(seq.len());
                        item.materials.extend(seq.into_iter().filter_map(|n| self.material(n)));
                    }
                }
                _ => {}
            }
        }
        if item.department.is_none() {
            item.department.clone_from(&header.department);
        }
        match (code, name) {
            (Some(c), Some(n)) => {
                item.code = c;
                item.name = n;
                Some(item)
            }
            (c, n) if self.opts.placeholder_identity => {
                item.code = c.unwrap_or_else(|| Spanned::new("EX-0001".into(), span));
                item.name = n.unwrap_or_else(|| Spanned::new("示例事项".into(), span));
                Some(item)
            }
            (c, n) => {
                let missing: Vec<&str> = [("code", c.is_none()), ("name", n.is_none())]
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(k, _)| *k)
                    .collect();
                self.error(
                    "qingdan::load::missing",
                    tr!("事项缺少必填字段 `{}`", "item without `{}`", missing.join("`、`")),
                    self.first_line(span),
                    tr!("这个事项", "this item"),
                    tr!(
                        "每个事项都要有 `code`（事项编码）和 `name`（事项名称）",
                        "every item needs a `code` (事项编码) and a `name` (事项名称)"
                    ),
                );
                None
            }
        }
    }

    fn material(&mut self, node: Node) -> Option<Material> {
        let span = node.span;
        // A bare string is a material with only a name.
        if node.as_str().is_some() {
            if node.is_null() {
                return None;
            }
            let NodeKind::Scalar { value, .. } = node.kind else { return None };
            let (name, norm_name) = normalize::material_name(value.trim());
            return Some(Material {
                name: Spanned::new(name, span),
                norm_name,
                kind: None,
                source: None,
                acquisition: None,
                provider: None,
                basis: Vec::new(),
                copies: None,
                format: None,
                note: None,
                waivers: Vec::new(),
                span,
            });
        }
        let entries = self.entries(node, &MATERIAL_KEYS, &tr!("材料", "a material"))?;
        let mut name = None;
        let mut m = Material {
            name: Spanned::new(Arc::from(""), span),
            norm_name: Arc::from(""),
            kind: None,
            source: None,
            acquisition: None,
            provider: None,
            basis: Vec::new(),
            copies: None,
            format: None,
            note: None,
            waivers: Vec::new(),
            span,
        };
        for (k, _, v) in entries {
            match k {
                "name" => {
                    name = self.text(&v, k).filter(|s| !s.is_empty()).map(|s| (normalize::material_name(s), v.span));
                }
                "kind" => m.kind = self.enumerated(&v, k, &MATERIAL_KIND),
                "source" => m.source = self.enumerated(&v, k, &SOURCE),
                "acquisition" => m.acquisition = self.enumerated(&v, k, &ACQUISITION),
                "provider" => m.provider = self.string(v, k),
                "basis" => m.basis = self.citations(v, k),
                "copies" => m.copies = self.int(&v, k),
                "format" => m.format = self.enumerated(&v, k, &FORMAT),
                "note" => m.note = self.text(&v, k).map(|t| Spanned::new(normalize::shared_text(t), v.span)),
                "waivers" => m.waivers = self.waivers(v),
                _ => {}
            }
        }
        let Some(((name, norm_name), at)) = name else {
            self.error(
                "qingdan::load::missing",
                tr!("材料缺少必填字段 `name`", "material without `name`"),
                span,
                tr!("这份材料", "this material"),
                tr!("每份材料都要有 `name`（材料名称）", "every material needs a `name` (材料名称)"),
            );
            return None;
        };
        m.norm_name = norm_name;
        m.name = Spanned::new(name, at);
        Some(m)
    }

    /// Loads one item written alone: a fragment of a list file cut out again for the
    /// cross-file pass of a streaming check (`crate::check`).
    pub fn item_fragment(mut self, root: Node, header: &ListHeader) -> Result<Item, Vec<SourceError>> {
        match self.item(root, header) {
            Some(item) if self.errors.is_empty() => Ok(item),
            _ => Err(self.finish()),
        }
    }

    /// Loads one chain written alone (see [`Loader::item_fragment`]).
    pub fn chain_fragment(mut self, root: Node) -> Result<Chain, Vec<SourceError>> {
        match self.chain(root) {
            Some(chain) if self.errors.is_empty() => Ok(chain),
            _ => Err(self.finish()),
        }
    }

    fn chain(&mut self, node: Node) -> Option<Chain> {
        let span = node.span;
        let entries = self.entries(node, &CHAIN_KEYS, &tr!("一件事", "a chain"))?;
        let mut name = None;
        let mut steps = Vec::new();
        for (k, _, v) in entries {
            match k {
                "name" => name = self.string(v, k),
                "steps" => steps = self.strings(v, k),
                _ => {}
            }
        }
        let Some(name) = name else {
            self.error(
                "qingdan::load::missing",
                tr!("一件事缺少 `name`", "chain without `name`"),
                span,
                tr!("这个一件事", "this chain"),
                tr!("写明一件事的名称，如 `name: 我要开饭店`", "name the chain, e.g. `name: 我要开饭店`"),
            );
            return None;
        };
        Some(Chain { list: self.list, name, steps, span })
    }
}

/// A scalar's text without surrounding white space; moved, not copied, when there is none.
/// The parser's strings grow by doubling: the model keeps them for the whole run, so they are
/// cut to size (in place; a copy would cost more).
fn trimmed(mut value: String) -> String {
    let t = value.trim();
    if t.len() != value.len() {
        return t.to_string();
    }
    value.shrink_to_fit();
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact look-ups before normalising (keys, enumerated values) rely on this.
    #[test]
    fn table_spellings_are_normalised() {
        let tables = [&FILE_KEYS, &HEADER_KEYS, &ITEM_KEYS, &MATERIAL_KEYS, &WAIVER_KEYS, &CHAIN_KEYS, &CITATION_KEYS];
        for k in tables.iter().flat_map(|t| t.all()) {
            assert_eq!(normalize::token(k), k);
        }
        let domains = [
            &ITEM_TYPE,
            &LEVEL,
            &HANDLING,
            &PROMISE,
            &ONLINE,
            &COMPLEX,
            &MATERIAL_KIND,
            &SOURCE,
            &ACQUISITION,
            &FORMAT,
        ];
        for v in domains.iter().flat_map(|d| d.values.iter()) {
            assert_eq!(normalize::token(v), *v);
        }
    }
}
