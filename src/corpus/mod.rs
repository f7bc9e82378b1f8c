//! The corpus: list files found under the paths given, decoded, parsed and turned into items.
//!
//! Stage order: `discover` finds the files and the `qingdan.yaml` that governs each; `decode`
//! turns bytes into text (UTF-8, or GB18030 with a note); `yaml` builds a node tree with spans;
//! `load` turns it into the item model. Files are independent, so they load in parallel.
//!
//! Offsets, counts and sizes in this module tree come from input files: arithmetic on them is
//! checked or saturating (`clippy::arithmetic_side_effects` is denied here).
#![deny(clippy::arithmetic_side_effects)]

pub mod config;
pub mod load;
pub mod memo;
pub mod model;
pub mod normalize;
pub mod piece;
pub mod reference;
pub mod yaml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use regex::Regex;
use rustc_hash::FxHashMap;

use self::config::{CONFIG_NAME, Config, DEFAULT_CODE_PATTERN};
use self::load::{LoadOptions, Loader};
use self::model::{Chain, Item, ListFile, ListHeader};
use self::reference::{RawTables, References, Table};
use crate::diag::{Problems, SourceError};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::tr;

/// Largest list file read by default (bytes); larger files are refused with a clear error.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The environment variable that changes [`MAX_FILE_BYTES`]: bytes, or a number with K, M or G.
pub const MAX_FILE_BYTES_ENV: &str = "QINGDAN_MAX_FILE_BYTES";

/// Limits on one list file, against broken or hostile input. Each is refused with a located
/// error and a help line, never with a crash or a machine out of memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes (at most 4 GiB − 1: spans are 32-bit offsets).
    pub max_file_bytes: u64,
    /// Most items in one file.
    pub max_items: usize,
    /// Nesting depth, number of values, alias expansion, length of one value.
    pub yaml: yaml::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: MAX_FILE_BYTES, max_items: load::MAX_ITEMS, yaml: yaml::Limits::default() }
    }
}

impl Limits {
    /// The defaults, with the file size from `QINGDAN_MAX_FILE_BYTES` when it is set.
    pub fn from_env() -> Result<Limits, SourceError> {
        let mut limits = Limits::default();
        if let Some(v) = std::env::var_os(MAX_FILE_BYTES_ENV) {
            let v = v.to_string_lossy();
            limits.max_file_bytes = parse_size(&v).ok_or_else(|| {
                SourceError::new("qingdan::limits", tr!("{} 的值「{}」无效", "invalid {} `{}`", MAX_FILE_BYTES_ENV, v))
                    .help(tr!(
                        "写成字节数，或带 K、M、G 的数，如 1G；不超过 4G",
                        "give a number of bytes, or one with K, M or G such as 1G; at most 4G"
                    ))
            })?;
        }
        Ok(limits)
    }
}

/// `1048576`, `512K`, `100M`, `2G` → bytes; at most `u32::MAX` (spans are 32-bit).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (s.get(..i)?, 1u64 << 10),
        (i, 'm' | 'M') => (s.get(..i)?, 1 << 20),
        (i, 'g' | 'G') => (s.get(..i)?, 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(unit).filter(|&n| n > 0).map(|n| n.min(u64::from(u32::MAX)))
}

/// The loaded corpus.
#[derive(Debug, Default)]
pub struct Corpus {
    pub sources: SourceMap,
    pub lists: Vec<ListFile>,
    pub items: Vec<Item>,
    pub chains: Vec<Chain>,
    /// Notes for the user (e.g. a file decoded from GB18030).
    pub notes: Vec<String>,
    code_index: FxHashMap<String, Vec<u32>>,
}

impl Corpus {
    /// Frees the corpus, a large file's items on every worker: freeing the items of a
    /// 2,000-item list one by one took a tenth of its check, on one thread while the other idled.
    pub fn release(mut self) {
        let items = std::mem::take(&mut self.items);
        if items.len() >= 512 {
            items.into_par_iter().with_min_len(128).for_each(drop);
        }
    }

    /// Items with this code, in corpus order.
    #[must_use]
    pub fn items_with_code(&self, code: &str) -> &[u32] {
        self.code_index.get(code).map_or(&[], Vec::as_slice)
    }

    #[must_use]
    pub fn list(&self, item: &Item) -> Option<&ListFile> {
        self.lists.get(item.list as usize)
    }

    #[must_use]
    pub fn material_count(&self) -> usize {
        self.items.iter().map(|i| i.materials.len()).sum()
    }

