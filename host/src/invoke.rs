//! The call of `compose run --invoke`: Wasmtime's `--invoke` syntax (`name(arg, ...)` with
//! WAVE values), extended to name a function inside an exported interface as
//! `interface#function(...)` — the interface by its full name, a semver-compatible name or
//! its short name (`handler#get("a", "k")`) — or Wasmtime's `handler.get(...)` /
//! `acme:app/handler.get@0.1.0(...)`.

use wasmtime::component::wasm_wave;

/// A call expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid call expression `{expression}`: {reason} (expected `name(args)`, \
     `interface#name(args)` or `interface.name(args)`, with WAVE values)"
)]
pub struct InvalidCall {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed `--invoke` expression: the interface (if any), the function, and the call
/// rewritten as `function(args)` for WAVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The exported interface the function is in (full, semver-compatible or short name),
    /// or `None` for a function exported under a plain name.
    pub interface: Option<String>,
    /// The function's name.
    pub function: String,
    /// The call as WAVE parses it: `function(args)`.
    pub expression: String,
}

impl Call {
    /// Parses `name(args)`, `interface#name(args)` or `interface.name(args)` (Wasmtime's
    /// `--invoke` syntax), with WAVE values.
    ///
    /// # Errors
    /// [`InvalidCall`] saying what is wrong and what is expected.
    pub fn parse(text: &str) -> Result<Self, InvalidCall> {
        let text = text.trim();
        let invalid = |why: &str| InvalidCall {
            expression: text.to_owned(),
            reason: why.to_owned(),
        };
        let open = text.find('(').ok_or_else(|| invalid("no `(`"))?;
        let (head, args) = text.split_at(open);
        if let Some((interface, function)) = head.rsplit_once('#') {
            if interface.is_empty() || function.is_empty() {
                return Err(invalid("an empty interface or function name"));
            }
            let expression = format!("{function}{args}");
            // Check the syntax of the rest now, for a clear error.
            wasm_wave::untyped::UntypedFuncCall::parse(&expression)
                .map_err(|e| invalid(&e.to_string()))?;
            return Ok(Self {
                interface: Some(interface.to_owned()),
                function: function.to_owned(),
                expression,
            });
        }
        let call = wasm_wave::untyped::UntypedFuncCall::parse(text)
            .map_err(|e| invalid(&e.to_string()))?;
        let item = call.item_name().map_err(|e| invalid(&format!("{e:#}")))?;
        Ok(Self {
            interface: item.instance_name(),
            expression: format!("{}{args}", item.name),
            function: item.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_expressions() {
        let call = Call::parse(r#"acme:app/handler@0.1.0#get("a", "k")"#).unwrap();
        assert_eq!(call.interface.as_deref(), Some("acme:app/handler@0.1.0"));
        assert_eq!(call.function, "get");
        assert_eq!(call.expression, r#"get("a", "k")"#);
        let call = Call::parse(r#"handler.get("a", "k")"#).unwrap();
        assert_eq!(call.interface.as_deref(), Some("handler"));
        assert_eq!(call.function, "get");
        let call = Call::parse("acme:app/handler.greet@0.1.0(\"x\")").unwrap();
        assert_eq!(call.interface.as_deref(), Some("acme:app/handler@0.1.0"));
        assert_eq!(call.function, "greet");
        let call = Call::parse("run()").unwrap();
        assert_eq!(call.interface, None);
        assert!(Call::parse("get").is_err());
        assert!(Call::parse("#get()").is_err());
        assert!(Call::parse("handler#get(\"a\"").is_err());
    }
}
