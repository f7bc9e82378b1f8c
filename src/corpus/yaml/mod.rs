//! YAML text → a small tree of nodes with byte spans.
//!
//! Built from saphyr-parser's events in one pass, with an explicit stack (no recursion), a depth
//! limit, a node budget that also bounds alias expansion, and a limit on the length of one value,
//! so a hostile file (an alias bomb, absurd nesting, nested anchors, a giant value) is refused
//! quickly and with bounded memory. The tree of one document is turned into the item model by
//! `load.rs` and dropped.

mod fast;
mod messages;

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diag::SourceError;
use crate::source::{FileId, SourceFile, Span};
use crate::tr;

/// Limits against hostile input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum nesting of sequences and mappings.
    pub max_depth: usize,
    /// Maximum number of nodes in one document.
    pub max_nodes: usize,
    /// Maximum number of nodes produced by expanding aliases in one document. Anchored nodes are
    /// copied for later expansion; those copies count against it too.
    pub max_alias_nodes: usize,
    /// Maximum length of one scalar (a key or a value), in bytes.
    pub max_scalar_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 64, max_nodes: 20_000_000, max_alias_nodes: 100_000, max_scalar_bytes: 1024 * 1024 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A scalar; `plain` is false for quoted and block scalars (which are always strings).
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

