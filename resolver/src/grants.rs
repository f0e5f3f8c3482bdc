//! Capability grants: what a component may reach beyond clocks, random and its own
//! standard output and error. Deny by default: a component sees only the environment
//! variables, preopened directories and outgoing `wasi:http` origins that the workload's
//! `[allow]` table and its own `[components.NAME.allow]` grant (the two are added).
//!
//! The origin syntax follows Spin's `allowed_outbound_hosts` (`https://api.example.com`,
//! `http://127.0.0.1:*`, `https://*.example.com`); a directory is written as
//! `wasmtime run --dir` writes one (`HOST::GUEST`), read-only unless it ends in `:rw`.

use std::fmt;
use std::path::{Path, PathBuf};

/// The interfaces through which each kind of grant is used (any version): the key of
/// the `allow` table, the interface as messages name it, and its name's prefix.
pub(crate) const USED_THROUGH: [(&str, &str, &[&str]); 3] = [
    ("env", "wasi:cli/environment", &["wasi:cli/environment@"]),
    (
        "dirs",
        "wasi:filesystem/preopens",
        &["wasi:filesystem/preopens@"],
    ),
    (
        "http",
        "wasi:http/outgoing-handler (or WASI 0.3's wasi:http/client)",
        &["wasi:http/outgoing-handler@", "wasi:http/client@"],
    ),
];

/// What one component may reach: the union of the workload's `[allow]` and its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Environment variables it sees, by name (`*` for every one the host offers).
    pub env: Vec<String>,
    /// Directories preopened for it.
    pub dirs: Vec<DirGrant>,
    /// Origins its outgoing `wasi:http` requests may reach.
    pub http: Vec<Origin>,
}

impl Grants {
    /// Whether it sees environment variable `name`.
    pub fn allows_env(&self, name: &str) -> bool {
        self.env.iter().any(|e| e == "*" || e == name)
    }

    /// Whether an outgoing request to `scheme://authority` may go out (`authority` is
    /// `host[:port]`, the port defaulting to the scheme's).
    pub fn allows_origin(&self, scheme: &str, authority: &str) -> bool {
        self.http.iter().any(|o| o.matches(scheme, authority))
    }

    /// Whether it grants nothing.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.dirs.is_empty() && self.http.is_empty()
    }

    /// `self` with `more` added (each entry once).
    pub fn with(&self, more: &Grants) -> Grants {
        let mut all = self.clone();
        add_new(&mut all.env, &more.env);
        add_new(&mut all.dirs, &more.dirs);
        add_new(&mut all.http, &more.http);
        all
    }
}

/// Appends each item of `from` that `into` does not hold yet.
fn add_new<T: PartialEq + Clone>(into: &mut Vec<T>, from: &[T]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

/// A preopened directory: `HOST::GUEST`, `HOST::GUEST:rw` to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host folder (relative ones are relative to the workload file's folder).
    pub host: PathBuf,
    /// Where the component finds it.
    pub guest: String,
    /// Whether it may change what is in it.
    pub write: bool,
}

impl DirGrant {
    /// Parses `HOST::GUEST[:rw]`, a relative `HOST` joined to `base_dir`.
    ///
    /// # Errors
    /// Why the text is not a directory grant, with the fix.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Self, String> {
        let (host, guest) = text.split_once("::").ok_or_else(|| {
            format!("directory grant `{text}` has no `::`: write `HOST::GUEST` (\"data::/data\"), and `:rw` after it to allow writing")
        })?;
        let (guest, write) = match guest.strip_suffix(":rw") {
            Some(guest) => (guest, true),
            None => (guest.strip_suffix(":ro").unwrap_or(guest), false),
        };
        if host.is_empty() || !guest.starts_with('/') {
            return Err(format!(
                "directory grant `{text}` needs a host folder and an absolute guest path: `HOST::/GUEST` (\"data::/data\")"
            ));
        }
        Ok(Self {
            host: base_dir.join(host),
            guest: guest.to_owned(),
            write,
        })
    }
}

