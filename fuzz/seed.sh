#!/usr/bin/env bash
# Seed fuzz/corpus/<target>/ from the shared corpus and the repository's own fixtures. The
# corpus is never copied into the repository: fuzz/corpus/ is git-ignored and rebuilt here.
# Usage: fuzz/seed.sh [CORPUS_DIR]   (default ../shared/corpus, or $VETTED_CORPUS)
set -euo pipefail
cd "$(dirname "$0")"
CORPUS="${1:-${VETTED_CORPUS:-../../shared/corpus}}"
[ -d "$CORPUS" ] || CORPUS=../../../shared/corpus
# Seeds go to $FUZZ_CORPUS/<target> (default fuzz/corpus), outside the repository either way.
OUT="${FUZZ_CORPUS:-corpus}"
mk() { mkdir -p "${OUT}/$1"; }
for t in archive bun_graph packument policy_toml ledger_toml digest sigstore_bundle dsse_intoto serve_request; do mk "$t"; done
small() { find "$@" -type f -size -256k 2>/dev/null; }
if [ -d "$CORPUS" ]; then
  small "$CORPUS" -name '*.tgz' -o -name '*.whl' -o -name '*.zip' | head -40 | xargs -r -I{} cp {} ${OUT}/archive/
  small "$CORPUS/sigstore-conformance" -name '*.json' | head -80 | xargs -r -I{} cp --backup=numbered {} ${OUT}/sigstore_bundle/
  small "$CORPUS/slsa" -name '*.jsonl' -o -name '*.json' -o -name '*.intoto.jsonl' | head -60 | xargs -r -I{} cp --backup=numbered {} ${OUT}/dsse_intoto/
else
  echo "note: no corpus at $CORPUS; seeding from the repository's fixtures only" >&2
fi
# Fixtures in the repository.
for f in ../examples/*.toml ../vetted.toml; do [ -f "$f" ] && cp "$f" ${OUT}/policy_toml/ || true; done
find .. -path ../fuzz -prune -o -name 'audits.toml' -print 2>/dev/null | head -20 | while read -r f; do cp --backup=numbered "$f" ${OUT}/ledger_toml/; done
find ../tests -name '*.json' -size -64k 2>/dev/null | head -40 | xargs -r -I{} cp --backup=numbered {} ${OUT}/packument/ || true
printf 'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==' > ${OUT}/digest/sri512
printf 'sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00= sha512-AAAA' > ${OUT}/digest/mixed
printf 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' > ${OUT}/digest/prefixed
printf '{"name":"fuzz-pkg","dist-tags":{"latest":"1.0.0"},"time":{"1.0.0":"2025-01-01T00:00:00Z"},"versions":{"1.0.0":{"name":"fuzz-pkg","version":"1.0.0","dependencies":{"a":"^1"},"optionalDependencies":{"b":"npm:c@1"},"dist":{"tarball":"https://r.invalid/f.tgz","integrity":"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==","shasum":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}}}}' > ${OUT}/packument/min.json
printf '/@s/p\nauthorization: Bearer secret\naccept: application/vnd.npm.install-v1+json' > ${OUT}/serve_request/packument
printf '/@s%%2fp/-/p-1.0.0.tgz\nauthorization: Bearer secret' > ${OUT}/serve_request/tarball
printf '/-/ping' > ${OUT}/serve_request/ping
printf '/@s/p/latest\nauthorization: Bearer wrong' > ${OUT}/serve_request/version
# A Bun-like graph tail for the graph reader.
printf 'x\0\n---- Bun! ----\n' > ${OUT}/bun_graph/trailer
python3 seed_bun.py "${OUT}/bun_graph"
# JavaScript and Node SEA seeds, generated (see seed_js_sea.py).
python3 seed_js_sea.py "$OUT" "$CORPUS" || echo "note: js_analysis/node_sea seeds not generated" >&2
echo "seeded: $(for d in ${OUT}/*; do printf '%s=%s ' "${d#${OUT}/}" "$(ls "$d" | wc -l)"; done)"
