//! `envoy`: a namespace of typed constructors that is resolved attribute by attribute, so the
//! Envoy schema (1,600 message types) is only decoded by files that use it.

use super::message::MessageCtor;
use allocative::Allocative;
use skyc_schema::envoy::envoy;
use starlark::any::ProvidesStaticType;
use starlark::starlark_simple_value;
use starlark::typing::Ty;
use starlark::values::{
    starlark_value, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::fmt;

/// A namespace path such as `envoy.config.cluster.v3`.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct LazyNamespace {
    pub(crate) prefix: String,
}

starlark_simple_value!(LazyNamespace);

impl fmt::Display for LazyNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<namespace {}>", self.prefix)
    }
}

impl LazyNamespace {
    /// The names directly under this namespace: sub-namespaces and constructors, sorted.
    fn children(&self) -> Vec<String> {
        let schema = &envoy().schema;
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
        let path = format!("{}.{attribute}", self.prefix);
        let schema = &envoy().schema;
        if let Some(t) = schema.by_path(&path) {
            return Some(heap.alloc(MessageCtor::new(t.id)));
        }
        let dot = format!("{path}.");
        if schema.types().iter().any(|t| t.path.starts_with(&dot)) {
            return Some(heap.alloc(LazyNamespace { prefix: path }));
        }
        None
    }

    fn has_attr(&self, attribute: &str, heap: Heap<'v>) -> bool {
        self.get_attr(attribute, heap).is_some()
    }

    fn dir_attr(&self) -> Vec<String> {
        self.children()
    }

    fn typechecker_ty(&self) -> Option<Ty> {
        // Resolved when the file runs; the constructors check their fields then.
        Some(Ty::any())
    }
}