    /// Builds the indexes; called once after loading.
    fn index(&mut self) {
        self.code_index.clear();
        for (i, item) in self.items.iter().enumerate() {
            self.code_index.entry(item.code.value.clone()).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }

    /// A corpus of the given files, lists (one per file, same order), items and chains.
    #[must_use]
    pub fn from_parts(sources: SourceMap, lists: Vec<ListFile>, items: Vec<Item>, chains: Vec<Chain>) -> Corpus {
        let mut corpus = Corpus { sources, lists, items, chains, notes: Vec::new(), code_index: FxHashMap::default() };
        corpus.index();
        corpus
    }

    /// A corpus of one in-memory text (policy examples, tests).
    pub fn from_text(
        name: &str,
        text: &str,
        refs: &References,
        region: Option<&str>,
        opts: LoadOptions,
    ) -> Result<Corpus, Problems> {
        let mut corpus = Corpus::default();
        let src = SourceFile::new(name, text);
        let id = corpus.sources.add(src.clone());
        let settings = DirSettings { jurisdiction: region.map(str::to_string), code_pattern: default_pattern() };
        let (list, items, chains) = load_text(&src, id, 0, refs, &settings, opts, &Limits::default())
            .map_err(|errs| Problems::new(tr!("输入有误", "invalid input"), errs))?;
        corpus.lists.push(list);
        corpus.items = items;
        corpus.chains = chains;
        corpus.index();
        Ok(corpus)
    }
}

fn default_pattern() -> Arc<Regex> {
    // INVARIANT: the default pattern is a valid regex (a unit test compiles it).
    Arc::new(Regex::new(DEFAULT_CODE_PATTERN).unwrap_or_else(|_| Regex::new("").unwrap_or_else(|_| unreachable!())))
}

/// Settings that a directory's `qingdan.yaml` gives the files below it.
#[derive(Debug, Clone)]
struct DirSettings {
    jurisdiction: Option<String>,
    code_pattern: Arc<Regex>,
}

/// What `discover` found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The run's configuration: `--config`, or the `qingdan.yaml` at (or above) the first path.
    pub config: Config,
    /// Configurations found in sub-directories; they give their files `jurisdiction` and
    /// `code_pattern`, and their `extend` tables are added.
    pub nested: Vec<Config>,
    /// Limits on each list file (the defaults, or changed by the environment).
    pub limits: Limits,
    files: Vec<(PathBuf, DirSettings)>,
}

impl Discovery {
    #[must_use]
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The list files, in load order (their index is their [`FileId`]).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// Reads and decodes list file `index`, or takes its text from `overrides` (spreadsheets
    /// imported in memory, `fix` checking its edits before writing).
    pub fn read(
        &self,
        index: usize,
        overrides: &HashMap<PathBuf, String>,
    ) -> Result<(SourceFile, Option<String>), SourceError> {
        let (name, text, note) = self.decoded(index, overrides)?;
        Ok((SourceFile::new(name, text), note))
    }

    /// The name, text and note on the encoding of list file `index`: what [`Discovery::read`]
    /// and [`Discovery::read_text`] both start from.
    fn decoded(
        &self,
        index: usize,
        overrides: &HashMap<PathBuf, String>,
    ) -> Result<(String, Arc<str>, Option<String>), SourceError> {
        let path = self.path(index)?;
        let name = path.display().to_string();
        Ok(match overrides.get(path) {
            Some(text) => (name, Arc::from(text.as_str()), None),
            None => {
                let bytes = read_bytes_within(path, self.limits.max_file_bytes)?;
                let (text, note) = decode_text(&name, &bytes)?;
                (name, Arc::from(text), note)
            }
        })
    }

    fn path(&self, index: usize) -> Result<&PathBuf, SourceError> {
        self.files.get(index).map(|(path, _)| path).ok_or_else(|| {
            SourceError::new("qingdan::io", tr!("没有第 {} 个文件", "no file number {}", index))
                .help(tr!("这是 qingdan 的缺陷，请报告", "this is a bug in qingdan; please report it"))
        })
    }

    /// The name and text of file `index`, decoded as [`Discovery::read`] does, without a line
    /// table: the streaming check cuts items out of it again.
    pub fn read_text(
        &self,
        index: usize,
        overrides: &HashMap<PathBuf, String>,
    ) -> Result<(String, Arc<str>), SourceError> {
        let (name, text, _) = self.decoded(index, overrides)?;
        Ok((name, text))
    }

