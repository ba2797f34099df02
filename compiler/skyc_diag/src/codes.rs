//! Every diagnostic code skyc emits, with its documentation.
//!
//! This is the one place codes are defined and documented: `skyc explain CODE` prints
//! [`CodeInfo::doc`], and `docs/diagnostics.md` is generated from [`ALL`] (a test keeps it in
//! sync). Codes are grouped by stage: `SKY00xx` command line and internal, `01xx` load,
//! `02xx` syntax, types and schema, `03xx` evaluation and limits, `04xx` Kubernetes validation,
//! `05xx` Envoy, `06xx` lint and policy.
//! A code, once released, keeps its meaning forever.

use crate::Severity;

/// A diagnostic code and its documentation page.
#[derive(Debug, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: &'static str,
    /// Short kebab-case name, e.g. `unknown-field`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the code means.
    pub summary: &'static str,
    /// Markdown page: why it matters, an example, and the fix.
    pub doc: &'static str,
}

macro_rules! codes {
    ($($id:ident = $code:literal, $name:literal, $sev:ident, $summary:literal, $doc:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $id: &CodeInfo = &CodeInfo {
                code: $code,
                name: $name,
                severity: Severity::$sev,
                summary: $summary,
                doc: $doc,
            };
        )*
        /// All codes, in code order.
        pub const ALL: &[&CodeInfo] = &[$($id),*];
    };
}

/// The page `docs/diagnostics.md`: every code with its documentation, in code order.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n\
         Generated from `compiler/skyc_diag/src/codes.rs` (the test `diagnostics_doc_is_current` \
         keeps it in sync; run it with `SKYC_UPDATE_DOCS=1` to rewrite this file). \
         `skyc explain CODE` prints the same text.\n\n| code | name | severity | meaning |\n|---|---|---|---|\n",
    );
    for c in ALL {
        out.push_str(&format!(
            "| [{0}](#{1}) | `{2}` | {3} | {4} |\n",
            c.code,
            c.code.to_ascii_lowercase(),
            c.name,
            c.severity,
            c.summary
        ));
    }
    for c in ALL {
        out.push_str(&format!(
            "\n## {}\n\n`{}` ({}): {}\n\n{}\n",
            c.code,
            c.name,
            c.severity,
            c.summary,
            c.doc.trim_end()
        ));
    }
    out
}

/// Finds a code's documentation (`SKY0203`, `sky0203` and `0203` all work).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    let code = code.trim().to_ascii_uppercase();
    let code = if code.starts_with("SKY") {
        code
    } else {
        format!("SKY{code}")
    };
    ALL.iter().copied().find(|c| c.code == code)
}

codes! {
SKY0001 = "SKY0001", "usage", Error, "The command line is invalid.",
"A flag has a malformed value, a required argument is missing, or two options conflict.

Example: `skyc render main.sky --var cluster` (a `--var` needs `key=value`).

Fix: follow the hint; `skyc help COMMAND` lists every flag. Exit code 2.";

SKY0002 = "SKY0002", "internal-error", Error, "skyc hit an internal error (a bug).",
"skyc caught a panic or an impossible state. Nothing was written. This is always a bug in skyc,
never in your configuration: please report it with the file that triggers it. Exit code 2.";

SKY0003 = "SKY0003", "output-error", Error, "The output could not be written.",
"skyc could not create or replace the output directory or file (permissions, a full disk,
a file where a directory is expected). Output directories are replaced atomically, so the
previous output is left as it was.

Fix: check the path given to `-o` and its permissions.";

SKY0005 = "SKY0005", "not-formatted", Error, "A file is not in `skyc fmt`'s canonical layout.",
"`skyc fmt --check` found a file that `skyc fmt` would change. Its unified diff is printed on
standard output; nothing was written. Formatting changes only the layout (indentation, spaces,
line breaks, quotes, trailing commas, empty lines), never what a file renders, and it keeps
every comment. The style is described in `docs/fmt.md`.

Example: `x = {\"a\":1}` is formatted as `x = {\"a\": 1}`.

Fix: run `skyc fmt FILE` (or `skyc fmt DIR`) and commit the result.";

SKY0101 = "SKY0101", "file-not-found", Error, "A loaded or entry file does not exist.",
"`load()` names a file that is not in the project, or the file given on the command line does
not exist.

Example: `load(\"lib/helpers.sky\", \"f\")` when there is no `lib/helpers.sky` next to the loading file.

Fix: correct the path. Relative paths are resolved from the loading file's directory; `//path`
from the project root (the directory holding `sky.toml`).";

SKY0102 = "SKY0102", "absolute-load", Error, "`load()` of an absolute path is not allowed.",
"Evaluation is hermetic: a `.sky` file may only load files inside its project and the embedded
standard library, so that the same inputs give the same output on every machine.

Example: `load(\"/etc/passwd\", \"x\")`.

