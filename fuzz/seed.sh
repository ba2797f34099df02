#!/usr/bin/env bash
# Seeds the fuzzing corpora fuzz/corpus/<target>/ (gitignored) from the repository:
#   eval, constructors  the .sky files of tests/fixtures and examples (each example also as one
#                       input: main.sky with its other files after `# file: NAME` lines)
#   import              the YAML of tests/fixtures/import and examples, and skyc's own renders
#                       (the snapshots of tests/snapshots)
#   diff                pairs of renders (snapshots), joined with a 0xFF byte
# plus the regression inputs of fuzz/regressions/<target>/. Existing corpus files are kept
# (libFuzzer adds what it finds), so running it again only adds seeds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
corpus="$here/corpus"
targets=(eval import constructors diff)
for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t"
done

# Copies $1 to corpus/$2 under a name made of its repository path.
seed() {
    local src="$1" target="$2" name
    name="$(realpath --relative-to="$root" "$src" | tr '/' '_')"
    cp "$src" "$corpus/$target/seed-$name"
}

# A file, with a final newline (so a `# file:` line after it starts a line).
cat_nl() {
    sed -e '$a\' "$1"
}

# The variables the tests render each example with (tests/common/mod.rs, EXAMPLES).
example_vars() {
    case "$1" in
        home-srv) echo "cluster=northwest environment=qa" ;;
        multi-env | mesh) echo "environment=qa" ;;
        migration) echo "move_settlement=both" ;;
        *) echo "" ;;
    esac
}

# A render snapshot without its insta header (`---` … `---`).
strip_snapshot() {
    awk 'n >= 2 { print; next } /^---$/ { n++ }' "$1"
}

# .sky sources.
while IFS= read -r -d '' f; do
    seed "$f" eval
    seed "$f" constructors
done < <(find "$root/tests/fixtures" "$root/examples" -name '*.sky' -type f -print0 | sort -z)

# Each example as one project: main.sky, then its other files (sky.toml, libraries).
for dir in "$root"/examples/*/; do
    [ -f "$dir/main.sky" ] || continue
    name="$(basename "$dir")"
    out="$corpus/eval/seed-example-$name"
    { printf '# vars: %s\n' "$(example_vars "$name")"; cat_nl "$dir/main.sky"; } > "$out"
    while IFS= read -r -d '' f; do
        rel="${f#"$dir"}"
        [ "$rel" = "main.sky" ] && continue
        printf '# file: %s\n' "$rel" >> "$out"
        cat_nl "$f" >> "$out"
    done < <(find "$dir" -type f \( -name '*.sky' -o -name 'sky.toml' \) -print0 | sort -z)
done

# skycfg examples (.cfg files) as projects in skycfg mode.
for dir in "$root"/examples/skycfg/*/; do
    [ -f "$dir/main.cfg" ] || continue
    out="$corpus/eval/seed-skycfg-$(basename "$dir")"
    { printf '# compat: skycfg\n'; cat_nl "$dir/main.cfg"; } > "$out"
    while IFS= read -r -d '' f; do
        rel="${f#"$dir"}"
        [ "$rel" = "main.cfg" ] && continue
        printf '# file: %s\n' "$rel" >> "$out"
        cat_nl "$f" >> "$out"
    done < <(find "$dir" -type f \( -name '*.cfg' -o -name 'sky.toml' \) -print0 | sort -z)
done

# YAML to import.
while IFS= read -r -d '' f; do
    seed "$f" import
done < <(find "$root/tests/fixtures/import" "$root/examples" \( -name '*.yaml' -o -name '*.yml' \) -type f -print0 | sort -z)

# Renders: import seeds as they are, diff seeds in pairs (each with the next, and with itself).
mapfile -d '' renders < <(find "$root/tests/snapshots" -maxdepth 1 -type f \
    \( -name 'examples__*.snap' -o -name 'fixtures__render__*.snap' -o -name 'skycfg__*.snap' \) \
    -print0 | sort -z)
for i in "${!renders[@]}"; do
    a="${renders[$i]}"
    b="${renders[$(( (i + 1) % ${#renders[@]} ))]}"
    an="$(basename "$a" .snap)"
    bn="$(basename "$b" .snap)"
    strip_snapshot "$a" > "$corpus/import/seed-render-$an.yaml"
    { strip_snapshot "$a"; printf '\xff'; strip_snapshot "$b"; } > "$corpus/diff/seed-$an--$bn"
    { strip_snapshot "$a"; printf '\xff'; strip_snapshot "$a"; } > "$corpus/diff/seed-$an--same"
done

# The regression inputs.
for t in "${targets[@]}"; do
    if [ -d "$here/regressions/$t" ]; then
        for f in "$here/regressions/$t"/*; do
            [ -f "$f" ] && cp "$f" "$corpus/$t/regression-$(basename "$f")"
        done
    fi
done

for t in "${targets[@]}"; do
    echo "seed.sh: corpus/$t: $(find "$corpus/$t" -type f | wc -l) inputs"
done
