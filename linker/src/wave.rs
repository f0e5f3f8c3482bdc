//! wRPC's encoding of component values (its SPEC.md: the component model's
//! value-definition encoding), for Wasmtime's `Val`s: [`encode`] and [`read`], which
//! compose-linker's calls to remotes and compose-host's wRPC server use.
//!
//! They are wrpc-wave's encoder and decoder, seen through an adapter: wrpc-wave is
//! generic over wasm-wave 0.261's traits, which Wasmtime 48 does not implement.
//!
//! Wasmtime 48 implements wasm-wave 0.254's `WasmValue` and `WasmType` for its `Val` and
//! `Type`; wrpc-wave 0.1 is generic over wasm-wave 0.261's traits, which have the same
//! methods with the same meaning (the two releases' `wasm/val.rs` and `wasm/ty.rs` declare
//! the same signatures). [`WaveVal`] and [`WaveType`] are the thin adapter between them:
//! each method calls Wasmtime's implementation. The one cost: `unwrap_list`,
//! `unwrap_record`, … hand out the elements of a value as owned adapters, so encoding
//! clones each element of a compound value once (strings are borrowed).

use bytes::{Bytes, BytesMut};
use std::borrow::Cow;
use tokio_util::codec::Encoder as _;
use wasm_wave_wrpc::wasm::{WasmType, WasmTypeKind, WasmValue, WasmValueError};
use wasmtime::component::wasm_wave::wasm as wt;
use wasmtime::component::{Type, Val};

/// `values`, each of the type `types` gives in turn, encoded one after the other: how
/// wRPC sends a function's parameters or results (one tuple).
///
/// # Errors
/// A message when a value does not have its type, or has a type wRPC cannot carry here
/// (a resource, stream, future or `error-context`).
pub fn encode(values: &[Val], types: impl IntoIterator<Item = Type>) -> Result<Bytes, String> {
    let mut buf = BytesMut::new();
    for (ty, value) in types.into_iter().zip(values) {
        wrpc_wave::ValueEncoder::new(&WaveType(ty))
            .encode(&WaveVal(value.clone()), &mut buf)
            .map_err(|e| format!("cannot encode a value: {e:#}"))?;
    }
    Ok(buf.freeze())
}

/// Reads one value of each of `types` from `reader`, as [`encode`] writes them.
///
/// # Errors
/// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) when `reader` ends first,
/// [`InvalidData`](std::io::ErrorKind::InvalidData) for bytes that are not such values
/// (never a panic), or `reader`'s own error.
pub async fn read<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut R,
    types: impl IntoIterator<Item = Type>,
) -> std::io::Result<Vec<Val>> {
    let mut values = Vec::new();
    for ty in types {
        let value = wrpc_wave::read_value::<WaveVal, _>(reader, &WaveType(ty)).await?;
        values.push(value.0);
    }
    Ok(values)
}

/// A Wasmtime component [`Type`] as wasm-wave 0.261's [`WasmType`].
#[derive(Debug, Clone)]
pub(crate) struct WaveType(pub(crate) Type);

/// A Wasmtime component [`Val`] as wasm-wave 0.261's [`WasmValue`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaveVal(pub(crate) Val);

/// wasm-wave 0.254's kind as 0.261's (the same cases).
fn kind(kind: wt::WasmTypeKind) -> WasmTypeKind {
    use wt::WasmTypeKind as K;
    match kind {
        K::Bool => WasmTypeKind::Bool,
        K::S8 => WasmTypeKind::S8,
        K::S16 => WasmTypeKind::S16,
        K::S32 => WasmTypeKind::S32,
        K::S64 => WasmTypeKind::S64,
        K::U8 => WasmTypeKind::U8,
        K::U16 => WasmTypeKind::U16,
        K::U32 => WasmTypeKind::U32,
        K::U64 => WasmTypeKind::U64,
        K::F32 => WasmTypeKind::F32,
        K::F64 => WasmTypeKind::F64,
        K::Char => WasmTypeKind::Char,
        K::String => WasmTypeKind::String,
        K::List => WasmTypeKind::List,
        K::FixedLengthList => WasmTypeKind::FixedLengthList,
        K::Record => WasmTypeKind::Record,
        K::Tuple => WasmTypeKind::Tuple,
        K::Variant => WasmTypeKind::Variant,
        K::Enum => WasmTypeKind::Enum,
        K::Option => WasmTypeKind::Option,
        K::Result => WasmTypeKind::Result,
        K::Flags => WasmTypeKind::Flags,
        _ => WasmTypeKind::Unsupported,
    }
}

fn error(e: wt::WasmValueError) -> WasmValueError {
    WasmValueError::Other(e.to_string())
}

fn wrap(t: Type) -> WaveType {
    WaveType(t)
}

