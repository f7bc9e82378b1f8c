//! Source files and spans.
//!
//! Every value that qingdan reports on points back into the text it came from. A [`Span`] is a
//! byte range into one [`SourceFile`]; line and column (1-based, columns in Unicode scalar values
//! as SPEC §9 requires) are computed on demand from a line-start table, so spans stay small.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    #[must_use]
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { file, start, end }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The smallest span covering both.
    #[must_use]
    pub fn join(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    #[must_use]
    pub fn to_source_span(self) -> SourceSpan {
        SourceSpan::new((self.start as usize).into(), self.len())
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One loaded text with its line-start table.
///
/// It implements [`miette::SourceCode`] itself: miette's own `str` implementation scans the
/// whole file for every diagnostic and reports byte columns on lines with Chinese text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
    /// Made with the file; a fragment's when first asked (see [`SourceFile::fragment`]). Shared
    /// by the clones.
    index: Arc<OnceLock<LineIndex>>,
    /// Lines before the text's first line: a fragment cut from a larger file at a line start
    /// reports the lines of that file (see [`SourceFile::fragment`]).
    line_base: u32,
}

/// Where a text's lines start, and where to count its columns from.
#[derive(Debug)]
struct LineIndex {
    starts: Box<[u32]>,
    /// About every [`CHECKPOINT`] bytes, on a character boundary: (byte offset, characters from
    /// its line's start). Columns on long lines (a file written on one line) are then counted
    /// from the nearest checkpoint, not from the start of the line for every finding.
    checkpoints: Box<[(u32, u32)]>,
}

/// Distance between column checkpoints, in bytes.
const CHECKPOINT: usize = 4096;

impl SourceFile {
    #[must_use]
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let index = Arc::new(OnceLock::from(LineIndex::of(&text)));
        SourceFile { name: name.into(), text, index, line_base: 0 }
    }

    /// A piece of the file `name` that starts at the beginning of its line `first_line`
    /// (1-based): line numbers are reported as in the whole file; columns are unchanged because
    /// the piece starts at a line start. Its lines are found when first asked: the streaming
    /// check cuts thousands of pieces to check them again, and reports on few.
    #[must_use]
    pub fn fragment(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>, first_line: usize) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
            index: Arc::new(OnceLock::new()),
            line_base: u32::try_from(first_line.saturating_sub(1)).unwrap_or(u32::MAX),
        }
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::of(&self.text))
    }

    /// Characters from `line_start` to `offset` (both on character boundaries of one line).
    fn chars_between(&self, line_start: usize, offset: usize) -> usize {
        let at = u32::try_from(offset).unwrap_or(u32::MAX);
        let checkpoints = &self.index().checkpoints;
        let i = checkpoints.partition_point(|&(pos, _)| pos <= at);
        let (from, counted) = match i.checked_sub(1).and_then(|k| checkpoints.get(k)) {
            Some(&(pos, chars)) if pos as usize >= line_start => (pos as usize, chars as usize),
            _ => (line_start, 0),
        };
        counted.saturating_add(self.text.get(from..offset).map_or(0, |s| s.chars().count()))
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file's name, shared (a fragment cut out of the file names it too).
    #[must_use]
    pub fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    #[must_use]
    pub fn text_arc(&self) -> Arc<str> {
        self.text.clone()
    }

    /// 0-based line index and the byte offset of its start.
    fn line_of(&self, offset: usize) -> (usize, usize) {
        let offset = u32::try_from(offset.min(self.text.len())).unwrap_or(u32::MAX);
        let starts = &self.index().starts;
        let idx = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = starts.get(idx).copied().unwrap_or(0) as usize;
        (idx, start)
    }

    /// The byte offset of the start of the line that `offset` is on, and its 1-based number (as
    /// [`SourceFile::line_col`] numbers lines).
    #[must_use]
    pub fn line_start(&self, offset: usize) -> (usize, usize) {
        let (line, start) = self.line_of(offset);
        (start, line.saturating_add(1).saturating_add(self.line_base as usize))
    }

    /// 1-based line and column (in Unicode scalar values) of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let (line, start) = self.line_of(offset);
        let column = self.chars_between(start, offset);
        LineCol { line: line + 1 + self.line_base as usize, column: column + 1 }
    }

    /// The text of a span (empty if the span does not fit the file).
    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }
}

impl LineIndex {
    fn of(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0u32];
        starts
            .extend(memchr::memchr_iter(b'\n', bytes).map(|i| u32::try_from(i.saturating_add(1)).unwrap_or(u32::MAX)));
        // A checkpoint is the first character boundary at or after every CHECKPOINT bytes; its
        // column is counted from the previous checkpoint when that is on the same line, so a file
        // on one long line is still read once.
        let mut checkpoints: Vec<(u32, u32)> = Vec::new();
        let mut previous: Option<(usize, usize)> = None;
        let mut next_checkpoint = CHECKPOINT;
        while next_checkpoint < bytes.len() {
            let at = ceil_char_boundary(text, next_checkpoint);
            if at >= bytes.len() {
                break;
            }
            // From the line table, not by searching back: that would read a long line once per checkpoint.
            let line = starts.partition_point(|&s| s as usize <= at).saturating_sub(1);
            let line_start = starts.get(line).map_or(0, |&s| s as usize);
            let (from, counted) = match previous {
                Some((pos, column)) if pos >= line_start => (pos, column),
                _ => (line_start, 0),
            };
            let column = counted.saturating_add(text.get(from..at).map_or(0, |s| s.chars().count()));
            checkpoints.push((u32::try_from(at).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX)));
            previous = Some((at, column));
            next_checkpoint = at.saturating_add(CHECKPOINT);
        }
        LineIndex { starts: starts.into(), checkpoints: checkpoints.into() }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i = i.saturating_add(1);
    }
    i.min(s.len())
}