impl Node {
    /// The scalar's text, if this is a scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A short description of the node's kind, for type errors.
    #[must_use]
    pub fn kind_name(&self) -> String {
        match &self.kind {
            NodeKind::Scalar { value, .. } => format!("`{}`", truncate(value, 30)),
            NodeKind::Seq(_) => tr!("列表", "a list"),
            NodeKind::Map(_) => tr!("映射", "a mapping"),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// Converts saphyr's character indices into byte offsets. Events arrive roughly in order, so a
/// cursor that walks forward or back from the last position makes this cheap.
struct Offsets<'a> {
    text: &'a str,
    char_idx: usize,
    byte_idx: usize,
}

impl Offsets<'_> {
    fn byte(&mut self, char_index: usize) -> usize {
        let bytes = self.text.as_bytes();
        if char_index > self.char_idx {
            // Keys, indentation and codes are ASCII: a run of ASCII bytes is as many characters.
            let ahead = char_index.saturating_sub(self.char_idx);
            if let Some(run) = bytes.get(self.byte_idx..self.byte_idx.saturating_add(ahead))
                && run.len() == ahead
                && run.is_ascii()
            {
                self.byte_idx = self.byte_idx.saturating_add(ahead);
                self.char_idx = char_index;
            }
        }
        while self.char_idx < char_index {
            // `byte_idx` is always on a character boundary: its lead byte gives the length.
            match bytes.get(self.byte_idx) {
                Some(&b) => {
                    let len = match b {
                        0..0x80 => 1,
                        0x80..0xE0 => 2,
                        0xE0..0xF0 => 3,
                        _ => 4,
                    };
                    self.byte_idx = self.byte_idx.saturating_add(len);
                    self.char_idx = self.char_idx.saturating_add(1);
                }
                None => return self.text.len(),
            }
        }
        while self.char_idx > char_index {
            match self.text.get(..self.byte_idx).and_then(|s| s.chars().next_back()) {
                Some(c) => {
                    self.byte_idx = self.byte_idx.saturating_sub(c.len_utf8());
                    self.char_idx = self.char_idx.saturating_sub(1);
                }
                None => return 0,
            }
        }
        self.byte_idx
    }
}

/// A collection being built; `size` counts its nodes so far (itself included). Its children are
/// kept on one stack shared by all open collections, from `first` on, and moved into a vector
/// of their exact size when it ends: one allocation per collection instead of one per doubling.
struct Frame {
    seq: bool,
    /// A flow collection (`[…]`, `{…}`), whose start event covers its opening bracket; a block
    /// collection's start event is empty (it may start at a flow child: `key:` then `- [a]`).
    flow: bool,
    first: usize,
    start: usize,
    anchor: usize,
    size: usize,
}

/// What an anchor names: a copy of the node and its size in nodes, or only the size of a node too
/// large ever to be expanded within the alias budget (it is not copied: nested anchors on large
/// collections would otherwise copy the same nodes once per level).
enum Anchored {
    Copy(Node, usize),
    TooLarge(usize),
}

/// Parses the first document of `src`. `None` when the file holds no document at all.
pub fn parse(src: &SourceFile, file: FileId, limits: Limits) -> Result<Option<Node>, SourceError> {
    if let Some(root) = fast::parse(src.text(), file, limits) {
        return Ok(Some(root));
    }
    parse_events(src, file, limits)
}

/// Parses the first document of `src` from saphyr-parser's events: any YAML, with its errors.
fn parse_events(src: &SourceFile, file: FileId, limits: Limits) -> Result<Option<Node>, SourceError> {
    let text = src.text();
    let mut parser = Parser::new_from_str(text);
    let mut offsets = Offsets { text, char_idx: 0, byte_idx: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    let mut children: Vec<Node> = Vec::new();
    let mut anchors: HashMap<usize, Anchored> = HashMap::new();
    let mut nodes = 0usize;
    let mut alias_nodes = 0usize;
    // Nodes held in anchor copies; bounded by `max_alias_nodes`.
    let mut copied = 0usize;
    let mut remember = |anchors: &mut HashMap<usize, Anchored>, anchor: usize, n: &Node, size: usize| {
        if anchor == 0 {
            return;
        }
        let a = if copied.saturating_add(size) <= limits.max_alias_nodes {
            copied = copied.saturating_add(size);
            Anchored::Copy(n.clone(), size)
        } else {
            Anchored::TooLarge(size)
        };
        anchors.insert(anchor, a);
    };
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    let err_at = |offsets: &mut Offsets<'_>, char_index: usize, msg: String, help: String| {
        let mut b = offsets.byte(char_index);
        if b >= text.len() {
            // An error at the end of the file is shown at its last character: a label past the
            // last line is not drawn, and the reader would see no message.
            b = text.trim_end().char_indices().last().map_or(0, |(i, _)| i);
        }
        let end = text.get(b..).and_then(|s| s.chars().next()).map_or(b, |c| b.saturating_add(c.len_utf8()));
        SourceError::new("qingdan::yaml::syntax", tr!("YAML 语法错误", "malformed YAML"))
            .at(src, Span::new(file, b, end), msg)
            .help(help)
    };

    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ev) => ev,
            Err(e) => {
                let msg = messages::syntax_message(e.info());
                return Err(err_at(
                    &mut offsets,
                    e.marker().index(),
                    msg,
                    tr!(
                        "检查该行的缩进、冒号和引号；列表项以 `- ` 开头",
                        "check the indentation, colons and quotes on this line; list entries start with `- `"
                    ),
                ));
            }
        };
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index()).max(start);
        let (node, size) = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents = documents.saturating_add(1);
                if documents > 1 {
                    return Err(SourceError::new(
                        "qingdan::yaml::documents",
                        tr!("一个文件只能包含一个 YAML 文档", "a file may hold only one YAML document"),
                    )
                    .at(
                        src,
                        Span::new(file, start, end.max(start.saturating_add(3))),
                        tr!("第二个文档从这里开始", "a second document starts here"),
                    )
                    .help(tr!("把每个清单放进单独的文件", "put each list in a file of its own")));
                }
                continue;
            }
            Event::Alias(id) => {
                let Some(anchored) = anchors.get(&id) else {
                    return Err(err_at(
                        &mut offsets,
                        span.start.index(),
                        tr!("未定义的锚点", "unknown anchor"),
                        tr!("先用 `&名称` 定义锚点", "define the anchor with `&name` first"),
                    ));
                };
                let (target, size) = match anchored {
                    Anchored::Copy(n, size) => (Some(n), *size),
                    Anchored::TooLarge(size) => (None, *size),
                };
                nodes = nodes.saturating_add(size);
                alias_nodes = alias_nodes.saturating_add(size);
                let Some(target) = target.filter(|_| alias_nodes <= limits.max_alias_nodes) else {
                    return Err(alias_error(src, Span::new(file, start, end), limits));
                };
                if nodes > limits.max_nodes {
                    return Err(nodes_error(src, Span::new(file, start, end), limits));
                }
                let mut n = target.clone();
                n.span = Span::new(file, start, end);
                (n, size)
            }
            Event::Scalar(value, style, anchor, _tag) => {
                nodes = nodes.saturating_add(1);
                if nodes > limits.max_nodes {
                    return Err(nodes_error(src, Span::new(file, start, end), limits));
                }
                // saphyr's span of a quoted scalar runs on to the next token (over a trailing
                // comment): end it at the closing quote.
                let end = match style {
                    ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => quoted_end(text, start).unwrap_or(end),
                    _ => end,
                };
                if value.len() > limits.max_scalar_bytes {
                    return Err(too_long_error(src, Span::new(file, start, end), value.len(), limits));
                }
                let n = Node {
                    kind: NodeKind::Scalar { value: value.into_owned(), plain: style == ScalarStyle::Plain },
                    span: Span::new(file, start, end),
                };
                remember(&mut anchors, anchor, &n, 1);
                (n, 1)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                nodes = nodes.saturating_add(1);
                if nodes > limits.max_nodes {
                    return Err(nodes_error(src, Span::new(file, start, end.max(start.saturating_add(1))), limits));
                }
                if stack.len() >= limits.max_depth {
                    return Err(SourceError::new("qingdan::yaml::depth", tr!("嵌套过深", "nesting too deep"))
                        .at(
                            src,
                            Span::new(file, start, end.max(start.saturating_add(1))),
                            tr!("超过 {} 层", "deeper than {} levels", limits.max_depth),
                        )
                        .help(tr!(
                            "清单文件的结构不超过几层；检查缩进",
                            "a list file is only a few levels deep; check the indentation"
                        )));
                }
                let seq = matches!(event, Event::SequenceStart(..));
                let flow = end > start && matches!(text.as_bytes().get(start), Some(b'{' | b'['));
                stack.push(Frame { seq, flow, first: children.len(), start, anchor, size: 1 });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(Frame { seq, flow, first, start: fstart, anchor, size }) = stack.pop() else { continue };
                let mut kids = children.drain(first.min(children.len())..);
                let kind = if seq {
                    NodeKind::Seq(kids.collect())
                } else {
                    // A key without a value (the parser never ends a mapping so) is dropped.
                    let mut entries = Vec::with_capacity(kids.len() / 2);
                    while let (Some(k), Some(v)) = (kids.next(), kids.next()) {
                        entries.push((k, v));
                    }
                    NodeKind::Map(entries)
                };
                // A flow collection ends at its closing bracket. A block collection's end event
                // comes with the next token, which may be far on: it ends with its last child.
                let last_child = match &kind {
                    NodeKind::Seq(items) => items.last().map(|n| n.span.end as usize),
                    NodeKind::Map(entries) => {
                        entries.last().map(|(k, v)| (v.span.end as usize).max(k.span.end as usize))
                    }
                    NodeKind::Scalar { .. } => None,
                };
                // The end event of a flow collection starts at its closing bracket (its own end
                // may run on over a trailing comment).
                let fend = if flow && matches!(text.as_bytes().get(start), Some(b'}' | b']')) {
                    collection_end(text.as_bytes(), fstart, Some(start.saturating_add(1)))
                } else if flow {
                    collection_end(text.as_bytes(), fstart, Some(end))
                } else {
                    collection_end(text.as_bytes(), fstart, last_child)
                };
                let n = Node { kind, span: Span::new(file, fstart, fend) };
                remember(&mut anchors, anchor, &n, size);
                (n, size)
            }
        };
        match stack.last_mut() {
            None => {
                if root.is_none() {
                    root = Some(node);
                }
            }
            Some(frame) => {
                children.push(node);
                frame.size = frame.size.saturating_add(size);
            }
        }
    }
    Ok(root)
}

