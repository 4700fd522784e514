#!/usr/bin/env bash
# Run every fuzz target for SECS seconds (default 120) one after another on one core, and print
# per target: executions, corpus size, coverage (edges), crashes.
# Usage: fuzz/run.sh [SECS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
SECS="${1:-120}"; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(js_analysis node_sea archive bun_graph packument policy_toml ledger_toml digest sigstore_bundle dsse_intoto serve_request)
# Corpora live outside the repository: $FUZZ_CORPUS/<target> (default fuzz/corpus, git-ignored).
CORPUS_DIR="${FUZZ_CORPUS:-corpus}"
dict_for() {
  case "$1" in
    policy_toml|ledger_toml) echo dict/toml.dict ;;
    packument|sigstore_bundle|dsse_intoto) echo dict/json.dict ;;
    archive|bun_graph|node_sea) echo "dict/$1.dict" ;;
    js_analysis) echo dict/js.dict ;;
    *) echo "" ;;
  esac
}
mkdir -p logs artifacts
printf '%-16s %8s %12s %8s %8s %8s\n' target cpu_s execs corpus edges crashes
for t in "${TARGETS[@]}"; do
  mkdir -p "$CORPUS_DIR/$t" "artifacts/$t"
  d=$(dict_for "$t"); dflag=(); [ -n "$d" ] && dflag=(-dict="$d")
  if [ -n "${FUZZ_BIN_DIR:-}" ]; then run=("$FUZZ_BIN_DIR/$t"); else run=(cargo +nightly fuzz run -s none "$t" --); fi
  # CPU seconds (user + system) as well as wall seconds: on a shared machine at nice 19 they differ.
  # -timeout is wall-clock time: a fuzzer paused (SIGSTOP) for longer reports a false timeout
  # and stops. Do not pause them; FUZZ_TIMEOUT raises it (default 10 s).
  /usr/bin/time -f '%U %S' -o "logs/$t.cpu" "${run[@]}" "$CORPUS_DIR/$t" -max_total_time="$SECS" -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${dflag[@]}" \
    > "logs/$t.log" 2>&1
  # The last line: /usr/bin/time puts "Command exited with non-zero status N" before it.
  cpu=$(tail -n 1 "logs/$t.cpu" 2>/dev/null | awk '{ printf "%d", $1 + $2 }')
  execs=$(grep -a 'stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}' | tail -1)
  edges=$(grep -aoE 'cov: [0-9]+' "logs/$t.log" | tail -1 | awk '{print $2}')
  corpus=$(ls "$CORPUS_DIR/$t" | wc -l)
  crashes=$(ls "artifacts/$t" | wc -l)
  printf '%-16s %8s %12s %8s %8s %8s\n' "$t" "${cpu:-?}" "${execs:-?}" "$corpus" "${edges:-?}" "$crashes"
  # One line per run, to add up the seconds per target across sessions (fuzz/README.md):
  # time, target, wall seconds asked, executions, corpus, edges, crashes, CPU seconds used.
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$SECS" "${execs:-?}" "$corpus" "${edges:-?}" "$crashes" "${cpu:-?}" \
    >> "${FUZZ_RUNS:-logs/runs.tsv}"
done
