//! `envoy`: protobuf packages and constructors resolved only when used. Attribute access
//! (which starlark's compiler also does ahead of time, when it compiles a function body) just
//! extends the path; calling the value decodes the Envoy schema and runs the constructor of
//! that path. A file that never calls an Envoy constructor never pays for the schema (1,600
//! message types). `crd`, the project's custom resources, works the same way (see [`Root`]).

use super::message::MessageCtor;
use super::SkyError;
use crate::crds::CrdIndex;
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean};
use skyc_schema::crd::CrdSet;
use starlark::any::ProvidesStaticType;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::typing::Ty;
use starlark::values::{
    starlark_value, FrozenValue, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;

/// A path such as `envoy.config.cluster.v3` or `envoy.config.cluster.v3.Cluster`, or one
/// under `crd`.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct LazyNamespace {
    pub(crate) prefix: String,
    pub(crate) root: Root,
}

/// Which constructors a [`LazyNamespace`] leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Allocative)]
pub enum Root {
    /// Envoy's protobuf messages (`envoy.…`), from its descriptors, decoded on first call.
    Envoy,
    /// The project's custom resources, `crd.<group>.<version>.<Kind>` (the group with `_` for
    /// `.` and `-`: `crd.monitoring_coreos_com.v1.ServiceMonitor`), resolved against the
    /// CRDs of the running compilation ([`super::EvalContext::crds`]); the typechecker sees
    /// the constructors the file names, typed from the CRDs being compiled ([`with_crds`]).
    Crd,
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
            root: self.root,
        }))
    }

    fn has_attr(&self, _attribute: &str, _heap: Heap<'v>) -> bool {
        true
    }

    fn dir_attr(&self) -> Vec<String> {
        match self.root {
            Root::Envoy => self.children(),
            Root::Crd => Vec::new(),
        }
    }

    fn typechecker_ty(&self) -> Option<Ty> {
        match self.root {
            // Resolved when called; the constructors check their fields then.
            Root::Envoy => Some(Ty::any()),
            Root::Crd => Some(crd_ty()),
        }
    }

    fn invoke(
        &self,
        me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        if self.root == Root::Crd {
            return invoke_crd(&self.prefix, me, args, eval);
        }
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

/// The `k8s` namespace, whose static type is computed once. Starlark's own namespace
/// describes itself to the typechecker by building the type of every member, each time the
/// typechecker meets its name; for `k8s` (hundreds of constructors) that was most of the time
/// spent typechecking a long file. This wrapper builds that type on first use and shares it;
/// at run time it behaves exactly like the namespace it wraps.
///
/// While the typechecker runs for one file ([`with_k8s_paths`]), only the constructors that
/// file names are typed: the typechecker sees the namespace only through the file's `k8s.…`
/// expressions, so the smaller type gives the same results for a fraction of the cost (the
/// whole type takes milliseconds to build, most of a short file's typecheck).
#[derive(Debug, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct CachedNamespace {
    /// The wrapped namespace; its heap lives as long as the globals (see `globals()`).
    inner: FrozenValue,
    #[allocative(skip)]
    ty: OnceLock<Ty>,
}

starlark_simple_value!(CachedNamespace);

impl CachedNamespace {
    pub(crate) fn new(inner: FrozenValue) -> CachedNamespace {
        CachedNamespace {
            inner,
            ty: OnceLock::new(),
        }
    }
}

impl fmt::Display for CachedNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.to_value(), f)
    }
}

