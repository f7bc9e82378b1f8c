//! `qingdan fix`: fixes as byte-range edits on the original text (SPEC §8).
//!
//! A fix removes a material or sets fields of a material. It becomes edits on the file's text, so
//! comments, key order, quoting and formatting outside the edited ranges stay byte-identical. The
//! node to edit is found again by re-parsing the file and matching the material's span.
//! Overlapping edits are resolved in passes: each pass applies the edits that do not overlap an
//! earlier one (in file order), then the corpus is checked again, until no fix applies.

use std::path::Path;

use similar::TextDiff;

use crate::corpus::Corpus;
use crate::corpus::load::key_for;
use crate::corpus::model::Material;
use crate::corpus::yaml::{self, Node, NodeKind};
use crate::diag::SourceError;
use crate::eval::FixSuggestion;
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

/// One replacement of `start..end` (bytes) by `text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

fn find_node(node: &Node, start: u32, end: u32) -> Option<&Node> {
    if node.span.start == start && node.span.end == end {
        return Some(node);
    }
    if node.span.start > start || node.span.end < end {
        return None;
    }
    match &node.kind {
        NodeKind::Scalar { .. } => None,
        NodeKind::Seq(items) => items.iter().find_map(|n| find_node(n, start, end)),
        NodeKind::Map(entries) => {
            entries.iter().find_map(|(k, v)| find_node(k, start, end).or_else(|| find_node(v, start, end)))
        }
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text.get(..at).and_then(|s| s.rfind('\n')).map_or(0, |i| i + 1)
}

/// The offset just past the newline that ends the line holding `at` (`at` is a char boundary).
fn line_end_incl(text: &str, at: usize) -> usize {
    text.get(at..).and_then(|s| s.find('\n')).map_or(text.len(), |i| at + i + 1)
}

/// A YAML scalar for `s`: plain where YAML reads it back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
        ])
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', ',', '[', ']', '{', '}'])
        && !matches!(s, "true" | "false" | "null" | "~" | "yes" | "no" | "True" | "False" | "Null" | "NULL")
        && s.parse::<f64>().is_err();
    if plain { s.to_string() } else { format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// Edits that remove the sequence entry `node` (a material), however it is written.
fn remove_entry(text: &str, node: &Node) -> Option<(usize, usize, String)> {
    let (start, end) = (node.span.start as usize, node.span.end as usize);
    let ls = line_start(text, start);
    let before = text.get(ls..start)?;
    // Block sequence entry: `    - …` alone on its line(s).
    if before.trim_end().ends_with('-') && before.trim_end().trim_start_matches([' ', '\t']) == "-" {
        return Some((ls, line_end_incl(text, end.max(start)), String::new()));
    }
    // Flow sequence: drop a separating comma on one side.
    let after = text.get(end..)?;
    let prev = text.get(..start)?.trim_end();
    if prev.ends_with(',') {
        return Some((prev.len() - 1, end, String::new()));
    }
    let trimmed = after.trim_start();
    if trimmed.starts_with(',') {
        let comma = end + (after.len() - trimmed.len());
        let rest = text.get(comma + 1..)?;
        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        return Some((start, comma + 1 + ws, String::new()));
    }
    Some((start, end, String::new()))
}

/// Edits that set `field = value` on the material mapping `node`.
fn set_field(text: &str, node: &Node, field: &str, value: &str) -> Option<(usize, usize, String)> {
    match &node.kind {
        NodeKind::Map(entries) => {
            let chinese = entries.first().and_then(|(k, _)| k.as_str()).is_some_and(|k| !k.is_ascii());
            let canonical = |k: &str| {
                let norm = crate::corpus::normalize::token(k);
                [false, true].iter().any(|&zh| key_for(true, field, zh) == Some(norm.as_str()))
                    || crate::corpus::load::aliases(true, field).contains(&norm.as_str())
            };
            if let Some((_, v)) = entries.iter().find(|(k, _)| k.as_str().is_some_and(canonical)) {
                return Some((v.span.start as usize, v.span.end as usize, scalar(value)));
            }
            let key = key_for(true, field, chinese)?;
            let flow = text.get(node.span.start as usize..).is_some_and(|s| s.starts_with('{'));
            if flow {
                let close = node.span.end as usize - 1;
                let inner = text.get(node.span.start as usize + 1..close)?;
                let sep = if inner.trim().is_empty() { "" } else { ", " };
                let insert_at = node.span.start as usize + 1 + inner.trim_end().len();
                return Some((insert_at, insert_at, format!("{sep}{key}: {}", scalar(value))));
            }
            // Block mapping: a new line after the mapping's last line, at its keys' indentation.
            let (first_key, _) = entries.first()?;
            let key_line = line_start(text, first_key.span.start as usize);
            let indent = first_key.span.start as usize - key_line;
            let indent = " ".repeat(text.get(key_line..first_key.span.start as usize)?.chars().count().min(indent));
            let last_end = entries.last().map(|(_, v)| v.span.end as usize)?;
            let at = line_end_incl(text, last_end.max(first_key.span.start as usize));
            let newline = if text.get(..at).is_some_and(|t| t.ends_with('\n')) { "" } else { "\n" };
            Some((at, at, format!("{newline}{indent}{key}: {}\n", scalar(value))))
        }
        NodeKind::Scalar { value: name, .. } => {
            // A bare material name becomes a mapping.
            Some((
                node.span.start as usize,
                node.span.end as usize,
                format!("{{name: {}, {field}: {}}}", scalar(name), scalar(value)),
            ))
        }
        NodeKind::Seq(_) => None,
    }
}

/// Parsed materials, items and files, so that fixes in one place parse it once. A fix needs the
/// node of one material: the material is cut out of its file and parsed alone, as the streaming
/// check's phase 2 does with items — a few lines' work rather than the whole file's. A material
/// that cannot be parsed alone (see [`crate::corpus::piece`]; in a flow list after a Chinese key,
/// say) is found in its item parsed alone, and failing that in its whole file, each parsed once.
pub struct Trees {
    /// Materials parsed alone, by where they are written (`None`: not alone).
    pieces: std::collections::HashMap<(FileId, u32, u32), Option<Node>>,
    /// Items parsed alone, for the materials that are not.
    items: std::collections::HashMap<(FileId, u32), Option<Node>>,
    files: std::collections::HashMap<FileId, Option<Node>>,
    /// Materials and items parsed alone (false: whole files only, which tests compare with).
    alone: bool,
}

impl Default for Trees {
    fn default() -> Self {
        Trees {
            pieces: std::collections::HashMap::new(),
            items: std::collections::HashMap::new(),
            files: std::collections::HashMap::new(),
            alone: true,
        }
    }
}

impl Trees {
    /// The text holding material `mat` of item `item`, and the material's node.
    fn material<'s, 'c>(
        &'s mut self,
        corpus: &'c Corpus,
        item: u32,
        mat: &Material,
    ) -> Option<(&'c SourceFile, &'s Node)> {
        let (file, start, end) = (mat.span.file, mat.span.start, mat.span.end);
        let src = corpus.sources.get(file)?;
        let alone = self.alone;
        let alone_tree = |span: Span| alone.then(|| parse_alone(src, span)).flatten();
        if let Some(n) = node_in(&mut self.pieces, (file, start, end), || alone_tree(mat.span), start, end) {
            return Some((src, n));
        }
        let item_span = corpus.items.get(item as usize).map(|it| it.span);
        if let Some(n) = node_in(&mut self.items, (file, item), || item_span.and_then(alone_tree), start, end) {
            return Some((src, n));
        }
        let whole = || yaml::parse(src, file, yaml::Limits::default()).ok().flatten();
        node_in(&mut self.files, file, whole, start, end).map(|n| (src, n))
    }
}

/// The node at `start..end` in the tree kept under `key`, parsed by `parse` the first time.
fn node_in<K: std::hash::Hash + Eq>(
    trees: &mut std::collections::HashMap<K, Option<Node>>,
    key: K,
    parse: impl FnOnce() -> Option<Node>,
    start: u32,
    end: u32,
) -> Option<&Node> {
    find_node(trees.entry(key).or_insert_with(parse).as_ref()?, start, end)
}

/// The record (an item, a material) written at `span` of `src`, cut out and parsed alone, its
/// spans those of the file; `None` when it does not parse alone into the node it is in the file.
fn parse_alone(src: &SourceFile, span: Span) -> Option<Node> {
    let p = crate::corpus::piece::piece(src, span);
    let frag = crate::corpus::piece::cut(src.name(), src.text(), p)?;
    let mut root = yaml::parse(&frag, span.file, yaml::Limits::default()).ok().flatten()?;
    shift(&mut root, p.line_start);
    (root.span.start == span.start).then_some(root)
}

/// Moves every span of `node` by `by` bytes.
fn shift(node: &mut Node, by: u32) {
    node.span.start = node.span.start.saturating_add(by);
    node.span.end = node.span.end.saturating_add(by);
    match &mut node.kind {
        NodeKind::Scalar { .. } => {}
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, by);
            shift(v, by);
        }),
    }
}