Fix: move the file into the project and load it with a relative or `//` path.";

SKY0103 = "SKY0103", "load-escapes-root", Error, "`load()` would read a file outside the project root.",
"A relative path with `..` components, or a symbolic link, leads out of the project root (the
nearest directory with a `sky.toml`, or the entry file's directory). A file with more than one
hard link is refused too: it may be a file from outside the project under a name inside it.

Example: `load(\"../../etc/passwd\", \"x\")`.

Fix: keep shared `.sky` files inside the project, and load them with `//path/from/root.sky`.";

SKY0104 = "SKY0104", "load-cycle", Error, "Files load each other in a cycle.",
"`a.sky` loads `b.sky` which (directly or through other files) loads `a.sky` again. Modules are
evaluated once and frozen before they can be loaded, so a cycle can never be evaluated.

Fix: move the shared definitions into a third file that both load.";

SKY0105 = "SKY0105", "unknown-stdlib-module", Error, "`@stdlib//` names a module the standard library does not have.",
"Example: `load(\"@stdlib//services.sky\", \"service\")`.

Fix: use `@stdlib//service.sky`, which re-exports every public stdlib function.";

SKY0106 = "SKY0106", "invalid-load-path", Error, "A `load()` path is malformed.",
"Load paths are `relative/path.sky`, `//path/from/root.sky` or `@stdlib//module.sky`. Other
repositories (`@other//`), empty paths, backslashes, NUL characters and paths longer than 1024
bytes are refused.

Fix: use one of the three accepted forms.";

SKY0107 = "SKY0107", "unreadable-file", Error, "A source or input file cannot be read.",
"The path exists but is not a regular UTF-8 text file (a directory, a device, a named pipe,
invalid UTF-8), is larger than a file of its kind may be (16 MiB for sources, 512 MiB for YAML
inputs), or reading it failed.

Fix: point at a `.sky` text file encoded as UTF-8.";

SKY0108 = "SKY0108", "invalid-project-config", Error, "`sky.toml` is invalid.",
"The project configuration has a syntax error, an unknown key, or a value of the wrong type.

Example: `[limits]\\nmax_steps = \"lots\"`.

Fix: see `docs/sky-toml.md` for every key.";

SKY0109 = "SKY0109", "missing-symbol", Error, "`load()` asks for a name the loaded module does not define.",
"Example: `load(\"@stdlib//service.sky\", \"servce\")`.

Fix: correct the name; names starting with `_` are private and cannot be loaded.";

SKY0110 = "SKY0110", "invalid-crd", Error, "A CRD file declared in `sky.toml` cannot be used.",
"`[crds] paths` in `sky.toml` lists CustomResourceDefinition files and directories. skyc reads
them when a file uses `crd` or returns an object of a kind that is not built in, and reports a
path that does not exist, a directory without `.yaml`, `.yml` or `.json` files, a file that is not
valid YAML or JSON, a document that is not a CustomResourceDefinition, a CRD without group,
kind or versions, and a kind declared twice, at the file and line.

Example: `[crds]\npaths = [\"crds/servicemonitor.yaml\"]` where the file is a Helm template
(`{{ .Values... }}` is not YAML).

Fix: point `[crds] paths` at the CRDs as the project publishes them (rendered, one or more
documents per file separated by `---`).";

SKY0201 = "SKY0201", "syntax-error", Error, "The file is not valid Starlark.",
"The parser could not read the file. Starlark is a subset of Python: no `while`, no classes, no
`import`; `def` only at the top level of a file.

Fix: correct the syntax at the marked position.";

SKY0202 = "SKY0202", "type-error", Error, "A static type error, found before the file runs.",
"skyc typechecks every `def` before evaluation: calls of typed stdlib functions and constructors
with wrong-typed or unknown keyword arguments, misspelled attributes of `kube`/`k8s`, and return
values that do not match annotations are reported without running anything.

Example: `service(name = \"x\", replicas = \"3\")` — `replicas` is an `int`.

Fix: pass a value of the expected type; the message names both types.";

SKY0203 = "SKY0203", "unknown-field", Error, "A typed message has no field of that name.",
"Kubernetes field names are the camelCase names of the YAML and of `kubectl explain`.
Unknown fields are an error (the API server would silently drop them).

Example: `k8s.apps.v1.DeploymentSpec(replicass = 3)`.

Fix: use the suggested name; `skyc doc k8s.apps.v1.DeploymentSpec` lists every field.";

SKY0204 = "SKY0204", "wrong-field-type", Error, "A field got a value of the wrong type.",
"Each field of a typed message has one type: string, integer (int32 or int64 range), number,
boolean, a message, a list or a map of one of these, or a special type (Quantity, IntOrString,
Time).

Example: `k8s.core.v1.ContainerPort(containerPort = \"80\")`.

Fix: pass a value of the expected type (here `80`).";

