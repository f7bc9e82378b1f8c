//! A fast reader for the block-style YAML that list files are written in.
//!
//! saphyr-parser reads about 23 MB/s of Chinese list text; so do the other YAML crates measured
//! on such a file (granit-parser, libyaml-safer, saphyr-parser-bw: 20–23 MB/s). They go
//! character by character through a ring buffer, and parsing was half of `check`'s time. List
//! files use a small part of YAML: block mappings and sequences, plain and quoted scalars on one
//! line, flow sequences and mappings on one line, comments, `\n` or `\r\n` line ends. This module
//! reads exactly that part, line by line, and gives up (`None`) at the first thing outside it — a
//! tab, a lone carriage return, a control or special line-break character, an anchor, alias or
//! tag, a block or multi-line scalar, a flow collection over several lines, an escape, a quoted
//! key, an empty sequence entry, a directive or document marker, any malformed line, any limit
//! reached. `super::parse` then reads the file with saphyr-parser, which also reports the
//! errors. Where this module does answer, its tree is the one saphyr's events build, spans
//! included: the tests compare the two on every YAML file of the repository, the YAML test
//! suite and generated variations.

use rayon::prelude::*;

use super::{Limits, Node, NodeKind, collection_end};
use crate::source::{FileId, Span};

/// A sequence spanning more than twice this many bytes (the `items:` of a large list) is read in
/// pieces of about this size, in parallel: one large file then uses every core too.
const PIECE_BYTES: usize = 256 * 1024;

/// One line with content (not blank, not only a comment), not yet consumed.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// Byte offset of the line's first byte.
    begin: usize,
    /// Byte offset of the first content byte (after the indentation, or after `- `).
    start: usize,
    /// Byte offset of the line break, `\r\n` or `\n` (or of the end of the text).
    end: usize,
}

impl Line {
    /// The column of `start`: everything before it on the line is ASCII (spaces and `- `).
    fn indent(self) -> usize {
        self.start.saturating_sub(self.begin)
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    file: FileId,
    limits: Limits,
    nodes: usize,
    /// The current content line, or `None` at the end of the text.
    line: Option<Line>,
    /// Where the line after the current one begins.
    next: usize,
    /// The entries of the collections being read, innermost last: each collection takes its own
    /// off the top when it ends, in a vector of its exact size (no vector grown entry by entry).
    pairs: Vec<(Node, Node)>,
    seq: Vec<Node>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, file: FileId, limits: Limits, next: usize) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            file,
            limits,
            nodes: 0,
            line: None,
            next,
            pairs: Vec::new(),
            seq: Vec::new(),
        }
    }
}

/// The tree of `text`, or `None` when `text` is not in the subset this module reads (or holds no
/// document, or reaches a limit): the caller then uses saphyr-parser.
pub(super) fn parse(text: &str, file: FileId, limits: Limits) -> Option<Node> {
    if !plain_characters(text.as_bytes()) {
        return None;
    }
    let mut r = Reader::new(text, file, limits, 0);
    r.advance();
    let root = r.block_node(0)?;
    // Anything left (a line indented less than the root, say) is for saphyr to judge.
    r.line.is_none().then_some(root)
}

/// False when the text holds a byte this module leaves to saphyr: tabs, carriage returns and
/// other control characters, C1 controls (U+0080–U+009F), U+2028/U+2029, a byte-order mark,
/// U+FFFE/U+FFFF. This runs over every byte of every list: a large text in pieces, in parallel.
fn plain_characters(b: &[u8]) -> bool {
    if b.len() < PIECE_BYTES.saturating_mul(2) { plain_prefix(b, b.len()) } else { plain_in_chunks(b, PIECE_BYTES) }
}

/// [`plain_characters`] of chunks of `chunk` bytes, in parallel: a large file's check is not left
/// to one thread.
fn plain_in_chunks(b: &[u8], chunk: usize) -> bool {
    let chunk = chunk.max(1);
    (0..b.len().div_ceil(chunk))
        .into_par_iter()
        .all(|k| b.get(k.saturating_mul(chunk)..).is_some_and(|rest| plain_prefix(rest, chunk)))
}

/// Whether the first `n` bytes of `b` are plain, each judged with the two bytes after it in `b`
/// (zero past the end) and no branch, so that the compiler checks several bytes at once.
fn plain_prefix(b: &[u8], n: usize) -> bool {
    let n = n.min(b.len());
    let m = n.min(b.len().saturating_sub(2));
    let (b0, b1, b2) = (b.get(..m).unwrap_or_default(), b.get(1..).unwrap_or_default(), b.get(2..).unwrap_or_default());
    // The first `m` bytes (`zip` stops at the shortest), then the rest with zeros past the end.
    let body = b0.iter().zip(b1).zip(b2).fold(0u8, |acc, ((&c, &n), &nn)| acc | u8::from(leave_to_saphyr(c, n, nn)));
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    let tail = (m..n).any(|k| leave_to_saphyr(at(k), at(k.saturating_add(1)), at(k.saturating_add(2))));
    body == 0 && !tail
}

