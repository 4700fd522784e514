#!/usr/bin/env bash
# Benchmark `vetted inspect --json` on the real Claude Code native package against what a user
# would otherwise run: `gzip -dc`, and the shell pipeline (sha512sum of the tgz, tar xzf into a
# temporary directory, sha256sum of every file). Measures wall time and peak RSS with
# /usr/bin/time -v (best of $RUNS runs, page cache warm), prints the ratios, and checks that
# vetted's sha512 equals the registry's dist.integrity.
#
# vetted inspect includes the JavaScript behaviour analysis (oxc parse + semantic + walk of every
# JS module, 3,758 embedded modules in 2.1.330). Targets: vetted <= 3x the wall time of
# `gzip -dc`, peak RSS <= 512 MiB. Also prints the JS bytes analysed and the end-to-end
# throughput (JS MB / vetted wall: a lower bound of the parse rate, the wall also covers
# inflating, hashing and the byte scan of 380 MB).
#
# Usage: bench/inspect.sh            (builds target/release/vetted if missing)
# Env:   VERSION (2.1.330), RUNS (3), BENCH_DIR (download dir; never inside the repository),
#        VETTED (path of the binary), TGZ (an already downloaded tarball, e.g. from vetted's
#        fetch cache; its sha512 is still checked against dist.integrity).
set -euo pipefail

VERSION=${VERSION:-2.1.330}
RUNS=${RUNS:-3}
NAME=@anthropic-ai/claude-code-linux-x64
REGISTRY=https://registry.npmjs.org
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vetted-bench}
VETTED=${VETTED:-$ROOT/target/release/vetted}
mkdir -p "$BENCH_DIR"

if [ ! -x "$VETTED" ]; then
  (cd "$ROOT" && cargo build --release --locked)
fi

meta=$(curl -fsS "$REGISTRY/${NAME/\//%2f}/$VERSION")
field() { printf '%s' "$meta" | python3 -c "import json,sys; print(json.load(sys.stdin)['dist']['$1'])"; }
integrity=$(field integrity)
tarball=$(field tarball)
TGZ=${TGZ:-$BENCH_DIR/claude-code-linux-x64-$VERSION.tgz}
if [ ! -f "$TGZ" ]; then
  echo "downloading $tarball" >&2
  curl -fsS -o "$TGZ.part" "$tarball"
  mv "$TGZ.part" "$TGZ"
fi
have="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
if [ "$have" != "$integrity" ]; then
  echo "downloaded tarball does not match dist.integrity ($have != $integrity)" >&2
  exit 1
fi
cat "$TGZ" > /dev/null # warm the page cache

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# measure NAME CMD...: best wall time (s) and the peak RSS (KiB) of that run.
measure() {
  local name=$1; shift
  local best_wall="" best_rss=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -v -o "$TMP/time" "$@" > /dev/null
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/time")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time")
    if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall; best_rss=$rss
    fi
  done
  printf '%-28s wall %7.2f s   peak RSS %8.1f MiB\n' "$name" "$best_wall" "$(awk -v k="$best_rss" 'BEGIN { print k / 1024 }')"
  eval "WALL_$name=$best_wall; RSS_$name=$best_rss"
}

pipeline() {
  local d
  d=$(mktemp -d -p "$TMP")
  sha512sum "$TGZ" > /dev/null
  tar xzf "$TGZ" -C "$d"
  find "$d" -type f -exec sha256sum {} + > /dev/null
  rm -rf "$d"
}
export -f pipeline
export TGZ TMP

echo "artifact: $TGZ ($(stat -c %s "$TGZ") bytes), $RUNS runs each, best shown, $(nproc) cores"
measure gzip gzip -dc "$TGZ"
measure pipeline bash -c pipeline
measure vetted "$VETTED" inspect --json "$TGZ"

awk -v v="$WALL_vetted" -v g="$WALL_gzip" -v p="$WALL_pipeline" -v r="$RSS_vetted" 'BEGIN {
  printf "vetted / gzip -dc  wall: %.2fx  (target <= 3x, with the behaviour analysis)\n", v / g
  printf "vetted / pipeline  wall: %.2fx\n", v / p
  printf "vetted peak RSS: %.1f MiB  (target <= 512 MiB)\n", r / 1024
}'

"$VETTED" inspect --json "$TGZ" > "$TMP/manifest.json"
python3 - "$TMP/manifest.json" "$integrity" "$WALL_vetted" <<'PY'
import base64, json, sys
m = json.load(open(sys.argv[1]))
alg, hexd = m["artifact"]["sha512"].split(":")
sri = "sha512-" + base64.b64encode(bytes.fromhex(hexd)).decode()
print("inspect sha512 == dist.integrity:", sri == sys.argv[2], sri)
claude = m["entries"].get("package/claude", {})
print("package/claude:", claude.get("sha256"), claude.get("size"), "bytes", claude.get("signals", {}).get("executable"))
print("entries:", m["totals"]["entries"], "files:", m["totals"]["files"], "unpacked:", m["totals"]["unpacked_bytes"])
JS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
js = [(p, e) for p, e in m["entries"].items() if p.endswith(JS)]
parsed = [e for _, e in js if not e.get("parse_error")]
nbytes = sum(e["size"] for _, e in js)
wall = float(sys.argv[3])
kinds = {}
for e in m["entries"].values():
    for b in e.get("behaviours", []):
        kinds[b["kind"]] = kinds.get(b["kind"], 0) + 1
print(f"JS analysed: {len(js)} modules, {nbytes / 1e6:.1f} MB, {len(js) - len(parsed)} with a parse error;"
      f" {nbytes / 1e6 / wall:.1f} MB/s end to end")
print("behaviours by kind:", dict(sorted(kinds.items())))
sys.exit(0 if sri == sys.argv[2] else 1)
PY