    /// Whether list file `index` may hold chains: its bytes name the `chains` key, or its first
    /// key is Chinese and its bytes name 一件事 (in UTF-8 or GB18030), or it is in an encoding
    /// with a byte-order mark other than UTF-8's, or it cannot be read (loading it says why).
    /// Of a file larger than two [`CHAIN_WINDOW`]s only the first and the last are searched:
    /// chains are written before a list's items or after them, and the streaming check reads
    /// every file once more to answer this.
    /// A guess that only orders the streaming check's work: a file that holds chains and is not
    /// found here is checked as well, only later (the items its chains name are read again).
    #[must_use]
    pub fn may_hold_chains(&self, index: usize, overrides: &HashMap<PathBuf, String>) -> bool {
        use std::io::Read as _;

        let Ok(path) = self.path(index) else { return true };
        if let Some(text) = overrides.get(path) {
            return chunks_name_chains(text.as_bytes()).unwrap_or(true);
        }
        // Read in chunks into one small buffer: reading the file whole cost a fresh allocation
        // of its size, whose pages the system had to clear.
        let guess = || -> std::io::Result<bool> {
            let file = std::fs::File::open(path)?;
            let len = file.metadata()?.len();
            if len <= CHAIN_WINDOW.saturating_mul(2) {
                return chunks_name_chains(file.take(self.limits.max_file_bytes.saturating_add(1)));
            }
            chunks_name_chains(Ends { file, head: CHAIN_WINDOW, tail_at: Some(len.saturating_sub(CHAIN_WINDOW)) })
        };
        guess().unwrap_or(true)
    }

    /// A reader of parts of list file `index`, for a file read as UTF-8 as it was written (no
    /// other encoding, no text from `overrides`): the streaming check reads again only the
    /// items it checks in phase 2, not their whole files. `None` when the file cannot be opened
    /// or its text is taken from `overrides`: [`Discovery::read_text`] then.
    #[must_use]
    pub fn open_parts(&self, index: usize, overrides: &HashMap<PathBuf, String>) -> Option<Parts> {
        use std::io::Read as _;

        let path = self.path(index).ok()?;
        if overrides.contains_key(path) {
            return None;
        }
        let mut file = std::fs::File::open(path).ok()?;
        let mut head = [0u8; 3];
        let n = file.read(&mut head).ok()?;
        // Offsets in the text do not count a byte-order mark: the bytes do.
        let bom = if head.get(..n) == Some(&b"\xEF\xBB\xBF"[..]) { 3 } else { 0 };
        Some(Parts { name: path.display().to_string(), file, bom })
    }

    /// The jurisdiction and code pattern list file `index` is checked with: its own corpus
    /// configuration's, else the run's.
    fn settings(&self, index: usize) -> DirSettings {
        self.files.get(index).map_or_else(
            || DirSettings { jurisdiction: self.config.jurisdiction.clone(), code_pattern: default_pattern() },
            |(_, s)| s.clone(),
        )
    }

    /// Loads list file `index` alone, as the only file (`FileId(0)`) of a corpus: the streaming
    /// check (`crate::check`) loads, checks and drops files one at a time.
    pub fn load_alone(
        &self,
        index: usize,
        refs: &References,
        overrides: &HashMap<PathBuf, String>,
    ) -> Result<Corpus, Vec<SourceError>> {
        let (src, note) = self.read(index, overrides).map_err(|e| vec![e])?;
        let settings = self.settings(index);
        let (lf, items, chains) = load_text(&src, FileId(0), 0, refs, &settings, LoadOptions::default(), &self.limits)?;
        let mut corpus = Corpus::from_parts(SourceMap::from_files(vec![src]), vec![lf], items, chains);
        corpus.notes.extend(note);
        Ok(corpus)
    }
}

/// The text of `bytes` if they are UTF-8: checked with the fast check (std's is several times
/// slower on Chinese text) and copied.
fn utf8(bytes: &[u8]) -> Option<String> {
    simdutf8::basic::from_utf8(bytes).ok().map(str::to_owned)
}

/// Parts of a UTF-8 list file, read by text offset ([`Discovery::open_parts`]).
pub struct Parts {
    /// The file's name, as [`Discovery::read_text`] gives it.
    pub name: String,
    file: std::fs::File,
    bom: u64,
}

/// Read beyond the end of a part until the end of its line, this much at a time, and at most
/// [`LINE_TAIL_CHUNKS`] times: a part on a long line (a flow sequence of items written on one
/// line) is taken from the whole text instead, which reads the file once, not once per part.
const LINE_TAIL: usize = 256;
const LINE_TAIL_CHUNKS: usize = 16;

