//! Validating a plugin's keys: each plugin lists its keys as [`KeyRule`]s; missing
//! required keys, values of the wrong TOML type (a string or a boolean, as the rule's
//! [`KeyType`] says) and strings a rule rejects are each a [`ConfigIssue`] naming the key. (Unknown keys: the resolver reports them, listing
//! [`PluginSchema::keys`](compose_resolver::PluginSchema::keys); [`unknown_keys`] for
//! hosts that serve a plan resolved without their profile.)

use compose_resolver::{BackendConfig, ConfigIssue};

/// One key a plugin accepts.
pub struct KeyRule {
    /// The key, as written in `[host.backends.LABEL]`.
    pub key: &'static str,
    /// Whether a backend must have it.
    pub required: bool,
    /// The TOML type of its value, and the check of a string.
    pub ty: KeyType,
    /// What the key holds, as advice for a missing or rejected value.
    pub help: &'static str,
}

/// The TOML type of a key's value.
#[derive(Clone, Copy)]
pub enum KeyType {
    /// A string, which the function checks; its error says what is wrong with it.
    String(fn(&str) -> Result<(), String>),
    /// `true` or `false`.
    Boolean,
    /// An integer from `min` to `max`, both included.
    Integer {
        /// The least value accepted.
        min: i64,
        /// The greatest value accepted.
        max: i64,
    },
}

/// Every issue with the values of `config` against `rules`, for plugin `plugin`.
pub fn validate_keys(config: &BackendConfig, rules: &[KeyRule], plugin: &str) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    for rule in rules {
        match config.get(rule.key) {
            None if rule.required => issues.push(ConfigIssue {
                key: None,
                message: format!("plugin `{plugin}` needs the key `{}`", rule.key),
                help: Some(rule.help.to_owned()),
            }),
            None => {}
            Some(toml::Value::Boolean(_)) if matches!(rule.ty, KeyType::Boolean) => {}
            Some(toml::Value::Integer(value)) if matches!(rule.ty, KeyType::Integer { .. }) => {
                let KeyType::Integer { min, max } = rule.ty else {
                    continue;
                };
                if !(min..=max).contains(value) {
                    let message =
                        format!("`{}` must be from {min} to {max}, not {value}", rule.key);
                    issues.push(ConfigIssue::key(rule.key, message).with_help(rule.help));
                }
            }
            Some(toml::Value::String(value)) if matches!(rule.ty, KeyType::String(_)) => {
                let KeyType::String(check) = rule.ty else {
                    continue;
                };
                if let Err(why) = check(value) {
                    issues.push(
                        ConfigIssue::key(rule.key, format!("`{}`: {why}", rule.key))
                            .with_help(rule.help),
                    );
                }
            }
            Some(other) => issues.push(
                ConfigIssue::key(
                    rule.key,
                    format!(
                        "`{}` must be a {}, not {}",
                        rule.key,
                        match rule.ty {
                            KeyType::String(_) => "string",
                            KeyType::Boolean => "boolean",
                            KeyType::Integer { .. } => "integer",
                        },
                        other.type_str()
                    ),
                )
                .with_help(rule.help),
            ),
        }
    }
    issues
}

/// An issue for every key of `config` that is not in `known`, for plugin `plugin`.
pub fn unknown_keys(config: &BackendConfig, known: &[String], plugin: &str) -> Vec<ConfigIssue> {
    config
        .iter()
        .filter(|(key, _)| !known.iter().any(|k| k == key))
        .map(|(key, _)| {
            let takes = if known.is_empty() {
                format!("plugin `{plugin}` takes no keys")
            } else {
                format!("its keys: {}", known.join(", "))
            };
            ConfigIssue::key(key, format!("plugin `{plugin}` has no key `{key}`")).with_help(takes)
        })
        .collect()
}

/// The rule of keys naming an environment variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_var_name(value: &str) -> Result<(), String> {
    let mut chars = value.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("`{value}` is not an environment variable's name"))
    }
}