/// An origin outgoing requests may reach: a scheme, a host and a port, each possibly `*`
/// (`*.example.com` for its subdomains).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http`, `https` or `*`.
    pub scheme: String,
    /// A host name or address (lower case), `*`, or `*.SUFFIX`.
    pub host: String,
    /// The port; `None` for any port.
    pub port: Option<u16>,
}

impl Origin {
    /// Parses `SCHEME://HOST[:PORT]` (`PORT` may be `*`; without one, the scheme's own).
    ///
    /// # Errors
    /// Why the text is not an origin, with the fix.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fix =
            "write SCHEME://HOST[:PORT] (\"https://api.example.com\", \"http://127.0.0.1:*\")";
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("origin `{text}` has no scheme: {fix}"))?;
        let (host, port) = split_port(rest);
        let port = match port {
            None => Some(default_port(scheme).ok_or_else(|| {
                format!("origin `{text}` needs a port for scheme `{scheme}`: {fix}")
            })?),
            Some("*") => None,
            Some(port) => Some(
                port.parse()
                    .map_err(|_| format!("origin `{text}` has an invalid port `{port}`: {fix}"))?,
            ),
        };
        let valid_host = !host.is_empty() && !host.contains(['/', '?', '#', '@']);
        if !matches!(scheme, "http" | "https" | "*") || !valid_host {
            return Err(format!(
                "`{text}` is not an origin (scheme http, https or *, then a host, nothing after the port): {fix}"
            ));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `scheme://authority` is to this origin.
    pub fn matches(&self, scheme: &str, authority: &str) -> bool {
        let (host, port) = split_port(authority);
        let port = match port {
            Some(port) => port.parse().ok(),
            None => default_port(scheme),
        };
        let host = host.to_ascii_lowercase();
        let host_matches = match self.host.strip_prefix("*.") {
            _ if self.host == "*" => true,
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|h| h.ends_with('.')),
            None => host == self.host,
        };
        (self.scheme == "*" || self.scheme == scheme)
            && host_matches
            && (self.port.is_none() || self.port == port)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => f.write_str(":*"),
        }
    }
}

/// `host[:port]`, with IPv6 literals in brackets (`[::1]:8080`).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// The port a scheme uses when none is written (RFC 9110).
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_scheme_host_and_port() {
        let api = Origin::parse("https://api.example.com").unwrap();
        assert!(api.matches("https", "api.example.com"));
        assert!(api.matches("https", "API.example.com:443"));
        assert!(!api.matches("http", "api.example.com"));
        assert!(!api.matches("https", "api.example.com:8443"));
        assert!(!api.matches("https", "evil.com"));
        let local = Origin::parse("http://127.0.0.1:*").unwrap();
        assert!(local.matches("http", "127.0.0.1:5000"));
        assert!(!local.matches("http", "127.0.0.2:5000"));
        let sub = Origin::parse("https://*.example.com").unwrap();
        assert!(sub.matches("https", "a.example.com"));
        assert!(!sub.matches("https", "example.com"));
        assert!(!sub.matches("https", "aexample.com"));
        let v6 = Origin::parse("http://[::1]:8080").unwrap();
        assert!(v6.matches("http", "[::1]:8080"));
    }

    #[test]
    fn malformed_origins_and_dirs_say_how_to_write_them() {
        for bad in [
            "api.example.com",
            "ftp://x",
            "https://x/path",
            "http://x:port",
        ] {
            let why = Origin::parse(bad).unwrap_err();
            assert!(why.contains("SCHEME://HOST"), "{bad}: {why}");
        }
        let base = Path::new("/w");
        assert!(
            DirGrant::parse("data", base)
                .unwrap_err()
                .contains("HOST::GUEST")
        );
        assert!(DirGrant::parse("data::rel", base).is_err());
        let rw = DirGrant::parse("data::/data:rw", base).unwrap();
        assert_eq!(
            (rw.host.as_path(), rw.guest.as_str(), rw.write),
            (Path::new("/w/data"), "/data", true)
        );
    }
}
