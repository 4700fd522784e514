//! npm packument JSON (full document), then version resolution on what parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(name) = "fuzz-pkg".parse::<vetted::source::PackageName>() else {
        return;
    };
    if let Ok(doc) =
        vetted::source::Packument::parse(&name, "https://registry.invalid/fuzz-pkg", data)
    {
        use vetted::source::VersionSelector;
        for tag in ["latest", "next"] {
            let _ = doc.resolve(&VersionSelector::Tag(tag.into()));
        }
        if let Ok(v) = "1.0.0".parse() {
            let _ = doc.resolve(&VersionSelector::Version(v));
        }
    }
});
