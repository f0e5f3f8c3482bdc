//! `error-context` values and trampolines. A trampoline hands a call's values over as
//! Wasmtime [`Val`]s; Wasmtime 48 lifts an `error-context` into a `Val` by its
//! representation alone and keeps no reference to it, so once the component that returned
//! it drops its handle (right after returning), the context is gone, and lowering the
//! `Val` into the caller leaves the caller a dangling handle ("resource not present" when
//! it reads the message). Composed, the fused adapter passes the context intact. So a call
//! whose values hold an `error-context` fails at the trampoline with the reason, rather
//! than later in the caller; the resolver warns about such bindings beforehand
//! (`compose::error-context-across-components`).

use wasmtime::component::Val;
use wasmtime::component::types::{ComponentFunc, Type};

/// Whether a parameter or result of `func` can hold an `error-context` (a stream's or
/// future's payload aside: Wasmtime moves it between the ends itself).
pub(crate) fn func_passes_error_context(func: &ComponentFunc) -> bool {
    let is_error_context = |ty: &Type| matches!(ty, Type::ErrorContext);
    let params = func.params().map(|(_, ty)| ty);
    params
        .chain(func.results())
        .any(|ty| crate::resources::type_holds(&ty, is_error_context))
}

/// Whether one of `vals` holds an `error-context`.
pub(crate) fn holds_error_context(vals: &[Val]) -> bool {
    vals.iter().any(val_holds)
}

fn val_holds(val: &Val) -> bool {
    match val {
        Val::ErrorContext(_) => true,
        Val::List(vals) | Val::Tuple(vals) | Val::FixedLengthList(vals) => {
            holds_error_context(vals)
        }
        Val::Map(pairs) => pairs.iter().any(|(k, v)| val_holds(k) || val_holds(v)),
        Val::Record(fields) => fields.iter().any(|(_, v)| val_holds(v)),
        Val::Variant(_, Some(v)) | Val::Option(Some(v)) => val_holds(v),
        Val::Result(Ok(Some(v)) | Err(Some(v))) => val_holds(v),
        _ => false,
    }
}

/// The reason a call of `func` fails when its values hold an `error-context`.
pub(crate) fn refused(func: &crate::FuncName) -> wasmtime::Error {
    wasmtime::format_err!(
        "`{func}` passes an error-context, which Wasmtime 48 cannot hand from one component \
         to another through a trampoline (the context is gone before it arrives); put both \
         components in one `[clusters]` entry, or compose the workload with `compose build`"
    )
}
