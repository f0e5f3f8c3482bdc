//! `source = "oci://HOST[:PORT]/REPO:TAG[@sha256:…]"`: a component in an OCI registry, as
//! the workload file names it. Only the syntax lives here (the resolver has no network
//! code); compose-registry pulls the artifact and fills in [`OciSource::pulled`].
//!
//! The grammar is the OCI distribution spec's (`distribution-spec/spec.md`, "Pulling
//! manifests"): a repository is `/`-separated path components, each
//! `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`; a tag is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`; a
//! digest is `algorithm:hex`, of which this toolchain accepts `sha256:` and 64 lowercase
//! hexadecimal digits (image-spec `descriptor.md`, "Digests": the algorithm every registry
//! must support). A reference names a tag, a digest or both; never neither, because an
//! implied `latest` is not a version anyone can lock.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// The scheme that marks a registry source.
pub const OCI_SCHEME: &str = "oci://";

/// A parsed `oci://` reference: registry, repository, and a tag, a digest or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OciReference {
    /// `HOST[:PORT]`, as written (`ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The repository in the registry (`acme/kv-memory`).
    pub repository: String,
    /// The tag (`1.2.0`), if written.
    pub tag: Option<String>,
    /// The manifest digest the reference is pinned to (`sha256:` and 64 hex digits), if
    /// written.
    pub digest: Option<String>,
}

/// Why a text is not an `oci://` reference; the message says what would fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an OCI reference: {reason}")]
pub struct OciReferenceError {
    /// The text as written.
    pub text: String,
    /// What is wrong, and the form that is expected.
    pub reason: String,
}

impl OciReference {
    /// The reference without the scheme, as registries and other tools write it
    /// (`127.0.0.1:5000/acme/kv:1.2.0@sha256:…`).
    pub fn to_registry_form(&self) -> String {
        let mut out = format!("{}/{}", self.registry, self.repository);
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`, `[::1]`), where
    /// plain HTTP is allowed without `--insecure-registry`.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(rest),
            None => self.registry.split(':').next().unwrap_or(&self.registry),
        };
        host == "localhost"
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{OCI_SCHEME}{}", self.to_registry_form())
    }
}

impl FromStr for OciReference {
    type Err = OciReferenceError;

    /// Parses `oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX]` (at least one of the tag and the
    /// digest).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| OciReferenceError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = text.strip_prefix(OCI_SCHEME).ok_or_else(|| {
            fail("it must start with `oci://` (`oci://ghcr.io/acme/kv-memory:1.2.0`)")
        })?;
        let (rest, digest) = match rest.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (rest, None),
        };
        if let Some(digest) = digest
            && !is_sha256_digest(digest)
        {
            return Err(fail(
                "the digest after `@` must be `sha256:` and 64 lowercase hexadecimal digits",
            ));
        }
        let (registry, path) = rest.split_once('/').ok_or_else(|| {
            fail("it names no repository: write `oci://HOST[:PORT]/REPOSITORY:TAG`")
        })?;
        if !is_registry(registry) {
            return Err(fail(
                "the registry must be a host name or address, with an optional port (`ghcr.io`, `127.0.0.1:5000`)",
            ));
        }
        // The tag follows the last `:` of the last path component (a `:` before it would
        // be in the repository, which never has one).
        let last = path.rsplit('/').next().unwrap_or(path);
        let (repository, tag) = match last.rsplit_once(':') {
            Some((_, tag)) => (&path[..path.len() - tag.len() - 1], Some(tag)),
            None => (path, None),
        };
        if !is_repository(repository) {
            return Err(fail(
                "the repository must be `/`-separated lowercase names of letters and digits, joined by `.`, `_`, `__` or `-` (`acme/kv-memory`)",
            ));
        }
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(fail(
                "a tag is 1 to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
            ));
        }
        if tag.is_none() && digest.is_none() {
            return Err(fail(
                "it names neither a tag nor a digest: write `:TAG` (`:1.2.0`), `@sha256:…` or both; there is no implied `latest`",
            ));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }
}

/// `sha256:` and 64 lowercase hexadecimal digits.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A host name, an IPv4 address or a bracketed IPv6 address, and an optional port.
fn is_registry(text: &str) -> bool {
    let port_ok = |port: Option<&str>| port.is_none_or(|p| p.parse::<u16>().is_ok());
    if let Some(rest) = text.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            after => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        return ip.parse::<std::net::Ipv6Addr>().is_ok() && port_ok(port);
    }
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    host_ok && port_ok(port)
}

/// The distribution spec's repository name: path components of lowercase alphanumerics
/// joined by `.`, `_`, `__` or runs of `-`.
fn is_repository(text: &str) -> bool {
    !text.is_empty()
        && text.split('/').all(|component| {
            let bytes = component.as_bytes();
            let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
                return false;
            };
            if !alnum(first) || !alnum(last) {
                return false;
            }
            // Between alphanumerics: one `.`, one or two `_`, or any number of `-`.
            let mut i = 0;
            while i < bytes.len() {
                if alnum(bytes[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && !alnum(bytes[i]) {
                    i += 1;
                }
                let sep = &component[start..i];
                let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
                if !ok {
                    return false;
                }
            }
            true
        })
}

/// The distribution spec's tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
fn is_tag(text: &str) -> bool {
    let bytes = text.as_bytes();
    (1..=128).contains(&bytes.len())
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A component from a registry: its reference and, once pulled, its bytes.
#[derive(Debug, Clone)]
pub struct OciSource {
    /// The reference as the workload file writes it.
    pub reference: OciReference,
    /// The artifact, once compose-registry has pulled it (or found it in its cache); the
    /// resolver reports [`Problem::NotCached`](crate::Problem::NotCached) for a source
    /// that has none.
    pub pulled: Option<PulledComponent>,
}

/// A component's bytes as pulled from a registry, verified against their digest.
#[derive(Debug, Clone)]
pub struct PulledComponent {
    /// The digest of the manifest the reference resolved to (`sha256:…`).
    pub manifest_digest: String,
    /// The digest of the Wasm layer: the SHA-256 of [`bytes`](Self::bytes).
    pub digest: String,
    /// The cache file that holds the bytes.
    pub path: PathBuf,
    /// The component's bytes (read and checked against `digest`).
    pub bytes: Arc<[u8]>,
}