impl Parts {
    /// The text from offset `start` to `end` and on to the end of that line (its line break
    /// included). `None` when the bytes there are not UTF-8 — the file changed since it was
    /// read — or the line goes on too far: the caller reads the file whole then.
    pub fn text(&mut self, start: u32, end: u32) -> Option<String> {
        use std::io::{Read as _, Seek as _, SeekFrom};

        let len = usize::try_from(end.checked_sub(start)?).ok()?;
        self.file.seek(SeekFrom::Start(u64::from(start).checked_add(self.bom)?)).ok()?;
        let mut bytes = vec![0u8; len];
        self.file.read_exact(&mut bytes).ok()?;
        let mut chunk = [0u8; LINE_TAIL];
        for _ in 0..LINE_TAIL_CHUNKS {
            let n = self.file.read(&mut chunk).ok()?;
            let got = chunk.get(..n)?;
            if let Some(at) = memchr::memchr(b'\n', got) {
                bytes.extend_from_slice(got.get(..=at)?);
                return utf8(&bytes);
            }
            bytes.extend_from_slice(got);
            if n == 0 {
                return utf8(&bytes);
            }
        }
        None
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> SourceError {
    SourceError::new("qingdan::io", tr!("无法读取 `{}`：{}", "cannot read `{}`: {}", path.display(), e))
        .help(tr!("检查路径是否存在、是否有读取权限", "check that the path exists and is readable"))
}

fn is_list_file(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        && p.file_name().and_then(|n| n.to_str()) != Some(CONFIG_NAME)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Finds the list files under `paths` and the configuration that governs them.
pub fn discover(paths: &[PathBuf], explicit_config: Option<&Path>) -> Result<Discovery, SourceError> {
    let first = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let config = match explicit_config {
        Some(p) => Config::read(p)?,
        None => match find_root_config(&first) {
            Some(p) => Config::read(&p)?,
            None => Config::default(),
        },
    };
    let root_settings = DirSettings {
        jurisdiction: config.jurisdiction.clone(),
        code_pattern: config.code_pattern.clone().map_or_else(default_pattern, Arc::new),
    };
    let limits = Limits::from_env()?;
    let mut d = Discovery { config, nested: Vec::new(), limits, files: Vec::new() };
    // Policy directories hold `.qd` files and example fixtures, not lists.
    let policy_dirs: Vec<PathBuf> = d
        .config
        .policies
        .iter()
        .filter_map(|p| match p {
            config::PolicySource::Dir(dir) => Some(dir.clone()),
            config::PolicySource::Builtin => None,
        })
        .collect();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            walk(path, &root_settings, &policy_dirs, &mut d)?;
        } else {
            d.files.push((path.clone(), root_settings.clone()));
        }
    }
    // Reference files named by any configuration are not lists.
    let refs: Vec<PathBuf> =
        d.config.reference_paths().into_iter().chain(d.nested.iter().flat_map(Config::reference_paths)).collect();
    d.files.retain(|(p, _)| !refs.iter().any(|r| same_file(p, r)));
    d.files.sort_by(|a, b| a.0.cmp(&b.0));
    d.files.dedup_by(|a, b| a.0 == b.0);
    Ok(d)
}

/// The `qingdan.yaml` in the directory of `path` or the nearest one above it.
fn find_root_config(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() { path.to_path_buf() } else { path.parent()?.to_path_buf() };
    let start = start.canonicalize().unwrap_or(start);
    start.ancestors().map(|d| d.join(CONFIG_NAME)).find(|p| p.is_file())
}

fn walk(dir: &Path, inherited: &DirSettings, skip: &[PathBuf], d: &mut Discovery) -> Result<(), SourceError> {
    if skip.iter().any(|s| same_file(s, dir)) {
        return Ok(());
    }
    let mut settings = inherited.clone();
    let cfg_path = dir.join(CONFIG_NAME);
    if cfg_path.is_file() && !d.config.path.as_ref().is_some_and(|p| same_file(p, &cfg_path)) {
        let cfg = Config::read(&cfg_path)?;
        if cfg.jurisdiction.is_some() {
            settings.jurisdiction.clone_from(&cfg.jurisdiction);
        }
        if let Some(p) = &cfg.code_pattern {
            settings.code_pattern = Arc::new(p.clone());
        }
        d.nested.push(cfg);
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| io_error(dir, &e))?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, &settings, skip, d)?;
        } else if is_list_file(&p) {
            d.files.push((p, settings.clone()));
        }
    }
    Ok(())
}

/// Builds the reference tables: built-in ones, replaced or extended as the configurations say.
pub fn references(d: &Discovery) -> Result<References, Problems> {
    let mut raw = RawTables::default();
    let mut ids = 0u32;
    let mut read = |raw: &mut RawTables, table: Table, src: &SourceFile, json: Option<&str>, extend: bool| {
        ids = ids.saturating_add(1);
        raw.read(table, src, json, FileId(u32::MAX.saturating_sub(ids)), extend)
    };
    for t in Table::ALL {
        let replaced = d.config.references.iter().find(|(rt, _)| *rt == t);
        let (src, json) = match replaced {
            Some((_, path)) => (read_text_within(path, d.limits.max_file_bytes).map_err(Problems::from)?.0, None),
            None => t.builtin_source(),
        };
        read(&mut raw, t, &src, json, false).map_err(Problems::from)?;
    }
    for cfg in std::iter::once(&d.config).chain(&d.nested) {
        for (t, path) in &cfg.extend {
            let src = read_text_within(path, d.limits.max_file_bytes).map_err(Problems::from)?.0;
            read(&mut raw, *t, &src, None, true).map_err(Problems::from)?;
        }
    }
    raw.build().map_err(Problems::from)
}

