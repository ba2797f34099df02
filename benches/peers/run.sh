#!/usr/bin/env bash
# Runs the peers benchmark (../shared/peers, or PEERS_DIR) with skyc added as a peer, for
# N = 10, 1000 and 10000 (or the N given), and writes docs/performance.md from that one run.
#
#   bash benches/peers/run.sh [N...]
#
# It builds skyc in release mode first. The peers must be installed (PEERS_DIR/setup.sh, about
# 5 minutes the first time); the whole run takes about 15 minutes on 2 cores, mostly the slow
# peers at N=10000. Environment:
#   PEERS_DIR   the harness (default: ../shared/peers next to this repository)
#   PEERS       comma-separated subset of peers (default: all installed, plus skyc)
#   OUT         the report to write (default: docs/performance.md; "-" for stdout)
#   RESULTS     where the raw results are kept (default: /tmp/peers-bench/report)
#   STAGES=0    skip the per-stage timings (`skyc render --timings`) in the report
#   PROJECT=0   skip the 1,000-file project (parallel render, check cache; project.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peers_dir="${PEERS_DIR:-$root/../shared/peers}"
if [ ! -x "$peers_dir/run.sh" ] && [ ! -f "$peers_dir/run.sh" ]; then
    echo "benches/peers/run.sh: no peers harness at $peers_dir (set PEERS_DIR)" >&2
    exit 2
fi
peers_dir="$(cd "$peers_dir" && pwd)"
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(10 1000 10000)
out="${OUT:-$root/docs/performance.md}"

cd "$root"
cargo build --release --locked -p skyc >&2
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
skyc="$target_dir/release/skyc"
rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git status --porcelain 2>/dev/null | grep -v '^??' | head -1 || true)"
[ -z "$dirty" ] || rev="$rev+changes"

# The raw results stay there, so the report can be written again without measuring again:
#   python3 benches/peers/report.py "$RESULTS" REV 10 1000 10000 > docs/performance.md
results="${RESULTS:-/tmp/peers-bench/report}"
rm -rf "$results"
mkdir -p "$results"
for n in "${ns[@]}"; do
    work="/tmp/peers-bench/$n"
    echo "benches/peers/run.sh: N=$n" >&2
    WORK="$work" \
    EXTRA_WORKLOAD_DIR="$here/skyc" \
    EXTRA_PEERS="skyc|skyc $rev|$skyc render skyc_main.sky --format json" \
        bash "$peers_dir/run.sh" "$n" >&2
    cp "$work/results.tsv" "$results/$n.tsv"
    if [ "${STAGES:-1}" != 0 ]; then
        # Where skyc's time goes: the median of 5 runs of each stage.
        (cd "$work" && for _ in 1 2 3 4 5; do
            "$skyc" render skyc_main.sky --format json --timings 2>&1 >/dev/null | grep '^timing:' || true
        done) > "$results/$n.stages"
    fi
done

if [ "${PROJECT:-1}" != 0 ]; then
    echo "benches/peers/run.sh: a project of 1000 entry files" >&2
    bash "$here/project.sh" "$skyc" 1000 > "$results/project.tsv"
fi

python3 "$here/report.py" "$results" "$rev" "${ns[@]}" > "$results/report.md"
if [ "$out" = "-" ]; then
    cat "$results/report.md"
else
    cp "$results/report.md" "$out"
    echo "benches/peers/run.sh: wrote ${out#"$root"/}" >&2
fi
