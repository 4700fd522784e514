//! Generated hostile archives, one per rule, each rejected for its own reason (matched by the
//! error variant), and benign archives that pass. Tar headers are built by hand because the
//! `tar` crate refuses to write most of these.
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::PathBuf;
use vetted::content::manifest::EntryKind;
use vetted::content::{
    ArchiveRejection, ContentError, ContentManifest, InspectOptions, inspect_file,
};
use vetted::limits::Limits;

/// One tar member: name, typeflag, data, link name.
struct M<'a>(&'a [u8], u8, &'a [u8], &'a [u8]);

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}\0", v, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    octal(
        &mut h[100..108],
        if typeflag == b'5' { 0o755 } else { 0o644 },
    );
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

fn tar(members: &[M<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for M(name, t, data, link) in members {
        out.extend_from_slice(&header(name, *t, data.len() as u64, link));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(bytes: &[u8]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("artifact");
    std::fs::write(&path, bytes).unwrap();
    Fixture { _dir: dir, path }
}

fn inspect_with(bytes: &[u8], limits: Limits) -> Result<ContentManifest, ContentError> {
    let f = file(bytes);
    inspect_file(
        &f.path,
        &InspectOptions {
            limits,
            expect_archive: true,
        },
    )
}

fn inspect(bytes: &[u8]) -> Result<ContentManifest, ContentError> {
    inspect_with(bytes, Limits::default())
}

fn rejection(bytes: &[u8]) -> ArchiveRejection {
    match inspect(bytes) {
        Err(ContentError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

const PKG: &[u8] = br#"{"name":"p","version":"1.0.0"}"#;

fn with_pkg<'a>(extra: &'a [M<'a>]) -> Vec<u8> {
    let mut all = vec![M(b"package/package.json", b'0', PKG, b"")];
    for M(a, b, c, d) in extra {
        all.push(M(a, *b, c, d));
    }
    gz(&tar(&all))
}

macro_rules! assert_rejected {
    ($bytes:expr, $pat:pat) => {{
        let r = rejection(&$bytes[..]);
        assert!(matches!(r, $pat), "wrong reason: {r:?}");
    }};
}

#[test]
fn benign_tgz_passes_and_lists_only_the_files_npm_writes() {
    let m = inspect(&with_pkg(&[
        M(b"package/lib/", b'5', b"", b""),
        M(b"package/lib/a.js", b'0', b"module.exports = 1;\n", b""),
    ]))
    .unwrap();
    assert_eq!(m.archive, "tgz");
    // pacote's filter skips directory entries: npm creates only the parents of files.
    let keys: Vec<_> = m.entries.keys().cloned().collect();
    assert_eq!(keys, vec!["package/lib/a.js", "package/package.json"]);
    assert_eq!(m.entries["package/lib/a.js"].kind, EntryKind::File);
    assert_eq!(m.totals.files, 2);
    assert_eq!(
        m.package.as_ref().and_then(|p| p.name.as_deref()),
        Some("p")
    );
    let expected = vetted::digest::sha256(b"module.exports = 1;\n");
    assert_eq!(
        m.entries["package/lib/a.js"].sha256.as_ref(),
        Some(&expected)
    );
}

#[test]
fn plain_tar_and_gnu_long_names_and_pax_pass() {
    let long = format!("package/{}/file.js", "d".repeat(150));
    let pax_path = "package/pax-named-file.js";
    let pax_record = {
        let body = format!("path={pax_path}\n");
        let mut len = body.len() + 3;
        loop {
            let s = format!("{len} {body}");
            if s.len() == len {
                break s;
            }
            len = s.len();
        }
    };
    let t = tar(&[
        M(b"././@LongLink", b'L', format!("{long}\0").as_bytes(), b""),
        M(b"truncated-name", b'0', b"x", b""),
        M(b"pax_global_header", b'g', b"19 comment=global.\n", b""),
        M(b"PaxHeaders/x", b'x', pax_record.as_bytes(), b""),
        M(b"short-name", b'0', b"y", b""),
    ]);
    let m = inspect(&t).unwrap();
    assert_eq!(m.archive, "tar");
    let keys: Vec<_> = m.entries.keys().cloned().collect();
    assert_eq!(keys, vec![long, pax_path.to_string()]);
}

#[test]
fn parent_component() {
    assert_rejected!(
        with_pkg(&[M(b"package/../evil", b'0', b"x", b"")]),
        ArchiveRejection::ParentComponent { .. }
    );
}

#[test]
fn absolute_path() {
    assert_rejected!(
        with_pkg(&[M(b"/etc/evil", b'0', b"x", b"")]),
        ArchiveRejection::AbsolutePath { .. }
    );
}

#[test]
fn backslash() {
    assert_rejected!(
        with_pkg(&[M(b"package\\..\\evil", b'0', b"x", b"")]),
        ArchiveRejection::Backslash { .. }
    );
}

#[test]
fn drive_letter() {
    assert_rejected!(
        with_pkg(&[M(b"C:evil", b'0', b"x", b"")]),
        ArchiveRejection::DriveLetter { .. }
    );
}

#[test]
fn control_character() {
    assert_rejected!(
        with_pkg(&[M(b"package/a\x1bb", b'0', b"x", b"")]),
        ArchiveRejection::ControlCharacter { byte: 0x1b, .. }
    );
}

#[test]
fn non_utf8_path() {
    assert_rejected!(
        with_pkg(&[M(b"package/\xff\xfe", b'0', b"x", b"")]),
        ArchiveRejection::NonUtf8Path { .. }
    );
}

#[test]
fn empty_path() {
    assert_rejected!(
        with_pkg(&[M(b"./", b'0', b"x", b"")]),
        ArchiveRejection::FileNamedLikeDirectory { .. }
    );
    assert_rejected!(
        with_pkg(&[M(b".", b'0', b"x", b"")]),
        ArchiveRejection::EmptyPath
    );
}

#[test]
fn absolute_symlink() {
    assert_rejected!(
        zip_of(&[("a/x", b"x")], Some(("a/l", "/etc/passwd"))),
        ArchiveRejection::AbsoluteLink { .. }
    );
}

#[test]
fn symlink_escapes_root() {
    assert_rejected!(
        zip_of(&[("a/x", b"x")], Some(("a/l", "../../etc/passwd"))),
        ArchiveRejection::LinkEscapes { .. }
    );
}

/// pacote's filter (`/Link$/.test(entry.type)` -> skip) never installs a link from a tarball:
/// listing one would be listing content that never lands, so a tarball with links is refused.
#[test]
fn symlink_or_hardlink_in_tarball_is_rejected_as_not_installed() {
    for (t, target, kind) in [
        (b'2', &b"lib/a.js"[..], "symlink"),
        (b'2', b"../../etc/passwd", "symlink"),
        (b'1', b"package/package.json", "hardlink"),
        (b'1', b"../etc/passwd", "hardlink"),
    ] {
        let r = rejection(&with_pkg(&[M(b"package/l", t, b"", target)]));
        assert!(
            matches!(r, ArchiveRejection::LinkNotInstalled { kind: k, .. } if k == kind),
            "{r:?}"
        );
        assert_eq!(r.rule(), "archive-link-not-installed");
    }
}

#[test]
fn entry_beneath_symlink() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_symlink("a/l", "sub", opts).unwrap();
    w.start_file("a/l/x.js", opts).unwrap();
    w.write_all(b"x").unwrap();
    let z = w.finish().unwrap().into_inner();
    assert_rejected!(z, ArchiveRejection::BeneathSymlink { .. });
}

#[test]
fn devices_and_fifos() {
    for (t, kind) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "fifo"),
    ] {
        let r = rejection(&with_pkg(&[M(b"package/dev", t, b"", b"")]));
        assert!(
            matches!(r, ArchiveRejection::DeviceOrFifo { kind: k, .. } if k == kind),
            "{r:?}"
        );
    }
}

#[test]
fn unsupported_entry_type() {
    assert_rejected!(
        with_pkg(&[M(b"package/v", b'V', b"", b"")]),
        ArchiveRejection::UnsupportedEntryType { type_byte: 'V', .. }
    );
}

#[test]
fn duplicate_path() {
    assert_rejected!(
        with_pkg(&[
            M(b"package/a.js", b'0', b"1", b""),
            M(b"package/./a.js", b'0', b"2", b"")
        ]),
        ArchiveRejection::DuplicatePath { .. }
    );
}

#[test]
fn corrupt_gzip_crc_length_truncation() {
    let good = with_pkg(&[]);
    let n = good.len();
    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 0xff;
    assert_rejected!(bad_crc, ArchiveRejection::CorruptGzip { .. });
    let mut bad_len = good.clone();
    bad_len[n - 4] ^= 0x01;
    assert_rejected!(bad_len, ArchiveRejection::CorruptGzip { .. });
    assert_rejected!(good[..n - 20], ArchiveRejection::CorruptGzip { .. });
    assert_rejected!(good[..n / 2], ArchiveRejection::CorruptGzip { .. });
}

#[test]
fn bytes_after_gzip_member() {
    let good = with_pkg(&[]);
    let mut two = good.clone();
    two.extend_from_slice(&good);
    assert_rejected!(
        two,
        ArchiveRejection::TrailingData {
            after: "gzip member",
            ..
        }
    );
    let mut junk = good.clone();
    junk.extend_from_slice(b"hidden");
    assert_rejected!(
        junk,
        ArchiveRejection::TrailingData {
            after: "gzip member",
            count: 6
        }
    );
}

#[test]
fn bytes_after_tar_end() {
    let mut t = tar(&[M(b"package/package.json", b'0', PKG, b"")]);
    t.extend_from_slice(b"hidden payload");
    assert_rejected!(
        gz(&t),
        ArchiveRejection::TrailingData {
            after: "tar end-of-archive",
            ..
        }
    );
}

#[test]
fn corrupt_tar() {
    let mut t = tar(&[M(b"package/package.json", b'0', PKG, b"")]);
    t[0] ^= 1; // checksum no longer matches
    assert_rejected!(gz(&t), ArchiveRejection::CorruptTar { .. });
    let t = tar(&[M(b"package/big", b'0', &[7u8; 5000], b"")]);
    assert_rejected!(gz(&t[..2048]), ArchiveRejection::CorruptTar { .. });
}

#[test]
fn not_an_archive() {
    assert_rejected!(
        b"just some text, not an archive",
        ArchiveRejection::NotAnArchive { .. }
    );
    assert_rejected!(
        gz(b"gzip of text, not a tar"),
        ArchiveRejection::NotAnArchive { .. }
    );
    assert_rejected!(Vec::<u8>::new(), ArchiveRejection::NotAnArchive { .. });
}

#[test]
fn non_archive_allowed_when_not_expected() {
    let f = file(b"#!/bin/sh\ncurl https://example.com/x | sh\n");
    let m = inspect_file(&f.path, &InspectOptions::default()).unwrap();
    assert_eq!(m.archive, "file");
    assert!(
        m.entries["artifact"]
            .signals
            .urls
            .contains("https://example.com/x")
    );
}

fn limit_name(r: ArchiveRejection) -> &'static str {
    match r {
        ArchiveRejection::Limit { limit, .. } => limit.what,
        other => panic!("expected a limit, got {other:?}"),
    }
}

fn rejection_with(bytes: &[u8], limits: Limits) -> ArchiveRejection {
    match inspect_with(bytes, limits) {
        Err(ContentError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn limits_entries_unpacked_file_path() {
    let t = with_pkg(&[
        M(b"package/a", b'0', b"aaaa", b""),
        M(b"package/b", b'0', b"bbbb", b""),
    ]);
    let l = Limits {
        archive_entries: 2,
        ..Limits::default()
    };
    assert_eq!(limit_name(rejection_with(&t, l)), "archive entries");
    let l = Limits {
        unpacked_bytes: PKG.len() as u64 + 5,
        ..Limits::default()
    };
    assert_eq!(limit_name(rejection_with(&t, l)), "unpacked bytes");
    let l = Limits {
        file_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(limit_name(rejection_with(&t, l)), "file size");
    let l = Limits {
        path_depth: 1,
        ..Limits::default()
    };
    assert_eq!(limit_name(rejection_with(&t, l)), "path depth");
    let long = format!("package/{}", "x".repeat(2000));
    let t = gz(&tar(&[
        M(b"././@LongLink", b'L', long.as_bytes(), b""),
        M(b"x", b'0', b"", b""),
    ]));
    assert_eq!(limit_name(rejection(&t)), "path length");
    let huge = vec![b'a'; 100_000];
    let t = gz(&tar(&[
        M(b"././@LongLink", b'L', &huge, b""),
        M(b"x", b'0', b"", b""),
    ]));
    assert_eq!(limit_name(rejection(&t)), "tar extension header bytes");
}

/// A raw deflate bit writer (RFC 1951, fixed Huffman codes), to build a gzip bomb of a few MB
/// that inflates to 3 GiB without spending the test's time compressing 3 GiB.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, bits: u32) {
        self.acc |= value << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// Huffman codes are packed most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        let rev = code.reverse_bits() >> (32 - bits);
        self.put(u64::from(rev), bits);
    }
    fn literal(&mut self, b: u8) {
        if b < 144 {
            self.code(0x30 + u32::from(b), 8);
        } else {
            self.code(0x190 + u32::from(b - 144), 9);
        }
    }
}

/// gzip member: a tar header declaring `declared` bytes, then `zeros` zero bytes.
fn bomb(declared: u64, zeros: u64) -> Vec<u8> {
    let mut b = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255],
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // BFINAL
    b.put(1, 2); // BTYPE = 01, fixed Huffman
    for &byte in header(b"package/zeros", b'0', declared, b"").iter() {
        b.literal(byte);
    }
    b.literal(0);
    // <length 258, distance 1>: length code 285 (8 bits 11000101), distance code 0 (5 bits).
    for _ in 0..(zeros - 1) / 258 {
        b.code(0b1100_0101, 8);
        b.code(0, 5);
    }
    b.code(0, 7); // end of block
    b.put(0, 7);
    b.out.extend_from_slice(&[0; 8]); // CRC and ISIZE (never reached)
    b.out
}

#[test]
fn gzip_bomb_of_3_gib_is_stopped_at_once() {
    const GIB: u64 = 1 << 30;
    let bytes = bomb(3 * GIB, 3 * GIB);
    assert!(bytes.len() < 25 << 20, "bomb is {} bytes", bytes.len());
    // The header declares 3 GiB: the file-size limit stops it before any data is read.
    let start = std::time::Instant::now();
    assert_eq!(limit_name(rejection(&bytes)), "file size");
    // A header that stays under every size limit: the expansion ratio stops the inflate.
    // Fixed-Huffman codes reach only ~159x (gzip -9 of zeros reaches ~1000x), so the ratio
    // limit is lowered to 100 here, and the grace so the debug build does not hash much.
    let bytes = bomb(GIB - 1, 3 * GIB);
    let l = Limits {
        expansion_ratio: 100,
        ratio_grace_bytes: 4 << 20,
        ..Limits::default()
    };
    assert_eq!(
        limit_name(rejection_with(&bytes, l)),
        "expansion ratio (unpacked/compressed)"
    );
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

fn zip_of(entries: &[(&str, &[u8])], symlink: Option<(&str, &str)>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    if let Some((link, target)) = symlink {
        w.add_symlink(link, target, opts).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_benign_and_hostile() {
    let m = inspect(&zip_of(&[("a/b.txt", b"hello")], Some(("a/l", "b.txt")))).unwrap();
    assert_eq!(m.archive, "zip");
    assert_eq!(
        m.entries["a/b.txt"].sha256.as_ref(),
        Some(&vetted::digest::sha256(b"hello"))
    );
    assert_eq!(m.entries["a/l"].kind, EntryKind::Symlink);
    assert_rejected!(
        zip_of(&[("../evil", b"x")], None),
        ArchiveRejection::ParentComponent { .. }
    );
    assert_rejected!(
        zip_of(&[("a/x", b"x")], Some(("a/l", "../../etc"))),
        ArchiveRejection::LinkEscapes { .. }
    );
    assert_rejected!(
        zip_of(&[("a/x", b"x"), ("./a/x", b"y")], None),
        ArchiveRejection::DuplicatePath { .. }
    );
}

#[test]
fn mutated_archives_never_panic() {
    let t = tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"package/lib/", b'5', b"", b""),
        M(b"package/lib/a.js", b'0', &[b'x'; 700], b""),
        M(b"package/l", b'2', b"", b"lib/a.js"),
    ]);
    let g = gz(&t);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for original in [&t, &g] {
        for _ in 0..300 {
            let mut m = original.clone();
            let at = (next() as usize) % m.len();
            m[at] ^= (next() as u8) | 1;
            if next() % 4 == 0 {
                m.truncate((next() as usize) % m.len());
            }
            // Any verdict is fine; a panic or a hang is not. The file is readable, so an I/O
            // error here could only mean a pipeline stage died.
            let r = inspect(&m);
            assert!(!matches!(r, Err(ContentError::Io { .. })), "{r:?}");
        }
    }
}

// ---- npm's reading (node-tar + pacote): each attack beside its benign twin ----

/// A pax body from records, each as `"%d %s=%s\n"` with the right length.
fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        out.extend_from_slice(pax_record(k, v).as_bytes());
    }
    out
}

fn pax_record(k: &str, v: &str) -> String {
    let body = format!("{k}={v}\n");
    let mut len = body.len() + 2;
    loop {
        let s = format!("{len} {body}");
        if s.len() == len {
            return s;
        }
        len = s.len();
    }
}

/// Recompute a header's checksum after editing it.
fn reseal(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A tar of raw members: (header, data).
fn raw_tar(members: &[([u8; 512], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (h, data) in members {
        out.extend_from_slice(h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn pkg_header() -> ([u8; 512], &'static [u8]) {
    (
        header(b"package/package.json", b'0', PKG.len() as u64, b""),
        PKG,
    )
}

fn keys(m: &ContentManifest) -> Vec<String> {
    m.entries.keys().cloned().collect()
}

#[test]
fn pax_value_with_newline_smuggling_a_path_is_rejected() {
    // One POSIX record (`comment`), whose value holds "\n" and then a well-formed
    // `NN path=package/evil.js` line: node-tar splits the body at newlines and reads the path.
    let smuggled = pax_record("path", "package/evil.js");
    let value = format!("x\n{}", smuggled.trim_end_matches('\n'));
    let body = pax_record("comment", &value);
    let t = gz(&tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"PaxHeader/a", b'x', body.as_bytes(), b""),
        M(b"package/index.js", b'0', b"1", b""),
    ]));
    let r = rejection(&t);
    assert!(matches!(r, ArchiveRejection::PaxRecord { .. }), "{r:?}");
    assert_eq!(r.rule(), "archive-pax-record");
    // Benign twin: the same comment without the newline.
    let body = pax(&[("comment", "x 20 path=package/evil.js")]);
    let m = inspect(&gz(&tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"PaxHeader/a", b'x', &body, b""),
        M(b"package/index.js", b'0', b"1", b""),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec!["package/index.js", "package/package.json"]);
}

#[test]
fn pax_record_with_nul_or_non_canonical_length_is_rejected() {
    for body in [
        b"21 path=package/a\0.js\n".to_vec(),
        format!("0{}", pax_record("path", "package/a.js")).into_bytes(),
        b"+20 path=package/a.js\n".to_vec(),
        b"19 path=package/a.js".to_vec(),
    ] {
        let t = gz(&tar(&[
            M(b"package/package.json", b'0', PKG, b""),
            M(b"PaxHeader/a", b'x', &body, b""),
            M(b"package/b.js", b'0', b"1", b""),
        ]));
        assert_rejected!(t, ArchiveRejection::PaxRecord { .. });
    }
}

#[test]
fn global_pax_header_changing_size_is_rejected() {
    // node-tar applies a global header's keywords to every later entry: `size=0` would make it
    // read each file's data as headers.
    for key in ["size", "path", "linkpath", "mode", "type"] {
        let body = pax(&[(key, "0")]);
        let t = gz(&tar(&[
            M(b"pax_global_header", b'g', &body, b""),
            M(b"package/package.json", b'0', PKG, b""),
        ]));
        let r = rejection(&t);
        assert!(
            matches!(r, ArchiveRejection::PaxKeyword { global: true, .. }),
            "{key}: {r:?}"
        );
        assert_eq!(r.rule(), "archive-pax-global");
    }
    // Benign twin: git archive's global header carries only a comment.
    let body = pax(&[("comment", "0123456789abcdef")]);
    let m = inspect(&gz(&tar(&[
        M(b"pax_global_header", b'g', &body, b""),
        M(b"package/package.json", b'0', PKG, b""),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec!["package/package.json"]);
}

#[test]
fn pax_type_or_mode_keyword_is_rejected() {
    for key in ["type", "mode"] {
        let body = pax(&[(key, "5")]);
        let t = gz(&tar(&[
            M(b"package/package.json", b'0', PKG, b""),
            M(b"PaxHeader/a", b'x', &body, b""),
            M(b"package/a.js", b'0', b"1", b""),
        ]));
        assert_rejected!(t, ArchiveRejection::PaxKeyword { global: false, .. });
    }
}

#[test]
fn gnu_longname_and_pax_path_together_are_rejected() {
    let long = format!("package/{}.js", "l".repeat(120));
    let body = pax(&[("path", "package/other.js")]);
    for order in [0, 1] {
        let l = M(b"././@LongLink", b'L', long.as_bytes(), b"");
        let x = M(b"PaxHeader/a", b'x', &body, b"");
        let members = if order == 0 {
            vec![
                M(b"package/package.json", b'0', PKG, b""),
                l,
                x,
                M(b"package/short.js", b'0', b"1", b""),
            ]
        } else {
            vec![
                M(b"package/package.json", b'0', PKG, b""),
                x,
                l,
                M(b"package/short.js", b'0', b"1", b""),
            ]
        };
        let r = rejection(&gz(&tar(&members)));
        assert!(
            matches!(r, ArchiveRejection::CompetingNames { .. }),
            "{r:?}"
        );
        assert_eq!(r.rule(), "archive-competing-names");
    }
    // Two long names for one entry: node-tar keeps the last.
    let t = gz(&tar(&[
        M(b"././@LongLink", b'L', long.as_bytes(), b""),
        M(b"././@LongLink", b'L', b"package/second.js", b""),
        M(b"package/short.js", b'0', b"1", b""),
    ]));
    assert_rejected!(t, ArchiveRejection::CompetingNames { .. });
    // Benign twins: either source alone names the entry.
    let m = inspect(&gz(&tar(&[
        M(b"././@LongLink", b'L', long.as_bytes(), b""),
        M(b"package/short.js", b'0', b"1", b""),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec![long.clone()]);
    let m = inspect(&gz(&tar(&[
        M(b"PaxHeader/a", b'x', &body, b""),
        M(b"package/short.js", b'0', b"1", b""),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec!["package/other.js"]);
}

#[test]
fn pax_header_followed_by_another_extension_header_is_rejected() {
    // node-tar applies the pax `size` to the long-name header itself and misreads its data.
    let body = pax(&[("size", "0")]);
    let t = gz(&tar(&[
        M(b"PaxHeader/a", b'x', &body, b""),
        M(b"././@LongLink", b'L', b"package/long.js", b""),
        M(b"package/short.js", b'0', b"", b""),
    ]));
    assert_rejected!(t, ArchiveRejection::CompetingNames { .. });
}

#[test]
fn gnu_long_name_with_bytes_after_its_nul_is_rejected() {
    // node-tar's `replace(/\0.*/, '')` removes only up to the next newline.
    let t = gz(&tar(&[
        M(b"././@LongLink", b'L', b"package/a.js\0x\n.js", b""),
        M(b"package/short.js", b'0', b"1", b""),
    ]));
    assert_rejected!(t, ArchiveRejection::CorruptTar { .. });
}

#[test]
fn file_entry_named_like_a_directory_is_rejected() {
    // node-tar turns a '0' entry named "x/" into a directory of size 0 and reads its data as
    // headers: here, a hidden package/evil.js.
    let hidden = tar(&[M(
        b"package/evil.js",
        b'0',
        b"require('child_process')",
        b"",
    )]);
    let hidden = &hidden[..hidden.len() - 1024];
    let t = gz(&tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"package/lib/", b'0', hidden, b""),
    ]));
    let r = rejection(&t);
    assert!(
        matches!(r, ArchiveRejection::FileNamedLikeDirectory { .. }),
        "{r:?}"
    );
    assert_eq!(r.rule(), "archive-file-named-like-directory");
    // Also as an old-style (NUL typeflag) file, and through a pax path.
    let t = gz(&tar(&[M(b"package/lib/", 0, b"", b"")]));
    assert_rejected!(t, ArchiveRejection::FileNamedLikeDirectory { .. });
    let body = pax(&[("path", "package/lib/")]);
    let t = gz(&tar(&[
        M(b"PaxHeader/a", b'x', &body, b""),
        M(b"package/short.js", b'0', b"", b""),
    ]));
    assert_rejected!(t, ArchiveRejection::FileNamedLikeDirectory { .. });
    // Benign twin: a real directory entry.
    let m = inspect(&with_pkg(&[M(b"package/lib/", b'5', b"", b"")])).unwrap();
    assert_eq!(keys(&m), vec!["package/package.json"]);
}

#[test]
fn linkname_on_a_regular_file_is_rejected() {
    // node-tar skips a non-link header with a link name ("linkpath forbidden") and reads its
    // data as headers.
    let t = with_pkg(&[M(b"package/a.js", b'0', b"1", b"b.js")]);
    assert_rejected!(t, ArchiveRejection::LinknameOnNonLink { .. });
    let body = pax(&[("linkpath", "x")]);
    let t = gz(&tar(&[
        M(b"PaxHeader/a", b'x', &body, b""),
        M(b"package/a.js", b'0', b"1", b""),
    ]));
    assert_rejected!(t, ArchiveRejection::LinknameOnNonLink { .. });
}

#[test]
fn second_top_level_directory_is_rejected() {
    // npm strips the first component whatever it is: zzz/setup.js replaces package/setup.js.
    let t = with_pkg(&[
        M(b"package/setup.js", b'0', b"reviewed", b""),
        M(b"zzz/setup.js", b'0', b"unreviewed", b""),
    ]);
    let r = rejection(&t);
    assert!(
        matches!(r, ArchiveRejection::SecondTopLevel { .. }),
        "{r:?}"
    );
    assert_eq!(r.rule(), "archive-second-top-level");
    // A leading "./" is a component of its own to node-tar.
    assert_rejected!(
        with_pkg(&[M(b"./package/a.js", b'0', b"1", b"")]),
        ArchiveRejection::SecondTopLevel { .. }
    );
    // Benign twin: one top-level directory with another name is installed the same way, and
    // listed under the canonical package/ root.
    let m = inspect(&gz(&tar(&[
        M(b"node/package.json", b'0', PKG, b""),
        M(b"node/setup.js", b'0', b"reviewed", b""),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec!["package/package.json", "package/setup.js"]);
    assert!(m.package.is_some());
}

#[test]
fn entry_at_the_archive_root_is_rejected() {
    let t = with_pkg(&[M(b"README", b'0', b"x", b"")]);
    assert_rejected!(t, ArchiveRejection::SecondTopLevel { .. });
    let t = gz(&tar(&[M(b"README", b'0', b"x", b"")]));
    let r = rejection(&t);
    assert!(matches!(r, ArchiveRejection::EntryAtRoot { .. }), "{r:?}");
    assert_eq!(r.rule(), "archive-entry-at-root");
}

#[test]
fn paths_colliding_after_strip_are_rejected() {
    // pacote renames .gitignore to .npmignore: with both present one overwrites the other.
    for pair in [
        [&b"package/.gitignore"[..], b"package/.npmignore"],
        [b"package/.npmignore", b"package/.gitignore"],
    ] {
        let t = with_pkg(&[M(pair[0], b'0', b"a", b""), M(pair[1], b'0', b"b", b"")]);
        let r = rejection(&t);
        assert!(matches!(r, ArchiveRejection::PathCollision { .. }), "{r:?}");
        assert_eq!(r.rule(), "archive-path-collision");
    }
    // Benign twin: a lone .gitignore is listed where npm writes it.
    let m = inspect(&with_pkg(&[M(b"package/lib/.gitignore", b'0', b"a", b"")])).unwrap();
    assert_eq!(
        keys(&m),
        vec!["package/lib/.npmignore", "package/package.json"]
    );
}

#[test]
fn file_used_as_a_directory_is_rejected() {
    for order in [0, 1] {
        let (a, b) = (
            M(b"package/a", b'0', b"1", b""),
            M(b"package/a/b.js", b'0', b"2", b""),
        );
        let t = if order == 0 {
            with_pkg(&[a, b])
        } else {
            with_pkg(&[b, a])
        };
        let r = rejection(&t);
        assert!(
            matches!(r, ArchiveRejection::FileAsDirectory { .. }),
            "{r:?}"
        );
        assert_eq!(r.rule(), "archive-file-as-directory");
    }
}

#[test]
fn setuid_file_is_rejected_and_modes_are_recorded_as_npm_writes_them() {
    let mut h = header(b"package/a.js", b'0', 1, b"");
    octal(&mut h[100..108], 0o4755);
    reseal(&mut h);
    let t = gz(&raw_tar(&[pkg_header(), (h, b"1")]));
    let r = rejection(&t);
    assert!(
        matches!(r, ArchiveRejection::SpecialModeBits { .. }),
        "{r:?}"
    );
    assert_eq!(r.rule(), "archive-mode-special-bits");
    // Benign twin: pacote ORs in 0o666, the process umask 0o022 takes away group/other write.
    let mut modes = Vec::new();
    for raw in [0o600u64, 0o700, 0o777, 0o444] {
        let mut h = header(b"package/a.js", b'0', 1, b"");
        octal(&mut h[100..108], raw);
        reseal(&mut h);
        let m = inspect(&gz(&raw_tar(&[pkg_header(), (h, b"1")]))).unwrap();
        modes.push(m.entries["package/a.js"].mode);
    }
    assert_eq!(modes, vec![0o644, 0o744, 0o755, 0o644]);
}

#[test]
fn ustar_prefix_is_read_as_npm_reads_it() {
    // node-tar joins the 155-byte prefix whenever byte 475 is set, even when the prefix is
    // empty: "/package/a.js", not "package/a.js" (refused: the prefix field holds a byte after
    // its NUL).
    let mut h = header(b"package/a.js", b'0', 1, b"");
    h[475] = b'x';
    reseal(&mut h);
    let t = gz(&raw_tar(&[pkg_header(), (h, b"1")]));
    assert_rejected!(t, ArchiveRejection::CorruptTar { .. });
    // A full 155-byte prefix is joined as node-tar joins it.
    let mut h = header(b"a.js", b'0', 1, b"");
    let prefix = format!("package/{}", "p".repeat(147));
    h[345..500].copy_from_slice(prefix.as_bytes());
    reseal(&mut h);
    let m = inspect(&gz(&raw_tar(&[pkg_header(), (h, b"1")]))).unwrap();
    assert!(
        m.entries.contains_key(&format!("{prefix}/a.js")),
        "{:?}",
        keys(&m)
    );
    // Benign twin: a prefix as ustar writes it.
    let mut h = header(b"a.js", b'0', 1, b"");
    h[345..352].copy_from_slice(b"package");
    reseal(&mut h);
    let m = inspect(&gz(&raw_tar(&[pkg_header(), (h, b"1")]))).unwrap();
    assert_eq!(keys(&m), vec!["package/a.js", "package/package.json"]);
    // GNU magic: node-tar ignores the prefix field.
    let mut h = header(b"package/b.js", b'0', 1, b"");
    h[257..265].copy_from_slice(b"ustar  \0");
    h[345..348].copy_from_slice(b"zzz");
    reseal(&mut h);
    let m = inspect(&gz(&raw_tar(&[pkg_header(), (h, b"1")]))).unwrap();
    assert_eq!(keys(&m), vec!["package/b.js", "package/package.json"]);
}

#[test]
fn checksum_running_into_the_typeflag_is_rejected() {
    // node-tar reads the checksum from 12 bytes: 8 digits with no terminator continue into the
    // typeflag ('0') and are another number to it.
    let mut h = header(b"package/a.js", b'0', 1, b"");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:08o}").as_bytes());
    let t = gz(&raw_tar(&[pkg_header(), (h, b"1")]));
    assert_rejected!(t, ArchiveRejection::CorruptTar { .. });
    // Base-256 numbers (node-tar throws on a bad one and skips the header).
    let mut h = header(b"package/a.js", b'0', 1, b"");
    h[124] = 0x80;
    h[125..136].fill(0);
    h[135] = 1;
    reseal(&mut h);
    let t = gz(&raw_tar(&[pkg_header(), (h, b"1")]));
    assert_rejected!(t, ArchiveRejection::CorruptTar { .. });
}

#[test]
fn archive_inflating_past_npm_s_ratio_is_rejected() {
    // node-tar aborts an extraction past 1000 inflated bytes per compressed byte: npm would
    // fail to install it.
    let t = tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"package/zeros.bin", b'0', &vec![0u8; 8 << 20], b""),
    ]);
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(&t).unwrap();
    let r = rejection(&e.finish().unwrap());
    assert!(
        matches!(&r, ArchiveRejection::Limit { limit, .. } if limit.what.contains("npm's tar")),
        "{r:?}"
    );
    // Benign twin: the same size of text-like bytes.
    let text: Vec<u8> = (0..4u32 << 20)
        .map(|i| b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8)
        .collect();
    let t = tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"package/text.txt", b'0', &text, b""),
    ]);
    assert!(inspect(&gz(&t)).is_ok());
}

#[test]
fn name_field_with_a_newline_after_its_nul_is_rejected() {
    // node-tar's `replace(/\0.*/, '')` stops at a line terminator: "package/a.js\0\nbbb…" is the
    // path "package/a.js\nbbb…" to npm, "package/a.js" to a reader that cuts at the NUL.
    let mut name = b"package/a.js\0\n".to_vec();
    name.resize(100, b'b');
    let mut h = header(b"", b'0', 1, b"");
    h[..100].copy_from_slice(&name);
    reseal(&mut h);
    let t = gz(&raw_tar(&[pkg_header(), (h, b"1")]));
    assert_rejected!(t, ArchiveRejection::CorruptTar { .. });
    // Benign twin: NUL padding after the name.
    let m = inspect(&gz(&raw_tar(&[
        pkg_header(),
        (header(b"package/a.js", b'0', 1, b""), b"1"),
    ])))
    .unwrap();
    assert_eq!(keys(&m), vec!["package/a.js", "package/package.json"]);
}

#[test]
fn repeated_path_with_identical_bytes_is_listed_once_as_npm_installs_it() {
    // As published in https-proxy-agent@7.0.6: `package/./dist/index.js`, then
    // `package/dist/index.js`, the same bytes. node-tar writes the file twice; one file lands.
    let m = inspect(&with_pkg(&[
        M(b"package/./dist/a.js", b'0', b"exports.a = 1;\n", b""),
        M(b"package/dist/a.js", b'0', b"exports.a = 1;\n", b""),
    ]))
    .expect("an identical repeat installs one file");
    let keys: Vec<_> = m.entries.keys().cloned().collect();
    assert_eq!(keys, ["package/dist/a.js", "package/package.json"]);
    assert_eq!(m.totals.files, 2);
    assert_eq!(
        m.entries["package/dist/a.js"].sha256.as_ref(),
        Some(&vetted::digest::sha256(b"exports.a = 1;\n"))
    );
}

#[test]
fn repeated_path_whose_second_copy_differs_is_rejected() {
    // The second copy is what npm leaves on disk: a listing of the first would hide it.
    assert_rejected!(
        with_pkg(&[
            M(b"package/./dist/a.js", b'0', b"exports.a = 1;\n", b""),
            M(b"package/dist/a.js", b'0', b"exports.a = 2;\n", b""),
        ]),
        ArchiveRejection::DuplicatePath { .. }
    );
}

/// A tar of package.json plus one file whose uid field is `uid` (8 raw bytes).
fn with_uid(uid: [u8; 8]) -> Vec<u8> {
    let mut t = tar(&[
        M(b"package/package.json", b'0', PKG, b""),
        M(b"package/a.js", b'0', b"1", b""),
    ]);
    let h = &mut t[1024..1536];
    h[108..116].copy_from_slice(&uid);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    gz(&t)
}

#[test]
fn base256_uid_is_read_as_node_tar_reads_it() {
    // buffer-equal-constant-time@1.0.1: uid 718322462, too large for 7 octal digits.
    let mut uid = [0u8; 8];
    uid[0] = 0x80;
    uid[4..].copy_from_slice(&718_322_462u32.to_be_bytes());
    let m = inspect(&with_uid(uid)).expect("a valid base-256 uid");
    assert!(m.entries.contains_key("package/a.js"));
    // Two's complement (0xff prefix) is valid too.
    inspect(&with_uid([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])).expect("uid -2");
}

#[test]
fn base256_uid_node_tar_would_throw_on_is_rejected() {
    // large-numbers.js throws on a prefix other than 0x80 / 0xff, and node-tar then skips the
    // header and reads the entry's data as headers.
    assert_rejected!(
        with_uid([0x81, 0, 0, 0, 0, 0, 0, 1]),
        ArchiveRejection::CorruptTar { .. }
    );
}