/// Reads and decodes a file: UTF-8 (BOM stripped), UTF-16 with a BOM, or GB18030 (with a note).
/// Files larger than the limit (`QINGDAN_MAX_FILE_BYTES`, default [`MAX_FILE_BYTES`]) are refused.
pub fn read_text(path: &Path) -> Result<(SourceFile, Option<String>), SourceError> {
    read_text_within(path, Limits::from_env()?.max_file_bytes)
}

/// [`read_text`] with a given size limit. The limit holds for pipes and devices too, whose size
/// is not known in advance: at most `max_bytes + 1` bytes are ever read.
pub fn read_text_within(path: &Path, max_bytes: u64) -> Result<(SourceFile, Option<String>), SourceError> {
    let name = path.display().to_string();
    let bytes = read_bytes_within(path, max_bytes)?;
    let (text, note) = decode_text(&name, &bytes)?;
    Ok((SourceFile::new(name, text), note))
}

/// The first `head` bytes of a file, then its bytes from `tail_at` to its end, read through one
/// handle (the streaming check guesses every file: a second handle for the tail was two more
/// system calls a file).
struct Ends {
    file: std::fs::File,
    head: u64,
    /// Where the tail starts, until the reader has moved there.
    tail_at: Option<u64>,
}

impl std::io::Read for Ends {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::Seek as _;

        if self.head > 0 {
            let n = (&self.file).take(self.head).read(buf)?;
            self.head = self.head.saturating_sub(n as u64);
            if n > 0 {
                return Ok(n);
            }
            self.head = 0;
        }
        if let Some(at) = self.tail_at.take() {
            self.file.seek(std::io::SeekFrom::Start(at))?;
        }
        self.file.read(buf)
    }
}

/// Bytes searched at each end of a large file by [`Discovery::may_hold_chains`] (the head comes
/// first, where [`chunks_name_chains`] looks for the first key and a byte-order mark). Chains
/// written after the items are told by their entries too, so the window need not reach back to
/// the key: a longer one cost every file of the streaming check more reading than it saved.
const CHAIN_WINDOW: u64 = 1 << 14;

/// See [`Discovery::may_hold_chains`]. The Chinese spelling of the key is looked for only in a
/// file whose first key is Chinese: searching for it costs more than loading a tenth of the
/// file (its bytes are those of nearly every Chinese character), and a file written with
/// English keys names chains `chains`.
fn names_chains(bytes: &[u8], chinese: bool) -> bool {
    const CHINESE: [&[u8]; 2] = ["一件事".as_bytes(), b"\xD2\xBB\xBC\xFE\xCA\xC2"];
    const STEPS: [&[u8]; 2] = ["环节:".as_bytes(), b"\xBB\xB7\xBD\xDA:"];
    memchr::memmem::find(bytes, b"chains").is_some()
        || lists_steps(bytes, b"steps:")
        || (chinese
            && (CHINESE.iter().any(|k| memchr::memmem::find(bytes, k).is_some())
                || STEPS.iter().any(|k| lists_steps(bytes, k))))
}

/// Whether `key` (a chain's steps, ending in its colon) is followed by a sequence (`[`, or the
/// end of the line for a block one): an item's 办理环节 is a number.
fn lists_steps(bytes: &[u8], key: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, key).any(|at| {
        let value = bytes.get(at.saturating_add(key.len())..).unwrap_or_default();
        let value = value.get(value.iter().take_while(|b| matches!(b, b' ' | b'\t')).count()..).unwrap_or_default();
        matches!(value.first(), Some(b'[' | b'\n' | b'\r'))
    })
}

/// Whether the first key of a text (after comments, a byte-order mark, `---`) is Chinese.
fn first_key_is_chinese(bytes: &[u8]) -> bool {
    let first_key = bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line).trim_ascii_start())
        .find(|line| {
            !line.is_empty() && !line.starts_with(b"#") && !line.starts_with(b"---") && !line.starts_with(b"%")
        });
    first_key.is_some_and(|line| line.iter().find(|b| !matches!(b, b'"' | b'\'' | b'{')).is_some_and(|&b| b >= 0x80))
}

