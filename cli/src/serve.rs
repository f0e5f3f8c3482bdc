//! `compose serve`: serves a workload's `wasi:http/incoming-handler` over HTTP/1.1 with
//! `compose_host::serve`, until SIGINT or SIGTERM.

use crate::report;
use compose_host::EngineOptions;
use compose_host::Plugins;
use compose_host::serve::{self, HttpWorkload, Reuse, ServeError, ServeOptions};
use compose_host::telemetry::{self, GuestLog, Metrics, Otlp, Telemetry};
use compose_host::wrpc::{Callee, WrpcExports, serve_wrpc_until_signal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `compose serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file (`workload.toml`).
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve the workload's exported functions over wRPC at `tcp://HOST:PORT` as well
    /// (alone, when it has no HTTP handler), each invocation in a store of its own:
    /// another host's `[remotes]` entry, or any wRPC client, calls them.
    #[arg(long, value_name = "URL", value_parser = wrpc_addr)]
    wrpc: Option<SocketAddr>,
    /// End each request after this long, e.g. `500ms`, `2s`: an infinite loop in any
    /// component ends that request with status 500 and an error naming it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    /// Log every request: method, path, status, time, components instantiated.
    #[arg(long)]
    verbose: bool,
    /// Serve at most this many requests at once, with instance slots pre-allocated by
    /// Wasmtime's pooling allocator; 0 allocates on demand, without a limit.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pool: u32,
    /// Admit at most this many requests at once (running, or waiting for a pooled
    /// store); beyond them a request gets `503 Service Unavailable` with `Retry-After`.
    /// 0 admits every request.
    #[arg(long, value_name = "N", default_value_t = serve::MAX_CONCURRENT_REQUESTS)]
    max_concurrent_requests: usize,
    #[command(flatten)]
    offer: crate::offer::Flags,
    #[command(flatten)]
    link: crate::profile::Link,
    #[command(flatten)]
    cache: crate::cache::Flag,
    /// Serve Prometheus metrics at `http://ADDR/metrics`: requests by status, calls,
    /// instantiations, traps and deadlines per component, with latency histograms.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// How long in-flight requests may take to finish after SIGINT or SIGTERM.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10s")]
    grace: Duration,
    /// A WASI 0.3 handler's store serves at most this many requests before it is dropped
    /// (1: a store per request). WASI 0.2 handlers always get a store per request.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    max_instance_reuse_count: u32,
    /// A WASI 0.3 handler's store serves at most this many requests at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    max_instance_concurrent_reuse_count: u32,
    /// How long a WASI 0.3 handler's store without requests is kept for the next one.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "1s")]
    idle_instance_timeout: Duration,
}

/// `tcp://HOST:PORT` as the address to listen on.
fn wrpc_addr(text: &str) -> Result<SocketAddr, String> {
    let address = text
        .strip_prefix("tcp://")
        .ok_or("write `tcp://HOST:PORT` (the wRPC transport `--wrpc` serves)")?;
    address
        .parse()
        .map_err(|e| format!("`{address}` is not an address (`127.0.0.1:7761`): {e}"))
}

/// The workload linked for its exports alone to be served over wRPC at `addr` (each
/// invocation in a store of its own, without the pooling allocator), its calls counted
/// into `metrics`.
fn wrpc_exports(
    args: &Args,
    plan: &compose_resolver::Plan,
    addr: SocketAddr,
    metrics: Option<Metrics>,
) -> Result<WrpcExports, compose_host::HostError> {
    let options = EngineOptions {
        timeout: args.timeout,
        link: args.link.mode,
        compile: args.cache.compile_options(),
        meter: metrics.as_ref().map(Metrics::meter),
        ..EngineOptions::default()
    };
    let host = compose_host::Host::link_with(plan, &Plugins::builtin(), &options)?;
    let offer = std::sync::Arc::new(args.offer.offer(plan));
    Ok(WrpcExports {
        callee: Callee::Host { host, offer },
        plan: std::sync::Arc::new(plan.clone()),
        addr,
    })
}

/// Says where the workload is served.
fn listening(
    name: &str,
    http: Option<SocketAddr>,
    wrpc: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
) {
    if let Some(addr) = http {
        eprintln!("compose serve: workload `{name}` listening on http://{addr}");
    }
    if let Some(addr) = wrpc {
        eprintln!("compose serve: workload `{name}` serving its exports over wRPC on tcp://{addr}");
    }
    if let Some(metrics) = metrics {
        eprintln!("compose serve: metrics on http://{metrics}/metrics");
    }
}

