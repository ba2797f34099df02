//! `ctx`, the argument of `main(ctx)`: `ctx.vars` holds the `--var` values.

use super::SkyError;
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean};
use starlark::any::ProvidesStaticType;
use starlark::environment::{Methods, MethodsBuilder, MethodsStatic};
use starlark::starlark_module;
use starlark::starlark_simple_value;
use starlark::values::none::NoneType;
use starlark::values::{
    starlark_value, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::collections::BTreeMap;
use std::fmt;

/// The variables of one evaluation: a read-only string dict that explains missing keys.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct Vars {
    pub(crate) values: BTreeMap<String, String>,
    /// Declared names (from sky.toml); empty when the project declares none.
    pub(crate) declared: Vec<String>,
}

starlark_simple_value!(Vars);

impl fmt::Display for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("vars({")?;
        for (i, (k, v)) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k:?}: {v:?}")?;
        }
        f.write_str("})")
    }
}

impl Vars {
    fn missing(&self, key: &str) -> starlark::Error {
        if !self.declared.is_empty() && !self.declared.iter().any(|d| d == key) {
            let mut e = SkyError::new(
                codes::SKY0310,
                format!("variable `{key}` is not declared in sky.toml"),
            );
            if let Some(s) = did_you_mean(key, self.declared.iter().map(String::as_str)) {
                e = e.with_help(format!("did you mean `{s}`?"));
            }
            return e.into();
        }
        let mut e = SkyError::new(codes::SKY0309, format!("variable `{key}` was not given"))
            .with_help(format!(
                "pass `--var {key}=VALUE`, or declare a default in `[vars.{key}]` of sky.toml"
            ));
        if let Some(s) = did_you_mean(key, self.values.keys().map(String::as_str)) {
            e = e.with_help(format!(
                "did you mean `{s}`? (given: {})",
                self.values.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        e.into()
    }
}

#[starlark_value(type = "vars")]
impl<'v> StarlarkValue<'v> for Vars {
    fn at(&self, index: Value<'v>, heap: Heap<'v>) -> starlark::Result<Value<'v>> {
        let Some(key) = index.unpack_str() else {
            return Err(SkyError::new(
                codes::SKY0301,
                format!("variable names are strings, not {}", index.get_type()),
            )
            .into());
        };
        match self.values.get(key) {
            Some(v) => Ok(heap.alloc(v.as_str())),
            None => Err(self.missing(key)),
        }
    }

    fn is_in(&self, other: Value<'v>) -> starlark::Result<bool> {
        Ok(other
            .unpack_str()
            .is_some_and(|k| self.values.contains_key(k)))
    }

    fn length(&self) -> starlark::Result<i32> {
        Ok(self.values.len() as i32)
    }

    fn get_methods() -> Option<&'static Methods> {
        static RES: MethodsStatic = MethodsStatic::new("vars", vars_methods);
        Some(RES.methods())
    }
}

#[starlark_module]
fn vars_methods(builder: &mut MethodsBuilder) {
    /// `ctx.vars.get(name, default = None)`: the variable, or `default` when it was not given.
    fn get<'v>(
        this: &Vars,
        #[starlark(require = pos)] name: &str,
        #[starlark(require = pos, default = NoneType)] default: Value<'v>,
        heap: Heap<'v>,
    ) -> starlark::Result<Value<'v>> {
        if !this.declared.is_empty() && !this.declared.iter().any(|d| d == name) {
            return Err(this.missing(name));
        }
        Ok(this
            .values
            .get(name)
            .map_or(default, |v| heap.alloc(v.as_str())))
    }

    /// The names of the given variables, sorted.
    fn keys<'v>(this: &Vars, heap: Heap<'v>) -> starlark::Result<Vec<Value<'v>>> {
        Ok(this.values.keys().map(|k| heap.alloc(k.as_str())).collect())
    }
}
