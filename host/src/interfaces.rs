//! The host interfaces (`[host] interfaces`) this host serves itself: WASI 0.2 as
//! `wasmtime-wasi` serves it (p2, sync) and `wasi:config/store` (the `config` plugin).

/// The packages of WASI 0.2 that `wasmtime-wasi` serves.
pub const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// What this host serves, as `[host] interfaces` patterns: `wasi:<package>/*@0.2.0` for
/// each of [`WASI_PACKAGES`] (which matches every 0.2.x, semver-compatibly) and
/// `wasi:config/store` at each version [`crate::config`] serves (pre-releases match only
/// exactly).
pub fn served() -> Vec<String> {
    let mut served: Vec<String> = WASI_PACKAGES
        .iter()
        .map(|p| format!("wasi:{p}/*@0.2.0"))
        .collect();
    served.extend(crate::config::interfaces());
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
        assert!(!serves("wasi:cli/environment@0.3.0"));
        assert!(serves("wasi:config/store@0.2.0-draft"));
        assert!(serves("wasi:config/store@0.2.0-rc.1"));
        assert!(!serves("wasi:config/store@0.2.0-rc.2"));
        assert!(!serves("wasi:keyvalue/store@0.2.0-draft"));
    }
}