impl WasmType for WaveType {
    fn kind(&self) -> WasmTypeKind {
        kind(wt::WasmType::kind(&self.0))
    }
    fn list_element_type(&self) -> Option<Self> {
        wt::WasmType::list_element_type(&self.0).map(wrap)
    }
    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        Box::new(wt::WasmType::record_fields(&self.0).map(|(n, t)| (n, wrap(t))))
    }
    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        Box::new(wt::WasmType::tuple_element_types(&self.0).map(wrap))
    }
    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        Box::new(wt::WasmType::variant_cases(&self.0).map(|(n, t)| (n, t.map(wrap))))
    }
    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        wt::WasmType::enum_cases(&self.0)
    }
    fn option_some_type(&self) -> Option<Self> {
        wt::WasmType::option_some_type(&self.0).map(wrap)
    }
    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        wt::WasmType::result_types(&self.0).map(|(ok, err)| (ok.map(wrap), err.map(wrap)))
    }
    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        wt::WasmType::flags_names(&self.0)
    }
}

/// An element of a value, handed out owned (see the module's documentation).
fn owned<'a>(v: Cow<'_, Val>) -> Cow<'a, WaveVal> {
    Cow::Owned(WaveVal(v.into_owned()))
}

/// The plain values of a sequence of adapters.
fn vals(values: impl IntoIterator<Item = WaveVal>) -> impl Iterator<Item = Val> {
    values.into_iter().map(|v| v.0)
}

macro_rules! primitives {
    ($(($make:ident, $unwrap:ident, $ty:ty)),* $(,)?) => {
        $(
            fn $make(val: $ty) -> Self {
                WaveVal(<Val as wt::WasmValue>::$make(val))
            }
            fn $unwrap(&self) -> $ty {
                wt::WasmValue::$unwrap(&self.0)
            }
        )*
    };
}

impl WasmValue for WaveVal {
    type Type = WaveType;

    fn kind(&self) -> WasmTypeKind {
        kind(wt::WasmValue::kind(&self.0))
    }

    primitives!(
        (make_bool, unwrap_bool, bool),
        (make_s8, unwrap_s8, i8),
        (make_s16, unwrap_s16, i16),
        (make_s32, unwrap_s32, i32),
        (make_s64, unwrap_s64, i64),
        (make_u8, unwrap_u8, u8),
        (make_u16, unwrap_u16, u16),
        (make_u32, unwrap_u32, u32),
        (make_u64, unwrap_u64, u64),
        (make_f32, unwrap_f32, f32),
        (make_f64, unwrap_f64, f64),
        (make_char, unwrap_char, char),
    );

    fn make_string(val: Cow<str>) -> Self {
        WaveVal(<Val as wt::WasmValue>::make_string(val))
    }
    fn make_list(
        ty: &WaveType,
        vals_: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_list(&ty.0, vals(vals_))
            .map(WaveVal)
            .map_err(error)
    }
    fn make_record<'a>(
        ty: &WaveType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        let fields = fields.into_iter().map(|(n, v)| (n, v.0));
        <Val as wt::WasmValue>::make_record(&ty.0, fields)
            .map(WaveVal)
            .map_err(error)
    }
    fn make_tuple(
        ty: &WaveType,
        vals_: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_tuple(&ty.0, vals(vals_))
            .map(WaveVal)
            .map_err(error)
    }
    fn make_variant(ty: &WaveType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_variant(&ty.0, case, val.map(|v| v.0))
            .map(WaveVal)
            .map_err(error)
    }
    fn make_enum(ty: &WaveType, case: &str) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_enum(&ty.0, case)
            .map(WaveVal)
            .map_err(error)
    }
    fn make_option(ty: &WaveType, val: Option<Self>) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_option(&ty.0, val.map(|v| v.0))
            .map(WaveVal)
            .map_err(error)
    }
    fn make_result(
        ty: &WaveType,
        val: Result<Option<Self>, Option<Self>>,
    ) -> Result<Self, WasmValueError> {
        let val = val.map(|v| v.map(|v| v.0)).map_err(|v| v.map(|v| v.0));
        <Val as wt::WasmValue>::make_result(&ty.0, val)
            .map(WaveVal)
            .map_err(error)
    }
    fn make_flags<'a>(
        ty: &WaveType,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, WasmValueError> {
        <Val as wt::WasmValue>::make_flags(&ty.0, names)
            .map(WaveVal)
            .map_err(error)
    }

    fn unwrap_string(&self) -> Cow<'_, str> {
        wt::WasmValue::unwrap_string(&self.0)
    }
    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        Box::new(wt::WasmValue::unwrap_list(&self.0).map(owned))
    }
    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        Box::new(wt::WasmValue::unwrap_record(&self.0).map(|(n, v)| (n, owned(v))))
    }
    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        Box::new(wt::WasmValue::unwrap_tuple(&self.0).map(owned))
    }
    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        let (case, payload) = wt::WasmValue::unwrap_variant(&self.0);
        (case, payload.map(owned))
    }
    fn unwrap_enum(&self) -> Cow<'_, str> {
        wt::WasmValue::unwrap_enum(&self.0)
    }
    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        wt::WasmValue::unwrap_option(&self.0).map(owned)
    }
    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match wt::WasmValue::unwrap_result(&self.0) {
            Ok(v) => Ok(v.map(owned)),
            Err(v) => Err(v.map(owned)),
        }
    }
    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        wt::WasmValue::unwrap_flags(&self.0)
    }
}