SKY0205 = "SKY0205", "invalid-enum-value", Error, "A field got a value outside its allowed set.",
"Kubernetes documents the allowed values of many string fields (restart policies, protocols,
pull policies, ...). Any other value is rejected by the API server.

Example: `k8s.core.v1.Container(name = \"app\", imagePullPolicy = \"Sometimes\")`.

Fix: use one of the values listed in the message.";

SKY0206 = "SKY0206", "missing-required-field", Error, "A required field of a typed message is not set.",
"The schema marks the field required; without it the API server rejects the object.

Example: a `k8s.apps.v1.DeploymentSpec` without `selector`.

Fix: set the field.";

SKY0207 = "SKY0207", "invalid-quantity", Error, "A resource quantity cannot be parsed.",
"Quantities are numbers with an optional suffix: `500m`, `2`, `1.5`, `128Mi`, `16Gi`, `1e3`.

Example: `kube.quantity(\"16 GB\")`.

Fix: use `kube.cores`, `kube.millicores`, `kube.gigabytes`, `kube.mebibytes`... or a valid string.";

SKY0208 = "SKY0208", "unknown-kind", Error, "An object has an `apiVersion`/`kind` skyc does not know.",
"Objects returned by `main` as plain dicts are checked against the schema of their kind, which
must be a built-in kind of the Kubernetes version skyc was built for.

Fix: correct `apiVersion` and `kind` (e.g. `apps/v1` and `Deployment`).";

SKY0209 = "SKY0209", "positional-argument", Error, "Typed constructors take keyword arguments only.",
"Example: `k8s.meta.v1.ObjectMeta(\"x\")`.

Fix: name the field: `k8s.meta.v1.ObjectMeta(name = \"x\")`.";

SKY0301 = "SKY0301", "evaluation-error", Error, "The file failed while running.",
"A runtime error: `fail(...)`, an index out of range, a missing dict key, a call with wrong
arguments that the static typechecker could not see, and so on.

Fix: the message and the call stack show where and why.";

SKY0302 = "SKY0302", "step-limit", Error, "Evaluation exceeded the step limit.",
"Every function call and loop iteration is a step. The limit (default 10,000,000) stops endless
or runaway loops deterministically.

Fix: look for a loop over a huge range; raise the limit with `--max-steps N` or `[limits]
max_steps` in `sky.toml` if the work is real.";

SKY0303 = "SKY0303", "memory-limit", Error, "Evaluation exceeded the memory limit.",
"What skyc allocates while it evaluates and renders a file may not grow past the limit
(default 512 MiB) on top of what it holds at start. `*` and `+` check the size of their result
before they allocate; every thousand steps the evaluation stops once it uses half the limit
(Starlark's heap grows in chunks that double); a value too large to write out (one that contains
itself many times over) is refused. What these checks miss meets the process-wide cap: skyc
then stops at once, with this code and without writing any output.

Example: `\"x\" * 2000000000`, or `s = s + s` in a loop.

Fix: raise `--max-heap BYTES` (suffixes `K`, `M`, `G`; at least `4M`) if the data is real.";

SKY0304 = "SKY0304", "time-limit", Error, "Evaluation exceeded the wall-time limit.",
"The limit (default 10 s) bounds the whole evaluation of one entry file, checked every thousand
steps, and separately the static typechecking of each file (a variable assigned a tuple of
itself, `x = (x,)`, makes its type grow without end).

Fix: raise `--max-time SECONDS` or `[limits] max_time_seconds` if the work is real.";

SKY0305 = "SKY0305", "call-depth-limit", Error, "Calls nested deeper than the call-depth limit.",
"Default 100 nested calls.

Fix: raise `--max-call-depth N` or `[limits] max_call_depth`.";

SKY0306 = "SKY0306", "recursion-disabled", Error, "A function calls itself, and recursion is disabled.",
"Like Starlark in Bazel, skyc rejects recursion unless the project enables it, so that every
configuration terminates quickly and is easy to read. (`while` is not part of the language.)

Example: `def f(n): return f(n - 1)`.

Fix: use a `for` loop, or set `allow_recursion = true` in the `[language]` table of `sky.toml`.";

SKY0307 = "SKY0307", "invalid-main", Error, "The entry file has no usable `main(ctx)`.",
"An entry file defines `def main(ctx):` returning the objects to render.

Fix: define `main` taking exactly one parameter.";

SKY0308 = "SKY0308", "invalid-result", Error, "`main` returned something that is not an object.",
"`main` returns a typed object, a dict with `apiVersion` and `kind`, or a (nested) list of them.
`None` entries are skipped.

Fix: return the objects; wrap plain values in the right constructor.";

SKY0309 = "SKY0309", "missing-variable", Error, "A variable is read but was not given.",
"`ctx.vars[\"cluster\"]` needs `--var cluster=...`, a vars file, or a default in `sky.toml`.

Fix: pass the variable, or declare a default in `[vars.NAME]` of `sky.toml`.";

