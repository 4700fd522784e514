#!/usr/bin/env bash
# End to end on real agent releases from the npm registry (network; not part of `cargo test`).
# One policy (`name = "*"`, platforms = ["linux-x64"]) for every package; for each release:
#   vetted certify --closure -> vetted admit (exit 0) -> vetted serve -> npm install from it
#   (exit 0, the CLI prints its version) -> vetted audit-installed (exit 0).
# Then vetted revoke @anthropic-ai/claude-code@2.1.330: a fresh npm install of it fails and
# audit-installed of the earlier install says revoked (exit 1).
# Then (when the SDK passed) the SDK speed check, side by side in this run: `npm install` of it
# from registry.npmjs.org with an empty npm cache, `vetted admit` of it with an empty vetted
# cache (target: at most 2x npm), and `vetted admit` again with the warm cache (target: 3 s).
# Wall time and peak RSS of every step come from GNU time (`/usr/bin/time -v`); a Markdown
# table of them is printed at the end (and written to $TABLE when set).
#
# Usage: bench/agents-e2e.sh [SPEC...]   (default: the six releases below)
# Env: VETTED (binary; default $CARGO_TARGET_DIR/release/vetted, built if missing),
#      CACHE (vetted's download cache; default /work/cache/vetted-e2e, kept between runs),
#      KEEP=1 keeps the work dir, SPEED=0 skips the SDK speed check, TABLE=FILE.
set -uo pipefail
cd "$(dirname "$0")/.."
V=${VETTED:-${CARGO_TARGET_DIR:-target}/release/vetted}
[ -x "$V" ] || cargo build --release --quiet
CACHE=${CACHE:-/work/cache/vetted-e2e}
mkdir -p "$CACHE"
work=$(mktemp -d)
server=
cold=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "$cold" ] && rm -rf "$cold"
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(
  @anthropic-ai/claude-code@2.1.330
  @openai/codex@0.171.0
  @google/gemini-cli@0.61.0
  @google/gemini-cli@0.10.0
  @github/copilot@1.0.102
  @modelcontextprotocol/sdk@1.32.2
)
SDK=@modelcontextprotocol/sdk@1.32.2
mkdir -p "$work/ledger" && : > "$work/ledger/audits.toml"
cat > "$work/vetted.toml" <<'EOF'
[[package]]
ecosystem = "npm"
name = "*"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
EOF
export npm_config_registry=https://registry.npmjs.org
common=(--ledger "$work/ledger" --cache-dir "$CACHE")
touch "$work/npmrc"

# timed LABEL CMD...: run under GNU time -v; sets $rc, $wall (seconds), $rss (MiB) and prints
# one line. stdout goes to $work/out, stderr to $work/err.
timed() {
  local label=$1; shift
  /usr/bin/time -v -o "$work/time" "$@" > "$work/out" 2> "$work/err"
  rc=$?
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$work/time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$work/time")
  printf '  %-22s exit %-3s %7ss %6s MiB\n' "$label" "$rc" "$wall" "$rss"
  return $rc
}

start_server() {
  [ -n "$server" ] && return
  "$V" serve --store "$work/store" --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$work/serve.out")
  echo "  registry: $url"
}

# npm_in DIR REGISTRY ARGS...: npm with a fresh cache, no retries, no side traffic.
npm_in() {
  local dir=$1 reg=$2; shift 2
  (cd "$dir" && npm "$@" --registry "$reg" --no-audit --no-fund --prefer-online --no-update-notifier \
    --fetch-retries 0 --cache "$work/npm-cache-$RANDOM$RANDOM" --userconfig "$work/npmrc")
}

# GNU time runs programs, not shell functions: the timed npm goes through bash.
export -f npm_in
export work

new_project() {
  mkdir -p "$1" && echo '{"name":"e2e","version":"1.0.0","private":true}' > "$1/package.json"
}

cli_version() {
  local dir=$1 name=$2
  case $name in
    @anthropic-ai/claude-code) "$dir/node_modules/.bin/claude" --version ;;
    @openai/codex) "$dir/node_modules/.bin/codex" --version ;;
    @google/gemini-cli) "$dir/node_modules/.bin/gemini" --version ;;
    @github/copilot) "$dir/node_modules/.bin/copilot" --version ;;
    *) node -p "require('$dir/node_modules/$name/package.json').version" ;;
  esac
}