/// The edits of one fix, against the corpus's texts.
#[must_use]
pub fn edits(corpus: &Corpus, fix: &FixSuggestion) -> Vec<Edit> {
    edits_with(corpus, fix, &mut Trees::default())
}

/// [`edits`], reusing parsed files.
pub fn edits_with(corpus: &Corpus, fix: &FixSuggestion, trees: &mut Trees) -> Vec<Edit> {
    let mut out = Vec::new();
    if let Some((i, m)) = fix.remove {
        let Some(mat) = corpus.items.get(i as usize).and_then(|it| it.materials.get(m as usize)) else { return out };
        let file = mat.span.file;
        if let Some((src, node)) = trees.material(corpus, i, mat)
            && let Some((start, end, text)) = remove_entry(src.text(), node)
        {
            out.push(Edit { file, start, end, text });
        }
    }
    for (owner, field, value) in &fix.set {
        let Some(m) = owner.material else { continue };
        let Some(mat) = corpus.items.get(owner.item as usize).and_then(|it| it.materials.get(m as usize)) else {
            continue;
        };
        let file = mat.span.file;
        if let Some((src, node)) = trees.material(corpus, owner.item, mat)
            && let Some((start, end, text)) = set_field(src.text(), node, field, value)
        {
            out.push(Edit { file, start, end, text });
        }
    }
    // Several insertions at one place (two new keys) must keep their order: merge them.
    out.sort_by_key(|e| (e.file, e.start, e.end));
    let mut merged: Vec<Edit> = Vec::new();
    for e in out {
        match merged.last_mut() {
            Some(last) if last.file == e.file && last.start == e.start && last.end == e.end && e.start == e.end => {
                last.text.push_str(&e.text);
            }
            _ => merged.push(e),
        }
    }
    merged
}