SKY0310 = "SKY0310", "undeclared-variable", Error, "A variable is not declared by the project.",
"When `sky.toml` declares variables (`[vars.NAME]`), only those may be passed or read, so a typo
in a `--var` flag cannot go unnoticed.

Fix: correct the name, or declare it in `sky.toml`.";

SKY0311 = "SKY0311", "invalid-variable-value", Error, "A variable's value is not one of its allowed values.",
"Example: `--var environment=prd` when `sky.toml` allows `[\"qa\", \"prod\"]`.

Fix: use one of the allowed values listed in the message.";

SKY0312 = "SKY0312", "top-level-statement", Warning, "Code runs at the top level of a file, outside `def`.",
"The static typechecker checks `def` bodies only, so a call at the top level is checked only when
it runs. Keep the logic of an entry file inside `main(ctx)` and of a library inside functions.

Fix: move the statement into a function; constants (`X = 3`) are fine.";

SKY0313 = "SKY0313", "unknown-proto-name", Error, "`proto.package` names a package or type skyc has no schema for.",
"skyc maps protobuf names onto its typed model: `k8s.io.api.<group>.<version>` and
`k8s.io.apimachinery.*` onto the Kubernetes types, `envoy.*`, `xds.*`, `udpa.*` and
`google.protobuf` onto Envoy's descriptors. A name outside them, or a type the package does not
declare, stops here.

Example: `proto.package(\"k8s.io.api.app.v1\")` (the group is `apps`).

Fix: correct the name; the message suggests the closest known one.";

SKY0401 = "SKY0401", "invalid-name", Error, "An object or item name is not a valid Kubernetes name.",
"Most names must be DNS-1123 subdomains (lowercase alphanumerics, `-` and `.`, at most 253
characters) or labels (no `.`, at most 63 characters); Services and namespaces need labels.

Example: `name = \"Home_Srv\"`.

Fix: use lowercase letters, digits and `-`.";

SKY0402 = "SKY0402", "invalid-label", Error, "A label or annotation key, or a label value, is invalid.",
"Keys are `[prefix/]name`, name at most 63 characters of alphanumerics, `-`, `_`, `.`, starting
and ending alphanumeric; the prefix is a DNS subdomain. Label values are at most 63 such
characters (or empty).

Fix: shorten or correct the key or value.";

SKY0403 = "SKY0403", "selector-mismatch", Error, "A selector does not match the pod template's labels.",
"A Deployment, StatefulSet, DaemonSet, ReplicaSet or Job whose selector does not select its own
pod template is rejected by the API server.

Fix: make `spec.selector.matchLabels` a subset of `spec.template.metadata.labels`.";

SKY0404 = "SKY0404", "invalid-port", Error, "A port number is out of range.",
"Ports are 1 to 65535.

Fix: use a valid port.";

SKY0405 = "SKY0405", "duplicate-name", Error, "Two items of a list share a name that must be unique.",
"Container names within a pod, port names within a container or Service, volume names and env
var names must be unique.

Fix: rename one of them.";

SKY0406 = "SKY0406", "duplicate-object", Error, "Two objects have the same kind, namespace and name.",
"The second would silently replace the first when applied. Objects of the same group in
different versions count as the same object. Found within an entry file, across the entry
files rendered together (`skyc render a.sky b.sky`, also with `--cluster`), and, when every
cluster is rendered at once, for an object defined once per cluster (its variants have no
single form: render one cluster at a time). `skyc diff` pairs the objects of two renders by
apiVersion, kind, namespace and name, and refuses a render that holds one twice.

Fix: rename one, or remove the duplicate, or target them at different clusters.";

SKY0407 = "SKY0407", "requests-exceed-limits", Error, "A resource request is larger than its limit.",
"The API server rejects a container whose request is above its limit.

Fix: lower the request or raise the limit.";

SKY0408 = "SKY0408", "schema-rejected", Error, "The object does not fit the Kubernetes schema.",
"The typed Kubernetes model refused the object while lowering it; the message says which part.

Fix: correct the field named in the message.";

SKY0409 = "SKY0409", "invalid-cron-schedule", Error, "A CronJob's schedule is not a valid cron expression.",
"Kubernetes accepts five fields (minute, hour, day of month, month, day of week) with `*`,
numbers, ranges, steps, lists and month/weekday names, or a macro such as `@hourly`. The API
server rejects anything else at deploy time; skyc says which field is wrong.

Example: `schedule = \"0 25 * * *\"` (there is no hour 25).

Fix: correct the field named in the message.";

SKY0410 = "SKY0410", "cronjob-name-too-long", Error, "A CronJob's name is longer than 52 characters.",
"The CronJob controller names each Job after the CronJob plus an 11-character suffix, and a Job
name must fit in 63 characters. A longer CronJob is accepted by the API server and then silently
never runs.

Example: a 60-character CronJob name.

