//! Target `invoke`: `compose run --invoke` call expressions with WAVE values. The call
//! parser itself lives in `cli/src/run.rs` (moving to `compose-host`) and is not public;
//! what this fuzzes is what it is built on, in the same way: `UntypedFuncCall::parse`,
//! the call's name, and the arguments converted to values of parameter types drawn
//! from the input (wasm-wave 0.254, as Wasmtime 48 re-exports it). Every value that
//! converts must print as WAVE and read back as the same value.

use arbitrary::{Arbitrary, Unstructured};
use wasm_wave::untyped::UntypedFuncCall;
use wasm_wave::value::{Type, Value};

/// Parses the call expression at the end of `data` against parameter types at its start.
pub fn invoke(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(types) = params(&mut u) else { return };
    let text = String::from_utf8_lossy(u.take_rest()).into_owned();
    // `interface#function(args)`: the part from `(` on is a WAVE call of the function.
    let call_text = match text.find('(') {
        Some(open) => match text[..open].rsplit_once('#') {
            Some((_, function)) => format!("{function}{}", &text[open..]),
            None => text.clone(),
        },
        None => text.clone(),
    };
    let Ok(call) = UntypedFuncCall::parse(&call_text) else {
        return;
    };
    let _ = call.name();
    let Ok(values) = call.to_wasm_params::<Value>(types.iter()) else {
        return;
    };
    for (value, ty) in values.iter().zip(&types) {
        let printed = wasm_wave::to_string(value).expect("a parsed value prints");
        let read: Value = wasm_wave::from_str(ty, &printed)
            .unwrap_or_else(|e| panic!("`{printed}` does not read back as {ty}: {e}"));
        let again = wasm_wave::to_string(&read).expect("prints");
        assert_eq!(printed, again, "WAVE round trip of a value of {ty}");
    }
}

/// Up to four parameter types.
fn params(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Type>> {
    (0..u.int_in_range(0..=4u8)?).map(|_| ty(u, 3)).collect()
}

/// A WAVE type nested at most `depth` deep.
fn ty(u: &mut Unstructured<'_>, depth: u8) -> arbitrary::Result<Type> {
    const SIMPLE: &[Type] = &[
        Type::BOOL,
        Type::S8,
        Type::S16,
        Type::S32,
        Type::S64,
        Type::U8,
        Type::U16,
        Type::U32,
        Type::U64,
        Type::F32,
        Type::F64,
        Type::CHAR,
        Type::STRING,
    ];
    let names = |u: &mut Unstructured<'_>| -> arbitrary::Result<Vec<String>> {
        let n = u.int_in_range(1..=3u8)?;
        Ok((0..n)
            .map(|i| ["a", "b-c", "d1"][i as usize].to_owned())
            .collect())
    };
    if depth == 0 {
        return Ok(u.choose(SIMPLE)?.clone());
    }
    let inner = |u: &mut Unstructured<'_>| ty(u, depth - 1);
    Ok(match u.int_in_range(0..=8u8)? {
        0 => Type::list(inner(u)?),
        1 => Type::option(inner(u)?),
        2 => {
            let ok = if bool::arbitrary(u)? {
                Some(inner(u)?)
            } else {
                None
            };
            let err = if bool::arbitrary(u)? {
                Some(inner(u)?)
            } else {
                None
            };
            Type::result(ok, err)
        }
        3 => Type::tuple(vec![inner(u)?, inner(u)?]).expect("a tuple of two"),
        4 => {
            let fields: Vec<(String, Type)> = (names(u)?.into_iter())
                .map(|n| Ok((n, inner(u)?)))
                .collect::<arbitrary::Result<_>>()?;
            Type::record(fields).expect("a record with fields")
        }
        5 => {
            let cases: Vec<(String, Option<Type>)> = (names(u)?.into_iter())
                .map(|n| {
                    Ok((
                        n,
                        if bool::arbitrary(u)? {
                            Some(inner(u)?)
                        } else {
                            None
                        },
                    ))
                })
                .collect::<arbitrary::Result<_>>()?;
            Type::variant(cases).expect("a variant with cases")
        }
        6 => Type::enum_ty(names(u)?).expect("an enum with cases"),
        7 => Type::flags(names(u)?).expect("flags"),
        _ => u.choose(SIMPLE)?.clone(),
    })
}