/// [`names_chains`] of what `read` gives, read in chunks; true as well for a text in an encoding
/// with a byte-order mark other than UTF-8's (the spellings are not searched in it).
fn chunks_name_chains(mut read: impl std::io::Read) -> std::io::Result<bool> {
    #[allow(clippy::cast_possible_truncation, reason = "a small constant")]
    const CHUNK: usize = CHAIN_WINDOW as usize;
    // A spelling cut by a chunk's end is found with the bytes carried over (the longest less one).
    const CARRY: usize = 8;
    // On the stack: a fresh allocation of this size for every file had its pages cleared.
    let mut buf = [0u8; CARRY + CHUNK];
    let (mut carried, mut chinese) = (0usize, None);
    loop {
        let mut filled = carried;
        while filled < buf.len() {
            let n = read.read(buf.get_mut(filled..).unwrap_or_default())?;
            if n == 0 {
                break;
            }
            filled = filled.saturating_add(n);
        }
        let window = buf.get(..filled).unwrap_or_default();
        if filled == carried {
            return Ok(false);
        }
        let chinese = *chinese.get_or_insert_with(|| first_key_is_chinese(window));
        if names_chains(window, chinese)
            || (carried == 0 && encoding_rs::Encoding::for_bom(window).is_some_and(|(e, _)| e != encoding_rs::UTF_8))
        {
            return Ok(true);
        }
        carried = filled.min(CARRY);
        buf.copy_within(filled.saturating_sub(carried)..filled, 0);
    }
}

/// The bytes of a file, refused beyond `max_bytes` (see [`read_text_within`]).
fn read_bytes_within(path: &Path, max_bytes: u64) -> Result<Vec<u8>, SourceError> {
    use std::io::Read as _;

    let too_large = |len: String| {
        SourceError::new(
            "qingdan::load::too_large",
            tr!(
                "文件 `{}` 过大（{} 字节，上限 {} 字节）",
                "`{}` is too large ({} bytes; the limit is {})",
                path.display(),
                len,
                max_bytes
            ),
        )
        .help(tr!(
            "把清单拆成按部门的多个文件；确需读取更大的文件时设置环境变量 {}，如 {}=2G",
            "split the list into one file per department; to read larger files, set {}, e.g. {}=2G",
            MAX_FILE_BYTES_ENV,
            MAX_FILE_BYTES_ENV
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if meta.len() > max_bytes {
        return Err(too_large(meta.len().to_string()));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| io_error(path, &e))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max_bytes {
        return Err(too_large(tr!("超过 {}", "over {}", max_bytes)));
    }
    Ok(bytes)
}

/// Decodes bytes as SPEC §2.7 asks: never read as garbage.
pub fn decode(name: &str, bytes: &[u8]) -> Result<(SourceFile, Option<String>), SourceError> {
    let (text, note) = decode_text(name, bytes)?;
    Ok((SourceFile::new(name, text), note))
}

/// [`decode`] without the line table: the text, and the note on its encoding.
fn decode_text<'b>(name: &str, bytes: &'b [u8]) -> Result<(Cow<'b, str>, Option<String>), SourceError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The fast check first; std's, which says where the text stops being UTF-8, when it fails.
    let utf8 = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes),
    };
    match utf8 {
        Ok(text) if !text.contains('\0') => return Ok((Cow::Borrowed(text), None)),
        Ok(_) => {}
        Err(utf8_err) => {
            if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
                let (text, had_errors) = enc.decode_with_bom_removal(bytes);
                if !had_errors {
                    let note = tr!("`{}` 按 {} 编码读取", "`{}` was decoded as {}", name, enc.name());
                    return Ok((Cow::Owned(text.into_owned()), Some(note)));
                }
            }
            if let Some(text) = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
                && !text.contains('\0')
            {
                let note = tr!(
                    "`{}` 不是 UTF-8，已按 GB18030（兼容 GBK）解码；建议另存为 UTF-8",
                    "`{}` is not UTF-8; it was decoded as GB18030 (a superset of GBK); consider saving it as UTF-8",
                    name
                );
                return Ok((Cow::Owned(text.into_owned()), Some(note)));
            }
            let at = utf8_err.valid_up_to();
            let line = bytes.get(..at).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()).saturating_add(1);
            return Err(SourceError::new(
                "qingdan::load::encoding",
                tr!(
                    "`{}` 不是 UTF-8，也不是 GB18030/GBK 编码（第 {} 行，第 {} 字节处）",
                    "`{}` is neither UTF-8 nor GB18030/GBK (line {}, byte {})",
                    name,
                    line,
                    at
                ),
            )
            .help(tr!("用文本编辑器把文件另存为 UTF-8", "save the file as UTF-8 in a text editor")));
        }
    }
    Err(SourceError::new(
        "qingdan::load::binary",
        tr!("`{}` 是二进制文件，不是 YAML 文本", "`{}` is a binary file, not YAML text", name),
    )
    .help(tr!("只把 .yaml 清单文件交给 qingdan", "give qingdan only .yaml list files")))
}