Fix: shorten the name to 52 characters or fewer.";

SKY0411 = "SKY0411", "invalid-time-zone", Error, "A CronJob's time zone is not in the IANA time zone database.",
"`spec.timeZone` (the `time_zone` of `cron_job`) must name a zone of the IANA database, such as
`Europe/Berlin` or `America/Los_Angeles`. The API server rejects other names, including
abbreviations like `PST` that are not zone names and `Local`. skyc suggests the closest name.

Example: `time_zone = \"Europe/Berln\"`.

Fix: use the zone's full IANA name; leave it unset for UTC.";

SKY0412 = "SKY0412", "invalid-clusters", Error, "An object's target clusters are malformed.",
"An object runs in the clusters named by its `skyc.dev/clusters` annotation, which
`on_clusters(...)` and `migrate(...)` (`@stdlib//clusters.sky`) write: the names joined with
\",\". The deploy tool and `skyc render --cluster NAME` read it, so every name must be a DNS label
(lowercase letters, digits and '-', like a namespace), the list must not be empty or contain an
empty name, and no cluster may be named twice. An object without the annotation runs in every
cluster.

Example: `on_clusters([\"K8s_West\"], job)`, or an annotation written by hand as
`\"legacy, k8s-west\"` (the space makes ` k8s-west` a different, invalid name).

Fix: write the cluster's name as the deploy tool knows it, e.g. `on_clusters([\"k8s-west\"], job)`;
by hand, join the names with \",\" and nothing else.";

SKY0413 = "SKY0413", "unknown-cluster", Error, "An object targets a cluster the project does not declare.",
"When `sky.toml` lists the project's clusters (`[clusters] names = [\"legacy\", \"k8s-west\"]`), every
cluster an object targets must be one of them: a misspelled cluster would otherwise make the
object run nowhere, silently. `migrate(...)` checks both of its clusters whatever its flag says,
so a misspelled target fails before the day of the move. skyc suggests the closest declared name.

Example: `on_clusters(migrate(ctx, \"move_settlement\", \"legacy\", \"k8s-wset\"), job)`.

Fix: correct the name, or add the new cluster to `[clusters] names` in sky.toml.";

SKY0414 = "SKY0414", "crd-schema-violation", Error, "A custom resource breaks a rule of its CRD's schema.",
"The `openAPIV3Schema` of a CRD version declares more than field types: `pattern`, `format`
(date-time, duration, ipv4, cidr, uuid, hostname, email, uri, byte, …), `minimum`/`maximum`
(exclusive or not), `multipleOf`, `minLength`/`maxLength`, `minItems`/`maxItems`,
`minProperties`/`maxProperties`, unique items (`x-kubernetes-list-type: set` and `map`),
embedded resources that need `apiVersion` and `kind`, and `oneOf`/`anyOf`/`not`. The API server
rejects an object that breaks one; skyc reports it at the `.sky` line that set the field.

Example: `crd.cert_manager_io.v1.Certificate(spec = {\"duration\": \"90 days\", ...})` (the
schema's duration format wants `2160h`).

Fix: change the value as the message says; `skyc doc` on the constructor shows the field's
description.";

SKY0415 = "SKY0415", "crd-rules-not-checked", Note, "A custom resource's CRD has CEL rules that skyc does not check.",
"CRDs can declare rules in CEL (`x-kubernetes-validations`), which the API server evaluates when
the object is applied. skyc checks everything else in the schema but not these rules, and says
so once per kind and version rendered, with the number of rules and the first one.

Example: a Gateway API HTTPRoute, whose schema has dozens of CEL rules.

Fix: nothing to fix in the sources. `kubectl apply --dry-run=server` against a cluster with the
CRD checks the rules. A note never fails a command.";

SKY0416 = "SKY0416", "crd-version-not-served", Error, "A custom resource uses a version its CRD does not serve.",
"A CRD version with `served: false` is declared but switched off: the API server rejects
objects of that version.

Example: `crd.external_secrets_io.v1alpha1.ExternalSecret(...)` after the project moved to
`v1beta1`.

Fix: use a served version; the help line names them and the storage version.";

SKY0417 = "SKY0417", "crd-version-deprecated", Warning, "A custom resource uses a deprecated version of its CRD.",
"The CRD marks the version `deprecated: true`; the API server warns on every request and the
version will be removed. The message is the CRD's own `deprecationWarning` when it has one.

Example: an `autoscaling.k8s.io/v1beta2` VerticalPodAutoscaler.

Fix: move to the version the help line names (the storage version).";

SKY0501 = "SKY0501", "envoy-rule", Error, "An Envoy message breaks a rule its proto declares.",
"Envoy's protos carry validation rules (protoc-gen-validate): required fields, numeric and
duration ranges, minimum lengths, at most one field of a `oneof`. Envoy rejects a configuration
that breaks one at startup; skyc reports it at the `.sky` line that built the message.

Example: `envoy.config.cluster.v3.Cluster(name = \"\")` (the name must not be empty), or
`connect_timeout = \"0s\"` (it must be greater than zero).

Fix: set the field as the message says; `skyc doc <type>.<field>` shows the field's documentation.";

SKY0502 = "SKY0502", "envoy-unknown-cluster", Error, "An Envoy route sends traffic to a cluster that is not defined.",
"Every `cluster` a route (or a TCP proxy) names must be one of the clusters of the same
configuration. Envoy accepts the configuration but answers every such request with 503.

Example: a route with `cluster = \"ledgr\"` when the cluster is named `ledger`.

Fix: use the name of a defined cluster (the message suggests the closest one), or define it.";

SKY0503 = "SKY0503", "envoy-duplicate-name", Error, "Two Envoy clusters or listeners have the same name.",
"Cluster and listener names must be unique within one configuration. For listeners Envoy does not
always complain: a duplicate can be dropped silently, and its traffic goes nowhere.

Example: two upstreams that both produce the cluster `ledger`.

Fix: rename one of them, or remove the duplicate.";

SKY0504 = "SKY0504", "envoy-retry-on", Error, "A retry policy names a `retry_on` condition Envoy does not know.",
"`retry_on` is a comma-separated list of conditions (`5xx`, `gateway-error`, `reset`,
`connect-failure`, `retriable-4xx`, `refused-stream`, `retriable-status-codes`,
`retriable-headers`, `http3-post-connect-failure`, `envoy-ratelimited`, and for gRPC `cancelled`,
`deadline-exceeded`, `internal`, `resource-exhausted`, `unavailable`). Envoy ignores unknown
conditions, so a typo silently disables the retry.

