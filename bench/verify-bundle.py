#!/usr/bin/env python3
"""Median wall time of one `vetted verify-bundle` run over the Sigstore conformance corpus, next to
sigstore-python verifying the same bundles in the same run.

Usage: bench/verify-bundle.py [VETTED_BIN] [--rounds N] [--sigstore-python PATH]

Every case of ../shared/corpus/sigstore-conformance/bundle-verify is run through vetted (the
conformance protocol, artifact path form). sigstore-python (`pip install sigstore`; pass the
`sigstore` executable or let the script find one on PATH / in /tmp/sigpy) is run on the cases it
can take the same way: keyless bundles against the production root (no custom trusted_root.json),
with --offline. Both medians are over the same kind of work: one process start, one verification.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/"
            "workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main")
ISSUER = "https://token.actions.githubusercontent.com"


def case_inputs(case: Path, cases: Path):
    identity = (case / "identity").read_text().strip() if (case / "identity").exists() else IDENTITY
    issuer = (case / "issuer").read_text().strip() if (case / "issuer").exists() else ISSUER
    artifact = case / "artifact" if (case / "artifact").exists() else cases / "a.txt"
    return identity, issuer, artifact


def vetted_args(binary, case, cases):
    identity, issuer, artifact = case_inputs(case, cases)
    args = [binary, "verify-bundle", "--bundle", str(case / "bundle.sigstore.json")]
    if (case / "key.pub").exists():
        args += ["--key", str(case / "key.pub")]
    else:
        args += ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer]
    if (case / "trusted_root.json").exists():
        args += ["--trusted-root", str(case / "trusted_root.json")]
    return args + [str(artifact)]


def python_args(sigstore, case, cases):
    identity, issuer, artifact = case_inputs(case, cases)
    return [sigstore, "--offline", "verify", "identity", "--bundle", str(case / "bundle.sigstore.json"),
            "--cert-identity", identity, "--cert-oidc-issuer", issuer, str(artifact)]


def timed(args):
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, proc.returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?", default=str(HERE.parent / "target/release/vetted"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sigstore-python", default=shutil.which("sigstore") or "/tmp/sigpy/bin/sigstore")
    opts = parser.parse_args()
    corpus = Path(os.environ.get("VETTED_CORPUS", HERE.parent.parent / "shared/corpus"))
    cases_dir = corpus / "sigstore-conformance/bundle-verify"
    if not cases_dir.is_dir():
        print(f"corpus not found at {cases_dir}", file=sys.stderr)
        return 2
    cases = sorted(p for p in cases_dir.iterdir() if p.is_dir())
    comparable = [c for c in cases if not (c / "trusted_root.json").exists() and not (c / "key.pub").exists()]

    v_times = []
    for _ in range(opts.rounds):
        for case in cases:
            t, _ = timed(vetted_args(opts.binary, case, cases_dir))
            v_times.append(t)
    v_same = []
    for _ in range(opts.rounds):
        for case in comparable:
            t, _ = timed(vetted_args(opts.binary, case, cases_dir))
            v_same.append(t)
    print(f"vetted verify-bundle: median {statistics.median(v_times) * 1000:.1f} ms over {len(v_times)} runs "
          f"({len(cases)} cases x {opts.rounds})")
    print(f"vetted verify-bundle, production-root keyless cases only: median "
          f"{statistics.median(v_same) * 1000:.1f} ms over {len(v_same)} runs")

    if not (opts.sigstore_python and Path(opts.sigstore_python).exists()):
        print("sigstore-python: not installed (pip install sigstore), not measured")
        return 0
    p_times = []
    agree = 0
    for case in comparable:
        t, code = timed(python_args(opts.sigstore_python, case, cases_dir))
        p_times.append(t)
        _, vcode = timed(vetted_args(opts.binary, case, cases_dir))
        agree += (code == 0) == (vcode == 0)
    p_med = statistics.median(p_times)
    print(f"sigstore-python verify identity --offline: median {p_med * 1000:.1f} ms over {len(p_times)} runs "
          f"({len(comparable)} cases x 1); verdicts agree with vetted on {agree}/{len(comparable)}")
    print(f"ratio (sigstore-python / vetted, same cases): {p_med / statistics.median(v_same):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
