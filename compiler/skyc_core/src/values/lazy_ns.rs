//! `envoy`: protobuf packages and constructors resolved only when used. Attribute access
//! (which starlark's compiler also does ahead of time, when it compiles a function body) just
//! extends the path; calling the value decodes the Envoy schema and runs the constructor of
//! that path. A file that never calls an Envoy constructor never pays for the schema (1,600
//! message types).

use super::message::MessageCtor;
use super::SkyError;
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean};
use starlark::any::ProvidesStaticType;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::typing::Ty;
use starlark::values::{
    starlark_value, FrozenValue, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::fmt;
use std::sync::OnceLock;

/// A path such as `envoy.config.cluster.v3` or `envoy.config.cluster.v3.Cluster`.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct LazyNamespace {
    pub(crate) prefix: String,
}

starlark_simple_value!(LazyNamespace);

impl fmt::Display for LazyNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix)
    }
}

impl LazyNamespace {
    /// The names directly under this path, sorted (decodes the schema).
    fn children(&self) -> Vec<String> {
        let schema = &skyc_schema::envoy::envoy().schema;
        let dot = format!("{}.", self.prefix);
        let mut out: Vec<String> = schema
            .types()
            .iter()
            .filter_map(|t| t.path.strip_prefix(&dot))
            .map(|rest| rest.split('.').next().unwrap_or(rest).to_string())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[starlark_value(type = "namespace")]
impl<'v> StarlarkValue<'v> for LazyNamespace {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        Some(heap.alloc(LazyNamespace {
            prefix: format!("{}.{attribute}", self.prefix),
        }))
    }

    fn has_attr(&self, _attribute: &str, _heap: Heap<'v>) -> bool {
        true
    }

    fn dir_attr(&self) -> Vec<String> {
        self.children()
    }

    fn typechecker_ty(&self) -> Option<Ty> {
        // Resolved when called; the constructors check their fields then.
        Some(Ty::any())
    }

    fn invoke(
        &self,
        me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let schema = &skyc_schema::envoy::envoy().schema;
        match schema.by_path(&self.prefix) {
            Some(t) => MessageCtor::new(t.id).invoke(me, args, eval),
            None => {
                let paths = schema.types().iter().map(|t| t.path.as_str());
                let help = match did_you_mean(&self.prefix, paths) {
                    Some(p) => format!("did you mean `{p}`?"),
                    None => "`skyc doc envoy` lists the Envoy packages".to_string(),
                };
                Err(SkyError::new(
                    codes::SKY0208,
                    format!("there is no Envoy message type `{}`", self.prefix),
                )
                .with_help(help)
                .into())
            }
        }
    }
}

/// A namespace whose static type is computed once. Starlark's own namespace describes itself
/// to the typechecker by building the type of every member, each time the typechecker meets
/// its name; for `k8s` (hundreds of constructors) that was most of the time spent
/// typechecking a long file. This wrapper builds that type on first use and shares it; at run
/// time it behaves exactly like the namespace it wraps.
#[derive(Debug, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct CachedNamespace {
    /// The wrapped namespace; its heap lives as long as the globals (see `globals()`).
    inner: FrozenValue,
    #[allocative(skip)]
    ty: OnceLock<Ty>,
}

starlark_simple_value!(CachedNamespace);

impl CachedNamespace {
    pub(crate) fn new(inner: FrozenValue) -> CachedNamespace {
        CachedNamespace {
            inner,
            ty: OnceLock::new(),
        }
    }
}

impl fmt::Display for CachedNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.to_value(), f)
    }
}

#[starlark_value(type = "namespace")]
impl<'v> StarlarkValue<'v> for CachedNamespace {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        self.inner
            .to_value()
            .get_attr(attribute, heap)
            .ok()
            .flatten()
    }

    fn has_attr(&self, attribute: &str, heap: Heap<'v>) -> bool {
        self.inner.to_value().has_attr(attribute, heap)
    }

    fn dir_attr(&self) -> Vec<String> {
        self.inner.to_value().dir_attr()
    }

    fn typechecker_ty(&self) -> Option<Ty> {
        Some(
            self.ty
                .get_or_init(|| Ty::of_value(self.inner.to_value()))
                .clone(),
        )
    }
}
