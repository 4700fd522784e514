#!/usr/bin/env bash
# The long differential run of issue #10: >= 10,000 mutants (random pax / GNU / ustar header
# edits) of real small npm tarballs, each read by vetted and extracted by npm's own pacote
# (tests/oracle/extract.js). Prints accepted-and-agree, rejected, accepted-and-disagree; exits 1
# on any disagreement.
#
#   bench/npm-oracle-mutants.sh [COUNT] [SEED]
#
# Needs node and npm (npm pack fetches the tarballs from the registry once into a temporary
# directory); VETTED_NPM_ROOT overrides `npm root -g`.
set -euo pipefail
count=${1:-10000}
seed=${2:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Small real packages: plain files, a bin (semver), .d.ts and .mjs files (kleur), a scoped one.
(cd "$work" && npm pack --silent is-number@7.0.0 ms@2.1.3 kleur@4.1.5 semver@7.6.3 \
    @sindresorhus/is@4.6.0 >/dev/null)
cd "$here"
cargo run --quiet --example npm_oracle_mutants -- --count "$count" --seed "$seed" \
    --keep "${VETTED_ORACLE_KEEP:-target/npm-oracle-disagreements}" "$work"/*.tgz