/// Whether byte `c`, followed by `n` and `nn`, is one [`plain_characters`] refuses. Written with
/// `&` and `|` on purpose (see there).
#[inline]
#[allow(clippy::nonminimal_bool, reason = "branch-free on purpose")]
fn leave_to_saphyr(c: u8, n: u8, nn: u8) -> bool {
    // Control characters but the line feed, and a carriage return not before one.
    (c < 0x20 && c != b'\n' && c != b'\r') | (c == 0x7F) | ((c == b'\r') & (n != b'\n'))
        // C1 controls: U+0080–U+009F.
        | ((c == 0xC2) & (n & 0xE0 == 0x80))
        // U+2028, U+2029.
        | ((c == 0xE2) & (n == 0x80) & ((nn == 0xA8) | (nn == 0xA9)))
        // A byte-order mark, U+FFFE, U+FFFF.
        | ((c == 0xEF) & (((n == 0xBB) & (nn == 0xBF)) | ((n == 0xBF) & ((nn == 0xBE) | (nn == 0xBF)))))
}

/// Bytes that may not start a plain scalar here (YAML's indicators; `-`, `?` and `:` could, when
/// followed by a non-space, but such values are rare enough to leave to saphyr).
fn indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl Reader<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// Where the line beginning at `begin` (`rest` onwards) ends, before its `\n` or `\r\n`, and
    /// where the next one begins.
    fn line_end(&self, begin: usize, rest: &[u8]) -> (usize, usize) {
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let nl = begin.saturating_add(i);
                let end = if i > 0 && self.at(nl.saturating_sub(1)) == Some(b'\r') { nl.saturating_sub(1) } else { nl };
                (end, nl.saturating_add(1))
            }
            None => (self.bytes.len(), self.bytes.len().saturating_add(1)),
        }
    }

    /// Moves to the next line with content, skipping blank and comment-only lines.
    fn advance(&mut self) {
        (self.line, self.next) = self.content_line(self.next);
    }

    /// The first line with content beginning at or after `begin`, and where the line after it
    /// begins (`None` and past the end when there is none).
    fn content_line(&self, mut begin: usize) -> (Option<Line>, usize) {
        while begin < self.bytes.len() {
            let rest = self.bytes.get(begin..).unwrap_or_default();
            let (end, next) = self.line_end(begin, rest);
            let start = begin.saturating_add(rest.iter().take_while(|&&c| c == b' ').count());
            if start < end && self.at(start) != Some(b'#') {
                return (Some(Line { begin, start, end }), next);
            }
            begin = next;
        }
        (None, begin)
    }

    fn skip_spaces(&self, mut i: usize, end: usize) -> usize {
        while i < end && self.at(i) == Some(b' ') {
            i = i.saturating_add(1);
        }
        i
    }

    /// Counts one more node; `None` past the limit (saphyr then reports it).
    fn count(&mut self) -> Option<()> {
        self.nodes = self.nodes.saturating_add(1);
        (self.nodes <= self.limits.max_nodes).then_some(())
    }

    fn node(&self, kind: NodeKind, start: usize, end: usize) -> Node {
        Node { kind, span: Span::new(self.file, start, end) }
    }

    fn scalar(&mut self, value: String, plain: bool, start: usize, end: usize) -> Option<Node> {
        self.count()?;
        if value.len() > self.limits.max_scalar_bytes {
            return None;
        }
        Some(self.node(NodeKind::Scalar { value, plain }, start, end))
    }

    /// The empty value of `key:` or `-`, which saphyr places on the indicator.
    fn null(&mut self, at: usize) -> Option<Node> {
        self.scalar(String::new(), true, at, at)
    }

    /// `- ` or `-` alone starts a sequence entry.
    fn is_entry(&self, l: Line) -> bool {
        self.at(l.start) == Some(b'-')
            && matches!(self.at(l.start.saturating_add(1)), None | Some(b' ' | b'\n' | b'\r'))
    }

    /// If `start..end` is a mapping key line, the end of the key and the offset of its colon.
    fn key(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if self.at(start).is_none_or(indicator) {
            return None;
        }
        let mut i = start;
        while i < end {
            match self.at(i)? {
                b':' if matches!(self.at(i.saturating_add(1)), None | Some(b' ' | b'\n' | b'\r')) => {
                    let mut key_end = i;
                    while key_end > start && self.at(key_end.saturating_sub(1)) == Some(b' ') {
                        key_end = key_end.saturating_sub(1);
                    }
                    // YAML limits an implicit key to 1024 characters.
                    return (key_end.saturating_sub(start) <= 1024).then_some((key_end, i));
                }
                b'#' if self.at(i.saturating_sub(1)) == Some(b' ') => return None,
                _ => {}
            }
            i = i.saturating_add(1);
        }
        None
    }

    /// A block node starting on the current line.
    fn block_node(&mut self, depth: usize) -> Option<Node> {
        let l = self.line?;
        if self.is_entry(l) {
            self.block_seq(depth, false)
        } else if self.key(l.start, l.end).is_some() {
            self.block_map(depth)
        } else {
            None
        }
    }

    /// A block sequence; `indentless` when it is the value of a key at the same indentation
    /// (`key:` then `- entry`), which saphyr starts at its first entry's content.
    fn block_seq(&mut self, depth: usize, indentless: bool) -> Option<Node> {
        let first = self.line?;
        let indent = first.indent();
        let start = if indentless { self.skip_spaces(first.start.saturating_add(1), first.end) } else { first.start };
        if depth >= self.limits.max_depth {
            return None;
        }
        self.count()?;
        let mut items = Vec::new();
        let read = match self.pieces(first, indent) {
            Some(pieces) => self.entries_in_parallel(&pieces, indent, depth, &mut items)?,
            None => false,
        };
        if !read {
            // Not split, or a piece not read whole (the sequence ended inside one): one reader.
            let base = self.seq.len();
            self.entries(indent, depth)?;
            items = self.seq.drain(base..).collect();
        }
        // A line indented more than the entries is a continuation or an error: saphyr's call.
        if self.line.is_some_and(|l| l.indent() > indent) {
            return None;
        }
        let end = collection_end(self.bytes, start, items.last().map(|n| n.span.end as usize));
        Some(self.node(NodeKind::Seq(items), start, end))
    }

    /// Reads the entries of a block sequence at `indent` from the current line on, onto `seq`.
    fn entries(&mut self, indent: usize, depth: usize) -> Option<()> {
        while let Some(l) = self.line {
            if l.indent() != indent || !self.is_entry(l) {
                break;
            }
            let p = self.skip_spaces(l.start.saturating_add(1), l.end);
            // An entry with nothing after its dash: saphyr's spans for it vary with what
            // follows, and lists do not write entries so.
            let item = if p == l.end || self.at(p) == Some(b'#') {
                return None;
            } else if self.key(p, l.end).is_some() {
                // `- key: value`: a mapping whose keys line up with this one.
                self.line = Some(Line { start: p, ..l });
                self.block_map(depth.saturating_add(1))?
            } else {
                let v = self.inline_value(p, l.end, depth.saturating_add(1))?;
                self.advance();
                v
            };
            self.seq.push(item);
        }
        Some(())
    }

    /// For a large block sequence whose first entry is on `first`: where its pieces of about
    /// [`PIECE_BYTES`] begin and end, each beginning at the start of an entry's line, the last
    /// ending at the end of the text. `None` for a sequence too small to be worth splitting.
    ///
    /// Only the lines after each jump of [`PIECE_BYTES`] are looked at, up to the next entry:
    /// the readers of the pieces check all the others, and a piece not read whole sends the
    /// sequence back to one reader.
    fn pieces(&self, first: Line, indent: usize) -> Option<Vec<(usize, usize)>> {
        if self.bytes.len().saturating_sub(first.begin) < PIECE_BYTES.saturating_mul(2) {
            return None;
        }
        let mut cuts = vec![first.begin];
        'cuts: while let Some(&last) = cuts.last() {
            // The first line beginning a piece's length after the last cut, or later.
            let target = last.saturating_add(PIECE_BYTES);
            let Some(nl) = self.bytes.get(target.saturating_sub(1)..).and_then(|rest| memchr::memchr(b'\n', rest))
            else {
                break;
            };
            let mut next = target.saturating_add(nl);
            loop {
                let (Some(line), after) = self.content_line(next) else { break 'cuts };
                let at = line.indent();
                if at < indent || (at == indent && !self.is_entry(line)) {
                    // The sequence ends before: the last piece reads up to its end.
                    break 'cuts;
                }
                if at == indent {
                    cuts.push(line.begin);
                    break;
                }
                next = after;
            }
        }
        if cuts.len() < 2 {
            return None;
        }
        let ends = cuts.iter().skip(1).copied().chain(std::iter::once(self.bytes.len()));
        Some(cuts.iter().copied().zip(ends).collect())
    }

    /// Reads each piece's entries with a reader of its own (the text cut at the piece's end), in
    /// parallel, then goes on after the sequence, where the last piece's reader stopped.
    /// `Some(false)`, with nothing changed, when a piece but the last is not read whole; `None`
    /// past the node limit.
    fn entries_in_parallel(
        &mut self,
        pieces: &[(usize, usize)],
        indent: usize,
        depth: usize,
        items: &mut Vec<Node>,
    ) -> Option<bool> {
        let (text, file, limits) = (self.text, self.file, self.limits);
        let last = pieces.len().saturating_sub(1);
        // Per piece: its entries, its node count and where its reader stopped (the last only).
        type Piece = (Vec<Node>, usize, Option<usize>);
        let read: Option<Vec<Piece>> = pieces
            .par_iter()
            .enumerate()
            .map(|(k, &(begin, end))| {
                let text = text.get(..end)?;
                let mut r = Reader::new(text, file, limits, begin);
                r.advance();
                r.entries(indent, depth)?;
                let stop = r.line.map(|l| l.begin);
                (stop.is_none() || k == last).then_some((r.seq, r.nodes, stop))
            })
            .collect::<Option<_>>();
        let Some(read) = read else { return Some(false) };
        self.nodes = read.iter().fold(self.nodes, |n, (_, nodes, _)| n.saturating_add(*nodes));
        if self.nodes > self.limits.max_nodes {
            return None;
        }
        items.reserve(read.iter().map(|(v, _, _)| v.len()).sum());
        let mut stop = None;
        for (piece, _, at) in read {
            items.extend(piece);
            stop = at;
        }
        self.next = stop.unwrap_or(self.bytes.len());
        self.advance();
        Some(true)
    }

    fn block_map(&mut self, depth: usize) -> Option<Node> {
        let first = self.line?;
        let indent = first.indent();
        if depth >= self.limits.max_depth {
            return None;
        }
        self.count()?;
        let base = self.pairs.len();
        while let Some(l) = self.line {
            if l.indent() < indent {
                break;
            }
            if l.indent() > indent || self.is_entry(l) {
                return None;
            }
            let (key_end, colon) = self.key(l.start, l.end)?;
            let key = self.text.get(l.start..key_end)?.to_owned();
            let key = self.scalar(key, true, l.start, key_end)?;
            let p = self.skip_spaces(colon.saturating_add(1), l.end);
            let value = if p == l.end || self.at(p) == Some(b'#') {
                self.advance();
                match self.line {
                    Some(n) if n.indent() > indent => self.block_node(depth.saturating_add(1))?,
                    // `key:` then `- entry` at the key's own indentation.
                    Some(n) if n.indent() == indent && self.is_entry(n) => {
                        self.block_seq(depth.saturating_add(1), true)?
                    }
                    _ => self.null(colon)?,
                }
            } else {
                let v = self.inline_value(p, l.end, depth.saturating_add(1))?;
                self.advance();
                v
            };
            self.pairs.push((key, value));
        }
        let entries: Vec<(Node, Node)> = self.pairs.drain(base..).collect();
        let last = entries.last().map(|(k, v)| (k.span.end as usize).max(v.span.end as usize));
        let end = collection_end(self.bytes, first.start, last);
        Some(self.node(NodeKind::Map(entries), first.start, end))
    }

    /// A value written on the line of its key or dash, from `p` (not a space, not a comment).
    /// After it only spaces and a comment may follow.
    fn inline_value(&mut self, p: usize, end: usize, depth: usize) -> Option<Node> {
        let (node, after) = match self.at(p)? {
            b'"' | b'\'' => self.quoted(p, end)?,
            b'[' => self.flow_seq(p, end, depth)?,
            b'{' => self.flow_map(p, end, depth)?,
            c if indicator(c) => return None,
            _ => {
                let mut i = p;
                let mut last = p;
                while i < end {
                    match self.at(i)? {
                        b' ' => {}
                        b'#' if self.at(i.saturating_sub(1)) == Some(b' ') => break,
                        // `: ` would start a mapping here: an error saphyr reports.
                        b':' if matches!(self.at(i.saturating_add(1)), None | Some(b' ' | b'\n' | b'\r')) => {
                            return None;
                        }
                        _ => last = i.saturating_add(1),
                    }
                    i = i.saturating_add(1);
                }
                let value = self.text.get(p..last)?.to_owned();
                return self.scalar(value, true, p, last);
            }
        };
        let rest = self.skip_spaces(after, end);
        match self.at(rest) {
            _ if rest == end => Some(node),
            Some(b'#') if rest > after => Some(node),
            _ => None,
        }
    }

    /// A one-line quoted scalar from `p` and the offset after its closing quote. Double quotes
    /// with a backslash (an escape) are left to saphyr.
    fn quoted(&mut self, p: usize, end: usize) -> Option<(Node, usize)> {
        let quote = self.at(p)?;
        let body = self.bytes.get(p.saturating_add(1)..end)?;
        let (value, close) = if quote == b'"' {
            let close = p.saturating_add(1).saturating_add(memchr::memchr2(b'"', b'\\', body)?);
            if self.at(close) != Some(b'"') {
                return None;
            }
            (self.text.get(p.saturating_add(1)..close)?.to_owned(), close)
        } else {
            let mut value = String::new();
            let mut from = p.saturating_add(1);
            loop {
                let q = from.saturating_add(memchr::memchr(b'\'', self.bytes.get(from..end)?)?);
                value.push_str(self.text.get(from..q)?);
                if self.at(q.saturating_add(1)) == Some(b'\'') && q.saturating_add(1) < end {
                    value.push('\'');
                    from = q.saturating_add(2);
                } else {
                    break (value, q);
                }
            }
        };
        let after = close.saturating_add(1);
        Some((self.scalar(value, false, p, after)?, after))
    }

    /// A one-line flow collection from `p` (its opening bracket) to `close`: the depth and node
    /// limits, then `entry` for each element (given where it starts, it returns where it ends)
    /// with commas between. The offset after the closing bracket.
    fn flow(
        &mut self,
        p: usize,
        end: usize,
        depth: usize,
        close: u8,
        mut entry: impl FnMut(&mut Self, usize) -> Option<usize>,
    ) -> Option<usize> {
        if depth >= self.limits.max_depth {
            return None;
        }
        self.count()?;
        let mut i = self.skip_spaces(p.saturating_add(1), end);
        if self.at(i) == Some(close) && i < end {
            return Some(i.saturating_add(1));
        }
        // A comma before the closing bracket is left to saphyr (its spans differ then).
        loop {
            if i >= end {
                return None;
            }
            let after = entry(self, i)?;
            i = self.skip_spaces(after, end);
            match self.at(i) {
                Some(b',') if i < end => i = self.skip_spaces(i.saturating_add(1), end),
                Some(c) if c == close && i < end => return Some(i.saturating_add(1)),
                _ => return None,
            }
        }
    }

    /// A one-line flow sequence from `p` (`[`), and the offset after its closing bracket.
    fn flow_seq(&mut self, p: usize, end: usize, depth: usize) -> Option<(Node, usize)> {
        let base = self.seq.len();
        let after = self.flow(p, end, depth, b']', |r, i| {
            let (node, after) = r.flow_node(i, end, depth.saturating_add(1), b']')?;
            r.seq.push(node);
            Some(after)
        })?;
        let items = self.seq.drain(base..).collect();
        Some((self.node(NodeKind::Seq(items), p, after), after))
    }

    /// A one-line flow mapping of plain keys from `p` (`{`), and the offset after its closing
    /// brace.
    fn flow_map(&mut self, p: usize, end: usize, depth: usize) -> Option<(Node, usize)> {
        let base = self.pairs.len();
        let after = self.flow(p, end, depth, b'}', |r, start| {
            if r.at(start).is_none_or(indicator) {
                return None;
            }
            let mut i = start;
            let mut last = start;
            // A key ends at `: `; anything else that could end it is left to saphyr.
            while i < end {
                match r.at(i)? {
                    b':' if r.at(i.saturating_add(1)) == Some(b' ') => break,
                    b' ' => {}
                    b':' | b',' | b'#' | b'[' | b']' | b'{' | b'}' => return None,
                    _ => last = i.saturating_add(1),
                }
                i = i.saturating_add(1);
            }
            if i >= end {
                return None;
            }
            let key = r.text.get(start..last)?.to_owned();
            let key = r.scalar(key, true, start, last)?;
            let i = r.skip_spaces(i.saturating_add(1), end);
            if i >= end {
                return None;
            }
            let (value, after) = r.flow_node(i, end, depth.saturating_add(1), b'}')?;
            r.pairs.push((key, value));
            Some(after)
        })?;
        let entries = self.pairs.drain(base..).collect();
        Some((self.node(NodeKind::Map(entries), p, after), after))
    }

    /// A node inside a flow collection closed by `close`, from `p` (before `end`), and the offset
    /// after it.
    fn flow_node(&mut self, p: usize, end: usize, depth: usize, close: u8) -> Option<(Node, usize)> {
        match self.at(p)? {
            b'"' | b'\'' => self.quoted(p, end),
            b'[' => self.flow_seq(p, end, depth),
            b'{' => self.flow_map(p, end, depth),
            c if indicator(c) => None,
            _ => self.flow_plain(p, end, close),
        }
    }

    /// A plain scalar inside a flow collection closed by `close`, from `p`, and where it stops
    /// (at a comma or the closing bracket). Other flow indicators, `:` and `#` are left to saphyr.
    fn flow_plain(&mut self, p: usize, end: usize, close: u8) -> Option<(Node, usize)> {
        let mut i = p;
        let mut last = p;
        while i < end {
            match self.at(i)? {
                c if c == b',' || c == close => break,
                b' ' => {}
                b':' | b'#' | b'[' | b']' | b'{' | b'}' => return None,
                _ => last = i.saturating_add(1),
            }
            i = i.saturating_add(1);
        }
        let value = self.text.get(p..last)?.to_owned();
        Some((self.scalar(value, true, p, last)?, i))
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects,
        reason = "tests"
    )]

    use super::*;
    use crate::source::SourceFile;
    use std::path::{Path, PathBuf};

    /// The byte-at-a-time check `plain_characters` replaced, as an oracle.
    fn plain_characters_bytewise(b: &[u8]) -> bool {
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            match c {
                b'\n' | 0x20..=0x7E => {}
                // Windows line ends; a carriage return alone is left to saphyr.
                b'\r' => {
                    if b.get(i.saturating_add(1)) != Some(&b'\n') {
                        return false;
                    }
                }
                0xC2 => {
                    if b.get(i.saturating_add(1)).is_some_and(|&n| (0x80..0xA0).contains(&n)) {
                        return false;
                    }
                }
                0xE2 => {
                    if b.get(i.saturating_add(1)) == Some(&0x80)
                        && matches!(b.get(i.saturating_add(2)), Some(0xA8 | 0xA9))
                    {
                        return false;
                    }
                }
                0xEF => match (b.get(i.saturating_add(1)), b.get(i.saturating_add(2))) {
                    (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF)) => return false,
                    _ => {}
                },
                0x80..=0xFF => {}
                _ => return false,
            }
            i = i.saturating_add(1);
        }
        true
    }

    #[test]
    fn plain_characters_agrees_with_the_bytewise_check() {
        // Every byte value before, between and after the multi-byte sequences that matter, at
        // the end of the text too, and random byte strings.
        let specials: [&[u8]; 12] = [
            b"\r\n",
            b"\r",
            b"\t",
            b"\x7f",
            b"\xc2\x85",
            b"\xc2\xa0",
            b"\xe2\x80\xa8",
            b"\xe2\x80\x94",
            b"\xef\xbb\xbf",
            b"\xef\xbf\xbe",
            b"\xef\xbc\x8c",
            "材料".as_bytes(),
        ];
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for c in 0..=255u8 {
            cases.push(vec![c]);
            cases.push(vec![b'a', c]);
            cases.push(vec![c, b'a', b'b', b'c']);
        }
        for s in specials {
            cases.push(s.to_vec());
            for cut in 0..s.len() {
                cases.push(s[..cut].to_vec());
                let mut v = b"name: x".to_vec();
                v.extend_from_slice(&s[..=cut]);
                cases.push(v);
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let v: Vec<u8> = (0..len)
                .map(|k| {
                    let r = x.rotate_left(k as u32 * 5);
                    // Mostly the bytes that matter, so that the rare cases are not rare here.
                    [b'a', b'\n', b'\r', 0xC2, 0xE2, 0xEF, 0x80, 0xA8, 0xBB, 0xBF, 0xBE, (r >> 8) as u8]
                        [(r % 12) as usize]
                })
                .collect();
            cases.push(v);
        }
        for v in &cases {
            let expected = plain_characters_bytewise(v);
            assert_eq!(plain_characters(v), expected, "{v:x?}");
            // In chunks, a sequence that matters cut at every place between two of them.
            for chunk in 1..4 {
                assert_eq!(plain_in_chunks(v, chunk), expected, "{v:x?} in chunks of {chunk}");
            }
        }
    }

    /// Where this module answers, its tree is saphyr's. Returns whether it answered.
    fn same_as_saphyr(text: &str, what: &dyn std::fmt::Display) -> bool {
        let Some(fast) = parse(text, FileId(0), Limits::default()) else { return false };
        let src = SourceFile::new("t.yaml", text);
        match super::super::parse_events(&src, FileId(0), Limits::default()) {
            Ok(Some(slow)) => {
                if fast != slow {
                    let (f, s) = (outline(&fast), outline(&slow));
                    let at = f.iter().zip(&s).position(|(a, b)| a != b).unwrap_or(f.len().min(s.len()));
                    panic!(
                        "{what}: the fast reader's tree differs from saphyr's\n{text:?}\nfirst difference, fast: {:?}\n                   saphyr: {:?}",
                        f.get(at),
                        s.get(at)
                    );
                }
            }
            Ok(None) => panic!("{what}: the fast reader found a document where saphyr found none\n{text}"),
            Err(e) => panic!("{what}: the fast reader accepted what saphyr refuses ({})\n{text}", e.message),
        }
        true
    }

    /// The nodes in document order, one line each.
    fn outline(n: &Node) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            let (s, e) = (n.span.start, n.span.end);
            match &n.kind {
                NodeKind::Scalar { value, plain } => out.push(format!("scalar {value:?} plain={plain} {s}..{e}")),
                NodeKind::Seq(items) => {
                    out.push(format!("seq of {} {s}..{e}", items.len()));
                    stack.extend(items.iter().rev());
                }
                NodeKind::Map(entries) => {
                    out.push(format!("map of {} {s}..{e}", entries.len()));
                    stack.extend(entries.iter().rev().flat_map(|(k, v)| [v, k]));
                }
            }
        }
        out
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") || p.ends_with("in.yaml") {
                out.push(p);
            }
        }
    }

    fn repository_texts() -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["corpus", "tests", "policies", "examples", "../shared/yaml-test-suite"] {
            yaml_files(&root.join(dir), &mut files);
        }
        files.sort();
        files.into_iter().filter_map(|p| Some((p.clone(), String::from_utf8(std::fs::read(&p).ok()?).ok()?))).collect()
    }

    #[test]
    fn agrees_with_saphyr_on_every_yaml_file_of_the_repository() {
        let texts = repository_texts();
        let answered = texts.iter().filter(|(p, t)| same_as_saphyr(t, &p.display())).count();
        // The same files with Windows line ends.
        let crlf = texts
            .iter()
            .filter(|(p, t)| same_as_saphyr(&t.replace('\n', "\r\n"), &format!("{} (CRLF)", p.display())))
            .count();
        assert_eq!(crlf, answered, "files read with \\n but not with \\r\\n line ends");
        // The sample corpus and fixtures are mostly block YAML: most must take the fast path.
        assert!(answered > 50, "{} files, {answered} answered", texts.len());
    }

    #[test]
    fn sample_corpus_lists_take_the_fast_path() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/daqing");
        let mut files = Vec::new();
        yaml_files(&dir, &mut files);
        assert!(!files.is_empty());
        for p in files {
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(same_as_saphyr(&text, &p.display()), "{} is read by saphyr", p.display());
            let crlf = text.replace('\n', "\r\n");
            assert!(same_as_saphyr(&crlf, &p.display()), "{} with CRLF line ends is read by saphyr", p.display());
        }
    }

    /// A small deterministic generator (xorshift), so that the test needs no seed file.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 >> 33).unwrap_or(0)
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.next() % xs.len()]
        }
    }

    const KEYS: &[&str] =
        &["a", "名称", "code", "a b", "k:x", "-k", "\"q\"", "?", "材料（复印件）", "a#b", "x ", "[k]", "&a k", "---"];
    const COLONS: &[&str] = &[": ", ":", ":  ", " : ", ":\t", ": # c "];
    const VALUES: &[&str] = &[
        "x",
        "道路运输 经营许可",
        "x #c",
        "x#c",
        "x:y",
        "x: y",
        "x:",
        "\"q\"",
        "\"q\" # c",
        "\"q\"x",
        "'a''b'",
        "'a'",
        "''",
        "\"\"",
        "\"a\\\"b\"",
        "\"a",
        "[a, b]",
        "[a, \"b\" , 'c']",
        "[]",
        "[a,]",
        "[,]",
        "[a, [b]]",
        "[a:b]",
        "[a #b]",
        "{a: b}",
        "{a: b, c: [d, \"e\"], f: 'g'}",
        "{a: [{b: c}, [d, []], {}], e: {f: {g: h}}}",
        "[{a: b}, [c], {d: [e]}]",
        "[[a, b] , {c: d} ]",
        "{}",
        "{a: b,}",
        "{a: }",
        "{a:b}",
        "{a: b:c}",
        "{\"a\": b}",
        "{a: {b: c}}",
        "{a: b  # c",
        "{名称: 申请书, 种类: 申请表}",
        "- x",
        "-x",
        "-",
        "|",
        ">-",
        "&a x",
        "*a",
        "!t x",
        "",
        "  ",
        "# only",
        "1",
        "true",
        "~",
        "x   ",
        "（全角）：说明",
        "a, b",
        "%x",
        "@x",
        "`x",
        "2025-02-01",
        "---",
        "...",
    ];

    /// Keys and values the fast reader answers for, so that half the documents explore its
    /// structure (nesting, indentless sequences, flow collections) rather than its refusals.
    const PLAIN_KEYS: &[&str] = &["a", "名称", "code", "a b", "k:x", "x "];
    const PLAIN_VALUES: &[&str] = &[
        "x",
        "道路运输 经营许可",
        "x #c",
        "x#c",
        "x:y",
        "\"q\" # c",
        "'a''b'",
        "\"\"",
        "[a, \"b\" , 'c']",
        "[]",
        "{a: b, c: [d, \"e\"], f: 'g'}",
        "{a: [{b: c}, [d, []], {}], e: {f: {g: h}}}",
        "[{a: b}, [c], {d: [e]}]",
        "[[a, b] , {c: d} ]",
        "{}",
        "",
        "# c",
        "（全角）：说明",
        "a, b",
    ];

    fn random_document(rng: &mut Rng) -> String {
        let (keys, values) = if rng.next().is_multiple_of(2) { (PLAIN_KEYS, PLAIN_VALUES) } else { (KEYS, VALUES) };
        let mut s = String::new();
        // Mostly the indentation of the line before, one level deeper or back to the left edge,
        // so that a good share of the documents are well-formed.
        let mut indent = 0usize;
        for _ in 0..(1 + rng.next() % 12) {
            indent = match rng.next() % 8 {
                0..=3 => indent,
                4 | 5 => indent.saturating_add(2),
                6 => 0,
                _ => rng.next() % 7,
            };
            s.push_str(&" ".repeat(indent));
            match rng.next() % 10 {
                0..=4 => {
                    s.push_str(rng.pick(keys));
                    s.push_str(rng.pick(COLONS));
                    s.push_str(rng.pick(values));
                }
                5 | 6 => {
                    s.push_str(rng.pick(&["- ", "- ", "-  ", "-", "- - "]));
                    if rng.next().is_multiple_of(2) {
                        s.push_str(rng.pick(keys));
                        s.push_str(rng.pick(COLONS));
                    }
                    s.push_str(rng.pick(values));
                }
                7 => s.push_str(rng.pick(&["# comment", "", "   ", "#", "  # x: y"])),
                _ => s.push_str(rng.pick(values)),
            }
            s.push_str(rng.pick(&["\n", "\n", "\n", "\n", "\n", "\n", "\n", "\n", "\r\n", " \n"]));
        }
        if rng.next().is_multiple_of(4) {
            s.pop();
        }
        s
    }

    #[test]
    fn agrees_with_saphyr_on_generated_documents() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut answered = 0;
        for n in 0..60_000 {
            let doc = random_document(&mut rng);
            if same_as_saphyr(&doc, &format!("generated document {n}")) {
                answered += 1;
            }
        }
        assert!(answered > 1_500, "only {answered} generated documents took the fast path");
    }

    #[test]
    fn agrees_with_saphyr_on_mutated_lists() {
        // Each list of the sample corpus, with one line re-indented, cut or given a tricky tail.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/daqing");
        let mut files = Vec::new();
        yaml_files(&dir, &mut files);
        files.sort();
        let mut rng = Rng(42);
        let mut answered = 0;
        for p in &files {
            let text = std::fs::read_to_string(p).unwrap();
            let lines: Vec<&str> = text.lines().take(400).collect();
            for n in 0..300 {
                let at = rng.next() % lines.len();
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    if i == at {
                        match rng.next() % 4 {
                            0 => out.push_str(&format!("{}{}", " ".repeat(rng.next() % 3), l)),
                            1 => out.push_str(l.trim_start()),
                            2 => out.push_str(&format!("{l} {}", rng.pick(VALUES))),
                            // Cut at the middle character.
                            _ => out.push_str(&l[..l.char_indices().nth(l.chars().count() / 2).map_or(0, |(i, _)| i)]),
                        }
                    } else {
                        out.push_str(l);
                    }
                    out.push('\n');
                }
                if same_as_saphyr(&out, &format!("{} mutation {n}", p.display())) {
                    answered += 1;
                }
            }
        }
        assert!(answered > 100, "only {answered} mutated lists took the fast path");
    }

    #[test]
    fn answers_for_the_corners_it_reads() {
        for text in [
            // An indentless sequence starting with a flow collection (saphyr's path once took it
            // for a flow collection and ended it at the next token).
            "a:\n- [x]\n- y: 1   # c\nb: 2\n",
            "a:\n- {x: 1}\n",
            "- x : # c\n- y:\n  z: '1'\n",
            "名称: 道路运输 #1 号\n代码: \"A-1\"  # 注\nk: 'it''s'\nl: []\nm: {}\n",
            "root:\n  deeper:\n    deepest: [a, \"b\", 'c']\n  back: x\n",
            "        - code: x\n          name: y\n",
        ] {
            assert!(same_as_saphyr(text, &text.escape_debug()), "{text:?} is read by saphyr");
        }
    }

    /// A list of about 2 MB: its `items:` are read in pieces, in parallel.
    fn large_list() -> String {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/daqing/market.yaml")).unwrap();
        let at = text.find("\nitems:\n").unwrap() + "\nitems:\n".len();
        let (head, items) = text.split_at(at);
        let mut out = head.to_string();
        while out.len() < 2 * 1024 * 1024 {
            out.push_str(items);
        }
        out
    }

    #[test]
    fn agrees_with_saphyr_on_a_large_list_read_in_pieces() {
        let text = large_list();
        let mut r =
            Reader::new(&text, FileId(0), Limits::default(), text.find("\nitems:\n").unwrap() + "\nitems:\n".len());
        r.advance();
        let first = r.line.unwrap();
        let pieces = r.pieces(first, first.indent()).expect("read in pieces");
        assert!(pieces.len() >= 6, "{} pieces", pieces.len());
        assert!(pieces.windows(2).all(|w| w[0].1 == w[1].0) && pieces.last().unwrap().1 == text.len());
        assert!(same_as_saphyr(&text, &"the large list"));
        assert!(same_as_saphyr(&text.replace('\n', "\r\n"), &"the large list with CRLF line ends"));
        // The sequence ends inside the last piece; and it ends before another sequence of many
        // pieces at the same indentation, so that pieces are cut past its end (read again by one
        // reader).
        assert!(same_as_saphyr(&format!("{text}tail: x\n"), &"the large list and a key after it"));
        let items = text.split_at(text.find("\nitems:\n").unwrap() + "\nitems:\n".len()).1;
        let twice = format!("{text}again:\n{items}");
        let mut r =
            Reader::new(&twice, FileId(0), Limits::default(), twice.find("\nitems:\n").unwrap() + "\nitems:\n".len());
        r.advance();
        let across = r.pieces(first, first.indent()).expect("read in pieces");
        assert!(across.iter().any(|&(b, _)| b > text.len()), "a piece begins after the first sequence");
        assert!(same_as_saphyr(&twice, &"two large lists"));
        // A line indented too far just after a cut between pieces, then one at the very end, and
        // a sequence cut short by a line at the left edge: each is judged as saphyr does.
        for (at, insert) in [(pieces[2].0, "      stray\n"), (text.len(), "   stray: x\n"), (pieces[3].0, "x: 1\n")] {
            let mut t = text.clone();
            t.insert_str(at, insert);
            same_as_saphyr(&t, &format!("the large list with {insert:?} at {at}"));
        }
        let limits = Limits { max_nodes: 1000, ..Limits::default() };
        assert!(parse(&text, FileId(0), limits).is_none());
    }

    #[test]
    fn gives_up_on_what_it_does_not_read() {
        for text in [
            "a: |\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: \"x\\ty\"\n",
            "a: x\n  y\n",
            "a:\tx\n",
            "a: x\rb: y\n",
            "\u{feff}a: x\n",
            "\"a\": x\n",
            "a: {b: c,\n  d: e}\n",
            "a: [b, {c: d: e}]\n",
            "a: [b, c,]\n",
            "--- \na: x\n",
            "# only a comment\n",
            "",
        ] {
            assert!(parse(text, FileId(0), Limits::default()).is_none(), "{text:?}");
        }
    }

    #[test]
    fn limits_make_it_give_up() {
        let text = "a: [1, 2, 3]\nb: 0123456789\n";
        assert!(parse(text, FileId(0), Limits::default()).is_some());
        assert!(parse(text, FileId(0), Limits { max_nodes: 5, ..Limits::default() }).is_none());
        assert!(parse(text, FileId(0), Limits { max_scalar_bytes: 5, ..Limits::default() }).is_none());
        assert!(parse(text, FileId(0), Limits { max_depth: 1, ..Limits::default() }).is_none());
    }
}
