//! Import and export names: semver-compatible matching and host interface patterns.
//!
//! Two names match when they are equal, or when both are interface names on the same
//! semver track (`a:b/c@0.2.0` ↔ `a:b/c@0.2.5`, `@1.0.0` ↔ `@1.4.0`; pre-releases match
//! only themselves). That is the component model's rule as Wasmtime's linker applies it;
//! the comparison itself is wac-types' [`are_semver_compatible`].

use std::collections::HashMap;
use wac_types::are_semver_compatible;
use wasmparser::names::{ComponentName, ComponentNameKind};

/// Whether `name` is a kebab-case label as the component model spec defines it.
pub(crate) fn is_label(name: &str) -> bool {
    wasmparser::names::KebabStr::new(name).is_some()
}

/// Whether an import named `import` can be served by an export named `export`.
pub fn names_match(import: &str, export: &str) -> bool {
    are_semver_compatible(import, export)
}

/// The name without its `@version`: the bucket in which semver-compatible names meet.
fn unversioned(name: &str) -> &str {
    InterfaceName::parse(name).map_or(name, |n| n.unversioned)
}

/// An interface name, `namespace:package/interface@version` (component model spec,
/// `interfacename`), split once with wasmparser's grammar so that nothing splits names by
/// hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceName<'a> {
    /// The whole name.
    pub text: &'a str,
    /// `namespace:package/interface`, without the version.
    pub unversioned: &'a str,
    /// `namespace:package`.
    pub package: &'a str,
    /// The interface's own name (`store` in `wasi:keyvalue/store@0.2.0-draft`): the short
    /// name `compose run --invoke` accepts.
    pub interface: &'a str,
    /// The version, if the name has one (`0.2.0-draft`).
    pub version: Option<&'a str>,
}

impl<'a> InterfaceName<'a> {
    /// `text` as an interface name; `None` for a plain name or anything else.
    pub fn parse(text: &'a str) -> Option<Self> {
        let parsed = ComponentName::new(text, 0).ok()?;
        let ComponentNameKind::Interface(_) = parsed.kind() else {
            return None;
        };
        let (unversioned, version) = match text.split_once('@') {
            Some((base, version)) => (base, Some(version)),
            None => (text, None),
        };
        let (package, interface) = unversioned.split_once('/')?;
        Some(Self {
            text,
            unversioned,
            package,
            interface,
            version,
        })
    }
}

/// An index from names to values in which [`NameIndex::matching`] finds every value whose
/// name is semver-compatible with a given name, in time proportional to the number of
/// versions of that name (not to the size of the index).
#[derive(Debug)]
pub(crate) struct NameIndex<T> {
    buckets: HashMap<String, Vec<(String, T)>>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> Self {
        Self {
            buckets: HashMap::new(),
        }
    }
}

impl<T> NameIndex<T> {
    /// Adds `value` under `name`.
    pub(crate) fn insert(&mut self, name: &str, value: T) {
        self.buckets
            .entry(unversioned(name).to_owned())
            .or_default()
            .push((name.to_owned(), value));
    }

    /// The entries whose names match `name` ([`names_match`]), in insertion order.
    pub(crate) fn matching<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, &'a T)> {
        self.buckets
            .get(unversioned(name))
            .into_iter()
            .flatten()
            .filter(move |(n, _)| names_match(name, n))
            .map(|(n, v)| (n.as_str(), v))
    }
}

/// One entry of `[host] interfaces`: an interface name, `ns:pkg/*@ver` (every interface of
/// a package) or `ns:*@ver` (every package of a namespace). A version, when given, matches
/// semver-compatibly; without one, any version matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// An exact name, matched semver-compatibly.
    Exact(String),
    /// Every interface of `namespace:package` (or of every package of `namespace` when
    /// `package` is `None`), at a compatible `version` if one is given.
    Wildcard {
        /// The namespace (`wasi`).
        namespace: String,
        /// The package (`cli`), or `None` for `ns:*`.
        package: Option<String>,
        /// The version (`0.2.0`), if given.
        version: Option<String>,
    },
}

impl HostPattern {
    /// Parses a `[host] interfaces` entry; `None` if it is neither a valid name nor a pattern.
    pub fn parse(text: &str) -> Option<Self> {
        let (base, version) = match text.split_once('@') {
            Some((base, version)) => (base, Some(version)),
            None => (text, None),
        };
        if let Some(version) = version {
            semver::Version::parse(version).ok()?;
        }
        let version = version.map(str::to_owned);
        if let Some(namespace) = base.strip_suffix(":*") {
            return is_label(namespace).then(|| HostPattern::Wildcard {
                namespace: namespace.to_owned(),
                package: None,
                version,
            });
        }
        if let Some(package) = base.strip_suffix("/*") {
            let (namespace, package) = package.split_once(':')?;
            return (is_label(namespace) && is_label(package)).then(|| HostPattern::Wildcard {
                namespace: namespace.to_owned(),
                package: Some(package.to_owned()),
                version,
            });
        }
        ComponentName::new(text, 0).ok()?;
        Some(HostPattern::Exact(text.to_owned()))
    }

    /// Whether this pattern covers the import named `name`.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            HostPattern::Exact(exact) => names_match(name, exact),
            HostPattern::Wildcard {
                namespace,
                package,
                version,
            } => {
                let Ok(parsed) = ComponentName::new(name, 0) else {
                    return false;
                };
                let ComponentNameKind::Interface(interface) = parsed.kind() else {
                    return false;
                };
                if interface.namespace().as_str() != namespace
                    || package
                        .as_deref()
                        .is_some_and(|p| p != interface.package().as_str())
                {
                    return false;
                }
                match version {
                    None => true,
                    // Compare the import with the same interface at the pattern's version.
                    Some(version) => names_match(name, &format!("{}@{version}", unversioned(name))),
                }
            }
        }
    }
}

/// The pattern as written in `[host] interfaces` (`wasi:cli/*@0.2.0`).
impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Wildcard {
                namespace,
                package,
                version,
            } => {
                write!(
                    f,
                    "{namespace}:{}*",
                    package
                        .as_deref()
                        .map_or(String::new(), |p| format!("{p}/"))
                )?;
                match version {
                    Some(v) => write!(f, "@{v}"),
                    None => Ok(()),
                }
            }
        }
    }
}
