//! The Envoy v3 API as a schema source: the descriptor set bundled by `envoy-types` (copied
//! into the build by `build.rs`), decoded with `prost-reflect` on first use.

use prost_reflect::DescriptorPool;
use std::sync::OnceLock;

/// The encoded `FileDescriptorSet` of the Envoy v3 API and its dependencies.
pub static DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/envoy-types.bin"));

/// The version of `envoy-types` the descriptor set comes from.
pub const ENVOY_TYPES_VERSION: &str = env!("SKYC_ENVOY_TYPES_VERSION");

/// The decoded descriptor pool (built once per process, on first use).
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTOR_SET)
            .expect("the bundled Envoy descriptor set is valid (checked by a test)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_set_has_the_envoy_v3_api_and_validate_rules() {
        let p = pool();
        assert!(p.files().count() > 400, "files: {}", p.files().count());
        assert!(p.all_messages().count() > 1500);
        let cluster = p
            .get_message_by_name("envoy.config.cluster.v3.Cluster")
            .expect("Cluster");
        assert!(cluster.get_field_by_name("connect_timeout").is_some());
        assert!(p.get_extension_by_name("validate.rules").is_some());
        assert!(p
            .get_message_by_name("envoy.config.bootstrap.v3.Bootstrap")
            .is_some());
    }
}
