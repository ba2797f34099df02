//! The workload of skyc's benchmarks: the peers harness's N services (each a Deployment, a
//! Service and a ServiceAccount, `benches/peers/skyc/`), as a project in memory.

use skyc_core::MemoryWorld;

/// The library of the peers workload.
pub const LIB: &str = include_str!("../peers/skyc/skyc_lib.sky");
/// Its entry file, with `@N@` where the number of services goes.
pub const MAIN: &str = include_str!("../peers/skyc/skyc_main.sky");

/// The peers workload for `n` services.
pub fn workload(n: usize) -> MemoryWorld {
    let main = MAIN.replace("@N@", &n.to_string());
    MemoryWorld::new([("skyc_lib.sky", LIB), ("skyc_main.sky", main.as_str())])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_workload_compiles_to_three_objects_per_service() {
        let world = super::workload(7);
        let out = skyc_core::compile(&world, "skyc_main.sky", &Default::default());
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        assert_eq!(out.objects.len(), 21);
        let kinds: Vec<&str> = out.objects[..3].iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["Deployment", "Service", "ServiceAccount"]);
        assert_eq!(out.objects[3].name, "svc-1");
    }
}