/// Serves until a signal; exit status 0 after a clean shutdown, 1 when the workload
/// cannot be served. Spans are exported when the environment asks for it
/// ([`Otlp::from_env`]), and the last of them sent after the shutdown.
pub fn run(args: Args) -> ExitCode {
    let installed = match telemetry::install(Telemetry {
        otlp: Otlp::from_env(),
        guests: Some(GuestLog::default()),
        ..Telemetry::default()
    }) {
        Ok(installed) => installed,
        Err(error) => return report::failure(&anyhow::Error::new(error)),
    };
    let metrics = match args.metrics.map(scraped).transpose() {
        Ok(metrics) => metrics,
        Err(error) => return report::failure(&error),
    };
    let status = serve(&args, metrics.as_ref());
    report::flush_spans(installed);
    status
}

/// New metrics, served for scraping at `addr`, and the address bound.
fn scraped(addr: SocketAddr) -> anyhow::Result<(Metrics, SocketAddr)> {
    let metrics = Metrics::new();
    let bound = (metrics.serve(addr))
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot listen on {addr}")))?;
    Ok((metrics, bound))
}

/// [`run`] with the subscriber installed, counting into `metrics` (served at its
/// address).
fn serve(args: &Args, metrics: Option<&(Metrics, SocketAddr)>) -> ExitCode {
    let plugins: Plugins<serve::ServeState> = Plugins::builtin();
    let plan = match args
        .sources
        .resolve(&args.workload, &crate::profile::profile())
    {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    report::diagnostics(&plan.warnings);
    let mut options = serve_options(args, &plan);
    options.metrics = metrics.map(|(metrics, _)| metrics.clone());
    let counted = options.metrics.clone();
    let scraped_at = metrics.map(|(_, addr)| *addr);
    let name = plan.name.clone();
    // With `--wrpc`, a workload without an HTTP handler is served over wRPC alone.
    let served = match HttpWorkload::link(&plan, &plugins, options) {
        Ok(workload) => {
            report::unfused(workload.workload());
            serve::serve_until_signal(workload, args.addr, args.wrpc, |http, wrpc| {
                listening(&name, Some(http), wrpc, scraped_at);
            })
        }
        Err(ServeError::NotAnHttpHandler { .. }) if let Some(addr) = args.wrpc => {
            let exports = match wrpc_exports(args, &plan, addr, counted) {
                Ok(exports) => exports,
                Err(error) => return report::host_failure(&plan, error),
            };
            if let Callee::Host { host, .. } = &exports.callee {
                report::unfused(host.workload());
            }
            serve_wrpc_until_signal(exports, args.grace, |addr| {
                listening(&name, None, Some(addr), scraped_at);
            })
        }
        Err(error) => Err(error),
    };
    match served {
        Ok(shutdown) if shutdown.drained => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!(
                "compose serve: requests still running after the grace period were abandoned"
            );
            ExitCode::SUCCESS
        }
        Err(error) => failed(&plan, error),
    }
}

/// How `args` asks `plan` to be served over HTTP.
fn serve_options(args: &Args, plan: &compose_resolver::Plan) -> ServeOptions {
    ServeOptions {
        engine: EngineOptions {
            timeout: args.timeout,
            pooling: (args.pool > 0).then_some(args.pool),
            link: args.link.mode,
            compile: args.cache.compile_options(),
            ..EngineOptions::default()
        },
        verbose: args.verbose,
        grace: args.grace,
        max_concurrent_requests: args.max_concurrent_requests,
        reuse: Reuse {
            max_requests: args.max_instance_reuse_count as usize,
            max_concurrent: args.max_instance_concurrent_reuse_count as usize,
            idle_timeout: args.idle_instance_timeout,
        },
        offer: args.offer.offer(plan),
        ..ServeOptions::default()
    }
}

/// Reports why `plan` cannot be served: exit status 1.
fn failed(plan: &compose_resolver::Plan, error: ServeError) -> ExitCode {
    match error {
        ServeError::Host(error) => report::host_failure(plan, error),
        error => report::failure(&anyhow::Error::new(error)),
    }
}
