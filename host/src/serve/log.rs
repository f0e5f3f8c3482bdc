//! What the server logs of a request: [`RequestLog`], and where a failed request started
//! ([`RequestFailure`]).

use compose_linker::{CallError, Usage};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One request, as the server logs it: at `--verbose` every request, else only failed ones.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// The workload.
    pub workload: String,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// The response's status.
    pub status: u16,
    /// From receiving the request to the handler's return.
    pub elapsed: Duration,
    /// The components instantiated for the request, in the workload's order.
    pub instantiated: Vec<String>,
    /// What each of them held when the handler returned: linear memory, table elements
    /// and how long it took to instantiate (`compose cost --measure` reads it).
    pub usage: Vec<Usage>,
    /// Why the request failed, if it did.
    pub failure: Option<RequestFailure>,
}

/// Where and why a request failed: the innermost component and function of the failure.
#[derive(Debug, Clone)]
pub struct RequestFailure {
    /// The component where the failure started (if known).
    pub component: Option<String>,
    /// Its function, `interface#function` (if known).
    pub function: Option<String>,
    /// The root cause: the trap, `the call ran past its deadline ...`, the memory cap.
    pub message: String,
}

/// What running one request's handler did: the components live in its store when it
/// returned, and why it failed.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) usage: Vec<Usage>,
    pub(crate) failure: Option<RequestFailure>,
}

impl Outcome {
    /// A request that failed with `message`, no component to name.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            usage: Vec::new(),
            failure: Some(RequestFailure {
                component: None,
                function: None,
                message: message.into(),
            }),
        }
    }
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let (method, path, status) = (&self.method, &self.path, self.status);
        match &self.failure {
            None => write!(
                f,
                "{method} {path} {status} {ms:.2}ms instantiated: [{}]",
                self.instantiated.join(", ")
            ),
            Some(failure) => {
                write!(f, "error: workload `{}`", self.workload)?;
                if let Some(component) = &failure.component {
                    write!(f, ", component `{component}`")?;
                }
                if let Some(function) = &failure.function {
                    write!(f, ", {function}")?;
                }
                write!(
                    f,
                    ": {} ({method} {path} -> {status} after {ms:.2}ms)",
                    failure.message
                )
            }
        }
    }
}

/// Where request logs go: standard error by default.
pub type Logger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

impl RequestFailure {
    /// Where a failed call started, and its root cause, for the log line.
    pub(crate) fn of_call(error: &CallError) -> Self {
        let innermost = error.innermost();
        let mut root: &dyn std::error::Error = error;
        while let Some(cause) = root.source() {
            root = cause;
        }
        Self {
            component: innermost.component().map(str::to_owned),
            function: innermost.func().map(ToString::to_string),
            message: root.to_string().replace('\n', " "),
        }
    }
}

/// An error and its causes, on one line.
pub(crate) fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text += &format!(": {e}");
        cause = e.source();
    }
    text.replace('\n', " ")
}
