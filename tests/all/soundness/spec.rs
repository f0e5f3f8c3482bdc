//! A generated workload as plain data, written out as `workload.toml` text (which the
//! resolver then parses, so every diagnostic can point into it).

use super::pool::Pool;
use compose_resolver::{BindingTarget, ComponentSource, Instantiation, Workload};
use std::fmt::Write;

/// What an explicit binding or a workload export names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `"name"`: a component, or `"host"`.
    Name(String),
    /// `{ component = "...", export = "..." }`.
    Table {
        component: String,
        export: Option<String>,
    },
}

/// One `[components.<name>]`.
#[derive(Debug, Clone)]
pub struct Comp {
    pub name: String,
    /// Index into [`Pool::files`].
    pub file: usize,
    pub imports: Vec<(String, Target)>,
    pub eager: bool,
}

/// A whole workload file.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub name: String,
    pub interfaces: Vec<String>,
    pub backends: Vec<(String, String)>,
    pub components: Vec<Comp>,
    pub exports: Option<Vec<(String, Target)>>,
    /// `[clusters]`: each cluster's name and members.
    pub clusters: Vec<(String, Vec<String>)>,
}

impl Spec {
    /// The example workload `fixtures/<example>/workload.toml`, read by the resolver.
    pub fn example(example: &str, pool: &Pool) -> Spec {
        let path = compose_tests::example_workload(example);
        let workload = Workload::from_file(&path).expect("the example parses");
        let file_of = |source: &ComponentSource| {
            let ComponentSource::Path(p) = source else {
                panic!("examples name files")
            };
            let full = workload.base_dir.join(p).canonicalize().expect("exists");
            pool.files
                .iter()
                .position(|f| f.path.canonicalize().ok().as_ref() == Some(&full))
                .expect("example components are fixtures")
        };
        let target = |t: &BindingTarget| match t {
            BindingTarget::Host => Target::Name("host".into()),
            BindingTarget::Component {
                component,
                export: None,
            } => Target::Name(component.clone()),
            BindingTarget::Component { component, export } => Target::Table {
                component: component.clone(),
                export: export.clone(),
            },
        };
        Spec {
            name: workload.name.value.clone(),
            interfaces: workload
                .host
                .interfaces
                .iter()
                .map(|i| i.value.clone())
                .collect(),
            backends: (workload.host.backends.iter())
                .map(|(l, b)| (l.clone(), b.interface.value.clone()))
                .collect(),
            components: (workload.components.iter())
                .map(|(name, decl)| Comp {
                    name: name.clone(),
                    file: file_of(&decl.source.value),
                    imports: (decl.imports.iter())
                        .map(|(k, b)| (k.clone(), target(&b.target.value)))
                        .collect(),
                    eager: decl.instantiate == Instantiation::Eager,
                })
                .collect(),
            exports: workload.exports.as_ref().map(|exports| {
                exports
                    .iter()
                    .map(|(name, e)| {
                        let t = BindingTarget::Component {
                            component: e.value.component.clone(),
                            export: e.value.export.clone(),
                        };
                        (name.clone(), target(&t))
                    })
                    .collect()
            }),
            clusters: (workload.clusters.iter())
                .map(|(name, c)| {
                    (
                        name.clone(),
                        c.members.iter().map(|m| m.value.clone()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// The index of the component named `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.components.iter().position(|c| c.name == name)
    }

    /// The workload file's text; component paths are absolute.
    pub fn to_toml(&self, pool: &Pool) -> String {
        let mut out = format!("name = {}\n", quote(&self.name));
        if !self.interfaces.is_empty() || !self.backends.is_empty() {
            out += "\n[host]\n";
            let list: Vec<String> = self.interfaces.iter().map(|i| quote(i)).collect();
            let _ = writeln!(out, "interfaces = [{}]", list.join(", "));
            let table: Vec<(String, Target)> = (self.backends.iter())
                .map(|(l, i)| (l.clone(), Target::Name(i.clone())))
                .collect();
            let _ = writeln!(out, "backends = {}", inline_table(&table));
        }
        for c in &self.components {
            let _ = writeln!(out, "\n[components.{}]", quote(&c.name));
            let _ = writeln!(
                out,
                "path = {}",
                quote(&pool.files[c.file].path.display().to_string())
            );
            if !c.imports.is_empty() {
                let _ = writeln!(out, "imports = {}", inline_table(&c.imports));
            }
            if c.eager {
                out += "instantiate = \"eager\"\n";
            }
        }
        if let Some(exports) = &self.exports {
            out += "\n[exports]\n";
            for (name, target) in exports {
                let _ = writeln!(out, "{} = {}", quote(name), value(target));
            }
        }
        if !self.clusters.is_empty() {
            out += "\n[clusters]\n";
            for (name, members) in &self.clusters {
                let members: Vec<String> = members.iter().map(|m| quote(m)).collect();
                let _ = writeln!(out, "{} = [{}]", quote(name), members.join(", "));
            }
        }
        out
    }
}

/// A TOML basic string (JSON's string escapes are valid TOML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn value(target: &Target) -> String {
    match target {
        Target::Name(name) => quote(name),
        Target::Table { component, export } => match export {
            Some(e) => format!(
                "{{ component = {}, export = {} }}",
                quote(component),
                quote(e)
            ),
            None => format!("{{ component = {} }}", quote(component)),
        },
    }
}

fn inline_table(entries: &[(String, Target)]) -> String {
    let items: Vec<String> = (entries.iter())
        .map(|(k, t)| format!("{} = {}", quote(k), value(t)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}
