//! Bounded decoding of encoded literals (base64, hex, percent, char codes), so a payload hidden
//! in an encoding is scanned like plain text.
use base64::Engine as _;

/// Decode standard or URL-safe base64 (padding optional); `None` when `s` is not base64.
pub(crate) fn base64(s: &str, max: usize) -> Option<Vec<u8>> {
    let t = s.trim();
    if t.is_empty() || t.len() / 4 * 3 > max {
        return None;
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines.iter().find_map(|e| e.decode(t).ok())
}

/// Decode hex (even length); `None` otherwise.
pub(crate) fn hex(s: &str, max: usize) -> Option<Vec<u8>> {
    let t = s.trim();
    if t.len() / 2 > max {
        return None;
    }
    ::hex::decode(t).ok()
}

/// Decode `%XX` escapes (invalid escapes are kept as written).
pub(crate) fn percent(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Whether decoded bytes are text a person or an interpreter would read: valid UTF-8, mostly
/// printable. Binary payloads (images, fonts, hashes) are not.
pub(crate) fn is_text(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let total = s.chars().count();
    if total == 0 {
        return false;
    }
    let printable = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    printable * 100 >= total * 95
}

/// Whether a literal looks like an encoded blob worth decoding: long enough, one alphabet.
pub(crate) fn looks_encoded(s: &str) -> Option<Encoding> {
    let n = s.len();
    if n < 24 {
        return None;
    }
    if n.is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Encoding::Hex);
    }
    let b64 = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    // Identifiers and words are not base64 blobs: ask for mixed case and digits or symbols.
    let mixed = s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes()
            .any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'='));
    (b64 && mixed).then_some(Encoding::Base64)
}

/// An encoding of a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Base64,
    Hex,
}

/// Markers that make decoded text worth a second look (code, URLs, commands, paths).
pub(crate) fn interesting(s: &str) -> bool {
    const MARKERS: &[&str] = &[
        "://",
        "require(",
        "import(",
        "child_process",
        "eval(",
        "Function(",
        "process.env",
        "/bin/sh",
        "/bin/bash",
        "powershell",
        "curl ",
        "wget ",
        ".ssh",
        ".npmrc",
        ".aws",
        "exec(",
        "fetch(",
    ];
    MARKERS.iter().any(|m| s.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bounded() {
        assert_eq!(
            base64("aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcA==", 100).as_deref(),
            Some(&b"https://evil.example/p"[..])
        );
        assert_eq!(base64("aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcA==", 4), None);
        assert_eq!(hex("6869", 10).as_deref(), Some(&b"hi"[..]));
        assert_eq!(percent("a%2Fb%zz"), b"a/b%zz");
        assert!(is_text(b"hello world") && !is_text(&[0, 1, 2, 200, 255]));
        assert_eq!(
            looks_encoded("aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcA=="),
            Some(Encoding::Base64)
        );
        assert_eq!(looks_encoded("thisIsAVeryLongIdentifierName"), None);
        assert_eq!(
            looks_encoded("68747470733a2f2f6576696c2e6578616d706c65"),
            Some(Encoding::Hex)
        );
    }
}
