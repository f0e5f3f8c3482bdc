//! Validating a plugin's keys: each plugin lists its keys as [`KeyRule`]s; unknown keys,
//! missing required keys, values that are not strings and values a rule rejects are each
//! a [`ConfigIssue`] naming the key.

use crate::provisional::{BackendConfig, ConfigIssue};

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

/// Every issue with `config` against `rules`, for plugin `plugin`.
pub fn validate(config: &BackendConfig, rules: &[KeyRule], plugin: &str) -> Vec<ConfigIssue> {
    let mut issues = unknown_keys(
        config,
        &rules.iter().map(|r| r.key).collect::<Vec<_>>(),
        plugin,
    );
    for rule in rules {
        let issue = |message: String| ConfigIssue {
            key: Some(rule.key.to_owned()),
            message,
            help: Some(rule.help.to_owned()),
        };
        match config.keys.get(rule.key).map(|v| &v.value) {
            None if rule.required => issues.push(ConfigIssue {
                key: None,
                ..issue(format!("plugin `{plugin}` needs the key `{}`", rule.key))
            }),
            None => {}
            Some(toml::Value::String(value)) => {
                if let Err(why) = (rule.check)(value) {
                    issues.push(issue(format!("`{}`: {why}", rule.key)));
                }
            }
            Some(other) => issues.push(issue(format!(
                "`{}` must be a string, not {}",
                rule.key,
                other.type_str()
            ))),
        }
    }
    issues
}

/// An issue for every key of `config` that is not in `known`.
pub fn unknown_keys(config: &BackendConfig, known: &[&str], plugin: &str) -> Vec<ConfigIssue> {
    config
        .keys
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| ConfigIssue {
            key: Some(key.clone()),
            message: format!("plugin `{plugin}` has no key `{key}`"),
            help: Some(if known.is_empty() {
                format!("plugin `{plugin}` takes no keys")
            } else {
                format!("its keys: {}", known.join(", "))
            }),
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
