//! `compose serve --metrics ADDR` (docs/tracing.md#metrics-compose-serve---metrics-addr): the Prometheus text the real
//! binary serves, scraped after a known set of requests.

use super::{http_get, start_serve, terminate};
use std::io::BufRead;
use std::time::{Duration, Instant};

/// The samples of `text` (the OpenMetrics text format): `name{labels}` and the value.
fn samples(text: &str) -> Vec<(String, f64)> {
    (text.lines())
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter_map(|(series, value)| Some((series.to_owned(), value.parse().ok()?)))
        .collect()
}

/// The sum of the samples of metric `name` whose labels include each of `labels`
/// (`status="200"`).
fn sum(samples: &[(String, f64)], name: &str, labels: &[&str]) -> f64 {
    (samples.iter())
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name && labels.iter().all(|l| rest.contains(l))
        })
        .map(|(_, value)| value)
        .sum()
}

/// `GET /metrics` of `addr` until `done` holds of its samples (the spans of a request are
/// counted when its handler returns, which may be just after the response), or 10 s.
fn scrape_until(addr: &str, done: impl Fn(&[(String, f64)]) -> bool) -> Vec<(String, f64)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, text) = http_get(addr, "/metrics");
        assert_eq!(status, 200, "{text}");
        let samples = samples(&text);
        if done(&samples) || Instant::now() > deadline {
            return samples;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn metrics_count_the_requests_calls_instantiations_traps_and_deadlines_served() {
    let args = [
        "fixtures/web/workload.toml",
        "--link",
        "per-component",
        "--timeout",
        "1s",
        "--metrics",
        "127.0.0.1:0",
    ];
    let (mut child, addr, mut stderr) = start_serve(&args, &[]);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let metrics = (line.split("metrics on http://").nth(1))
        .and_then(|rest| rest.trim().strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address in {line:?}"))
        .to_owned();
    for name in ["ann", "bob", "cy"] {
        assert_eq!(http_get(&addr, &format!("/greet/{name}")).0, 200);
    }
    // Past the greeter's max-memory (a trap), a trap in the formatter (no name to greet),
    // then past the deadline.
    for path in ["/alloc/100", "/greet/", "/loop"] {
        assert_eq!(http_get(&addr, path).0, 500, "{path}");
    }
    let samples = scrape_until(&metrics, |s| sum(s, "compose_requests_total", &[]) >= 6.0);
    terminate(&child);
    assert_eq!(child.wait().unwrap().code(), Some(0));

    let get = |name: &str, labels: &[&str]| sum(&samples, name, labels);
    let ok = r#"status="200""#;
    assert_eq!(get("compose_requests_total", &[ok]), 3.0, "{samples:?}");
    assert_eq!(get("compose_requests_total", &[r#"status="500""#]), 3.0);
    let latencies = get("compose_request_duration_seconds_count", &[]);
    assert_eq!(latencies, 6.0, "one latency per request");
    let greeter = r#"component="greeter""#;
    let formatter = r#"component="formatter""#;
    let handler = r#"interface="wasi:http/incoming-handler@0.2."#;
    assert_eq!(get("compose_calls_total", &[greeter, handler]), 6.0);
    assert_eq!(get("compose_call_duration_seconds_count", &[greeter]), 6.0);
    let greetings = get("compose_calls_total", &[formatter]);
    assert_eq!(greetings, 4.0, "one per greeting, the failed one too");
    // A store per request: the greeter each time, the formatter when it is called.
    assert_eq!(get("compose_instantiations_total", &[greeter]), 6.0);
    assert_eq!(get("compose_instantiations_total", &[formatter]), 4.0);
    // Each trap once, for the component where it started (not also for the greeter
    // that called the trapping formatter).
    assert_eq!(get("compose_traps_total", &[greeter]), 1.0);
    assert_eq!(get("compose_traps_total", &[formatter]), 1.0);
    assert_eq!(get("compose_deadlines_total", &[greeter]), 1.0);
}
