//! What every failure must look like.

use compose_resolver::{Plan, ResolveError};

/// Every diagnostic of a failed resolution has a `compose::` code; when the workload came
/// from `text`, each has a span inside it, a line and column, and renders with miette; the
/// JSON lists every problem.
///
/// # Panics
/// When one does not (the fuzzer then reports the input).
pub fn resolve_error(error: &ResolveError, text: Option<&str>) {
    assert!(
        error.errors().next().is_some(),
        "a ResolveError without errors"
    );
    for d in &error.diagnostics {
        let code = d.problem.code();
        assert!(code.starts_with("compose::"), "`{d}` has the code `{code}`");
        let mut rendered = String::new();
        miette::GraphicalReportHandler::new()
            .render_report(&mut rendered, d)
            .expect("a diagnostic renders");
        let Some(text) = text else { continue };
        let span = d
            .span
            .as_ref()
            .unwrap_or_else(|| panic!("{code} `{d}` has no span"));
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "{code} `{d}` has the span {span:?} outside the text"
        );
        assert!(
            d.line_column().is_some(),
            "{code} `{d}` has no line and column"
        );
    }
    let json = error.to_json();
    assert_eq!(
        json["problems"].as_array().map(Vec::len),
        Some(error.diagnostics.len()),
        "the JSON lists every problem"
    );
}

/// A resolved plan prints (text and JSON) and composes or fails with an error; neither panics.
pub fn plan(plan: &Plan) {
    let _ = plan.to_string();
    let _ = plan.to_json();
    let _ = compose_static::compose(plan, &compose_static::ComposeOptions::default());
}
