//! One diagnostic type for problems that stop a run (exit code 2): malformed input, bad
//! configuration, invalid policies. Each carries its source text, so miette can show the
//! offending line, and a help line that says what to do.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::source::{SourceFile, Span};

/// A located problem in an input file. Boxed where it is large, so `Result`s stay small.
#[derive(Debug, Clone)]
pub struct SourceError {
    pub code: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub src: Option<Box<SourceFile>>,
    pub span: Option<Span>,
}

impl SourceError {
    #[must_use]
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SourceError { code, message: message.into(), label: String::new(), help: None, src: None, span: None }
    }

    #[must_use]
    pub fn at(mut self, src: &SourceFile, span: Span, label: impl Into<String>) -> Self {
        self.src = Some(Box::new(src.clone()));
        self.span = Some(span);
        self.label = label.into();
        self
    }

    #[must_use]
    pub fn in_file(mut self, src: &SourceFile) -> Self {
        self.src = Some(Box::new(src.clone()));
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, for plain-text contexts (tests, JSON).
    #[must_use]
    pub fn location(&self) -> Option<String> {
        let src = self.src.as_ref()?;
        match self.span {
            Some(span) => Some(format!("{}:{}", src.name(), src.line_col(span.start as usize))),
            None => Some(src.name().to_string()),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}

impl Diagnostic for SourceError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match (&self.src, self.span) {
            (Some(src), Some(_)) => Some(&**src as &dyn SourceCode),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        self.src.as_ref()?;
        let label = if self.label.is_empty() { None } else { Some(self.label.clone()) };
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(label, span.to_source_span()))))
    }
}

/// Several problems reported together (parsing and checking go on after the first one).
#[derive(Debug, Clone)]
pub struct Problems {
    pub summary: String,
    pub problems: Vec<SourceError>,
}

impl Problems {
    #[must_use]
    pub fn new(summary: impl Into<String>, problems: Vec<SourceError>) -> Self {
        Problems { summary: summary.into(), problems }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for Problems {}

impl Diagnostic for Problems {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

impl From<SourceError> for Problems {
    fn from(e: SourceError) -> Self {
        let summary = e.message.clone();
        if e.src.is_some() {
            Problems { summary: crate::tr!("输入有误", "invalid input"), problems: vec![e] }
        } else {
            Problems { summary, problems: vec![e] }
        }
    }
}

/// "did you mean" against a set of candidates (Jaro–Winkler over characters, which suits short
/// Chinese and English keys alike).
#[must_use]
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(word, c);
        if score > 0.7 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}
