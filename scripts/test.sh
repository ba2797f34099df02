#!/usr/bin/env bash
# Runs the whole test suite: installs the real validators the tests use (kubernetes-validate,
# pinned, into a private virtualenv), then `cargo test` over the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${SKYC_VALIDATORS_VENV:-$HOME/.cache/skyc-validators}"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
export SKYC_KUBERNETES_VALIDATE="$venv/bin/kubernetes-validate"
cargo test --workspace --locked "$@"
