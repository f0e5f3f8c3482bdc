//! The resolver's checks of grants: a grant the component cannot use is a warning
//! ([`Problem::UnusableGrant`]).

use crate::component::ComponentType;
use crate::diagnostic::Problem;
use crate::grants::USED_THROUGH;
use crate::plan::ComponentId;
use crate::resolve::Resolver;

/// Whether a component of type `ty` imports an interface named with one of `prefixes`.
fn imports_any(ty: &ComponentType, prefixes: &[&str]) -> bool {
    ty.imports
        .iter()
        .any(|i| prefixes.iter().any(|p| i.name.starts_with(p)))
}

impl Resolver<'_> {
    /// Warns about each kind of grant in a component's own `allow` table that it cannot
    /// use, because it does not import the interface the grant is for.
    pub(crate) fn warn_unusable_grants(&mut self) {
        for i in 0..self.workload.components.len() {
            let id = ComponentId(i);
            let (Some(ty), decl) = (self.ty(id), self.decl(id)) else {
                continue;
            };
            let (grants, spans) = (&decl.allow.grants, &decl.allow.spans);
            let given = [
                (!grants.env.is_empty(), &spans.env),
                (!grants.dirs.is_empty(), &spans.dirs),
                (!grants.http.is_empty(), &spans.http),
            ];
            for ((key, interface, prefixes), (granted, span)) in USED_THROUGH.into_iter().zip(given)
            {
                if granted && !imports_any(&ty, prefixes) {
                    let component = self.name(id);
                    let problem = Problem::UnusableGrant {
                        component,
                        key,
                        interface,
                    };
                    self.report(problem, span.clone(), "not used");
                }
            }
        }
    }
}