#[starlark_value(type = "namespace")]
impl<'v> StarlarkValue<'v> for CachedNamespace {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        self.inner
            .to_value()
            .get_attr(attribute, heap)
            .ok()
            .flatten()
    }

    fn has_attr(&self, attribute: &str, heap: Heap<'v>) -> bool {
        self.inner.to_value().has_attr(attribute, heap)
    }

    fn dir_attr(&self) -> Vec<String> {
        self.inner.to_value().dir_attr()
    }

    fn typechecker_ty(&self) -> Option<Ty> {
        if let Some(ty) = K8S_PATHS.with(|p| {
            let mut p = p.borrow_mut();
            let (paths, ty) = p.as_mut()?;
            Some(ty.get_or_insert_with(|| pruned_ty(paths)).clone())
        }) {
            return Some(ty);
        }
        Some(
            self.ty
                .get_or_init(|| Ty::of_value(self.inner.to_value()))
                .clone(),
        )
    }
}

thread_local! {
    /// The paths below `k8s` the file being typechecked names, and the namespace type built
    /// for them (see [`with_k8s_paths`]).
    static K8S_PATHS: std::cell::RefCell<Option<(BTreeSet<String>, Option<Ty>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` (the typechecker, on this thread) with the `k8s` namespace typed only for `paths`
/// (paths below `k8s` such as `apps.v1.Deployment`; see [`k8s_paths`]), or for everything
/// when `paths` is `None`.
pub(crate) fn with_k8s_paths<R>(paths: Option<BTreeSet<String>>, f: impl FnOnce() -> R) -> R {
    K8S_PATHS.with(|p| *p.borrow_mut() = paths.map(|p| (p, None)));
    let r = f();
    K8S_PATHS.with(|p| *p.borrow_mut() = None);
    r
}

/// The constructors of one group, by version: (name, type).
type Versions<'a> = BTreeMap<&'a str, Vec<(&'a str, skyc_schema::TypeId)>>;

/// Globals holding only the `k8s` namespace, and that namespace: `k8s.<group>.<version>.<Type>`
/// constructors for the schema's types whose path below `k8s` passes `keep`. `keep` is asked
/// for the group (`apps`), then the version (`apps.v1`), then the type (`apps.v1.Deployment`);
/// a namespace that passes is there even when none of its types does.
pub(crate) fn k8s_globals(
    keep: impl Fn(&str) -> bool,
) -> (starlark::environment::Globals, FrozenValue) {
    let schema = super::message::schema();
    let types = schema
        .types()
        .iter()
        .filter_map(|t| Some((t.path.strip_prefix("k8s.")?, t.id)));
    namespace_globals("k8s", types, keep)
}

/// Globals holding one namespace `root` of constructors, `root.<group>.<version>.<Type>`, for
/// the (path below `root`, type) pairs that pass `keep` (see [`k8s_globals`]).
fn namespace_globals<'a>(
    root: &str,
    types: impl Iterator<Item = (&'a str, skyc_schema::TypeId)>,
    keep: impl Fn(&str) -> bool,
) -> (starlark::environment::Globals, FrozenValue) {
    let mut tree: BTreeMap<&str, Versions> = BTreeMap::new();
    for (rel, id) in types {
        let parts: Vec<&str> = rel.splitn(3, '.').collect();
        let [group, version, name] = parts[..] else {
            continue;
        };
        if name.contains('.') || !keep(group) {
            continue;
        }
        let versions = tree.entry(group).or_default();
        if !keep(&rel[..group.len() + 1 + version.len()]) {
            continue;
        }
        let types = versions.entry(version).or_default();
        if keep(rel) {
            types.push((name, id));
        }
    }
    let mut b = starlark::environment::GlobalsBuilder::new();
    b.namespace(root, |b| {
        for (group, versions) in &tree {
            b.namespace(group, |b| {
                for (version, types) in versions {
                    b.namespace(version, |b| {
                        for (name, id) in types {
                            b.set(name, MessageCtor::new(*id));
                        }
                    });
                }
            });
        }
    });
    let globals = b.build();
    let ns = globals
        .iter()
        .find(|(name, _)| *name == root)
        .map(|(_, v)| v)
        .expect("the namespace was just built");
    (globals, ns)
}

/// Whether `rel` is on the way to, at, or under one of `paths`.
fn named_by(paths: &BTreeSet<String>, rel: &str) -> bool {
    paths.iter().any(|p| {
        p == rel
            || (p.len() > rel.len() && p.starts_with(rel) && p.as_bytes()[rel.len()] == b'.')
            || (rel.len() > p.len()
                && rel.starts_with(p.as_str())
                && rel.as_bytes()[p.len()] == b'.')
    })
}

/// The type of the `k8s` namespace with only what `paths` name: each path's constructors
/// (all of them under a namespace path such as `apps`), and the namespaces on the way to it
/// (so a misspelled kind is reported at the kind, as with the whole namespace).
///
/// Built once per set of paths in a process: the entry files of a project load the same
/// libraries, and building it walks every type of the schema (28% of rendering a thousand
/// entry files that share one library, when each built it again). At most
/// [`PRUNED_KEPT`] sets are kept (an editor types new ones all the time).
fn pruned_ty(paths: &BTreeSet<String>) -> Ty {
    static PRUNED: crate::kept::Kept<BTreeSet<String>, Ty> = crate::kept::Kept::new(PRUNED_KEPT);
    if let Some(ty) = PRUNED.get(paths) {
        return ty;
    }
    let (_globals, k8s) = k8s_globals(|rel| named_by(paths, rel));
    let ty = Ty::of_value(k8s.to_value());
    PRUNED.keep(paths.clone(), ty.clone());
    ty
}

/// How many sets of paths [`pruned_ty`] keeps the type of.
const PRUNED_KEPT: usize = 16;

/// The paths below `k8s` that the file names (`k8s.apps.v1.Deployment` → `apps.v1.Deployment`),
/// or `None` when the namespace may be used otherwise: bare (`ns = k8s`), or where the
/// syntax tree does not account for every `k8s` written in the file (outside comments and
/// string literals), so the typechecker gets the whole namespace.
pub(crate) fn k8s_paths(ast: &starlark::syntax::AstModule) -> Option<BTreeSet<String>> {
    ns_paths(ast, "k8s")
}

/// The paths below the global `root` that the file names (see [`k8s_paths`]).
pub(crate) fn ns_paths(ast: &starlark::syntax::AstModule, root: &str) -> Option<BTreeSet<String>> {
    use starlark_syntax::syntax::ast::{AstExpr, AstLiteral, ExprP};
    use starlark_syntax::syntax::module::AstModuleFields;
    use starlark_syntax::syntax::uniplate::Visit;

    /// `k8s.a.b` → `Some(["a", "b"])`; `None` for anything not rooted at the name `root`.
    fn chain(e: &AstExpr, root: &str) -> Option<Vec<String>> {
        match &e.node {
            ExprP::Identifier(id) if id.node.ident == root => Some(Vec::new()),
            ExprP::Dot(base, name) => {
                let mut c = chain(base, root)?;
                c.push(name.node.clone());
                Some(c)
            }
            _ => None,
        }
    }
    struct Walk<'r> {
        root: &'r str,
        paths: BTreeSet<String>,
        found: usize,
        bare: bool,
    }
    impl Walk<'_> {
        fn count(&self, text: &str) -> usize {
            count_word(text, self.root)
        }
    }
    fn expr(e: &AstExpr, w: &mut Walk) {
        if let Some(c) = chain(e, w.root) {
            w.found += 1;
            if c.is_empty() {
                w.bare = true;
            } else {
                w.paths.insert(c.join("."));
            }
            return;
        }
        if let ExprP::Literal(AstLiteral::String(s)) = &e.node {
            w.found += w.count(&s.node);
        }
        if let ExprP::Dot(_, name) = &e.node {
            w.found += w.count(&name.node);
        }
        e.visit_expr(|c| expr(c, w));
    }
    fn stmt(s: &starlark_syntax::syntax::ast::AstStmt, w: &mut Walk) {
        s.visit_children(|v| match v {
            Visit::Stmt(s) => stmt(s, w),
            Visit::Expr(e) => expr(e, w),
        });
    }
    let mut w = Walk {
        root,
        paths: BTreeSet::new(),
        found: 0,
        bare: false,
    };
    stmt(ast.statement(), &mut w);
    let codemap = ast.codemap();
    for c in ast.comments() {
        w.found += w.count(codemap.source_span(*c));
    }
    (!w.bare && w.found == w.count(codemap.source())).then_some(w.paths)
}

/// How often `word` occurs in `text` as a whole identifier.
pub(crate) fn count_word(text: &str, word: &str) -> usize {
    let bytes = text.as_bytes();
    text.match_indices(word)
        .filter(|(i, _)| {
            let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
            let before = *i > 0 && ident(bytes[i - 1]);
            let after = bytes.get(i + word.len()).is_some_and(|c| ident(*c));
            !before && !after
        })
        .count()
}

/// The CRD set of a file being typechecked, the paths below `crd` it names, and the type of
/// `crd` built for them (once per file: the typechecker asks at every mention).
type TypecheckCrds = Option<(Arc<CrdIndex>, Option<BTreeSet<String>>, Option<Ty>)>;

thread_local! {
    /// The CRD set of the file being typechecked and the paths below `crd` it names.
    static CRDS: std::cell::RefCell<TypecheckCrds> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` (the typechecker, on this thread) with `crd` typed from `set`, only for `paths`
/// when given (see [`ns_paths`]).
pub(crate) fn with_crds<R>(
    index: Option<Arc<CrdIndex>>,
    paths: Option<BTreeSet<String>>,
    f: impl FnOnce() -> R,
) -> R {
    CRDS.with(|c| *c.borrow_mut() = index.map(|i| (i, paths, None)));
    let r = f();
    CRDS.with(|c| *c.borrow_mut() = None);
    r
}

/// The `crd` namespace of `sets`: constructors of their kinds (every version), for the paths
/// below `crd` that pass `keep`.
fn crd_globals(
    sets: &[&'static CrdSet],
    keep: impl Fn(&str) -> bool,
) -> (starlark::environment::Globals, FrozenValue) {
    let mut versions: Vec<&'static skyc_schema::crd::CrdVersion> =
        sets.iter().flat_map(|s| s.versions.iter()).collect();
    versions.sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
    let types = versions.into_iter().filter_map(|v| {
        let t = skyc_schema::lookup(v.ty);
        Some((t.path.strip_prefix("crd.")?, v.ty))
    });
    namespace_globals("crd", types, keep)
}

/// The paths of every constructor and namespace of the project's CRDs (for "did you mean";
/// builds every document).
pub(crate) fn crd_candidates(index: &CrdIndex) -> BTreeSet<&'static str> {
    with_namespaces(
        index
            .versions()
            .into_iter()
            .map(|v| skyc_schema::lookup(v.ty).path.as_str()),
    )
}

/// `paths` and every namespace on the way to them (`k8s.apps.v1.Deployment` gives also
/// `k8s.apps.v1`, `k8s.apps` and `k8s`): what a path written in a file may be meant as.
pub(crate) fn with_namespaces<'a>(paths: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for mut p in paths {
        out.insert(p);
        while let Some((ns, _)) = p.rsplit_once('.') {
            out.insert(ns);
            p = ns;
        }
    }
    out
}