Example: `retry_on = \"5xx,conect-failure\"`.

Fix: use the suggested condition.";
SKY0601 = "SKY0601", "privileged-container", Error, "A container runs privileged.",
"A privileged container has every capability of the host and can take it over: one compromised
process is a compromised node.

Example: `securityContext = {\"privileged\": True}`.

Fix: remove `privileged`; add only the capability the container needs (which SKY0604 then
asks you to justify). Silence with `# skyc:ignore privileged-container: <reason>` only for
node agents that truly need it.";

SKY0602 = "SKY0602", "host-namespaces", Error, "A pod shares the host's network, process or IPC namespace.",
"`hostNetwork`, `hostPID` and `hostIPC` let a pod see and reach everything on its node, bypass
NetworkPolicies and collide on ports.

Example: `spec = {\"hostNetwork\": True, ...}`.

Fix: remove the setting; expose the pod through a Service.";

SKY0603 = "SKY0603", "runs-as-root", Warning, "A container may run as root.",
"Without `runAsNonRoot` (or a non-zero `runAsUser`) the container runs as whatever user its image
says, often root; a container escape then starts as root.

Example: a container with no securityContext.

Fix: set `runAsNonRoot = True` and a `runAsUser` on the pod or the container (`service(...)`
does).";

SKY0604 = "SKY0604", "added-capabilities", Warning, "A container adds Linux capabilities.",
"Capabilities such as `NET_ADMIN` or `SYS_ADMIN` widen what a compromised process can do.

Example: `securityContext = {\"capabilities\": {\"add\": [\"NET_ADMIN\"]}}`.

Fix: drop them, or silence the line with the reason the container needs them.";

SKY0605 = "SKY0605", "writable-root-filesystem", Warning, "A container's root filesystem is writable.",
"A writable root filesystem lets an attacker (or a bug) change the binaries the container runs.

Example: a container without `readOnlyRootFilesystem = True`.

Fix: set `readOnlyRootFilesystem = True` and mount an emptyDir where the app writes (`service(...)`
mounts one at /tmp).";

SKY0606 = "SKY0606", "mutable-image-tag", Error, "An image uses the `latest` tag or no tag.",
"`latest` (or no tag, which means `latest`) changes under you: two pods of one Deployment can run
different code, and a rollback rolls back nothing.

Example: `image = \"nginx\"` or `image = \"nginx:latest\"`.

Fix: pin a version tag, better a digest (`nginx@sha256:…`).";

SKY0607 = "SKY0607", "image-not-pinned", Warning, "In a production render, an image is not pinned by digest.",
"A tag can be pushed again; a digest cannot. In production, the reviewed image must be the one
that runs. Production is when the variable `[lint] environment_var` (default `environment`) is
one of `[lint] production` (default `prod`, `production`).

Example: `image = \"registry.internal/web:1.4\"` rendered with `--var environment=prod`.

Fix: `image = \"registry.internal/web@sha256:<digest>\"`.";

SKY0608 = "SKY0608", "missing-resources", Warning, "A container has no CPU or memory requests or limits.",
"Without requests the scheduler packs pods blindly; without limits one pod can starve its
neighbours or be killed first under memory pressure.