/// Longest snippet shown for one label, in bytes. A file written on one long line (minified, or
/// flow style) would otherwise be printed whole for every finding in it.
const MAX_SNIPPET: usize = 4096;
/// Bytes of context shown either side of a span on such a line.
const LONG_LINE_CONTEXT: usize = 160;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.text;
        let start = span.offset().min(text.len());
        let end = (span.offset() + span.len()).min(text.len()).max(start);
        let (first_line, _) = self.line_of(start);
        let (last_line, _) = self.line_of(end.saturating_sub(usize::from(end > start)));
        let starts = &self.index().starts;
        let from_line = first_line.saturating_sub(context_lines_before);
        let to_line = (last_line + context_lines_after).min(starts.len().saturating_sub(1));
        let from = starts.get(from_line).copied().unwrap_or(0) as usize;
        let to = starts.get(to_line + 1).map_or(text.len(), |&s| (s as usize).saturating_sub(1));
        let mut to = to.max(from).min(text.len());
        let (mut from, mut from_line, mut to_line) = (from, from_line, to_line);
        // Columns for miette's header: count characters, not bytes.
        let line_start = starts.get(first_line).copied().unwrap_or(0) as usize;
        if to.saturating_sub(from) > MAX_SNIPPET {
            // Long lines: only the span's own lines, cut to a window around it.
            let line_end =
                starts.get(last_line.saturating_add(1)).map_or(text.len(), |&s| (s as usize).saturating_sub(1));
            from = floor_char_boundary(text, start.saturating_sub(LONG_LINE_CONTEXT).max(line_start));
            to = ceil_char_boundary(text, end.saturating_add(LONG_LINE_CONTEXT).min(line_end.max(end))).max(from);
            from_line = first_line;
            to_line = last_line;
        }
        let column = self.chars_between(line_start, floor_char_boundary(text, start));
        let data = text.get(from..to).unwrap_or("").as_bytes();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            data,
            SourceSpan::new(from.into(), to - from),
            from_line + self.line_base as usize,
            column,
            to_line - from_line + 1,
        )))
    }
}

/// All files of one run, indexed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A map of these files, `FileId(0)` first.
    #[must_use]
    pub fn from_files(files: Vec<SourceFile>) -> Self {
        SourceMap { files }
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    #[must_use]
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    #[must_use]
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", SourceFile::name)
    }

    #[must_use]
    pub fn line_col(&self, span: Span) -> (LineCol, LineCol) {
        match self.get(span.file) {
            Some(f) => (f.line_col(span.start as usize), f.line_col(span.end as usize)),
            None => (LineCol { line: 1, column: 1 }, LineCol { line: 1, column: 1 }),
        }
    }

    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).map_or("", |f| f.slice(span))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line's start and number are those of the last line break before the offset, in a
    /// file and in a fragment of one.
    #[test]
    fn line_starts_are_after_the_last_line_break() {
        let text = "a: 甲\n\n  - b: 乙\r\n  c\n";
        for (f, base) in [(SourceFile::new("a.yaml", text), 0), (SourceFile::fragment("a.yaml", text, 40), 39)] {
            for offset in 0..=text.len() {
                let start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
                let line = text.get(..offset).map(|t| t.matches('\n').count()).unwrap_or_default() + 1 + base;
                if text.is_char_boundary(offset) {
                    assert_eq!(f.line_start(offset), (start, line), "at {offset}");
                    assert_eq!(f.line_col(offset).line, line, "at {offset}");
                }
            }
        }
    }

    #[test]
    fn columns_count_scalar_values() {
        let f = SourceFile::new("a.yaml", "name: 道路运输\n  code: x\n");
        // "x" is at byte 24 (the Chinese text is 12 bytes, 4 chars).
        let off = f.text().find('x').unwrap_or(0);
        assert_eq!(f.line_col(off), LineCol { line: 2, column: 9 });
        let off = f.text().find('运').unwrap_or(0);
        assert_eq!(f.line_col(off), LineCol { line: 1, column: 9 });
    }

    #[test]
    fn columns_on_long_lines_use_checkpoints_and_agree_with_counting() {
        // Three long lines of mixed one- and three-byte characters: every offset's column is the
        // number of characters before it on its line.
        let line: String = (0..3000).map(|i| if i % 3 == 0 { '运' } else { 'a' }).collect();
        let text = format!("{line}\n{line}{line}\nx\n{line}");
        // A file's lines are found when it is made, a fragment's when first asked.
        for f in [SourceFile::new("long.yaml", text.as_str()), SourceFile::fragment("long.yaml", text.as_str(), 1)] {
            let mut line_no = 1;
            let mut column = 1;
            for (off, c) in text.char_indices() {
                assert_eq!(f.line_col(off), LineCol { line: line_no, column }, "at byte {off}");
                if c == '\n' {
                    line_no += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            assert!(f.index().checkpoints.len() > 3);
        }
    }
}
