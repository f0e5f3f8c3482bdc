//! The seeded generator: a workload is one of the examples or a fresh composition of pool
//! files, with a few random mutations applied. Everything is chosen by one `fastrand::Rng`
//! seeded from the case's seed, so a seed always gives the same workload.

use super::pool::{Name, Pool, serves, versions};
use super::spec::{Comp, Spec, Target};
use fastrand::Rng;

/// Names a generated export or component may take besides those of the pool: plain kebab
/// names in both cases, and names that are not valid component-model names.
const ODD_NAMES: &[&str] = &[
    "api",
    "API",
    "Api",
    "api_v2",
    "run",
    "RUN",
    "x",
    "acme:app/handler@1.2",
    "acme:app/handler",
    "",
    "host",
    "Bad_Name",
    "a:b/c@1.0.0",
    "a:b/C@1.0.0",
];

/// The generator of one case.
pub struct Gen<'p> {
    rng: Rng,
    pool: &'p Pool,
}

/// A mutation of a workload.
type Mutation = fn(&mut Gen<'_>, &mut Spec);

/// The mutations, repeated by weight: those that usually keep a workload resolvable come
/// more often, so that about a third of the workloads are accepted and run.
const MUTATIONS: &[(Mutation, u8)] = &[
    (drop_component, 1),
    (duplicate_component, 2),
    (swap_file, 2),
    (bind_right, 6),
    (bind_wrong, 2),
    (bind_host, 3),
    (bind_unknown_key, 1),
    (unbind, 2),
    (add_backend, 3),
    (drop_backend, 1),
    (add_interface, 5),
    (clear_interfaces, 1),
    (rename_component, 1),
    (add_export, 4),
    (add_export_pair, 2),
    (drop_exports, 2),
    (add_cycle, 2),
    (flip_instantiate, 3),
    (add_component, 3),
    (add_conflicting_importer, 3),
    (add_cluster, 4),
];

impl<'p> Gen<'p> {
    pub fn new(seed: u64, pool: &'p Pool) -> Self {
        Self {
            rng: Rng::with_seed(seed),
            pool,
        }
    }

    /// The case's workload: an example (shop or broken) or a fresh composition, mutated.
    pub fn workload(&mut self) -> Spec {
        let mut spec = match self.rng.u8(0..10) {
            0..=4 => Spec::example("shop", self.pool),
            5 => Spec::example("broken", self.pool),
            _ => self.fresh(),
        };
        let total: usize = MUTATIONS.iter().map(|(_, w)| *w as usize).sum();
        for _ in 0..self.rng.usize(1..=3) {
            let mut pick = self.rng.usize(..total);
            for (mutation, weight) in MUTATIONS {
                if pick < *weight as usize {
                    mutation(self, &mut spec);
                    break;
                }
                pick -= *weight as usize;
            }
        }
        spec
    }

    /// A new workload of 1–5 pool files.
    fn fresh(&mut self) -> Spec {
        let mut spec = Spec {
            name: "generated".into(),
            ..Spec::default()
        };
        if self.rng.bool() {
            spec.interfaces.push("wasi:cli/*@0.2.0".into());
        }
        for _ in 0..self.rng.usize(1..=5) {
            add_component(self, &mut spec);
        }
        spec
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.rng.usize(..items.len())])
    }

    /// A pool file, two thirds of the time a fixture.
    fn file(&mut self) -> usize {
        let fixtures: Vec<usize> = (0..self.pool.files.len())
            .filter(|i| self.pool.files[*i].fixture)
            .collect();
        if self.rng.u8(0..3) < 2 {
            *self.pick(&fixtures).expect("fixtures exist")
        } else {
            self.rng.usize(..self.pool.files.len())
        }
    }

    /// A component name: a label some fixture imports, the file's stem, or a plain name.
    fn component_name(&mut self, spec: &Spec, file: usize) -> String {
        let base = match self.rng.u8(0..4) {
            0 => self.pick(&self.pool.labels).cloned(),
            1 => Some(self.pool.files[file].stem.clone()),
            _ => None,
        }
        .unwrap_or_else(|| "svc".into());
        let mut name = base.clone();
        let mut n = 2;
        while spec.find(&name).is_some() {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }

    /// An interface name of the pool, at one of its versions.
    fn interface(&mut self) -> String {
        let name = self
            .pick(&self.pool.interfaces)
            .cloned()
            .unwrap_or_default();
        let versions = versions(&name);
        self.pick(&versions).cloned().unwrap_or(name)
    }

    fn component_index(&mut self, spec: &Spec) -> Option<usize> {
        (!spec.components.is_empty()).then(|| self.rng.usize(..spec.components.len()))
    }

    /// An import of component `c`'s file.
    fn import_of(&mut self, spec: &Spec, c: usize) -> Option<Name> {
        let imports = &self.pool.files[spec.components[c].file].imports;
        self.pick(imports).cloned()
    }

    /// A name for an export or an explicit binding's export field: a real export of some
    /// pool file (at one of its versions) or an odd name.
    fn export_name(&mut self, file: Option<usize>) -> String {
        let file = file.unwrap_or_else(|| self.file());
        match self.pick(&self.pool.files[file].exports).cloned() {
            Some(e) if self.rng.u8(0..4) > 0 => {
                let versions = versions(&e.name);
                self.pick(&versions).cloned().unwrap_or(e.name)
            }
            _ => self
                .pick(ODD_NAMES)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }
}

fn drop_component(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        spec.components.remove(c);
    }
}

