//! A generic host: it serves what a workload's `[host]` declares, whatever the
//! interfaces are, by walking the imports of a component with Wasmtime's component type API
//! and defining a function for each that returns default values (`0`, `""`, `none`, the
//! first case, ...) — or traps when its result cannot be made up (a resource handle).

use compose_resolver::{HostPattern, Plan, Workload, names_match};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Linker, LinkerInstance, ResourceType, Type, Val};
use wasmtime::{Engine, StoreContextMut};

/// Whether the workload's `[host]` serves the import `name` (with `implements`, for a
/// label): a `[host] backends` label of a compatible interface, or a name that a
/// `[host] interfaces` entry covers.
pub fn declared(workload: &Workload, name: &str, implements: Option<&str>) -> bool {
    if let Some(backend) = workload.host.backends.get(name) {
        let interface = implements.unwrap_or(name);
        return names_match(interface, &backend.interface.value);
    }
    implements.is_none()
        && (workload.host.interfaces.iter())
            .filter_map(|p| HostPattern::parse(&p.value))
            .any(|p| p.matches(name))
}

/// Defines in `linker` every import of `component` for which `serve(name)` is true.
pub fn define<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &wasmtime::component::types::Component,
    mut serve: impl FnMut(&str) -> bool,
) -> wasmtime::Result<()> {
    for (name, item) in component.imports(engine) {
        if !serve(name) {
            continue;
        }
        match item.ty {
            ComponentItem::ComponentInstance(instance) => {
                let mut defined = linker.instance(name)?;
                let exports: Vec<_> = instance.exports(engine).collect();
                // Resources first: functions refer to them.
                for (i, (export, item)) in exports.iter().enumerate() {
                    if let ComponentItem::Resource(_) = item.ty {
                        let ty = ResourceType::host_dynamic(0x5eed_0000 + i as u32);
                        defined.resource(export, ty, |_, _| Ok(()))?;
                    }
                }
                for (export, item) in &exports {
                    if let ComponentItem::ComponentFunc(_) = item.ty {
                        define_func(&mut defined, export)?;
                    }
                }
            }
            ComponentItem::ComponentFunc(_) => define_func(&mut linker.root(), name)?,
            _ => {}
        }
    }
    Ok(())
}

/// Defines in `linker` every import that `plan` leaves to the host, with the type of the
/// first component that imports it (each such component is compiled for its type).
pub fn define_plan<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    plan: &Plan,
) -> wasmtime::Result<()> {
    let hosts = plan.host_imports();
    let mut defined = std::collections::HashSet::new();
    for h in &hosts {
        let first = plan.component(h.importers[0]);
        if defined.contains(&h.import.name) {
            continue;
        }
        let component = Component::new(engine, &first.ty.bytes)?;
        define(linker, engine, &component.component_type(), |name| {
            hosts.iter().any(|h| h.import.name == name) && defined.insert(name.to_owned())
        })?;
    }
    Ok(())
}

fn define_func<T: 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
) -> wasmtime::Result<()> {
    let name_owned = name.to_owned();
    instance.func_new(
        name,
        move |_: StoreContextMut<'_, T>, ty: ComponentFunc, _: &[Val], results: &mut [Val]| {
            for (slot, ty) in results.iter_mut().zip(ty.results()) {
                *slot = default_val(&ty).ok_or_else(|| {
                    wasmtime::format_err!("the test host cannot make a result for `{name_owned}`")
                })?;
            }
            Ok(())
        },
    )
}

/// A default value of `ty`; `None` for handles (resources, futures, streams), which cannot
/// be made up.
pub fn default_val(ty: &Type) -> Option<Val> {
    Some(match ty {
        Type::Bool => Val::Bool(false),
        Type::S8 => Val::S8(0),
        Type::U8 => Val::U8(0),
        Type::S16 => Val::S16(0),
        Type::U16 => Val::U16(0),
        Type::S32 => Val::S32(0),
        Type::U32 => Val::U32(0),
        Type::S64 => Val::S64(0),
        Type::U64 => Val::U64(0),
        Type::Float32 => Val::Float32(0.0),
        Type::Float64 => Val::Float64(0.0),
        Type::Char => Val::Char('a'),
        Type::String => Val::String(String::new()),
        Type::List(_) => Val::List(Vec::new()),
        Type::Map(_) => Val::Map(Vec::new()),
        Type::Record(r) => Val::Record(
            r.fields()
                .map(|f| Some((f.name.to_owned(), default_val(&f.ty)?)))
                .collect::<Option<_>>()?,
        ),
        Type::Tuple(t) => Val::Tuple(t.types().map(|t| default_val(&t)).collect::<Option<_>>()?),
        Type::Variant(v) => v.cases().find_map(|case| match &case.ty {
            None => Some(Val::Variant(case.name.to_owned(), None)),
            Some(t) => Some(Val::Variant(
                case.name.to_owned(),
                Some(Box::new(default_val(t)?)),
            )),
        })?,
        Type::Enum(e) => Val::Enum(e.names().next()?.to_owned()),
        Type::Option(_) => Val::Option(None),
        Type::Result(r) => match r.ok() {
            None => Val::Result(Ok(None)),
            Some(t) => Val::Result(Ok(Some(Box::new(default_val(&t)?)))),
        },
        Type::Flags(_) => Val::Flags(Vec::new()),
        _ => return None,
    })
}

/// Default arguments for a function, if every parameter has one.
pub fn default_args(ty: &ComponentFunc) -> Option<Vec<Val>> {
    ty.params().map(|(_, t)| default_val(&t)).collect()
}

/// Whether a value holds a resource handle (which two runs cannot be compared on).
pub fn has_handle(val: &Val) -> bool {
    match val {
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => true,
        Val::List(v) | Val::Tuple(v) | Val::FixedLengthList(v) => v.iter().any(has_handle),
        Val::Record(fields) => fields.iter().any(|(_, v)| has_handle(v)),
        Val::Variant(_, Some(v)) | Val::Option(Some(v)) => has_handle(v),
        Val::Result(Ok(Some(v)) | Err(Some(v))) => has_handle(v),
        Val::Map(entries) => entries.iter().any(|(k, v)| has_handle(k) || has_handle(v)),
        _ => false,
    }
}