/// Where a collection starting at `start` ends, given where its last child (or its closing
/// bracket) ends: never before its start, and never on trailing whitespace.
fn collection_end(text: &[u8], start: usize, last: Option<usize>) -> usize {
    let mut end = last.unwrap_or(start).max(start);
    while end > start && text.get(end.saturating_sub(1)).is_some_and(u8::is_ascii_whitespace) {
        end = end.saturating_sub(1);
    }
    end
}

/// The offset just after the closing quote of the quoted scalar starting at `start`.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let mut chars = rest.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            // In single quotes, '' is an escaped quote.
            if quote == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') {
                chars.next();
                continue;
            }
            return Some(start.saturating_add(i).saturating_add(1));
        }
    }
    None
}

fn too_long_error(src: &SourceFile, span: Span, len: usize, limits: Limits) -> SourceError {
    // Point at the value's first characters, not at all of it.
    let head = src
        .slice(span)
        .char_indices()
        .nth(20)
        .map_or(span.end as usize, |(i, _)| (span.start as usize).saturating_add(i));
    SourceError::new("qingdan::yaml::too_long", tr!("值过长", "a value is too long"))
        .at(
            src,
            Span::new(span.file, span.start as usize, head),
            tr!(
                "这个值有 {} 字节，上限 {} 字节",
                "this value is {} bytes long; the limit is {}",
                len,
                limits.max_scalar_bytes
            ),
        )
        .help(tr!(
            "清单中的名称、依据和备注都应简短；长篇文字请放在单独的文件里并在备注中引用",
            "names, bases and notes in a list are short; keep long texts in a file of their own and refer to it"
        ))
}