Example: a container without `resources`.

Fix: set `requests` and `limits` for `cpu` and `memory` (`service(cpu = ..., mem = ...)` sets
both).";

SKY0609 = "SKY0609", "missing-readiness-probe", Warning, "A serving container has no readiness probe.",
"Without a readiness probe a pod receives traffic as soon as it starts, before it can answer, and
stays in the Service when it stops answering.

Example: a Deployment container with `ports` but no `readinessProbe`.

Fix: add a readiness probe (`service(health_path = \"/healthz\")` adds an HTTP one).";

SKY0610 = "SKY0610", "single-replica", Warning, "A Deployment or StatefulSet runs fewer than 2 replicas.",
"With one replica every rollout, node drain or crash is an outage, and no PodDisruptionBudget can
help.

Example: `replicas = 1`.

Fix: run 2 or more replicas, or record why one is enough with the annotation
`skyc.dev/single-replica: <reason>`.";

SKY0611 = "SKY0611", "cronjob-without-deadline", Warning, "A CronJob has no starting or running deadline.",
"Without `startingDeadlineSeconds`, runs missed during an outage all start at once when it ends;
without `activeDeadlineSeconds` on the job, a stuck run never ends and (with
`concurrencyPolicy: Forbid`) blocks every later run.

Example: a CronJob with only a schedule and a job template.

Fix: set both deadlines.";

SKY0612 = "SKY0612", "missing-owner-label", Warning, "A workload has no owner label.",
"When it pages at night, the owner label says whom to call; without it the incident starts with a
search. The label key is `[lint] owner_label` (default `owner`).

Example: a Deployment without `labels = {\"owner\": ...}`.

Fix: label it with the owning team (`service(owner = ...)` does).";

SKY0613 = "SKY0613", "privilege-escalation", Warning, "A container allows privilege escalation.",
"Unless `allowPrivilegeEscalation` is false, a process can gain more privileges than it started
with (setuid binaries, file capabilities).

Example: a container without `securityContext.allowPrivilegeEscalation = False`.

Fix: set it to false (`service(...)` does).";

SKY0650 = "SKY0650", "policy-violation", Error, "A project policy reported a finding.",
"A `policy/*.sky` file of the project defines `def check(obj, ctx)`; `skyc check` calls it for
every rendered object and reports what it returns: a string, or a dict with `message`, `path`
(a field path like `spec.replicas`, where the finding points) and `severity` (`\"error\"` or
`\"warning\"`).

Example: a policy returning `[\"team label missing\"]` for Deployments without `team`.

Fix: follow the policy's message; silence one place with `# skyc:ignore policy-violation: <reason>`.";

SKY0651 = "SKY0651", "invalid-policy", Error, "A project policy is broken.",
"A `policy/*.sky` file must define `check(obj, ctx)` and return findings as strings or dicts with
a `message`; a policy that fails while running is reported with the object it was checking.

Example: a policy without `check`, or one returning `[1]`.

Fix: correct the policy file.";

SKY0690 = "SKY0690", "invalid-suppression", Warning, "A suppression comment is malformed.",
"`# skyc:ignore <rule>: <reason>` must name existing lint rules (by name or code) and give a
reason, so that every exemption can be reviewed.

Example: `# skyc:ignore privileged-container` (no reason) or `# skyc:ignore privileged: x`.

Fix: name the rule exactly and say why the finding is acceptable here.";

SKY0691 = "SKY0691", "unused-suppression", Warning, "A suppression comment silences nothing.",
"The finding it was written for is gone; a stale exemption would silently cover a future one.

Example: `# skyc:ignore privileged-container: …` above a container that is no longer privileged.

Fix: remove the comment.";

SKY0701 = "SKY0701", "import-yaml-syntax", Error, "`skyc import` cannot parse the YAML.",
"The file is not valid YAML: a bad indentation, an unclosed bracket or quote, a tab where spaces
are needed. The position is where the parser gave up; the mistake is often on the line above.

Example: `ports: [80, 443` (the flow sequence is never closed).

Fix: correct the YAML at the position shown.";

SKY0702 = "SKY0702", "import-not-an-object", Error, "A YAML document is not a Kubernetes object or a cron entry.",
"Each document of the stream (between `---` lines) must be a mapping: a Kubernetes object with
`apiVersion` and `kind`, a `v1` `List` of objects, or a cron entry of the old job runner
(`name`, `owner`, `schedule`, `command`). A bare list or scalar, or a mapping without
`apiVersion`/`kind`, is not imported.

Example: a document holding only `apiVersion: v1`.

Fix: add the missing `kind` (or `apiVersion`), or remove the document.";

SKY0703 = "SKY0703", "import-unknown-kind", Error, "A YAML object's kind is not a built-in Kubernetes kind.",
"`skyc import` turns built-in kinds into typed constructors. A custom resource (an instance of a
CRD, such as a cert-manager `Certificate`) or a kind served under another `apiVersion` has no
constructor. The help names the right apiVersion when the kind exists under another one.