/// The type of `crd` for the typechecker: the constructors the file being checked names, from
/// the CRDs being compiled (built once per file); anything when the project declares none
/// (calling then says so).
fn crd_ty() -> Ty {
    let ty = CRDS.with(|c| {
        let mut c = c.borrow_mut();
        let (index, paths, ty) = c.as_mut()?;
        let ty = ty.get_or_insert_with(|| {
            let (_globals, ns) = match paths {
                Some(paths) => crd_globals(&index.sets_for(paths), |rel| named_by(paths, rel)),
                None => crd_globals(&index.sets(), |_| true),
            };
            Ty::of_value(ns.to_value())
        });
        Some(ty.clone())
    });
    ty.unwrap_or_else(Ty::any)
}

/// Calls the constructor of the custom resource at `path`.
fn invoke_crd<'v>(
    path: &str,
    me: Value<'v>,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> starlark::Result<Value<'v>> {
    let index = eval
        .extra
        .and_then(|e| e.downcast_ref::<super::EvalContext>())
        .and_then(|c| c.crds.clone());
    let Some(index) = index else {
        return Err(SkyError::new(
            codes::SKY0208,
            format!("there is no custom resource `{path}`: the project declares no CRDs"),
        )
        .with_help("list the CRD files in sky.toml: `[crds] paths = [\"crds/\"]`")
        .into());
    };
    let Some(v) = index.by_path(path) else {
        let cands = crd_candidates(&index);
        let help = match did_you_mean(path, cands.iter().copied()) {
            Some(p) => format!("did you mean `{p}`?"),
            None => "`skyc doc crd` lists the project's custom resources".to_string(),
        };
        return Err(SkyError::new(
            codes::SKY0208,
            format!("there is no custom resource `{path}`"),
        )
        .with_help(help)
        .into());
    };
    MessageCtor::new(v.ty).invoke(me, args, eval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> starlark::syntax::AstModule {
        starlark::syntax::AstModule::parse(
            "t.sky",
            src.to_string(),
            &starlark::syntax::Dialect::Extended,
        )
        .unwrap()
    }

    #[test]
    fn paths_a_file_names() {
        let ast = parse(
            "# builds k8s objects\nd = k8s.apps.v1.Deployment(metadata = k8s.meta.v1.ObjectMeta(name = \"k8s\"))\ncore = k8s.core\n",
        );
        let paths: Vec<String> = k8s_paths(&ast).unwrap().into_iter().collect();
        assert_eq!(paths, ["apps.v1.Deployment", "core", "meta.v1.ObjectMeta"]);
    }

    #[test]
    fn the_whole_namespace_when_used_otherwise() {
        // Bare, shadowed by a parameter, or loaded under that name.
        assert_eq!(k8s_paths(&parse("ns = k8s\n")), None);
        assert_eq!(
            k8s_paths(&parse("def f(k8s):\n    return k8s.core\n")),
            None
        );
        assert_eq!(
            k8s_paths(&parse("load(\"a.sky\", \"k8s\")\nx = k8s.core\n")),
            None
        );
    }

    #[test]
    fn the_pruned_type_has_what_is_named_and_the_way_to_it() {
        let paths = ["apps.v1.Deploymnt".to_string(), "core.v1.Pod".to_string()]
            .into_iter()
            .collect();
        let ty = pruned_ty(&paths).to_string();
        assert!(ty.contains("Pod = "), "{ty}");
        assert!(ty.contains("apps = namespace(v1 = namespace("), "{ty}");
        assert!(!ty.contains("Deployment"), "{ty}");
        assert!(!ty.contains("PodSpec"), "{ty}");
        assert!(!ty.contains("batch"), "{ty}");
    }

    #[test]
    fn each_set_of_paths_gets_its_own_kept_type() {
        let set =
            |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| n.to_string()).collect() };
        let deployment = set(&["apps.v1.Deployment"]);
        let service = set(&["core.v1.Service"]);
        for _ in 0..2 {
            let d = pruned_ty(&deployment).to_string();
            assert!(
                d.contains("Deployment = ") && !d.contains("Service = "),
                "{d}"
            );
            let s = pruned_ty(&service).to_string();
            assert!(
                s.contains("Service = ") && !s.contains("Deployment = "),
                "{s}"
            );
        }
        // More sets than are kept: the first is built again, and still right.
        for i in 0..=PRUNED_KEPT {
            pruned_ty(&set(&["core.v1.Pod", &format!("core.v1.Kind{i}")]));
        }
        let d = pruned_ty(&deployment).to_string();
        assert!(d.contains("Deployment = ") && !d.contains("Pod = "), "{d}");
    }
}