fn load_text(
    src: &SourceFile,
    id: FileId,
    list: u32,
    refs: &References,
    settings: &DirSettings,
    opts: LoadOptions,
    limits: &Limits,
) -> Result<(ListFile, Vec<Item>, Vec<Chain>), Vec<SourceError>> {
    let root = yaml::parse(src, id, limits.yaml).map_err(|e| vec![e])?;
    let Some(root) = root.filter(|r| !r.is_null()) else {
        return Err(vec![
            SourceError::new("qingdan::load::empty", tr!("`{}` 是空文件", "`{}` is empty", src.name()))
                .at(src, Span::new(id, 0, 0), tr!("这里没有内容", "nothing here"))
                .help(tr!(
                    "清单文件至少要有 `items:`；不需要的文件请删除",
                    "a list file needs at least `items:`; delete files you do not need"
                )),
        ]);
    };
    let loaded = Loader::new(src, &refs.registry, list, opts).max_items(limits.max_items).load(root)?;
    // Regions are matched against the region table, which is Simplified.
    let region = loaded
        .header
        .region
        .as_ref()
        .map(|r| r.value.clone())
        .or_else(|| settings.jurisdiction.clone())
        .map(|r| Arc::from(normalize::token(&r)));
    let header: Arc<ListHeader> = Arc::new(loaded.header);
    let lf = ListFile { file: id, header, region, code_pattern: settings.code_pattern.clone() };
    Ok((lf, loaded.items, loaded.chains))
}

/// Loads every discovered file. All problems of all files are reported together.
pub fn load(d: &Discovery, refs: &References) -> Result<Corpus, Problems> {
    load_with_progress(d, refs, &|| {})
}

/// [`load`], calling `tick` once per file loaded (for a progress bar).
pub fn load_with_progress(d: &Discovery, refs: &References, tick: &(dyn Fn() + Sync)) -> Result<Corpus, Problems> {
    load_with_overrides(d, refs, tick, &HashMap::new())
}

/// [`load`], reading the texts in `overrides` instead of the files of those paths (`fix` checks
/// its edits in memory before it writes anything).
pub fn load_with_overrides(
    d: &Discovery,
    refs: &References,
    tick: &(dyn Fn() + Sync),
    overrides: &HashMap<PathBuf, String>,
) -> Result<Corpus, Problems> {
    let results: Vec<_> = d
        .files
        .par_iter()
        .enumerate()
        .map(|(i, (_, settings))| {
            tick();
            let (src, note) = d.read(i, overrides).map_err(|e| vec![e])?;
            let id = FileId(u32::try_from(i).unwrap_or(u32::MAX));
            let list = u32::try_from(i).unwrap_or(u32::MAX);
            let (lf, items, chains) = load_text(&src, id, list, refs, settings, LoadOptions::default(), &d.limits)?;
            Ok((src, note, lf, items, chains))
        })
        .collect();
    let mut corpus = Corpus::default();
    for (src, note, lf, items, chains) in all_or_problems(results)? {
        corpus.sources.add(src);
        corpus.notes.extend(note);
        corpus.lists.push(lf);
        corpus.items.extend(items);
        corpus.chains.extend(chains);
    }
    corpus.index();
    Ok(corpus)
}

