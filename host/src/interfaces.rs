//! The host interfaces (`[host] interfaces`) this host serves itself: WASI 0.2 as
//! `wasmtime-wasi` serves it (p2, sync), WASI 0.3 (p3) to workloads with async functions,
//! `wasi:config/store` ([`crate::wasi_config`]) and `wasi:logging/logging`
//! ([`crate::wasi_logging`]).

/// The packages of WASI 0.2 that `wasmtime-wasi` serves.
pub const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// The packages of WASI 0.3 that `wasmtime-wasi` serves (p3). WASI 0.3 needs Wasmtime's
/// concurrency support, so the host links them for workloads with async functions
/// ([`Plan::needs_concurrency`](compose_resolver::Plan::needs_concurrency)), which every WASI 0.3 program is (its `run`
/// and its streams are async).
pub const WASI_P3_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "random", "sockets"];

/// What this host serves, as `[host] interfaces` patterns: `wasi:<package>/*@0.2.0` for
/// each of [`WASI_PACKAGES`] (which matches every 0.2.x, semver-compatibly),
/// `wasi:<package>/*@0.3.0` for each of [`WASI_P3_PACKAGES`], and `wasi:config/store` at
/// each version [`crate::wasi_config`] serves, and `wasi:logging/logging@0.1.0-draft`
/// (pre-releases match only exactly).
pub fn served() -> Vec<String> {
    let p2 = WASI_PACKAGES.iter().map(|p| format!("wasi:{p}/*@0.2.0"));
    let p3 = WASI_P3_PACKAGES.iter().map(|p| format!("wasi:{p}/*@0.3.0"));
    let mut served: Vec<String> = p2.chain(p3).collect();
    served.extend(crate::wasi_config::interfaces());
    served.push(crate::wasi_logging::INTERFACE.to_owned());
    served
}

#[cfg(test)]
mod tests {
    use super::*;
    use compose_resolver::HostPattern;

    fn serves(name: &str) -> bool {
        served()
            .iter()
            .any(|p| HostPattern::parse(p).expect("a pattern").matches(name))
    }

    #[test]
    fn served_interfaces() {
        assert!(serves("wasi:cli/environment@0.2.0"));
        assert!(serves("wasi:cli/environment@0.2.6"));
        assert!(serves("wasi:io/streams@0.2.3"));
        assert!(!serves("wasi:http/types@0.2.0"));
        // WASI 0.3 (for workloads with async functions): no `wasi:io`, which it dropped.
        assert!(serves("wasi:cli/environment@0.3.0"));
        assert!(serves("wasi:clocks/monotonic-clock@0.3.0"));
        assert!(!serves("wasi:io/streams@0.3.0"));
        assert!(!serves("wasi:cli/environment@0.4.0"));
        assert!(serves("wasi:config/store@0.2.0-draft"));
        assert!(serves("wasi:config/store@0.2.0-rc.1"));
        assert!(!serves("wasi:config/store@0.2.0-rc.2"));
        assert!(!serves("wasi:keyvalue/store@0.2.0-draft"));
        assert!(serves("wasi:logging/logging@0.1.0-draft"));
        assert!(!serves("wasi:logging/logging@0.1.0"));
    }
}
