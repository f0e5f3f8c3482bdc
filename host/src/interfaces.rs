//! The host interfaces (`[host] interfaces`) this host serves: WASI 0.2 as `wasmtime-wasi`
//! serves it (p2, sync) and `wasi:config/store` (the `config` plugin).

use compose_resolver::HostPattern;

/// The packages of WASI 0.2 that `wasmtime-wasi` serves.
pub const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// What this host serves, in words, for messages.
pub fn served() -> String {
    let mut served: Vec<String> = WASI_PACKAGES
        .iter()
        .map(|p| format!("wasi:{p}/*@0.2"))
        .collect();
    served.extend(crate::config::interfaces());
    served.join(", ")
}

/// Whether this host serves everything a `[host] interfaces` entry (a name or pattern)
/// stands for.
pub fn serves(pattern: &str) -> bool {
    is_wasi_p2(pattern) || is_config(pattern)
}

/// Whether a `[host] interfaces` entry lies within WASI 0.2 as `wasmtime-wasi` serves it.
pub fn is_wasi_p2(pattern: &str) -> bool {
    let version_ok = |version: Option<&str>| {
        version
            .is_some_and(|v| semver::Version::parse(v).is_ok_and(|v| v.major == 0 && v.minor == 2))
    };
    match HostPattern::parse(pattern) {
        Some(HostPattern::Exact(name)) => {
            let Some((package, version)) = wasi_package(&name) else {
                return false;
            };
            WASI_PACKAGES.contains(&package) && version_ok(version)
        }
        Some(HostPattern::Wildcard {
            namespace,
            package,
            version,
        }) => {
            namespace == "wasi"
                && package
                    .as_deref()
                    .is_none_or(|p| WASI_PACKAGES.contains(&p))
                && version_ok(version.as_deref())
        }
        None => false,
    }
}

/// Whether the entry is `wasi:config/store` (or `wasi:config/*`) at a served version.
/// Pre-release versions match only exactly, as the component model matches them.
fn is_config(pattern: &str) -> bool {
    let version_ok = |v: Option<&str>| v.is_some_and(|v| crate::config::VERSIONS.contains(&v));
    match HostPattern::parse(pattern) {
        Some(HostPattern::Exact(name)) => name
            .strip_prefix("wasi:config/store@")
            .is_some_and(|v| version_ok(Some(v))),
        Some(HostPattern::Wildcard {
            namespace,
            package,
            version,
        }) => {
            namespace == "wasi"
                && package.as_deref() == Some("config")
                && version_ok(version.as_deref())
        }
        None => false,
    }
}

/// `wasi:<package>/<rest>@<version>` → the package and the version.
fn wasi_package(name: &str) -> Option<(&str, Option<&str>)> {
    let rest = name.strip_prefix("wasi:")?;
    let (package, rest) = rest.split_once('/')?;
    Some((package, rest.split_once('@').map(|(_, v)| v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_patterns() {
        assert!(is_wasi_p2("wasi:cli/*@0.2.0"));
        assert!(is_wasi_p2("wasi:cli/environment@0.2.3"));
        assert!(is_wasi_p2("wasi:*@0.2.0"));
        assert!(!is_wasi_p2("wasi:http/*@0.2.0"));
        assert!(!is_wasi_p2("wasi:cli/*@0.3.0"));
        assert!(!is_wasi_p2("acme:kv/store@0.1.0"));
    }

    #[test]
    fn config_patterns() {
        assert!(serves("wasi:config/store@0.2.0-draft"));
        assert!(serves("wasi:config/*@0.2.0-rc.1"));
        assert!(!serves("wasi:config/store@0.2.0-rc.2"));
        assert!(!serves("wasi:config/store@0.3.0"));
        assert!(!serves("wasi:keyvalue/store@0.2.0-draft"));
    }
}
