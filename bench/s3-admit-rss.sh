#!/usr/bin/env bash
# Peak RSS of `vetted admit` of Claude Code (wrapper + linux-x64 package, ~175 MB tarball) into a
# local store and into S3 (moto's server on loopback), release build. Network: the npm registry
# (once; the fetch cache is reused for the second admission). Target for S3: <= 64 MiB.
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
admit() { # STORE
  /usr/bin/time -f '%M' -o "$work/rss" "$V" admit "npm:@anthropic-ai/claude-code@$VERSION" \
    --policy examples/vetted.toml --ledger examples/ledger --store "$1" --cache-dir "$cache" \
    > "$work/out" 2> "$work/err" || { tail -5 "$work/err"; exit 1; }
  echo "$(( $(cat "$work/rss") / 1024 )) MiB"
}
echo "local store, first (fetches):   $(admit "$work/store-a")"
echo "local store, cached fetch:      $(admit "$work/store-b")"
echo "s3://$bucket/store, cached fetch: $(AWS_ENDPOINT=$endpoint AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test \
  AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 admit "s3://$bucket/store")"
ls -l "$cache" > /dev/null 2>&1 || true