fn duplicate_component(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        let mut copy = spec.components[c].clone();
        copy.name = g.component_name(spec, copy.file);
        spec.components.push(copy);
    }
}

fn swap_file(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        spec.components[c].file = g.file();
    }
}

/// An explicit binding to a component that exports what the import needs, if there is one.
fn bind_right(g: &mut Gen<'_>, spec: &mut Spec) {
    let Some(c) = g.component_index(spec) else {
        return;
    };
    let Some(import) = g.import_of(spec, c) else {
        return;
    };
    let servers: Vec<usize> = (0..spec.components.len())
        .filter(|s| *s != c)
        .filter(|s| {
            let file = &g.pool.files[spec.components[*s].file];
            file.exports.iter().any(|e| serves(e, &import))
        })
        .collect();
    let Some(&s) = g.pick(&servers) else {
        return;
    };
    let server = spec.components[s].name.clone();
    let target = if g.rng.bool() {
        Target::Name(server)
    } else {
        let file = &g.pool.files[spec.components[s].file];
        let export = file.exports.iter().find(|e| serves(e, &import)).unwrap();
        Target::Table {
            component: server,
            export: Some(export.name.clone()),
        }
    };
    set_binding(&mut spec.components[c], import.name, target);
}

/// An explicit binding to a random component, with or without a random export name.
fn bind_wrong(g: &mut Gen<'_>, spec: &mut Spec) {
    let Some(c) = g.component_index(spec) else {
        return;
    };
    let Some(import) = g.import_of(spec, c) else {
        return;
    };
    let s = g.component_index(spec).unwrap();
    let server = if g.rng.u8(0..8) == 0 {
        "nope".to_owned()
    } else {
        spec.components[s].name.clone()
    };
    let target = match g.rng.u8(0..3) {
        0 => Target::Name(server),
        1 => Target::Table {
            component: server,
            export: None,
        },
        _ => {
            let export = g.export_name(Some(spec.components[s].file));
            Target::Table {
                component: server,
                export: Some(export),
            }
        }
    };
    set_binding(&mut spec.components[c], import.name, target);
}

/// An explicit `"host"` binding of a random import.
fn bind_host(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec)
        && let Some(import) = g.import_of(spec, c)
    {
        set_binding(
            &mut spec.components[c],
            import.name,
            Target::Name("host".into()),
        );
    }
}

