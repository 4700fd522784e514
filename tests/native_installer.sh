#!/bin/sh
# Fetch a Claude Code native release the way the official installer does (release pointer,
# manifest, signature, binary, checksum compare), from a base URL such as
# https://downloads.claude.ai/claude-code-releases or a vetted mirror's
# http://HOST/claude-code-releases. Used by tests/native_channel.rs against `vetted serve`.
#
#   native_installer.sh BASE VERSION|latest|stable PLATFORM DEST
#
# The signature is checked with `$VETTED verify-vendor-manifest` when VETTED is set (with
# VENDOR_KEY/VENDOR_FPR: a test key instead of the pinned one), else with gpgv and
# GPG_KEYRING; with neither, the script refuses (exit 3) rather than skip the check.
# Needs curl and sha256sum (or shasum -a 256). Exit 0 installed, non-zero otherwise.
set -eu
base=$1 want=$2 platform=$3 dest=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { curl -fsSL --retry 0 -o "$2" "$1"; }

case "$want" in
latest | stable) version=$(curl -fsSL "$base/$want" | tr -d ' \r\n') ;;
*) version=$want ;;
esac
case "$version" in
'' | *[!0-9A-Za-z.+-]*) echo "bad version '$version'" >&2; exit 1 ;;
esac

fetch "$base/$version/manifest.json" "$tmp/manifest.json"
fetch "$base/$version/manifest.json.sig" "$tmp/manifest.json.sig"
if [ -n "${VETTED:-}" ]; then
    set -- verify-vendor-manifest claude-code --manifest "$tmp/manifest.json" \
        --signature "$tmp/manifest.json.sig" --expect-version "$version"
    if [ -n "${VENDOR_KEY:-}" ]; then
        set -- "$@" --insecure-vendor-key "$VENDOR_KEY" --insecure-vendor-key-fingerprint "$VENDOR_FPR"
    fi
    "$VETTED" "$@" >/dev/null
elif command -v gpgv >/dev/null 2>&1 && [ -n "${GPG_KEYRING:-}" ]; then
    gpgv --keyring "$GPG_KEYRING" "$tmp/manifest.json.sig" "$tmp/manifest.json"
else
    echo "no signature verifier (set VETTED, or GPG_KEYRING with gpgv installed)" >&2
    exit 3
fi

# The platform's entry: the installer reads "checksum" (and here "size") from it.
flat=$(tr -d ' \n\r\t' <"$tmp/manifest.json")
entry=$(printf '%s' "$flat" | grep -o "\"$platform\":{[^}]*}" || true)
checksum=$(printf '%s' "$entry" | grep -o '"checksum":"[a-f0-9]*"' | cut -d'"' -f4)
size=$(printf '%s' "$entry" | grep -o '"size":[0-9]*' | cut -d: -f2)
binary=$(printf '%s' "$entry" | grep -o '"binary":"[^"]*"' | cut -d'"' -f4)
if [ "${#checksum}" -ne 64 ] || [ -z "$size" ] || [ -z "$binary" ]; then
    echo "platform $platform not in the manifest for $version" >&2
    exit 1
fi

fetch "$base/$version/$platform/$binary" "$tmp/$binary"
if command -v sha256sum >/dev/null 2>&1; then
    actual=$(sha256sum "$tmp/$binary" | cut -d' ' -f1)
else
    actual=$(shasum -a 256 "$tmp/$binary" | cut -d' ' -f1)
fi
actual_size=$(wc -c <"$tmp/$binary" | tr -d ' ')
if [ "$actual" != "$checksum" ] || [ "$actual_size" != "$size" ]; then
    echo "checksum mismatch: expected $checksum ($size bytes), got $actual ($actual_size bytes)" >&2
    exit 1
fi
mkdir -p "$dest"
chmod +x "$tmp/$binary"
mv "$tmp/$binary" "$dest/$binary"
echo "installed $version $platform $dest/$binary"
