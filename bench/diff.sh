#!/usr/bin/env bash
# Benchmark `vetted diff` of two Claude Code native packages against `gzip -dc` of both tarballs
# together, side by side in one run. Both tarballs are fetched into vetted's cache first. Three
# states of vetted's cache are measured:
#   cold   `--no-inspection-cache`: both builds parsed and analysed afresh;
#   half   the old build's inspection cached, the new one's not (a new release reviewed against
#          the one reviewed last time: the usual case);
#   warm   both builds' inspections cached (the same diff run again; the tarballs and what the
#          last review found of them are all in the cache).
# Measures wall time and peak RSS with /usr/bin/time -v (best of $RUNS runs), the size of the
# HTML page, and prints the review numbers (pairing, normalisation, what is left to review).
# The three reports must be byte-identical (the cache changes how fast, never what is shown).
#
# Targets: warm vetted <= 2x the wall time of `gzip -dc` of both, peak RSS <= 768 MiB (every
# state), HTML <= 20 MB. The cold and half ratios are printed, not checked.
#
# Usage: bench/diff.sh                 (builds target/release/vetted if missing)
# Env:   OLD (2.1.329), NEW (2.1.330), NAME (@anthropic-ai/claude-code-linux-x64), RUNS (3),
#        VETTED (path of the binary), OUT (directory for the JSON and HTML; default a temp dir).
set -euo pipefail

OLD=${OLD:-2.1.329}
NEW=${NEW:-2.1.330}
NAME=${NAME:-@anthropic-ai/claude-code-linux-x64}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VETTED=${VETTED:-${CARGO_TARGET_DIR:-$ROOT/target}/release/vetted}
if [ ! -x "$VETTED" ]; then
  (cd "$ROOT" && cargo build --release --locked)
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT=${OUT:-$TMP}
mkdir -p "$OUT"

# Warm cache: fetch both (verified against dist.integrity), remember where they are.
path_of() { "$VETTED" fetch "npm:$NAME@$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])'; }
A=$(path_of "$OLD")
B=$(path_of "$NEW")
cat "$A" "$B" > /dev/null # page cache
# The inspection cache sits beside the blobs: <cache>/sha512/<hex> -> <cache>/inspections/<hex>.json
inspection_of() { echo "$(dirname "$(dirname "$1")")/inspections/$(basename "$1").json"; }
IA=$(inspection_of "$A")
IB=$(inspection_of "$B")

measure() { # measure NAME CMD...: best wall (s) and its peak RSS (KiB); $BEFORE runs before each
  local name=$1; shift
  local best_wall="" best_rss=""
  for _ in $(seq "$RUNS"); do
    eval "${BEFORE:-true}"
    /usr/bin/time -v -o "$TMP/time" "$@" > "$TMP/stdout"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/time")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time")
    if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall; best_rss=$rss
    fi
  done
  printf '%s %s %s\n' "$name" "$best_wall" "$best_rss"
}

gz=$(measure gzip sh -c "gzip -dc '$A' > /dev/null; gzip -dc '$B' > /dev/null")
DIFF=("$VETTED" diff "npm:$NAME@$OLD" "npm:$NAME@$NEW" --json --html "$OUT/review.html")
vc=$(measure cold "${DIFF[@]}" --no-inspection-cache)
cp "$TMP/stdout" "$OUT/diff-cold.json"
"${DIFF[@]}" > /dev/null # fills the inspection cache of both
cp "$IA" "$TMP/old-inspection.json"
vh=$(BEFORE='rm -f "$IB"; cp "$TMP/old-inspection.json" "$IA"' measure half "${DIFF[@]}")
cp "$TMP/stdout" "$OUT/diff-half.json"
vd=$(measure warm "${DIFF[@]}")
cp "$TMP/stdout" "$OUT/diff.json"
read -r _ gz_wall gz_rss <<< "$gz"
read -r _ c_wall c_rss <<< "$vc"
read -r _ h_wall h_rss <<< "$vh"
read -r _ v_wall v_rss <<< "$vd"
html=$(stat -c %s "$OUT/review.html")
ratio() { awk -v a="$1" -v b="$gz_wall" 'BEGIN { print a / b }'; }
echo "vetted diff $NAME $OLD -> $NEW"
printf '  gzip -dc (both)     %6.2f s  %7d KiB\n' "$gz_wall" "$gz_rss"
printf '  vetted diff (cold)  %6.2f s  %7d KiB  (%.2fx gzip; both builds analysed)\n' "$c_wall" "$c_rss" "$(ratio "$c_wall")"
printf '  vetted diff (half)  %6.2f s  %7d KiB  (%.2fx gzip; the old build'"'"'s inspection cached)\n' "$h_wall" "$h_rss" "$(ratio "$h_wall")"
printf '  vetted diff (warm)  %6.2f s  %7d KiB  (%.2fx gzip; both inspections cached)\n' "$v_wall" "$v_rss" "$(ratio "$v_wall")"
printf '  review page         %d bytes\n' "$html"
python3 - "$OUT/diff.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r["review"]
for scope in ("embedded", "files"):
    c = d[scope]
    total = c["old_total"] + c["new_total"]
    unpaired = c["unpaired_added"] + c["unpaired_removed"]
    pct = 100.0 * unpaired / total if total else 0.0
    print(f"  {scope}: {c['old_total']} -> {c['new_total']}; unchanged {c['unchanged']}, moved {c['moved']}, "
          f"paired with changes {c['changed_in_place'] + c['renamed_and_changed']} "
          f"(no semantic change {c['no_semantic_change']}, changed {c['changed']}, not compared {c['not_compared']}); "
          f"unpaired {c['unpaired_added']} added + {c['unpaired_removed']} removed = {pct:.2f}% of {total}; "
          f"changed lines +{c['added_lines']} -{c['removed_lines']}")
print(f"  behaviour changes: {len(d['behaviour_changes'])}; signals: {len(r['signals'])}")
PY
fail=0
for state in cold half; do
  cmp -s "$OUT/diff-$state.json" "$OUT/diff.json" || { echo "  FAIL: the $state report differs from the warm one" >&2; fail=1; }
done
for rss in "$c_rss" "$h_rss"; do
  [ "$rss" -le $((768 * 1024)) ] || { echo "  FAIL: peak RSS above 768 MiB (cold or half)" >&2; fail=1; }
done
awk -v a="$v_wall" -v b="$gz_wall" 'BEGIN { exit !(a <= 2 * b) }' || { echo "  FAIL: slower than 2x gzip -dc" >&2; fail=1; }
[ "$v_rss" -le $((768 * 1024)) ] || { echo "  FAIL: peak RSS above 768 MiB" >&2; fail=1; }
[ "$html" -le 20000000 ] || { echo "  FAIL: review page above 20 MB" >&2; fail=1; }
exit $fail
