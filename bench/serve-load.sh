#!/bin/sh
# Load test for `vetted serve`: concurrent tarball downloads over loopback, every body checked
# against its sha512. Small tarballs (64 clients, 2,000 requests, 30 s cap) and large ones
# (4 MiB streamed while hashing + 512 KiB hashed first; 64 clients, 1,000 requests).
# Usage: bench/serve-load.sh   (from the repository root; builds the tests in release mode)
set -eu
cargo test --release --test serve_http -- --ignored --nocapture load_full load_large 2>&1 \
  | grep -E '^load|test result'
# Memory under 60 slow readers of a 31 MB blob (the release `vetted serve`; its VmHWM, target
# <= 256 MiB; before the bounded buffers it reached 1.5-1.9 GB).
cargo test --release --test serve_hostile -- --nocapture sixty_slow_readers 2>&1 \
  | grep -E 'VmHWM|test result'
# Measured 2026-11-23 on the shared 2-core dev machine (client and server on the same cores,
# both hashing every body with sha512; release build):
#   load (full):  2000 requests, 64 clients, 0.42-0.62 s, 3,200-4,800 req/s, 0 failures (~300-byte tarballs)
#   load (large): 1000 requests, 64 clients, 7.3-8.8 s, 114-137 req/s, 257-307 MiB/s, 0 failures
#   2026-12-01 (fifth session, 16e9a74): serve VmHWM under 60 slow readers of a 31 MB blob 108 MiB
#   (target <= 256 MiB; 5 MiB read by the readers).
