//! WIT text of wac-types' function and value types, for type-mismatch messages.
//!
//! wac-types describes a mismatch by kind only (`expected string, found option`) and
//! wit-component prints whole packages, not single types read from a component; this
//! small printer gives the full types of the first item that differs
//! (`function `get`, result: expected `string`, found `option<string>``).

use wac_types::{DefinedType, FuncTypeId, ItemKind, Types, ValueType};

/// Says which item first differs between an export and the import it is bound to, with
/// both types in WIT syntax; `None` if no function-level difference is found (the caller
/// keeps wac-types' own message then).
pub(crate) fn first_difference(
    types: &Types,
    export: ItemKind,
    import: ItemKind,
) -> Option<String> {
    match (export, import) {
        (ItemKind::Instance(e), ItemKind::Instance(i)) => {
            for (name, wanted) in &types[i].exports {
                let Some(found) = types[e].exports.get(name) else {
                    return Some(format!("the export has no {} `{name}`", wanted.desc(types)));
                };
                if let (ItemKind::Func(f), ItemKind::Func(w)) = (*found, *wanted)
                    && let Some(difference) = func_difference(types, name, f, w)
                {
                    return Some(difference);
                }
            }
            None
        }
        (ItemKind::Func(f), ItemKind::Func(w)) => func_difference(types, "", f, w),
        _ => None,
    }
}

fn func_difference(
    types: &Types,
    name: &str,
    found: FuncTypeId,
    wanted: FuncTypeId,
) -> Option<String> {
    let (f, w) = (&types[found], &types[wanted]);
    let what = if name.is_empty() {
        "function".to_owned()
    } else {
        format!("function `{name}`")
    };
    if f.params.len() != w.params.len() {
        return Some(format!(
            "{what}: expected `{}`, found `{}`",
            func(types, wanted),
            func(types, found)
        ));
    }
    for ((fname, fty), (wname, wty)) in f.params.iter().zip(&w.params) {
        if fname != wname {
            return Some(format!(
                "{what}: expected parameter `{wname}`, found `{fname}`"
            ));
        }
        let (fty, wty) = (value(types, *fty), value(types, *wty));
        if fty != wty {
            return Some(format!(
                "{what}, parameter `{wname}`: expected `{wty}`, found `{fty}`"
            ));
        }
    }
    let text = |ty: Option<ValueType>| ty.map_or_else(|| "nothing".to_owned(), |t| value(types, t));
    let (fr, wr) = (text(f.result), text(w.result));
    (fr != wr).then(|| format!("{what}, result: expected `{wr}`, found `{fr}`"))
}

/// `func(a: u32) -> string`.
pub(crate) fn func(types: &Types, id: FuncTypeId) -> String {
    let ty = &types[id];
    let params: Vec<String> = ty
        .params
        .iter()
        .map(|(name, ty)| format!("{name}: {}", value(types, *ty)))
        .collect();
    let prefix = if ty.is_async { "async func" } else { "func" };
    match ty.result {
        Some(result) => format!(
            "{prefix}({}) -> {}",
            params.join(", "),
            value(types, result)
        ),
        None => format!("{prefix}({})", params.join(", ")),
    }
}

/// A value type in WIT syntax; records, variants, enums and flags are printed inline
/// because component types carry no names for them.
pub(crate) fn value(types: &Types, ty: ValueType) -> String {
    let opt = |ty: Option<ValueType>| ty.map_or_else(|| "_".to_owned(), |t| value(types, t));
    match ty {
        ValueType::Primitive(p) => p.desc().to_owned(),
        ValueType::Own(r) => types[types.resolve_resource(r)].name.clone(),
        ValueType::Borrow(r) => format!("borrow<{}>", types[types.resolve_resource(r)].name),
        ValueType::Defined(id) => match &types[id] {
            DefinedType::Tuple(items) => format!(
                "tuple<{}>",
                items
                    .iter()
                    .map(|t| value(types, *t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DefinedType::List(t) => format!("list<{}>", value(types, *t)),
            DefinedType::FixedSizeList(t, n) => format!("list<{}, {n}>", value(types, *t)),
            DefinedType::Map(k, v) => format!("map<{}, {}>", value(types, *k), value(types, *v)),
            DefinedType::Option(t) => format!("option<{}>", value(types, *t)),
            DefinedType::Result {
                ok: None,
                err: None,
            } => "result".to_owned(),
            DefinedType::Result { ok, err } => format!("result<{}, {}>", opt(*ok), opt(*err)),
            DefinedType::Variant(v) => format!(
                "variant {{ {} }}",
                v.cases
                    .iter()
                    .map(|(name, ty)| match ty {
                        Some(ty) => format!("{name}({})", value(types, *ty)),
                        None => name.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DefinedType::Record(r) => format!(
                "record {{ {} }}",
                r.fields
                    .iter()
                    .map(|(name, ty)| format!("{name}: {}", value(types, *ty)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DefinedType::Flags(f) => format!(
                "flags {{ {} }}",
                f.0.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            DefinedType::Enum(e) => format!(
                "enum {{ {} }}",
                e.0.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            DefinedType::Alias(t) => value(types, *t),
            DefinedType::Stream(t) => format!("stream<{}>", opt(*t)),
            DefinedType::Future(t) => format!("future<{}>", opt(*t)),
        },
    }
}
