//! `proto.*` helpers for protobuf (Envoy) messages, and `duration(...)`.

use super::message::Message;
use super::SkyError;
use skyc_diag::codes;
use skyc_schema::SchemaId;
use starlark::environment::GlobalsBuilder;
use starlark::starlark_module;
use starlark::values::float::UnpackFloat;
use starlark::values::Value;

/// `proto.*`.
#[starlark_module]
pub(crate) fn proto_module(builder: &mut GlobalsBuilder) {
    /// Packs a protobuf message for a `google.protobuf.Any` field (`typed_config`,
    /// `typed_extension_protocol_options`). The value is the message itself: lowering writes
    /// it with its `@type`. Any fields also accept the message directly.
    fn to_any<'v>(#[starlark(require = pos)] msg: Value<'v>) -> starlark::Result<Value<'v>> {
        match Message::from_value(msg) {
            Some(m) if m.ty.source() == SchemaId::ENVOY => Ok(msg),
            Some(m) => Err(SkyError::new(
                codes::SKY0204,
                format!(
                    "proto.to_any takes a protobuf message, got {} (a Kubernetes type)",
                    m.message_type().path
                ),
            )
            .into()),
            None => Err(SkyError::new(
                codes::SKY0204,
                format!(
                    "proto.to_any takes a protobuf message, got {} {}",
                    msg.get_type(),
                    msg.to_repr()
                ),
            )
            .with_help("build it with a constructor such as envoy.extensions.filters.http.router.v3.Router()")
            .into()),
        }
    }
}

/// `duration(...)`.
#[starlark_module]
pub(crate) fn duration_module(builder: &mut GlobalsBuilder) {
    /// A `google.protobuf.Duration` from parts, e.g. `duration(seconds = 1, milliseconds = 500)`
    /// is `"1.500s"`. Parts may be fractional and are added up.
    fn duration(
        #[starlark(require = named, default = UnpackFloat(0.0))] hours: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] minutes: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] seconds: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] milliseconds: UnpackFloat,
    ) -> starlark::Result<String> {
        let total = hours.0 * 3600.0 + minutes.0 * 60.0 + seconds.0 + milliseconds.0 / 1000.0;
        if !total.is_finite() || total.abs() > 315_576_000_000.0 {
            return Err(SkyError::new(
                codes::SKY0204,
                format!("duration of {total} seconds is out of range"),
            )
            .into());
        }
        let nanos = (total * 1e9).round() as i128;
        Ok(skyc_schema::Duration { nanos }.to_proto_json())
    }
}
