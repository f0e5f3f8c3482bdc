//! The text of a workload file with a line index, so that every diagnostic finds its line
//! and column in `O(log lines)`; a span in it, and a value with its span ([`Located`]).
//!
//! Why not miette's own `NamedSource<String>`: its `read_span` scans the text from the
//! start for every span, so rendering one diagnostic per component of a 10,000-component
//! workload is quadratic (90% of `compose resolve`'s time, measured in issue 9). Here the
//! index finds the lines around a span and miette's scan runs on that window only.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::ops::Range;
use toml::Spanned;

/// A byte range in the workload file's text.
pub type Span = Range<usize>;

/// A workload file's name and text, with the byte offset where each line starts.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    /// The byte offset of the start of every line; the first is 0.
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Indexes `text`, named `name` in diagnostics.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The file's name as given (the path of the workload file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 0-based line that holds byte `offset` (offsets past the end are on the last line).
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if span.offset() + span.len() > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // The window: whole lines from `context_lines_before` above the span to
        // `context_lines_after` below it.
        let first = self
            .line_of(span.offset())
            .saturating_sub(context_lines_before);
        let last =
            self.line_of((span.offset() + span.len()).saturating_sub(1)) + context_lines_after;
        let start = self.line_starts[first];
        let end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        let window = &self.text.as_bytes()[start..end];
        let local = SourceSpan::new((span.offset() - start).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let shifted = SourceSpan::new((inner.span().offset() + start).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            shifted,
            inner.line() + first,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A value and, when it was read from a workload file, where it is written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its byte range in the workload file.
    pub span: Option<Span>,
}

impl<T> Located<T> {
    /// A value that is not written in any file.
    pub fn new(value: T) -> Self {
        Self { value, span: None }
    }

    /// The same place with the value mapped by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            value: f(self.value),
            span: self.span,
        }
    }
}

impl<T> From<Spanned<T>> for Located<T> {
    fn from(spanned: Spanned<T>) -> Self {
        let span = spanned.span();
        Self {
            value: spanned.into_inner(),
            span: Some(span),
        }
    }
}

impl From<&str> for Located<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}
