//! What resolving returns when a workload does not resolve: every problem found, and what
//! did resolve.

use crate::diagnostic::{Diagnostic, Problem, Severity};
use crate::plan::PartialPlan;

/// Every problem found in one run: returned when a workload does not resolve.
///
/// It holds the errors and the warnings found together with them, in the order of the
/// workload file. It is never empty of errors.
#[derive(Debug, Clone, thiserror::Error)]
#[error("workload does not resolve: {} error(s)", self.errors().count())]
pub struct ResolveError {
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// What did resolve, when the workload file could be read and parsed.
    pub partial: Option<Box<PartialPlan>>,
}

impl ResolveError {
    /// The diagnostics that stop the workload from resolving.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
    }

    /// The problems of every diagnostic, errors and warnings, in order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.diagnostics.iter().map(|d| &d.problem)
    }
}

impl ResolveError {
    /// An error of `diagnostics` with no partial plan.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            partial: None,
        }
    }
}

impl From<Diagnostic> for ResolveError {
    fn from(diagnostic: Diagnostic) -> Self {
        Self {
            diagnostics: vec![diagnostic],
            partial: None,
        }
    }
}
