//! `kube`: typed helpers for resource quantities, and the `Quantity` value type.

use allocative::Allocative;
use skyc_schema::Quantity;
use starlark::any::ProvidesStaticType;
use starlark::environment::GlobalsBuilder;
use starlark::starlark_module;
use starlark::starlark_simple_value;
use starlark::values::float::UnpackFloat;
use starlark::values::{
    starlark_value, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::fmt;

/// A parsed resource quantity (`500m`, `16Gi`).
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct QuantityValue(#[allocative(skip)] pub Quantity);

starlark_simple_value!(QuantityValue);

impl fmt::Display for QuantityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kube.quantity({:?})", self.0.text)
    }
}

#[starlark_value(type = "Quantity")]
impl<'v> StarlarkValue<'v> for QuantityValue {
    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        Ok(QuantityValue::from_value(other).is_some_and(|o| o.0.value == self.0.value))
    }

    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        match attribute {
            "text" => Some(heap.alloc(self.0.text.as_str())),
            _ => None,
        }
    }

    fn dir_attr(&self) -> Vec<String> {
        vec!["text".into()]
    }
}

fn number_text(n: f64, scale: f64, suffix: &str, what: &str) -> anyhow::Result<QuantityValue> {
    if !n.is_finite() || n < 0.0 {
        return Err(anyhow::anyhow!(
            "{what} must be a non-negative number, got {n}"
        ));
    }
    let v = n * scale;
    let text = if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}{suffix}", v as i64)
    } else {
        // Express fractions in the next smaller unit where that makes them whole.
        return Err(anyhow::anyhow!(
            "{what}({n}) is not a whole number of {suffix_name}; use a smaller unit",
            suffix_name = if suffix.is_empty() { "units" } else { suffix }
        ));
    };
    Ok(QuantityValue(
        skyc_schema::parse_quantity(&text).map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

/// Resource quantity helpers: `kube.cores(4)`, `kube.gibibytes(16)`, ...
#[starlark_module]
pub(crate) fn kube_module(builder: &mut GlobalsBuilder) {
    /// CPU cores: `kube.cores(4)` is `4`, `kube.cores(0.5)` is `500m`.
    fn cores(#[starlark(require = pos)] n: UnpackFloat) -> anyhow::Result<QuantityValue> {
        if n.0.fract() != 0.0 {
            return number_text(n.0, 1000.0, "m", "cores");
        }
        number_text(n.0, 1.0, "", "cores")
    }

    /// CPU millicores: `kube.millicores(250)` is `250m`.
    fn millicores(#[starlark(require = pos)] n: i32) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "m", "millicores")
    }

    /// Bytes: `kube.bytes(1024)` is `1024`.
    fn bytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "", "bytes")
    }

    /// Kilobytes (1000 bytes): `kube.kilobytes(10)` is `10k`.
    fn kilobytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "k", "kilobytes")
    }

    /// Kibibytes (1024 bytes): `kube.kibibytes(10)` is `10Ki`.
    fn kibibytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "Ki", "kibibytes")
    }

    /// Megabytes (10^6 bytes): `kube.megabytes(512)` is `512M`.
    fn megabytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "M", "megabytes")
    }

    /// Mebibytes (2^20 bytes): `kube.mebibytes(512)` is `512Mi`.
    fn mebibytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "Mi", "mebibytes")
    }

    /// Gigabytes (10^9 bytes): `kube.gigabytes(16)` is `16G`.
    fn gigabytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "G", "gigabytes")
    }

    /// Gibibytes (2^30 bytes): `kube.gibibytes(16)` is `16Gi`.
    fn gibibytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "Gi", "gibibytes")
    }

    /// Terabytes (10^12 bytes).
    fn terabytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "T", "terabytes")
    }

    /// Tebibytes (2^40 bytes).
    fn tebibytes(#[starlark(require = pos)] n: i64) -> anyhow::Result<QuantityValue> {
        number_text(n as f64, 1.0, "Ti", "tebibytes")
    }

    /// A quantity from its Kubernetes text form: `kube.quantity("1500m")`.
    fn quantity(#[starlark(require = pos)] text: &str) -> anyhow::Result<QuantityValue> {
        skyc_schema::parse_quantity(text)
            .map(QuantityValue)
            .map_err(|e| {
                anyhow::Error::new(super::SkyError::new(
                    skyc_diag::codes::SKY0207,
                    e.to_string(),
                ))
            })
    }
}

/// The `Quantity` type, usable in annotations (`cpu: Quantity | str`).
#[starlark_module]
#[starlark_types(QuantityValue as Quantity)]
pub(crate) fn quantity_type(builder: &mut GlobalsBuilder) {}