Example: `apiVersion: cert-manager.io/v1` `kind: Certificate`.

Fix: correct the apiVersion, or keep custom resources out of the import.";

SKY0704 = "SKY0704", "import-unknown-field", Error, "A YAML object has a field its kind does not have.",
"The Kubernetes schema of the kind has no such field, so the API server would drop or reject it.
skyc refuses to import it rather than lose it silently; the help suggests the closest field.

Example: `spec.replicaz: 3` in a Deployment.

Fix: correct the field name (or remove the field).";

SKY0705 = "SKY0705", "import-wrong-type", Error, "A YAML value has the wrong type for its field.",
"The value cannot be the field's type: a string where an integer is needed, a list where a
mapping is. YAML reads `yes`, `no`, `on` and `off` as booleans and `0644` as an octal number, as
kubectl does; quote such values when the field takes a string.

Example: `containerPort: \"http-port\"` (a port number is needed; `name` takes the name).

Fix: change the value to the type the message names.";

SKY0706 = "SKY0706", "import-duplicate-key", Error, "A YAML mapping has the same key twice.",
"Some YAML readers keep the last value silently; kubectl refuses the file. skyc names both
lines so you can keep the one you mean.

Example: `replicas: 2` and later `replicas: 3` in the same `spec`.

Fix: remove one of the keys.";

SKY0707 = "SKY0707", "import-invalid-cron-entry", Error, "A cron entry of the old job runner is incomplete or has unknown keys.",
"A cron entry has exactly `name`, `owner`, `schedule`, `command` (a list of strings) and, optionally,
`disabled` (true or false). Each becomes an argument of `cron_job(...)`; anything else would be
lost.

Example: an entry without `owner`.

Fix: add the missing key or remove the unknown one.";

SKY0708 = "SKY0708", "import-unsupported-yaml", Error, "The YAML uses a feature that has no meaning in Kubernetes YAML.",
"Custom tags (`!Ref`), mappings or lists used as keys, merge keys (`<<`) on something other than a
mapping, and aliases that expand a document past a million nodes (an \"alias bomb\") are refused.

Example: `image: !Sub \"${Registry}/app\"`.

Fix: write the value out as plain YAML.";

SKY0709 = "SKY0709", "import-round-trip", Error, "The imported source does not render back to the input (a bug in skyc).",
"`skyc import` compiles the `.sky` it generates and compares the objects with the input's before
printing anything. If they ever differ, nothing is printed and this error names the first
difference. It is always a bug in skyc: please report it with the YAML.

Example: none known.

Fix: report the bug; meanwhile `--no-stdlib` imports with typed constructors only.";

SKY0710 = "SKY0710", "import-cron-without-image", Warning, "Cron entries name no image; the import uses a placeholder.",
"The old job runner's entries name only a command; the image they ran in was implicit. The
imported file defines `IMAGE` once, at the top, with a placeholder that renders but will not
run your job.

Example: importing the entry of `missing-review-finder` without `--image`.

Fix: pass `--image IMAGE` to `skyc import`, or edit `IMAGE` in the imported file.";

SKY0711 = "SKY0711", "import-server-fields", Warning, "Imported objects had fields the API server sets; they were dropped.",
"Objects copied from a cluster (`kubectl get -o yaml`) carry the server's state: `status`,
`metadata.uid`, `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`, and
kubectl's `last-applied-configuration` annotation. They are not configuration — applying them
back fails or fights the server — so `skyc import` leaves them out and lists them.

Example: importing the output of `kubectl get deployment web -o yaml`.

Fix: nothing to do; pass `--keep-server-fields` to keep them.";

SKY0801 = "SKY0801", "test-failed", Error, "A test's assertion failed.",
"`skyc test` runs every `test_*` function of every `*_test.sky` file. An `asserts.*` call that
does not hold (`asserts.eq`, `ne`, `true`, `contains`, `fails`; `assert` itself is a reserved
word in Starlark) fails the test with both values and the line of the assertion.

Example: `asserts.eq(len(objects), 5)` when `main` returned 4 objects.

Fix: correct the configuration, or the expectation if the change was intended.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} before {}",
                pair[0].code,
                pair[1].code
            );
        }
        for c in ALL {
            assert!(c.code.starts_with("SKY") && c.code.len() == 7, "{}", c.code);
            assert!(
                !c.doc.trim().is_empty() && !c.summary.is_empty(),
                "{}",
                c.code
            );
            assert!(
                c.doc.contains("Fix") || c.code == "SKY0002",
                "{} has no fix",
                c.code
            );
        }
        assert_eq!(lookup("sky0203").map(|c| c.name), Some("unknown-field"));
        assert_eq!(lookup("0203").map(|c| c.code), Some("SKY0203"));
    }
}
