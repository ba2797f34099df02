#!/usr/bin/env bash
# Seeds, builds and runs every fuzz target for SECONDS each (default 60):
#
#   bash fuzz/run.sh [SECONDS]
#
# Per target it prints the executions reached and whether it crashed; with FUZZ_SUMMARY=FILE it
# also appends one line per target to FILE. Exits 1 when a target crashed (the input is in
# fuzz/artifacts/<target>/), 0 otherwise, and 0 with a notice when nightly Rust or cargo-fuzz
# is not available. Environment:
#   FUZZ_TARGETS="eval diff"  run only those targets
#   FUZZ_KEEP_GOING=1         do not stop a target at its first crash (libFuzzer's fork mode
#                             with -ignore_crashes/-ignore_timeouts/-ignore_ooms): collects every
#                             crash of the run (for triage; CI wants the first one)
#   FUZZ_SANITIZER=none       build without AddressSanitizer (faster; the default is address)
#   FUZZ_SEED=N               libFuzzer's random seed (default: a new one each run). `.ci/run`
#                             sets it: CI then tries the same inputs on every run, so a change
#                             fails CI because of what it changed, not because of the day's
#                             luck; exploratory runs leave it unset and find new inputs
#   CARGO_TARGET_DIR          the build is large (~1.8 GB); point it outside the repository on
#                             small disks
set -uo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: fuzz/run.sh [SECONDS]  (SECONDS per target, default 60)" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
read -r -a targets <<< "${FUZZ_TARGETS:-eval import constructors diff}"
sanitizer="${FUZZ_SANITIZER:-address}"
extra=()
if [ -n "${FUZZ_SEED:-}" ]; then
    if ! [[ "$FUZZ_SEED" =~ ^[0-9]+$ ]]; then
        echo "fuzz/run.sh: FUZZ_SEED must be a number" >&2
        exit 2
    fi
    extra+=(-seed="$FUZZ_SEED")
fi
if [ -n "${FUZZ_KEEP_GOING:-}" ]; then
    extra+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

notice() {
    echo "fuzz/run.sh: $*; skipping fuzzing" >&2
    if [ -n "${FUZZ_SUMMARY:-}" ]; then
        echo "fuzz: skipped ($*)" >> "$FUZZ_SUMMARY"
    fi
    exit 0
}

if ! command -v cargo > /dev/null 2>&1; then
    notice "cargo is not installed"
fi
if ! cargo +nightly --version > /dev/null 2>&1; then
    notice "the nightly toolchain is not installed (rustup toolchain install nightly)"
fi
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz" >&2
    if ! cargo install cargo-fuzz --locked > /dev/null 2>&1; then
        notice "cargo-fuzz is not installed and could not be installed (cargo install cargo-fuzz --locked)"
    fi
fi

bash "$here/seed.sh" || exit 1

cd "$root" || exit 1
echo "fuzz/run.sh: building ${targets[*]}"
build_start=$(date +%s)
for t in "${targets[@]}"; do
    if ! cargo +nightly fuzz build --fuzz-dir fuzz -s "$sanitizer" "$t"; then
        echo "fuzz/run.sh: building $t failed" >&2
        exit 1
    fi
done
build_seconds=$(( $(date +%s) - build_start ))
echo "fuzz/run.sh: build took ${build_seconds}s"
if [ -n "${FUZZ_SUMMARY:-}" ]; then
    echo "fuzz: build ${build_seconds}s" >> "$FUZZ_SUMMARY"
fi

crashed=0
for t in "${targets[@]}"; do
    artifacts="$here/artifacts/$t"
    mkdir -p "$artifacts"
    log="$artifacts/fuzz-$(date +%Y%m%d-%H%M%S).log"
    marker="$(mktemp)"
    echo "fuzz/run.sh: running $t for ${seconds}s (log: ${log#"$root"/})"
    start=$(date +%s)
    cargo +nightly fuzz run --fuzz-dir fuzz -s "$sanitizer" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        "${extra[@]}" > "$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - start ))
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')"
    if [ -z "$execs" ]; then
        # Fork mode reports progress lines `#N: cov: …` instead.
        execs="$(grep -o '^#[0-9]*:' "$log" | tail -1 | tr -d '#:')"
    fi
    rss="$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')"
    corpus_size="$(find "$here/corpus/$t" -type f | wc -l)"
    found="$(find "$artifacts" -type f -newer "$marker" ! -name '*.log' | sort | tr '\n' ' ')"
    rm -f "$marker"
    if [ "$status" -ne 0 ] || [ -n "$found" ]; then
        crashed=1
        result="CRASH"
        # A panic's message is on the line after `panicked at`; sanitizer errors on one line.
        reason="$( (grep -m1 -A1 'panicked at' "$log" \
            || grep -m1 -E '^==[0-9]+== ?ERROR|timeout after|out-of-memory' "$log" || true) \
            | tr '\n' ' ' | cut -c1-300)"
        echo "  $t: CRASH after ${elapsed}s, ${execs:-?} executions (exit $status): ${reason}"
        echo "  $t: input: ${found:-none written; see the log}"
    else
        result="ok"
        echo "  $t: ok, ${execs:-?} executions in ${elapsed}s, peak RSS ${rss:-?} MB, corpus $corpus_size"
    fi
    if [ -n "${FUZZ_SUMMARY:-}" ]; then
        echo "fuzz: target=$t result=$result seconds=$elapsed executions=${execs:-?} peak_rss_mb=${rss:-?} corpus=$corpus_size artifacts=${found:-none}" >> "$FUZZ_SUMMARY"
    fi
done

if [ "$crashed" -ne 0 ]; then
    echo "fuzz/run.sh: a target crashed; minimize with \`cargo +nightly fuzz tmin --fuzz-dir fuzz TARGET INPUT\`, copy it into fuzz/regressions/TARGET/ and fix it (see fuzz/README.md)" >&2
    exit 1
fi
echo "fuzz/run.sh: no crashes"
