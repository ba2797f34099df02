#!/usr/bin/env bash
# Measures skyc on a project of N entry files (default 1000), each one service of the peers
# workload (benches/peers/skyc/skyc_lib.sky), and prints TSV lines for report.py:
#   render_serial / render_parallel   `skyc render DIR` (to stdout) with SKYC_JOBS=1 / one job
#                                     per core
#   render_out                        `skyc render DIR -o OUT` (writing 3N files, replacing the
#                                     previous output)
#   check_cold                        `skyc check DIR --no-cache`
#   check_one_edit                    `skyc check DIR` after editing one entry file (cache warm)
# and whether the serial and parallel outputs are byte-identical.
#   bash benches/peers/project.sh SKYC_BINARY [N]
set -euo pipefail
skyc="$1"
n="${2:-1000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
proj="$work/proj"
mkdir -p "$proj"
cp "$here/skyc/skyc_lib.sky" "$proj/lib.sky"
# The workload's library leaves security settings and the owner label out (the peers' output
# has none): those lint rules are off here, as a team would configure its project, so that
# `check` measures checking, not printing four warnings for each of the N files.
cat > "$proj/sky.toml" <<'TOML'
# One service per file.
[lint.rules]
SKY0603 = "off"
SKY0605 = "off"
SKY0612 = "off"
SKY0613 = "off"
TOML
for i in $(seq 0 $((n - 1))); do
    cat > "$proj/svc$i.sky" <<SKY
load("//lib.sky", "service")

def main(ctx):
    return service(
        name = "svc-$i",
        image = "registry.example.com/team/svc-$i:1.$((i % 10)).0",
        replicas = $((i % 5 + 1)),
        cpu = kube.millicores($((100 + 50 * (i % 4)))),
        mem = kube.mebibytes($((128 * (i % 4 + 1)))),
        port = $((8000 + i % 100)),
        env = {"LOG_LEVEL": "info", "SERVICE_INDEX": "$i"},
    )
SKY
done
export SKYC_CACHE_DIR="$work/cache"
median() {
    python3 -c "import json,statistics,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.1f\t%.1f\t%.1f' % (statistics.median(r['times'])*1e3, r['user']*1e3, r['system']*1e3))" "$1"
}
cd "$work"
SKYC_JOBS=1 "$skyc" render proj -o serial > /dev/null 2>&1
"$skyc" render proj -o parallel > /dev/null 2>&1
SKYC_JOBS=1 "$skyc" render proj > serial.yaml 2>/dev/null
"$skyc" render proj > parallel.yaml 2>/dev/null
same=no
diff -r serial parallel > /dev/null && cmp -s serial.yaml parallel.yaml && same=yes
hyperfine -N --style none --runs 5 --warmup 1 --export-json r1.json \
    "env SKYC_JOBS=1 $skyc render proj" > /dev/null 2>&1
hyperfine -N --style none --runs 5 --warmup 1 --export-json r2.json \
    "$skyc render proj" > /dev/null 2>&1
hyperfine -N --style none --runs 5 --warmup 1 --export-json r3.json \
    "$skyc render proj -o out" > /dev/null 2>&1
hyperfine -N --style none --runs 5 --warmup 1 --export-json c1.json \
    "$skyc check proj --no-cache" > /dev/null 2>&1
"$skyc" check proj > /dev/null 2>&1
hyperfine --style none --runs 10 --warmup 1 --export-json c2.json \
    --prepare "sh -c 'echo \"# edit \$(date +%N)\" >> proj/svc7.sky'" \
    "$skyc check proj" > /dev/null 2>&1
printf 'files\t%s\n' "$n"
printf 'render_serial\t%s\n' "$(median r1.json)"
printf 'render_parallel\t%s\n' "$(median r2.json)"
printf 'render_out\t%s\n' "$(median r3.json)"
printf 'render_identical\t%s\n' "$same"
printf 'check_cold\t%s\n' "$(median c1.json)"
printf 'check_one_edit\t%s\n' "$(median c2.json)"