/// The results of loading files one by one, in order; or, when any file failed, the problems of
/// every file together (a run reports them all at once, then stops with exit code 2).
pub fn all_or_problems<T>(results: Vec<Result<T, Vec<SourceError>>>) -> Result<Vec<T>, Problems> {
    let mut ok = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        let n = errors.len();
        Err(Problems::new(tr!("输入有误：{} 处问题", "invalid input: {} problems", n), errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size(" 512K "), Some(512 << 10));
        assert_eq!(parse_size("100m"), Some(100 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        // Spans are 32-bit: larger limits are capped.
        assert_eq!(parse_size("64G"), Some(u64::from(u32::MAX)));
        for bad in ["", "G", "0", "-1", "1.5G", "1T", "ten", "99999999999999999999G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    /// Files that may hold chains are told by the key's spellings; an English-keyed file that
    /// only mentions 一件事 in a name is not one of them.
    #[test]
    fn files_that_may_hold_chains_are_told_by_their_key() {
        let chinese = "# 甲区\n清单: {标题: 甲区}\n一件事:\n  - {名称: 我要开饭店, 环节: [A-1]}\n";
        for (text, holds) in [
            ("items: []\nchains:\n  - {name: x, steps: [A-1]}\n", true),
            ("{items: [], chains: [{name: x, steps: [A-1]}]}", true),
            (chinese, true),
            ("items:\n  - {code: A-1, name: 一件事一次办咨询}\n", false),
            ("事项:\n  - {code: A-1, name: 开办}\n", false),
            // Chain entries without their key (it may lie beyond the window searched).
            ("  - {name: x, steps: [A-1]}\n", true),
            ("  - name: x\n    steps:\n      - A-1\n", true),
            ("事项:\n  - {名称: 我要开饭店, 环节:  [A-1]}\n", true),
            // An item's number of steps is no chain's.
            ("items:\n  - {code: A-1, steps: 3}\n  - code: A-2\n    steps:  2\n", false),
            ("事项:\n  - {编码: A-1, 办理环节: 3}\n", false),
        ] {
            assert_eq!(chunks_name_chains(text.as_bytes()).unwrap(), holds, "{text}");
        }
        let gbk = encoding_rs::GB18030.encode(chinese).0;
        assert!(chunks_name_chains(&gbk[..]).unwrap());
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("items: []".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert!(chunks_name_chains(&utf16[..]).unwrap(), "another encoding is not searched");
        // A spelling across the end of a chunk, and one far into a long file.
        let chunk = usize::try_from(CHAIN_WINDOW).unwrap();
        for at in (chunk - 4..chunk + 12).chain(2 * chunk..2 * chunk + 12).chain([5 * chunk]) {
            let mut text = format!("items:\n{}", "#".repeat(at - 7));
            assert!(!chunks_name_chains(text.as_bytes()).unwrap());
            text.push_str("chains: []\n");
            assert!(chunks_name_chains(text.as_bytes()).unwrap(), "at {at}");
        }
    }

    /// A small file is searched whole; a large one at its head and its tail only, where chains
    /// are written (chains in the middle of a large file are found when it is checked).
    #[test]
    fn large_files_are_searched_for_chains_at_both_ends() {
        let dir = tempfile::tempdir().unwrap();
        let window = usize::try_from(CHAIN_WINDOW).unwrap();
        let item = "  - {code: A-1, name: 开办}\n";
        let items = |bytes: usize| item.repeat(bytes / item.len() + 1);
        let chains = "chains:\n  - {name: x, steps: [A-1]}\n";
        let chinese = "一件事:\n  - {名称: 我要开饭店, 环节: [A-1]}\n";
        let long_chains = "  - name: y\n    steps:\n      - A-1\n".repeat(window);
        for (name, text, holds) in [
            ("small.yaml", format!("items:\n{}{chains}items2: []\n{}", items(window / 2), items(window / 2)), true),
            ("head.yaml", format!("{chains}items:\n{}", items(3 * window)), true),
            ("tail.yaml", format!("items:\n{}{chains}", items(3 * window)), true),
            ("tail-chinese.yaml", format!("事项:\n{}{chinese}", items(3 * window)), true),
            // The key further back than the window: the entries tell.
            ("long-tail.yaml", format!("items:\n{}{chains}{}", items(3 * window), long_chains), true),
            ("middle.yaml", format!("items:\n{}{chains}x:\n{}", items(window * 3 / 2), items(window * 3 / 2)), false),
            ("none.yaml", format!("items:\n{}", items(3 * window)), false),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
            let d = discover(&[dir.path().join(name)], None).unwrap();
            assert_eq!(d.may_hold_chains(0, &HashMap::new()), holds, "{name}");
        }
    }

    /// Parts are read by their offsets in the decoded text, to the end of their last line.
    #[test]
    fn parts_are_read_by_text_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("items:\n  - code: 甲\n    name: 乙  # 注\n  - code: 丙{}\nend", " ".repeat(300));
        let parts_of = |name: &str, bytes: Vec<u8>| {
            std::fs::write(dir.path().join(name), bytes).unwrap();
            let d = discover(&[dir.path().join(name)], None).unwrap();
            d.open_parts(0, &HashMap::new()).unwrap()
        };
        for bytes in [text.clone().into_bytes(), [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat()] {
            let mut parts = parts_of("a.yaml", bytes);
            let at = |s: &str| u32::try_from(text.find(s).unwrap()).unwrap();
            // From the line start to the end of the value, and the rest of the line.
            assert_eq!(
                parts.text(at("  - code: 甲"), at(" 乙") + 4).as_deref(),
                Some("  - code: 甲\n    name: 乙  # 注\n")
            );
            // The last line has no line break.
            assert_eq!(parts.text(at("end"), at("end") + 1).as_deref(), Some("end"));
            // A line that goes on beyond what is read after a part: read the file whole.
            let long = format!("items:\n  - x{}\n", " ".repeat(LINE_TAIL * LINE_TAIL_CHUNKS));
            let mut parts = parts_of("b.yaml", long.into_bytes());
            assert_eq!(parts.text(7, 11), None);
        }
        // Not UTF-8 there (a file changed since it was read): read it whole.
        let mut parts = parts_of("c.yaml", b"items: \xFF\xFE\n".to_vec());
        assert_eq!(parts.text(0, 9), None);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_pipes_are_read_only_up_to_the_limit() {
        // /dev/zero reports a size of 0 and never ends.
        let e = read_text_within(Path::new("/dev/zero"), 4096).err().map(|e| e.code);
        assert_eq!(e, Some("qingdan::load::too_large"));
    }
}
