//! Every example renders (twice, byte-identical), matches its snapshot, and passes
//! `kubernetes-validate --strict` for the Kubernetes version skyc targets.

mod common;

use common::{compile_example, validate_strict, EXAMPLES};
use skyc_core::emit::{stream, Format};

fn render(example: &str, vars: &[(&str, &str)]) -> String {
    let out = compile_example(example, vars);
    assert!(
        !out.has_errors(),
        "{example} {vars:?}: {:#?}",
        out.diagnostics
    );
    stream(&out.objects, Format::Yaml)
}

#[test]
fn examples_render_deterministically_and_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (example, var_sets) in EXAMPLES {
        for vars in *var_sets {
            let a = render(example, vars);
            let b = render(example, vars);
            assert_eq!(a, b, "{example} renders differently twice");
            let suffix: Vec<String> = vars.iter().map(|(_, v)| v.to_string()).collect();
            let name = if suffix.is_empty() {
                example.to_string()
            } else {
                format!("{example}-{}", suffix.join("-"))
            };
            insta::assert_snapshot!(format!("example__{name}"), a);
            let path = tmp.path().join(format!("{name}.yaml"));
            std::fs::write(&path, &a).unwrap();
            files.push(path);
        }
    }
    validate_strict(&files);
}

/// The migration example: where each object runs for each value of the flag. Fails if
/// `migrate`, `on_clusters` or the per-cluster filtering (`Object::runs_in`) breaks.
#[test]
fn migration_example_runs_each_job_where_the_flag_says() {
    let runs_in = |flag: &str, cluster: &str| -> Vec<String> {
        let out = compile_example("migration", &[("move_settlement", flag)]);
        assert!(!out.has_errors(), "{:#?}", out.diagnostics);
        let mut names: Vec<String> = out
            .objects
            .iter()
            .filter(|o| o.runs_in(cluster))
            .map(|o| o.name.clone())
            .collect();
        // A job's CronJob, ServiceAccount and NetworkPolicy share its name.
        names.sort();
        names.dedup();
        names
    };
    let everywhere = ["payments"];
    let with = |jobs: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = everywhere
            .iter()
            .chain(jobs)
            .map(|s| s.to_string())
            .collect();
        v.sort();
        v
    };
    let legacy_jobs = ["reconcile-ledger", "settle-balances"];
    assert_eq!(runs_in("off", "legacy"), with(&legacy_jobs));
    assert_eq!(runs_in("off", "k8s-west"), with(&[]));
    assert_eq!(runs_in("both", "legacy"), with(&legacy_jobs));
    assert_eq!(runs_in("both", "k8s-west"), with(&["settle-balances"]));
    assert_eq!(runs_in("on", "legacy"), with(&["reconcile-ledger"]));
    assert_eq!(runs_in("on", "k8s-west"), with(&["settle-balances"]));
    // A cluster nothing targets still gets the untargeted objects.
    assert_eq!(runs_in("on", "elsewhere"), with(&[]));
}
