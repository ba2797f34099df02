//! What `*_test.sky` files use: `asserts.*` (`assert` is a reserved word in Starlark; failures
//! name both values and the CLI shows the
//! line) and `testing.*` (build a `ctx` for `main`, render objects to plain dicts).

use super::SkyError;
use skyc_diag::codes;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::dict::DictRef;
use starlark::values::list::AllocList;
use starlark::values::none::NoneType;
use starlark::values::{Value, ValueLike};
use std::collections::BTreeMap;

fn fail(message: String, note: Option<&str>) -> starlark::Error {
    let message = match note {
        Some(n) => format!("{message} ({n})"),
        None => message,
    };
    SkyError::new(codes::SKY0801, message).into()
}

/// `assert.*`.
#[starlark_module]
pub(crate) fn assert_module(builder: &mut GlobalsBuilder) {
    /// Fails unless `actual == expected`, showing both values.
    fn eq<'v>(
        #[starlark(require = pos)] actual: Value<'v>,
        #[starlark(require = pos)] expected: Value<'v>,
        #[starlark(require = named)] msg: Option<&str>,
    ) -> starlark::Result<NoneType> {
        if actual.equals(expected)? {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "asserts.eq failed\n  actual:   {}\n  expected: {}",
                crate::values::repr(actual),
                crate::values::repr(expected)
            ),
            msg,
        ))
    }

    /// Fails if `actual == unexpected`.
    fn ne<'v>(
        #[starlark(require = pos)] actual: Value<'v>,
        #[starlark(require = pos)] unexpected: Value<'v>,
        #[starlark(require = named)] msg: Option<&str>,
    ) -> starlark::Result<NoneType> {
        if !actual.equals(unexpected)? {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "asserts.ne failed: both values are {}",
                crate::values::repr(actual)
            ),
            msg,
        ))
    }

    /// Fails unless `condition` is true.
    fn r#true<'v>(
        #[starlark(require = pos)] condition: Value<'v>,
        #[starlark(require = named)] msg: Option<&str>,
    ) -> starlark::Result<NoneType> {
        if condition.to_bool() {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "asserts.true failed: {} is not true",
                crate::values::repr(condition)
            ),
            msg,
        ))
    }

    /// Fails unless `item in container`.
    fn contains<'v>(
        #[starlark(require = pos)] container: Value<'v>,
        #[starlark(require = pos)] item: Value<'v>,
        #[starlark(require = named)] msg: Option<&str>,
        heap: starlark::values::Heap<'v>,
    ) -> starlark::Result<NoneType> {
        let _ = heap;
        if container.is_in(item)? {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "asserts.contains failed: {} is not in {}",
                crate::values::repr(item),
                crate::values::repr(container)
            ),
            msg,
        ))
    }

    /// Calls `fn` (no arguments) and fails unless it fails with an error whose message
    /// contains `match`.
    fn fails<'v>(
        #[starlark(require = pos)] function: Value<'v>,
        #[starlark(require = pos)] r#match: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<NoneType> {
        match eval.eval_function(function, &[], &[]) {
            Ok(v) => Err(fail(
                format!(
                    "asserts.fails failed: the function returned {} instead of failing with {:?}",
                    crate::values::repr(v),
                    r#match
                ),
                None,
            )),
            Err(e) => {
                let text = format!("{:#}", e.without_diagnostic());
                if text.contains(r#match) {
                    Ok(NoneType)
                } else {
                    Err(fail(
                        format!(
                            "asserts.fails failed: the error does not contain {:?}\n  error: {}",
                            r#match,
                            text.lines().next().unwrap_or("")
                        ),
                        None,
                    ))
                }
            }
        }
    }
}

/// `testing.*`.
#[starlark_module]
pub(crate) fn testing_module(builder: &mut GlobalsBuilder) {
    /// A `ctx` to call `main` with: `main(testing.ctx(vars = {"environment": "prod"}))`.
    fn ctx<'v>(
        #[starlark(require = named)] vars: Option<Value<'v>>,
        heap: starlark::values::Heap<'v>,
    ) -> starlark::Result<Value<'v>> {
        let mut values = BTreeMap::new();
        if let Some(v) = vars {
            let Some(d) = DictRef::from_value(v) else {
                return Err(fail(
                    "testing.ctx: vars must be a dict of strings".into(),
                    None,
                ));
            };
            for (k, x) in d.iter() {
                match (k.unpack_str(), x.unpack_str()) {
                    (Some(k), Some(x)) => {
                        values.insert(k.to_string(), x.to_string());
                    }
                    _ => {
                        return Err(fail(
                            format!(
                                "testing.ctx: vars must map strings to strings, got {}: {}",
                                crate::values::repr(k),
                                crate::values::repr(x)
                            ),
                            None,
                        ))
                    }
                }
            }
        }
        // No declared variables: a test may set any.
        Ok(crate::eval::alloc_ctx(
            heap,
            values,
            &crate::Config::default(),
        ))
    }

    /// The objects a value renders to, as plain dicts with the field names of the YAML:
    /// `testing.render(main(testing.ctx()))`. Lists are flattened. Embedded Envoy
    /// configurations (a ConfigMap's `envoy.yaml`) are dicts with the protobuf field names.
    fn render<'v>(
        #[starlark(require = pos)] value: Value<'v>,
        eval: &mut starlark::eval::Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let heap = eval.heap();
        let mut items = Vec::new();
        flatten(value, &mut items, 0);
        let mut out = Vec::new();
        for item in items {
            if item.is_none() {
                continue;
            }
            crate::values::message::normalize(eval, item, None);
            let (mut json, _, embedded) = crate::lower::to_json_with_origins(item)
                .map_err(|e| fail(format!("testing.render: {e}"), None))?;
            for e in &embedded {
                crate::lower::replace_placeholder_with(&mut json, &e.placeholder, &e.json);
            }
            out.push(heap.alloc(json));
        }
        Ok(heap.alloc(AllocList(out)))
    }
}

