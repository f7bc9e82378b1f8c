//! Pieces of a list file: an item or a chain cut out of its file and parsed alone. The streaming
//! check (`crate::check`) checks items again this way in its phase 2, and fixes
//! (`crate::fix`) find the node of a material in its item without parsing the whole file.
#![deny(clippy::arithmetic_side_effects)]

use std::sync::Arc;

use crate::source::{SourceFile, Span};

/// Where an item or a chain is written: from the start of its first line to its end.
#[derive(Debug, Clone, Copy)]
pub struct Piece {
    /// Byte offset of the start of the line the piece starts on.
    pub line_start: u32,
    /// Byte offset where the piece itself starts (after `- ` and indentation).
    pub start: u32,
    pub end: u32,
    /// 1-based line number of `line_start`.
    pub line: u32,
}

impl Piece {
    /// The same piece with offsets counted from its line start: the piece of the text
    /// [`Parts::text`](super::Parts::text) reads from there.
    #[must_use]
    pub fn within_line(self) -> Piece {
        Piece {
            line_start: 0,
            start: self.start.saturating_sub(self.line_start),
            end: self.end.saturating_sub(self.line_start),
            line: self.line,
        }
    }
}

/// The piece of `text` that `span` covers, from the start of its line.
#[must_use]
pub fn piece(src: &SourceFile, span: Span) -> Piece {
    let (line_start, line) = src.line_start(span.start as usize);
    Piece {
        line_start: u32::try_from(line_start).unwrap_or(u32::MAX),
        start: span.start,
        end: span.end,
        line: u32::try_from(line).unwrap_or(u32::MAX),
    }
}

/// Cuts `p` out of `text` (file `name`): the text before the piece on its first line becomes spaces, so the
/// piece parses alone and every offset and column stays what it was in the file.
#[must_use]
pub fn cut(name: impl Into<Arc<str>>, text: &str, p: Piece) -> Option<SourceFile> {
    let prefix = text.get(p.line_start as usize..p.start as usize)?;
    if !prefix.is_ascii() {
        return None;
    }
    // The rest of the last line too, when it holds only a comment: a fix that removes a last
    // material removes its line break with it.
    let line_end = text.get(p.end as usize..).map_or(p.end as usize, |rest| {
        let eol = rest.find('\n').map_or(rest.len(), |i| i.saturating_add(1));
        let tail = rest.get(..eol).unwrap_or("").trim_start();
        if tail.is_empty() || tail.starts_with('#') { (p.end as usize).saturating_add(eol) } else { p.end as usize }
    });
    let body = text.get(p.start as usize..line_end)?;
    let mut cut = String::with_capacity(prefix.len().saturating_add(body.len()));
    cut.extend(std::iter::repeat_n(' ', prefix.len()));
    cut.push_str(body);
    Some(SourceFile::fragment(name, cut, p.line as usize))
}
