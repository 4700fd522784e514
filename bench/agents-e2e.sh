#!/usr/bin/env bash
# End to end on real agent releases from the npm registry (network; not part of `cargo test`).
# One policy (`name = "*"`, platforms = ["linux-x64"]) for every package; for each release:
#   vetted certify --closure -> vetted admit (exit 0) -> vetted serve -> npm install from it
#   (exit 0, the CLI prints its version) -> vetted audit-installed (exit 0).
# Then vetted revoke @anthropic-ai/claude-code@2.1.330: a fresh npm install of it fails and
# audit-installed of the earlier install says revoked (exit 1). Wall time and peak RSS of each
# vetted step are printed (GNU time).
#
# Usage: bench/agents-e2e.sh [SPEC...]   (default: the six releases below, biggest risk first)
# Env: VETTED (binary; default target/release/vetted, built if missing), KEEP=1 keeps the work dir.
set -uo pipefail
cd "$(dirname "$0")/.."
V=${VETTED:-${CARGO_TARGET_DIR:-target}/release/vetted}
[ -x "$V" ] || cargo build --release --quiet
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(
  @openai/codex@0.171.0
  @modelcontextprotocol/sdk@1.32.2
  @google/gemini-cli@0.10.0
  @google/gemini-cli@0.61.0
  @github/copilot@1.0.102
  @anthropic-ai/claude-code@2.1.330
)
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
common=(--ledger "$work/ledger" --cache-dir "$work/cache")

# timed LABEL CMD...: run, print exit code, wall seconds and peak RSS.
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  read -r wall rss < <(tail -1 "$work/time")
  printf '  %-28s exit %s  %6ss  %6d MiB\n' "$label" "$rc" "$wall" "$((rss / 1024))"
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

npmx() {
  npm "$@" --registry "$url" --no-audit --no-fund --prefer-online --no-update-notifier --fetch-retries 0 \
    --cache "$work/npm-cache-$RANDOM" --userconfig "$work/npmrc"
}
touch "$work/npmrc"

declare -A result
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

for spec in "${specs[@]}"; do
  name=${spec%@*}
  echo "== $spec"
  ok=1
  timed "certify --closure" "$V" certify "npm:$spec" --closure --policy "$work/vetted.toml" \
    --who "e2e <e2e@example.com>" "${common[@]}" || { ok=0; tail -5 "$work/err"; }
  sed 's/^/    /' "$work/out"
  [ $ok = 1 ] && { timed "admit" "$V" admit "npm:$spec" --policy "$work/vetted.toml" --store "$work/store" \
    "${common[@]}" || { ok=0; tail -5 "$work/err"; }; }
  grep -E 'admitted|artifacts' "$work/out" | tail -2 | sed 's/^/    /'
  if [ $ok = 1 ]; then
    start_server
    dir="$work/install-${spec//[@\/]/_}"
    mkdir -p "$dir" && echo '{"name":"e2e","version":"1.0.0","private":true}' > "$dir/package.json"
    if (cd "$dir" && /usr/bin/time -f "%e %M" -o "$work/time" npm install "$spec" --registry "$url" --no-audit \
        --no-fund --no-update-notifier --fetch-retries 0 --cache "$work/npm-cache-${RANDOM}" \
        --userconfig "$work/npmrc" > "$work/npm.log" 2>&1); then
      echo "  npm install                  exit 0  $(cut -d' ' -f1 "$work/time")s"
      v=$(cli_version "$dir" "$name" 2>&1 | head -1)
      echo "  CLI says: $v"
      timed "audit-installed" "$V" audit-installed "$dir/node_modules" --ledger "$work/ledger" \
        || { ok=0; tail -3 "$work/err"; }
      eval "installed_${name//[@\/-]/_}=$dir"
    else
      ok=0; echo "  npm install failed:"; tail -5 "$work/npm.log"
    fi
  fi
  result[$spec]=$ok
done

if [ -n "$server" ] && [ -n "${installed__anthropic_ai_claude_code:-}" ]; then
  echo "== revoke @anthropic-ai/claude-code@2.1.330"
  timed "revoke" "$V" revoke @anthropic-ai/claude-code@2.1.330 --ledger "$work/ledger" --store "$work/store" \
    --why "e2e: pretend a compromise" --who "e2e <e2e@example.com>"
  cat "$work/out" | sed 's/^/    /'
  sleep 2
  d2="$work/install-after-revoke" && mkdir -p "$d2" && echo '{"name":"e2e2","version":"1.0.0","private":true}' > "$d2/package.json"
  if (cd "$d2" && npmx install @anthropic-ai/claude-code@2.1.330 > "$work/npm2.log" 2>&1); then
    echo "  UNEXPECTED: npm install of the revoked version succeeded"; result[revoke]=0
  else
    echo "  npm install refused: $(grep -m1 -iE 'notarget|404|No matching' "$work/npm2.log")"
    "$V" audit-installed "$installed__anthropic_ai_claude_code/node_modules" --ledger "$work/ledger" \
      > "$work/out" 2>&1
    rc=$?
    echo "  audit-installed of the earlier install: exit $rc; $(grep -m1 -i revoked "$work/out")"
    [ $rc = 1 ] && grep -qi revoked "$work/out" && result[revoke]=1 || result[revoke]=0
  fi
fi

echo "== summary"
for k in "${!result[@]}"; do echo "  $k: $([ "${result[$k]}" = 1 ] && echo PASS || echo FAIL)"; done
