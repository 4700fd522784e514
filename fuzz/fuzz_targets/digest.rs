//! Digest and SRI parsing (`sha256:<hex>`, `sha512-<base64>`, lists of SRI tokens).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vetted::digest::Digest;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Digest::parse_prefixed(s);
    if let Ok(d) = Digest::parse_sri(s) {
        // Round trip: what parsed prints back to itself.
        assert_eq!(Digest::parse_sri(&d.sri()).ok(), Some(d.clone()));
    }
    if let Ok(d) = Digest::parse_npm_integrity(s) {
        assert_ne!(d.algorithm(), vetted::digest::Algorithm::Sha1);
    }
    let _ = Digest::parse_sri_strongest(s);
});
