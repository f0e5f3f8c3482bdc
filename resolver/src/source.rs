//! The text of a workload file with a line index, so that every diagnostic finds its line
//! and column in `O(log lines)`.
//!
//! Why not miette's own `NamedSource<String>`: its `read_span` scans the text from the
//! start for every span, so rendering one diagnostic per component of a 10,000-component
//! workload is quadratic (90% of `compose resolve`'s time, measured in issue 9). Here the
//! index finds the lines around a span and miette's scan runs on that window only.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

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