fn flatten<'v>(v: Value<'v>, out: &mut Vec<Value<'v>>, depth: usize) {
    if depth < 64 {
        if let Some(l) = starlark::values::list::ListRef::from_value(v) {
            for x in l.content() {
                flatten(x.to_value(), out, depth + 1);
            }
            return;
        }
    }
    out.push(v);
}

/// `t.assert` of skycfg's test protocol: callable (`t.assert(cond)`) with comparison methods.
#[derive(
    Debug,
    Clone,
    starlark::any::ProvidesStaticType,
    starlark::values::NoSerialize,
    starlark::values::StarlarkPagablePanic,
    allocative::Allocative,
)]
pub struct SkycfgAssert;

starlark::starlark_simple_value!(SkycfgAssert);

impl std::fmt::Display for SkycfgAssert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<t.assert>")
    }
}

#[starlark::values::starlark_value(type = "assert")]
impl<'v> starlark::values::StarlarkValue<'v> for SkycfgAssert {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &starlark::eval::Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let cond: Value = args.positional1(eval.heap())?;
        if cond.to_bool() {
            return Ok(Value::new_none());
        }
        Err(fail(
            format!(
                "assertion failed: {} is not true",
                crate::values::repr(cond)
            ),
            None,
        ))
    }

    fn get_methods() -> Option<&'static starlark::environment::Methods> {
        static RES: starlark::environment::MethodsStatic =
            starlark::environment::MethodsStatic::new("assert", skycfg_assert_methods);
        Some(RES.methods())
    }
}

fn compare<'v>(
    a: Value<'v>,
    b: Value<'v>,
    what: &str,
    holds: impl Fn(std::cmp::Ordering) -> bool,
) -> starlark::Result<NoneType> {
    if holds(a.compare(b)?) {
        return Ok(NoneType);
    }
    Err(fail(
        format!(
            "assertion failed: {} {what} {}",
            crate::values::repr(a),
            crate::values::repr(b)
        ),
        None,
    ))
}

#[starlark_module]
fn skycfg_assert_methods(builder: &mut starlark::environment::MethodsBuilder) {
    /// Fails unless `a == b`.
    fn equal<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        if a.equals(b)? {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "assertion failed: {} == {}",
                crate::values::repr(a),
                crate::values::repr(b)
            ),
            None,
        ))
    }

    /// Fails if `a == b`.
    fn not_equal<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        if !a.equals(b)? {
            return Ok(NoneType);
        }
        Err(fail(
            format!(
                "assertion failed: {} != {}",
                crate::values::repr(a),
                crate::values::repr(b)
            ),
            None,
        ))
    }

    /// Fails unless `a < b`.
    fn lesser<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        compare(a, b, "<", |o| o.is_lt())
    }

    /// Fails unless `a <= b`.
    fn lesser_or_equal<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        compare(a, b, "<=", |o| o.is_le())
    }

    /// Fails unless `a > b`.
    fn greater<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        compare(a, b, ">", |o| o.is_gt())
    }

    /// Fails unless `a >= b`.
    fn greater_or_equal<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
    ) -> starlark::Result<NoneType> {
        compare(a, b, ">=", |o| o.is_ge())
    }

    /// Calls `f(*args)` and fails unless it fails; returns a struct whose `message` is the
    /// error's message.
    fn fails<'v>(
        #[starlark(this)] _this: Value<'v>,
        #[starlark(require = pos)] f: Value<'v>,
        #[starlark(args)] args: starlark::values::tuple::UnpackTuple<Value<'v>>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        match eval.eval_function(f, &args.items, &[]) {
            Ok(v) => Err(fail(
                format!(
                    "assertion failed: {} returned {} instead of failing",
                    crate::values::repr(f),
                    crate::values::repr(v)
                ),
                None,
            )),
            Err(e) => {
                let message = crate::eval::errors::message_of(&e);
                let heap = eval.heap();
                Ok(heap.alloc(starlark::values::structs::AllocStruct([(
                    "message",
                    heap.alloc(message),
                )])))
            }
        }
    }
}