/// Applies non-overlapping edits (in order of position; an edit overlapping an earlier one is
/// left for the next pass). Returns the new text and the indices of the edits applied.
#[must_use]
pub fn apply(text: &str, edits: &[Edit]) -> (String, Vec<usize>) {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| edits.get(i).map(|e| (e.start, e.end, e.text.clone())));
    let mut chosen: Vec<usize> = Vec::new();
    let mut last: Option<&Edit> = None;
    for i in order {
        let Some(e) = edits.get(i) else { continue };
        let overlaps = last.is_some_and(|l| e.start < l.end || (e.start == l.start && e.end == l.end));
        if !overlaps && e.end <= text.len() && text.is_char_boundary(e.start) && text.is_char_boundary(e.end) {
            chosen.push(i);
            last = Some(e);
        }
    }
    let mut out = text.to_string();
    for &i in chosen.iter().rev() {
        if let Some(e) = edits.get(i) {
            out.replace_range(e.start..e.end, &e.text);
        }
    }
    (out, chosen)
}

/// A unified diff of a file before and after.
#[must_use]
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    TextDiff::from_lines(before, after).unified_diff().context_radius(2).header(name, name).to_string()
}

/// Writes `text` to `path` atomically (a temporary file in the same directory, then a rename),
/// unless the file changed on disk since `original` was read.
pub fn write_atomically(path: &Path, original: &SourceFile, text: &str) -> Result<(), SourceError> {
    let io = |e: std::io::Error| {
        SourceError::new("qingdan::fix::write", tr!("无法写入 `{}`：{}", "cannot write `{}`: {}", path.display(), e))
            .help(tr!("检查文件权限", "check the file's permissions"))
    };
    let now = std::fs::read(path).map_err(io)?;
    let now = now.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&now);
    if now != original.text().as_bytes() {
        return Err(SourceError::new(
            "qingdan::fix::changed",
            tr!("`{}` 在读取后被修改过，未写入", "`{}` changed on disk since it was read; not written", path.display()),
        )
        .help(tr!("重新运行 qingdan fix", "run qingdan fix again")));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests may fail loudly")]

    use super::*;
    use crate::corpus::load::LoadOptions;
    use crate::corpus::reference::References;
    use crate::eval::value::Owner;
    use crate::syntax::ast::Applicability;

    fn run(text: &str, fix: &FixSuggestion) -> String {
        let refs = References::builtin().unwrap_or_default();
        let c = Corpus::from_text("t.yaml", text, &refs, None, LoadOptions { placeholder_identity: true })
            .unwrap_or_default();
        let e = edits(&c, fix);
        apply(text, &e).0
    }

    fn set(pairs: &[(&str, &str)]) -> FixSuggestion {
        FixSuggestion {
            applicability: Applicability::Safe,
            description: String::new(),
            remove: None,
            set: pairs
                .iter()
                .map(|(k, v)| (Owner { item: 0, material: Some(0) }, (*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn set_in_block_mapping_keeps_everything_else() {
        let text = "items:\n  - code: A\n    申请材料:\n      - 材料名称: 居民户口簿  # flaw\n        获取方式: 申请人提交\n        形式: 原件\n      - 材料名称: 另一份\n";
        let out = run(text, &set(&[("acquisition", "内部共享"), ("provider", "公安机关")]));
        assert_eq!(
            out,
            "items:\n  - code: A\n    申请材料:\n      - 材料名称: 居民户口簿  # flaw\n        获取方式: 内部共享\n        形式: 原件\n        获取部门: 公安机关\n      - 材料名称: 另一份\n"
        );
    }

    #[test]
    fn set_in_flow_mapping() {
        let text = "items:\n  - {code: A, materials: [{name: 营业执照, kind: 证照}, {name: b}]}  # c\n";
        let out = run(text, &set(&[("acquisition", "内部共享")]));
        assert_eq!(
            out,
            "items:\n  - {code: A, materials: [{name: 营业执照, kind: 证照, acquisition: 内部共享}, {name: b}]}  # c\n"
        );
    }

    #[test]
    fn remove_entries() {
        let remove = FixSuggestion {
            applicability: Applicability::Safe,
            description: String::new(),
            remove: Some((0, 1)),
            set: Vec::new(),
        };
        let block = "items:\n  - code: A\n    materials:\n      - name: a\n      - name: b  # gone\n        kind: 其他\n      - name: c\n";
        assert_eq!(run(block, &remove), "items:\n  - code: A\n    materials:\n      - name: a\n      - name: c\n");
        let flow = "items:\n  - {code: A, materials: [{name: a}, {name: b}, {name: c}]}\n";
        assert_eq!(run(flow, &remove), "items:\n  - {code: A, materials: [{name: a}, {name: c}]}\n");
        let flow_block =
            "items:\n  - code: A\n    materials:\n      - {name: a}\n      - {name: b}  # gone\n      - {name: c}\n";
        assert_eq!(
            run(flow_block, &remove),
            "items:\n  - code: A\n    materials:\n      - {name: a}\n      - {name: c}\n"
        );
    }

    /// The edits worked out from materials and items parsed alone are those worked out from whole
    /// files, for every fix the built-in rules suggest on the sample corpus and on the cross-file
    /// fixture (whose alias to another item's anchor and flow items after a Chinese key cannot be
    /// parsed alone, and whose flow list of names parses only as a whole item).
    #[test]
    fn materials_and_items_parsed_alone_give_the_edits_of_whole_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut compared, mut fell_back, mut parsed_alone, mut in_items) = (0, 0, 0, 0);
        for dir in ["corpus", "tests/fixtures/streaming"] {
            let d = crate::corpus::discover(&[root.join(dir)], None).unwrap();
            let refs = crate::corpus::references(&d).unwrap();
            let corpus = crate::corpus::load(&d, &refs).unwrap();
            let program = crate::policy::load(&[crate::corpus::config::PolicySource::Builtin], &refs).unwrap();
            let opts = crate::eval::RunOptions::all(&program, crate::corpus::model::Date::parse("2026-11-22").unwrap());
            let findings = crate::eval::run(&program, &corpus, &refs, &opts);
            let (mut alone, mut whole) = (Trees::default(), Trees { alone: false, ..Trees::default() });
            for fix in findings.iter().filter_map(|f| f.fix.as_ref()) {
                let a = edits_with(&corpus, fix, &mut alone);
                assert!(!a.is_empty(), "{dir}: no edit for {fix:?}");
                assert_eq!(a, edits_with(&corpus, fix, &mut whole), "{dir}: {fix:?}");
                compared += 1;
            }
            // Materials parsed alone; in their item parsed alone; only in their whole file.
            parsed_alone += alone.pieces.values().filter(|n| n.is_some()).count();
            fell_back += alone.items.values().filter(|n| n.is_none()).count();
            in_items += alone.items.values().filter(|n| n.is_some()).count();
        }
        assert!(compared > 20, "only {compared} fixes compared");
        assert!(fell_back > 0, "no fix on an item that cannot be parsed alone");
        assert!(in_items > 0, "no fix on a material that parses only in its item");
        // Most materials do parse alone: that is what saves parsing items and whole files.
        assert!(parsed_alone > 10 * fell_back, "{parsed_alone} materials parsed alone, {fell_back} not");
    }
}
