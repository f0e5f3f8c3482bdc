//! Validating a plugin's keys: each plugin lists its keys as [`KeyRule`]s; missing
//! required keys, values that are not strings and values a rule rejects are each a
//! [`ConfigIssue`] naming the key. (Unknown keys: the resolver reports them, listing
//! [`PluginSchema::keys`](compose_resolver::PluginSchema::keys); [`unknown_keys`] for
//! hosts that serve a plan resolved without their profile.)

use compose_resolver::{BackendConfig, ConfigIssue};

/// One key a plugin accepts; its value is a string.
pub struct KeyRule {
    /// The key, as written in `[host.backends.LABEL]`.
    pub key: &'static str,
    /// Whether a backend must have it.
    pub required: bool,
    /// Checks the value; the error says what is wrong with it.
    pub check: fn(&str) -> Result<(), String>,
    /// What the key holds, as advice for a missing or rejected value.
    pub help: &'static str,
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
            Some(toml::Value::String(value)) => {
                if let Err(why) = (rule.check)(value) {
                    issues.push(
                        ConfigIssue::key(rule.key, format!("`{}`: {why}", rule.key))
                            .with_help(rule.help),
                    );
                }
            }
            Some(other) => issues.push(
                ConfigIssue::key(
                    rule.key,
                    format!("`{}` must be a string, not {}", rule.key, other.type_str()),
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
