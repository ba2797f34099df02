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
    starlark_value, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::fmt;

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
