#!/usr/bin/env bash
# Peak RSS of `vetted admit` of Claude Code (wrapper + linux-x64 package, ~175 MB tarball) into a
# local store and into S3 (moto's server on loopback), release build. Network: the npm registry
# (once; the fetch cache is reused for the second admission). Target for S3: <= 64 MiB.
# Two ledgers: examples/ledger (its stored manifests predate the `analysis` id, so every module
# is parsed again), and one this build certified (the admission reuses its stored analysis:
# src/content/reuse.rs).
# Usage: bench/s3-admit-rss.sh [VERSION]   (default 2.1.330; the example ledger must cover it)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-2.1.330}
cargo build --release --quiet
V=$PWD/target/release/vetted
work=$(mktemp -d)
cache=${VETTED_BENCH_CACHE:-$work/cache}
moto_pid=
trap '[ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$work"' EXIT
endpoint=${VETTED_S3_ENDPOINT:-}
if [ -z "$endpoint" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
  moto_pid=$!
  endpoint="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -s -o /dev/null "$endpoint/" && break; sleep 0.2; done
fi
bucket="vetted-rss-$$"
curl -s -X PUT "$endpoint/$bucket" > /dev/null
ledger=examples/ledger
admit() { # STORE
  /usr/bin/time -f '%M %e' -o "$work/rss" "$V" admit "npm:@anthropic-ai/claude-code@$VERSION" \
    --policy examples/vetted.toml --ledger "$ledger" --store "$1" --cache-dir "$cache" \
    > "$work/out" 2> "$work/err" || { tail -5 "$work/err"; exit 1; }
  read -r kib secs < "$work/rss"
  echo "$(( kib / 1024 )) MiB, $secs s"
}
s3() { AWS_ENDPOINT=$endpoint AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 admit "$@"; }
echo "examples/ledger (stored manifests without an analysis id):"
echo "  local store, first (fetches):    $(admit "$work/store-a")"
echo "  local store, cached fetch:       $(admit "$work/store-b")"
echo "  s3://$bucket/store, cached fetch: $(s3 "s3://$bucket/store")"
# A ledger of audits this build recorded: the same criteria, full audits of the closure.
mkdir -p "$work/ledger"
sed -n '/^\[criteria\./,/^$/p' examples/ledger/audits.toml > "$work/ledger/audits.toml"
"$V" certify --closure --policy examples/vetted.toml --criteria safe-to-run --who "bench <bench@example.invalid>" \
  --ledger "$work/ledger" --cache-dir "$cache" "npm:@anthropic-ai/claude-code@$VERSION" > /dev/null 2> "$work/err" \
  || { tail -5 "$work/err"; exit 1; }
ledger=$work/ledger
echo "a ledger certified by this build (analysis reused):"
echo "  local store, cached fetch:       $(admit "$work/store-c")"
echo "  s3://$bucket/store2, cached fetch: $(s3 "s3://$bucket/store2")"
ls -l "$cache" > /dev/null 2>&1 || true
