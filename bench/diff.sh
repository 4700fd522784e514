#!/usr/bin/env bash
# Benchmark `vetted diff` of two Claude Code native packages (warm cache: both tarballs already
# fetched into vetted's cache) against `gzip -dc` of both tarballs together, side by side in one
# run. Measures wall time and peak RSS with /usr/bin/time -v (best of $RUNS runs), the size of the
# HTML page, and prints the review numbers (pairing, normalisation, what is left to review).
#
# Targets: vetted <= 2x the wall time of `gzip -dc` of both, peak RSS <= 768 MiB, HTML <= 20 MB.
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

measure() { # measure NAME CMD...: best wall (s) and its peak RSS (KiB)
  local name=$1; shift
  local best_wall="" best_rss=""
  for _ in $(seq "$RUNS"); do
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
vd=$(measure vetted "$VETTED" diff "npm:$NAME@$OLD" "npm:$NAME@$NEW" --json --html "$OUT/review.html")
cp "$TMP/stdout" "$OUT/diff.json"
read -r _ gz_wall gz_rss <<< "$gz"
read -r _ v_wall v_rss <<< "$vd"
html=$(stat -c %s "$OUT/review.html")
echo "vetted diff $NAME $OLD -> $NEW"
printf '  gzip -dc (both)  %6.2f s  %7d KiB\n' "$gz_wall" "$gz_rss"
printf '  vetted diff      %6.2f s  %7d KiB  (%.2fx gzip)\n' "$v_wall" "$v_rss" "$(awk -v a="$v_wall" -v b="$gz_wall" 'BEGIN { print a / b }')"
printf '  review page      %d bytes\n' "$html"
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
awk -v a="$v_wall" -v b="$gz_wall" 'BEGIN { exit !(a <= 2 * b) }' || { echo "  FAIL: slower than 2x gzip -dc" >&2; fail=1; }
[ "$v_rss" -le $((768 * 1024)) ] || { echo "  FAIL: peak RSS above 768 MiB" >&2; fail=1; }
[ "$html" -le 20000000 ] || { echo "  FAIL: review page above 20 MB" >&2; fail=1; }
exit $fail