declare -A result
rows=()
cell() { echo "$1 / ${2}s / ${3} MiB"; }
for spec in "${specs[@]}"; do
  name=${spec%@*}
  echo "== $spec"
  c_cert="-" c_admit="-" c_npm="-" c_ver="-" c_audit="-" n_art="-" ok=1
  timed "certify --closure" "$V" certify "npm:$spec" --closure --policy "$work/vetted.toml" \
    --who "e2e <e2e@example.com>" "${common[@]}" || { ok=0; tail -5 "$work/err"; }
  c_cert=$(cell "$rc" "$wall" "$rss")
  sed 's/^/    /' "$work/out" | tail -3
  if [ $ok = 1 ]; then
    timed "admit" "$V" admit "npm:$spec" --policy "$work/vetted.toml" --store "$work/store" \
      "${common[@]}" --json || { ok=0; tail -5 "$work/err"; }
    c_admit=$(cell "$rc" "$wall" "$rss")
    n_art=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
      console.log((r.admitted||[]).length)' "$work/out" 2>/dev/null || echo "?")
    echo "    admitted $n_art artifacts"
    [ $ok = 1 ] || node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
      for (const a of r.artifacts||[]) for (const c of a.checks||[]) if (c.status==="fail")
        console.log("    "+a.name+"@"+a.version+": "+c.check+": "+c.detail)' "$work/out" 2>/dev/null | head -10
  fi
  if [ $ok = 1 ]; then
    start_server
    dir="$work/install-${spec//[@\/]/_}"
    new_project "$dir"
    timed "npm install" bash -c 'npm_in "$@"' npm_in "$dir" "$url" install "$spec" || { ok=0; tail -8 "$work/out" "$work/err"; }
    c_npm=$(cell "$rc" "$wall" "$rss")
    if [ $ok = 1 ]; then
      c_ver=$(cli_version "$dir" "$name" 2>&1 | head -1)
      echo "  CLI says: $c_ver"
      timed "audit-installed" "$V" audit-installed "$dir/node_modules" --ledger "$work/ledger" \
        || { ok=0; tail -5 "$work/out" "$work/err"; }
      c_audit=$(cell "$rc" "$wall" "$rss")
      eval "installed_${name//[@\/-]/_}=$dir"
    fi
  fi
  result[$spec]=$ok
  rows+=("| \`$spec\` | $n_art | $c_cert | $c_admit | $c_npm | \`$c_ver\` | $c_audit |")
done

revoke_row=
if [ -n "$server" ] && [ -n "${installed__anthropic_ai_claude_code:-}" ]; then
  echo "== revoke @anthropic-ai/claude-code@2.1.330"
  timed "revoke" "$V" revoke @anthropic-ai/claude-code@2.1.330 --ledger "$work/ledger" --store "$work/store" \
    --why "e2e: pretend a compromise" --who "e2e <e2e@example.com>"
  r_rc=$rc
  sed 's/^/    /' "$work/out"
  # serve re-reads the index about once a second.
  sleep 2
  d2="$work/install-after-revoke" && new_project "$d2"
  if npm_in "$d2" "$url" install @anthropic-ai/claude-code@2.1.330 > "$work/npm2.log" 2>&1; then
    echo "  UNEXPECTED: npm install of the revoked version succeeded"; result[revoke]=0; n_rc=0
  else
    n_rc=1
    echo "  npm install refused: $(grep -m1 -iE 'notarget|404|No matching|ETARGET' "$work/npm2.log")"
  fi
  timed "audit-installed (old)" "$V" audit-installed "$installed__anthropic_ai_claude_code/node_modules" \
    --ledger "$work/ledger"
  a_rc=$rc
  verdict=$(grep -m1 -io 'revoked' "$work/out" "$work/err" | head -1 | cut -d: -f2)
  echo "  audit-installed of the earlier install: exit $a_rc; says: ${verdict:-not revoked}"
  if [ "$r_rc" = 0 ] && [ "$n_rc" = 1 ] && [ "$a_rc" = 1 ] && [ -n "$verdict" ]; then
    result[revoke]=1
  else
    result[revoke]=0
  fi
  revoke_row="revoke exit $r_rc; npm install after it: $([ "$n_rc" = 1 ] && echo fails || echo SUCCEEDS); audit-installed of the earlier install: exit $a_rc, ${verdict:-no revoked verdict}"
fi

speed_rows=()
if [ "${SPEED:-1}" = 1 ] && [ "${result[$SDK]:-0}" = 1 ]; then
  echo "== SDK speed ($SDK), side by side"
  cold=$(mktemp -d /work/cache/vetted-cold.XXXXXX)
  dn="$work/npm-cold" && new_project "$dn"
  timed "npm install (cold)" bash -c 'npm_in "$@"' npm_in "$dn" https://registry.npmjs.org install "$SDK"
  npm_s=$wall
  speed_rows+=("| npm install from registry.npmjs.org, empty npm cache | $rc | ${wall}s | $rss MiB |")
  timed "admit (cold cache)" "$V" admit "npm:$SDK" --policy "$work/vetted.toml" --store "$work/store-speed" \
    --ledger "$work/ledger" --cache-dir "$cold"
  cold_s=$wall
  speed_rows+=("| vetted admit, empty cache | $rc | ${wall}s | $rss MiB |")
  for i in 1 2 3; do
    timed "admit (warm cache) $i" "$V" admit "npm:$SDK" --policy "$work/vetted.toml" \
      --store "$work/store-speed" --ledger "$work/ledger" --cache-dir "$cold"
    speed_rows+=("| vetted admit, warm cache (run $i) | $rc | ${wall}s | $rss MiB |")
    warm_s=$wall
  done
  ratio=$(awk -v a="$cold_s" -v b="$npm_s" 'BEGIN { printf "%.2f", a / b }')
  echo "  cold admit / npm install = $ratio (target <= 2); warm admit ${warm_s}s (target <= 3 s)"
  speed_rows+=("| cold admit / npm install | | $ratio (target ≤ 2) | |")
fi

{
  echo
  echo "| release | artifacts | certify --closure (exit / wall / peak RSS) | admit | npm install from serve | CLI version | audit-installed |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  [ -n "$revoke_row" ] && echo && echo "$revoke_row"
  if [ ${#speed_rows[@]} -gt 0 ]; then
    echo
    echo "| SDK speed step | exit | wall | peak RSS |"
    echo "|---|---|---|---|"
    printf '%s\n' "${speed_rows[@]}"
  fi
} | tee "${TABLE:-/dev/null}"

echo "== summary"
fail=0
for k in "${!result[@]}"; do
  echo "  $k: $([ "${result[$k]}" = 1 ] && echo PASS || { fail=1; echo FAIL; })"
done
exit $fail
