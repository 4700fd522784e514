#!/bin/sh
# Load test for `vetted serve`: concurrent tarball downloads over loopback, every body checked
# against its sha512. Small tarballs (64 clients, 2,000 requests, 30 s cap) and large ones
# (4 MiB streamed while hashing + 512 KiB hashed first; 64 clients, 1,000 requests).
# Usage: bench/serve-load.sh   (from the repository root; builds the tests in release mode)
set -eu
cargo test --release --test serve_http -- --ignored --nocapture load_full load_large 2>&1 \
  | grep -E '^load|test result'