fn nodes_error(src: &SourceFile, span: Span, limits: Limits) -> SourceError {
    SourceError::new("qingdan::yaml::too_large", tr!("文件中的值过多", "too many values in one file"))
        .at(src, span, tr!("到这里超过 {} 个值", "more than {} values by here", limits.max_nodes))
        .help(tr!("把清单拆成按部门的多个文件", "split the list into one file per department"))
}

fn alias_error(src: &SourceFile, span: Span, limits: Limits) -> SourceError {
    SourceError::new(
        "qingdan::yaml::too_large",
        tr!("YAML 展开后过大（疑似别名炸弹）", "YAML expands too far (an alias bomb?)"),
    )
    .at(
        src,
        span,
        tr!(
            "展开到这里时超过上限（别名展开至多 {} 个节点）",
            "over the limit when expanded here (aliases may expand to at most {} nodes)",
            limits.max_alias_nodes
        ),
    )
    .help(tr!(
        "不要用锚点和别名层层引用；清单文件应直接写出每个事项",
        "do not nest anchors and aliases; write each item out"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Option<Node>, SourceError> {
        let f = SourceFile::new("t.yaml", s);
        parse(&f, FileId(0), Limits::default())
    }

    #[test]
    fn syntax_errors_are_said_in_chinese_with_the_parser_words_after() {
        let cases = [
            ("items:\n  - code: a\n   name: b\n", "列表中缺少 `- `", "did not find expected '-' indicator"),
            ("a: b: c\n", "值中有冒号时请给值加引号", "mapping values are not allowed in this context"),
            ("a: \"x\n", "引号没有闭合", "found unexpected end of stream"),
            ("a: {x: 1\n", "`{…}` 中缺少 `,` 或 `}`", "did not find expected ',' or '}'"),
            ("a:\n\t- b\n", "不能用制表符（Tab）缩进", "(block indentation)"),
            ("a: *nope\n", "没有定义的锚点", "found unknown anchor"),
            ("a: [x\n  b: c]\n", "可能没有闭合", "illegal placement of ':' indicator"),
            ("a: 1\n- b\n", "缺少键", "did not find expected key"),
        ];
        // At the end of the file, with or without a last line break: shown on the last character.
        for yaml in ["a: [x, y", "a: [x, y\n\n"] {
            let e = parse_str(yaml).err().unwrap();
            assert_eq!(e.span.map(|s| (s.start, s.end)), Some((7, 8)), "{yaml:?}");
        }
        for (yaml, zh, en) in cases {
            let e = parse_str(yaml).err().unwrap_or_else(|| panic!("{yaml:?} parsed"));
            assert!(e.label.contains(zh) && e.label.ends_with(&format!("{en}）")), "{yaml:?}: {}", e.label);
        }
    }

    #[test]
    fn spans_are_bytes() {
        let s = "名称: 道路运输\ncode: \"X-1\"\n";
        let root = parse_str(s).ok().flatten();
        let Some(Node { kind: NodeKind::Map(entries), .. }) = root else { panic!("not a map") };
        let (k, v) = &entries[0];
        assert_eq!(&s[k.span.start as usize..k.span.end as usize], "名称");
        assert_eq!(&s[v.span.start as usize..v.span.end as usize], "道路运输");
    }

    #[test]
    fn quoted_spans_end_at_the_quote() {
        let s = "a: \"x-\\\"1\"  # c\nb: 'y''z'  # d\nc: plain  # e\n";
        let root = parse_str(s).ok().flatten();
        let Some(Node { kind: NodeKind::Map(entries), .. }) = root else { panic!("not a map") };
        let got: Vec<&str> = entries.iter().map(|(_, v)| &s[v.span.start as usize..v.span.end as usize]).collect();
        assert_eq!(got, ["\"x-\\\"1\"", "'y''z'", "plain"]);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            s.push_str(&format!(
                "{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = c;
        }
        let e = parse_str(&s).err().map(|e| e.code);
        assert_eq!(e, Some("qingdan::yaml::too_large"));
    }

    #[test]
    fn nested_anchors_are_not_copied_once_per_level() {
        // Sixty nested anchors around a list of 300,000 values once copied the list at every
        // level: 1.5 GB and half a minute for a 600 kB file. Large anchored nodes are no longer
        // copied; aliasing one is refused.
        let inner = vec!["x"; 300_000].join(",");
        let opens: String = (0..60).map(|i| format!("&a{i} [")).collect();
        let s = format!("a: {opens}[{inner}]{}\n", "]".repeat(60));
        let started = std::time::Instant::now();
        assert!(parse_str(&s).is_ok());
        assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
        let s = format!("a: {opens}[{inner}]{}\nb: *a59\n", "]".repeat(60));
        assert_eq!(parse_str(&s).err().map(|e| e.code), Some("qingdan::yaml::too_large"));
        // Small anchors still expand.
        let root = parse_str("a: &x [1, 2]\nb: *x\n").ok().flatten();
        let Some(Node { kind: NodeKind::Map(entries), .. }) = root else { panic!("not a map") };
        assert!(matches!(&entries[1].1.kind, NodeKind::Seq(v) if v.len() == 2));
    }

    #[test]
    fn long_values_are_refused() {
        let f = SourceFile::new("t.yaml", "a: 0123456789abcdefghijklmnopqrstuvwxyz\n");
        let limits = Limits { max_scalar_bytes: 16, ..Limits::default() };
        let e = parse(&f, FileId(0), limits).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some("qingdan::yaml::too_long"));
        // The label covers the value's first characters only.
        let span = e.and_then(|e| e.span).map(|s| f.slice(s).to_string());
        assert_eq!(span.as_deref(), Some("0123456789abcdefghij"));
        let limits = Limits { max_scalar_bytes: 64, ..Limits::default() };
        assert!(parse(&f, FileId(0), limits).is_ok());
    }

    #[test]
    fn empty_collections_count_against_the_node_limit() {
        let s = format!("[{}]", "[], {}, ".repeat(100));
        let f = SourceFile::new("t.yaml", s);
        let e = parse(&f, FileId(0), Limits { max_nodes: 50, ..Limits::default() }).err().map(|e| e.code);
        assert_eq!(e, Some("qingdan::yaml::too_large"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s: String = (0..100).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        let e = parse_str(&s).err().map(|e| e.code);
        assert_eq!(e, Some("qingdan::yaml::depth"));
        // saphyr refuses deep flow nesting itself; either way it is an error, not a crash.
        assert!(parse_str(&"[".repeat(100_000)).is_err());
    }
}