/// A binding whose key is not an import of the component (or is one at another version).
fn bind_unknown_key(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        let key = g.interface();
        let s = g.component_index(spec).unwrap();
        let target = Target::Name(spec.components[s].name.clone());
        set_binding(&mut spec.components[c], key, target);
    }
}

fn unbind(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        spec.components[c].imports.clear();
    }
}

fn set_binding(comp: &mut Comp, key: String, target: Target) {
    comp.imports.retain(|(k, _)| *k != key);
    comp.imports.push((key, target));
}

/// A host backend named by a label of the pool (or a component's name), implementing a
/// random interface (at times the right one).
fn add_backend(g: &mut Gen<'_>, spec: &mut Spec) {
    let label = match g.rng.u8(0..4) {
        0 => g
            .component_index(spec)
            .map(|c| spec.components[c].name.clone()),
        _ => g.pick(&g.pool.labels).cloned(),
    };
    let Some(label) = label else {
        return;
    };
    let interface = if g.rng.u8(0..6) == 0 {
        "not an interface".into()
    } else {
        g.interface()
    };
    spec.backends.retain(|(l, _)| *l != label);
    spec.backends.push((label, interface));
}

fn drop_backend(g: &mut Gen<'_>, spec: &mut Spec) {
    if !spec.backends.is_empty() {
        let i = g.rng.usize(..spec.backends.len());
        spec.backends.remove(i);
    }
}

/// A `[host] interfaces` entry: an exact name, a package or namespace pattern, or an
/// invalid one.
fn add_interface(g: &mut Gen<'_>, spec: &mut Spec) {
    let name = g.interface();
    let (base, version) = match name.split_once('@') {
        Some((b, v)) => (b.to_owned(), Some(v.to_owned())),
        None => (name.clone(), None),
    };
    let (package, namespace) = match base.split_once('/') {
        Some((p, _)) => (p.to_owned(), p.split(':').next().unwrap_or("").to_owned()),
        None => (base.clone(), base.clone()),
    };
    let at = |s: String| match &version {
        Some(v) => format!("{s}@{v}"),
        None => s,
    };
    let entry = match g.rng.u8(0..6) {
        0 | 1 => name,
        2 => at(format!("{package}/*")),
        3 => at(format!("{namespace}:*")),
        4 => base,
        _ => g
            .pick(&["not a name", "acme:kv/*@x", "*", ":*"])
            .unwrap()
            .to_string(),
    };
    if !spec.interfaces.contains(&entry) {
        spec.interfaces.push(entry);
    }
}

fn clear_interfaces(_: &mut Gen<'_>, spec: &mut Spec) {
    spec.interfaces.clear();
}

/// Renames a component, so that it serves another label (or none); references to it keep
/// the old name.
fn rename_component(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        let name = if g.rng.u8(0..8) == 0 {
            "Bad_Name".to_owned()
        } else {
            g.component_name(spec, spec.components[c].file)
        };
        spec.components[c].name = name;
    }
}

/// An `[exports]` entry: a real or odd name, naming a component and maybe its export.
fn add_export(g: &mut Gen<'_>, spec: &mut Spec) {
    let Some(c) = g.component_index(spec) else {
        return;
    };
    let file = spec.components[c].file;
    let name = g.export_name(Some(file));
    let component = spec.components[c].name.clone();
    let target = match g.rng.u8(0..3) {
        0 => Target::Name(component),
        1 => Target::Table {
            component,
            export: g.pick(&g.pool.files[file].exports).map(|e| e.name.clone()),
        },
        _ => Target::Table {
            component,
            export: Some(g.export_name(None)),
        },
    };
    let exports = spec.exports.get_or_insert_default();
    exports.retain(|(n, _)| *n != name);
    exports.push((name, target));
}

