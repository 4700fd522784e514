#!/usr/bin/env bash
# End to end on the real Claude Code release from the npm registry (network; not part of
# `cargo test`): admit @anthropic-ai/claude-code@2.1.330 (wrapper + linux-x64 package) with the
# example policy and ledger, serve the store on 127.0.0.1, check what the real npm client sees and
# installs, then audit the installed copy, change one file, and audit again.
#
# Usage: bench/e2e-claude.sh [VERSION]   (default 2.1.330; the example ledger must cover it)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-2.1.330}
cargo build --release --quiet
V=$PWD/target/release/vetted
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "admit npm:@anthropic-ai/claude-code@$VERSION"
"$V" admit "npm:@anthropic-ai/claude-code@$VERSION" --policy examples/vetted.toml --ledger examples/ledger \
  --store "$work/store"

step "serve the store on 127.0.0.1"
"$V" serve --store "$work/store" --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
echo "registry: $url"

npmx() {
  npm "$@" --registry "$url" --no-audit --no-fund --prefer-online --no-update-notifier --fetch-retries 0 \
    --cache "$work/npm-cache" --userconfig "$work/npmrc"
}
touch "$work/npmrc"
mkdir -p "$work/p1" "$work/p2"

step "npm view @anthropic-ai/claude-code versions"
(cd "$work/p1" && npmx view @anthropic-ai/claude-code versions --json)

step "npm install @anthropic-ai/claude-code@$VERSION"
(cd "$work/p1" && npmx install "@anthropic-ai/claude-code@$VERSION" 2>&1 | tail -3)
installed=$(sha256sum "$work/p1/node_modules/@anthropic-ai/claude-code-linux-x64/claude" | cut -d' ' -f1)
manifest=$(grep -A8 'name = "@anthropic-ai/claude-code-linux-x64"' examples/ledger/audits.toml \
  | grep -B1 -A6 "version = \"$VERSION\"" | sed -n 's/^manifest = "sha256:\(.*\)"/\1/p' | head -1)
audited=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['entries']['package/claude']['sha256'].split(':')[1])" \
  "examples/ledger/manifests/$manifest.json")
echo "installed claude binary sha256: $installed"
echo "audited   claude binary sha256: $audited"
[ "$installed" = "$audited" ] && echo "MATCH" || { echo "MISMATCH"; exit 1; }

step "npm install of a release that was not admitted (2.1.329) must fail"
if (cd "$work/p2" && npmx install "@anthropic-ai/claude-code@2.1.329" > "$work/p2.log" 2>&1); then
  echo "UNEXPECTED: it installed"; exit 1
else
  echo "refused: $(grep -m1 -i 'notarget\|404\|No matching' "$work/p2.log" || tail -1 "$work/p2.log")"
fi

step "vetted audit-installed node_modules"
"$V" audit-installed "$work/p1/node_modules" --ledger examples/ledger && echo "exit 0"

step "change one installed file, audit again"
echo '// changed' >> "$work/p1/node_modules/@anthropic-ai/claude-code/cli-wrapper.cjs"
set +e
"$V" audit-installed "$work/p1/node_modules" --ledger examples/ledger
echo "exit $?"