/// Two `[exports]` entries whose names differ only in case, of one real export.
fn add_export_pair(g: &mut Gen<'_>, spec: &mut Spec) {
    let Some(c) = g.component_index(spec) else {
        return;
    };
    let file = spec.components[c].file;
    let Some(export) = g.pick(&g.pool.files[file].exports).cloned() else {
        return;
    };
    let component = spec.components[c].name.clone();
    let exports = spec.exports.get_or_insert_default();
    for name in ["api", "API"] {
        exports.retain(|(n, _)| *n != name);
        let target = Target::Table {
            component: component.clone(),
            export: Some(export.name.clone()),
        };
        exports.push((name.to_owned(), target));
    }
}

fn drop_exports(_: &mut Gen<'_>, spec: &mut Spec) {
    spec.exports = None;
}

/// Two components that bind an import each to the other (when their files allow it), or a
/// bridge and its reverse.
fn add_cycle(g: &mut Gen<'_>, spec: &mut Spec) {
    let bridges: Vec<usize> = (0..g.pool.files.len())
        .filter(|i| {
            g.pool.files[*i].stem.starts_with("bridge-")
                && !g.pool.files[*i].stem.starts_with("bridge-back")
        })
        .collect();
    let Some(&forward) = g.pick(&bridges) else {
        return;
    };
    let back_stem = g.pool.files[forward]
        .stem
        .replace("bridge-", "bridge-back-");
    let back = g
        .pool
        .files
        .iter()
        .position(|f| f.stem == back_stem)
        .unwrap();
    for file in [forward, back] {
        let name = g.component_name(spec, file);
        spec.components.push(Comp {
            name,
            file,
            imports: Vec::new(),
            eager: false,
        });
    }
}

/// A `[clusters]` entry of two or three components (connected or not), now and then with
/// a name that is no component's; a component already in a cluster leaves it.
fn add_cluster(g: &mut Gen<'_>, spec: &mut Spec) {
    let mut members = Vec::new();
    for _ in 0..g.rng.usize(2..=3) {
        let name = match g.component_index(spec) {
            Some(c) if g.rng.u8(0..10) != 0 => spec.components[c].name.clone(),
            _ => "no-such-component".to_owned(),
        };
        if !members.contains(&name) {
            members.push(name);
        }
    }
    for (_, others) in &mut spec.clusters {
        others.retain(|m| !members.contains(m));
    }
    spec.clusters.retain(|(_, others)| !others.is_empty());
    spec.clusters
        .push((format!("c{}", spec.clusters.len()), members));
}

fn flip_instantiate(g: &mut Gen<'_>, spec: &mut Spec) {
    if let Some(c) = g.component_index(spec) {
        spec.components[c].eager ^= true;
    }
}

fn add_component(g: &mut Gen<'_>, spec: &mut Spec) {
    let file = g.file();
    let name = g.component_name(spec, file);
    spec.components.push(Comp {
        name,
        file,
        imports: Vec::new(),
        eager: g.rng.u8(0..4) == 0,
    });
}

/// A pool file that imports one of a component's imports under the same name (and label)
/// with another type, as another component: when the host serves that import, it must
/// serve one name with two types.
fn add_conflicting_importer(g: &mut Gen<'_>, spec: &mut Spec) {
    let Some(c) = g.component_index(spec) else {
        return;
    };
    let Some(import) = g.import_of(spec, c) else {
        return;
    };
    let file = spec.components[c].file;
    let others: Vec<usize> = (0..g.pool.files.len())
        .filter(|f| *f != file && g.pool.files[*f].imports.contains(&import))
        .collect();
    let Some(&other) = g.pick(&others) else {
        return;
    };
    let name = g.component_name(spec, other);
    spec.components.push(Comp {
        name,
        file: other,
        imports: Vec::new(),
        eager: false,
    });
    // Most of the time, also leave the import to the host.
    if g.rng.u8(0..4) > 0 {
        match &import.implements {
            Some(interface) => {
                spec.components.retain(|c| c.name != import.name);
                spec.backends.retain(|(l, _)| *l != import.name);
                spec.backends.push((import.name.clone(), interface.clone()));
            }
            None => spec.interfaces.push(import.name.clone()),
        }
    }
}
