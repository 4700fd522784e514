//! The npm oracle, shared by `tests/npm_oracle.rs`, `tests/e2e_archive.rs` and the mutant run
//! (`examples/npm_oracle_mutants.rs`, driven by `bench/npm-oracle-mutants.sh`): hand-built tar
//! headers, the attack fixtures, a seeded mutator of tar headers, the node script that extracts
//! with npm's own pacote (`tests/oracle/extract.js`), and the file-by-file comparison of what
//! npm wrote with vetted's content manifest.
#![allow(dead_code)]
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vetted::content::manifest::EntryKind;
use vetted::content::{ContentError, ContentManifest, InspectOptions, inspect_file};

// ---- tar building ----

/// Write `v` as a zero-padded octal number ending in NUL.
pub fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}\0", v, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

/// Recompute a header's checksum (`%06o\0 `, as GNU tar writes it).
pub fn reseal(h: &mut [u8]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h[..512].iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A POSIX ustar header.
pub fn header(name: &[u8], typeflag: u8, size: u64, mode: u32, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0o23420550400);
    h[156] = typeflag;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    reseal(&mut h);
    h
}

/// One member: header and data.
pub struct Member {
    pub header: [u8; 512],
    pub data: Vec<u8>,
}

impl Member {
    pub fn file(name: &str, data: &[u8]) -> Member {
        Member::new(name.as_bytes(), b'0', data, 0o644, b"")
    }
    pub fn new(name: &[u8], t: u8, data: &[u8], mode: u32, link: &[u8]) -> Member {
        Member {
            header: header(name, t, data.len() as u64, mode, link),
            data: data.to_vec(),
        }
    }
    pub fn pax(t: u8, records: &[(&str, &str)]) -> Member {
        let mut body = Vec::new();
        for (k, v) in records {
            body.extend_from_slice(pax_record(k, v).as_bytes());
        }
        Member::new(b"PaxHeader/x", t, &body, 0o644, b"")
    }
    pub fn raw_pax(t: u8, body: &[u8]) -> Member {
        Member::new(b"PaxHeader/x", t, body, 0o644, b"")
    }
}

/// A pax record `"%d %s=%s\n"` with the right length.
pub fn pax_record(k: &str, v: &str) -> String {
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

pub fn tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        out.extend_from_slice(&m.header);
        out.extend_from_slice(&m.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

pub fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).ok()?;
    Some(out)
}

pub const PKG: &[u8] =
    br#"{"name":"p","version":"1.0.0","scripts":{"postinstall":"node setup.js"}}"#;

// ---- the fixtures: issue #10's shapes 1 and 2 and the other rules, with benign twins ----

/// (name, tgz, whether vetted must accept it).
pub fn fixtures() -> Vec<(&'static str, Vec<u8>, bool)> {
    fixtures_with(|_| PKG.to_vec())
}

/// The fixtures, each with the `package.json` `pkg_json(name)`.
pub fn fixtures_with(pkg_json: impl Fn(&str) -> Vec<u8>) -> Vec<(&'static str, Vec<u8>, bool)> {
    let pkg_of = |name: &str| Member::file("package/package.json", &pkg_json(name));
    let setup = || Member::file("package/setup.js", b"console.log('reviewed')\n");
    let smuggled = pax_record("path", "package/setup.js");
    let newline_value = format!("x\n{}", smuggled.trim_end_matches('\n'));
    let hidden = {
        let t = tar(&[Member::file(
            "package/setup.js",
            b"console.log('UNREVIEWED')\n",
        )]);
        t[..t.len() - 1024].to_vec()
    };
    let long = format!("package/{}.js", "l".repeat(120));
    let mut f = vec![
        ("benign", gz(&tar(&[pkg_of("benign"), setup()])), true),
        // As https-proxy-agent@7.0.6 is published: one file twice, `./` in the second path
        // segment of the first copy, identical bytes. npm writes one file.
        (
            "repeated-path-identical-bytes",
            gz(&tar(&[
                pkg_of("repeated-path-identical-bytes"),
                Member::file("package/./dist/index.js", b"exports.x = 1;\n"),
                Member::file("package/dist/index.js", b"exports.x = 1;\n"),
            ])),
            true,
        ),
        // As buffer-equal-constant-time@1.0.1 is published: a uid too large for octal, written
        // in base-256 (node-tar decodes it; npm does not use it).
        (
            "base256-uid",
            {
                let mut m = setup();
                m.header[108..116].copy_from_slice(&[0x80, 0, 0, 0, 0x2a, 0xd0, 0x9a, 0x1e]);
                reseal(&mut m.header);
                gz(&tar(&[pkg_of("base256-uid"), m]))
            },
            true,
        ),
        (
            "pax-newline-smuggles-path",
            gz(&tar(&[
                pkg_of("pax-newline-smuggles-path"),
                Member::pax(b'x', &[("comment", &newline_value)]),
                Member::file("package/other.js", b"console.log('UNREVIEWED')\n"),
            ])),
            false,
        ),
        (
            "pax-comment-benign",
            gz(&tar(&[
                pkg_of("pax-comment-benign"),
                Member::pax(b'x', &[("comment", "x 20 path=package/setup.js")]),
                Member::file("package/other.js", b"1"),
            ])),
            true,
        ),
        (
            "global-pax-size",
            gz(&tar(&[
                Member::pax(b'g', &[("size", "0")]),
                pkg_of("global-pax-size"),
                Member::file("package/data.bin", &hidden),
            ])),
            false,
        ),
        (
            "global-pax-path",
            gz(&tar(&[
                Member::pax(b'g', &[("path", "package/setup.js")]),
                pkg_of("global-pax-path"),
                setup(),
            ])),
            false,
        ),
        (
            "global-pax-comment-benign",
            gz(&tar(&[
                Member::pax(b'g', &[("comment", "abc")]),
                pkg_of("global-pax-comment-benign"),
                setup(),
            ])),
            true,
        ),
        (
            "gnu-longname-and-pax-path",
            gz(&tar(&[
                pkg_of("gnu-longname-and-pax-path"),
                Member::new(b"././@LongLink", b'L', long.as_bytes(), 0o644, b""),
                Member::pax(b'x', &[("path", "package/setup.js")]),
                Member::file("package/short.js", b"console.log('UNREVIEWED')\n"),
            ])),
            false,
        ),
        (
            "pax-path-and-gnu-longname",
            gz(&tar(&[
                pkg_of("pax-path-and-gnu-longname"),
                Member::pax(b'x', &[("path", "package/setup.js")]),
                Member::new(b"././@LongLink", b'L', long.as_bytes(), 0o644, b""),
                Member::file("package/short.js", b"console.log('UNREVIEWED')\n"),
            ])),
            false,
        ),
        (
            "gnu-longname-benign",
            gz(&tar(&[
                pkg_of("gnu-longname-benign"),
                Member::new(b"././@LongLink", b'L', long.as_bytes(), 0o644, b""),
                Member::file("package/short.js", b"1"),
            ])),
            true,
        ),
        (
            "pax-path-benign",
            gz(&tar(&[
                pkg_of("pax-path-benign"),
                Member::pax(b'x', &[("path", &long)]),
                Member::file("package/short.js", b"1"),
            ])),
            true,
        ),
        (
            "file-entry-named-like-directory",
            gz(&tar(&[
                pkg_of("file-entry-named-like-directory"),
                Member::new(b"package/lib/", b'0', &hidden, 0o644, b""),
            ])),
            false,
        ),
        (
            "directory-entry-benign",
            gz(&tar(&[
                pkg_of("directory-entry-benign"),
                Member::new(b"package/lib/", b'5', b"", 0o755, b""),
                setup(),
            ])),
            true,
        ),
        (
            "second-top-level-directory",
            gz(&tar(&[
                pkg_of("second-top-level-directory"),
                setup(),
                Member::file("zzz/setup.js", b"console.log('UNREVIEWED')\n"),
            ])),
            false,
        ),
        (
            "other-top-level-name-benign",
            gz(&tar(&[
                Member::file(
                    "node/package.json",
                    &pkg_json("other-top-level-name-benign"),
                ),
                Member::file("node/setup.js", b"1"),
            ])),
            true,
        ),
        (
            "gitignore-onto-npmignore",
            gz(&tar(&[
                pkg_of("gitignore-onto-npmignore"),
                Member::file("package/.gitignore", b"a"),
                Member::file("package/.npmignore", b"b"),
            ])),
            false,
        ),
        (
            "gitignore-renamed-benign",
            gz(&tar(&[
                pkg_of("gitignore-renamed-benign"),
                Member::file("package/.gitignore", b"a"),
            ])),
            true,
        ),
        (
            "linkname-on-file",
            gz(&tar(&[
                pkg_of("linkname-on-file"),
                Member::new(b"package/a.js", b'0', &hidden, 0o644, b"b"),
            ])),
            false,
        ),
        (
            "symlink-not-installed",
            gz(&tar(&[
                pkg_of("symlink-not-installed"),
                Member::new(b"package/l.js", b'2', b"", 0o777, b"setup.js"),
                setup(),
            ])),
            false,
        ),
        (
            "file-at-root",
            gz(&tar(&[
                pkg_of("file-at-root"),
                Member::file("setup.js", b"1"),
            ])),
            false,
        ),
        (
            "modes-benign",
            gz(&tar(&[
                pkg_of("modes-benign"),
                Member::new(b"package/a", b'0', b"1", 0o600, b""),
                Member::new(b"package/b", b'0', b"1", 0o700, b""),
                Member::new(b"package/c", b'0', b"1", 0o777, b""),
                Member::new(b"package/d", 0, b"1", 0o444, b""),
                Member::new(b"package/e", b'7', b"1", 0o640, b""),
            ])),
            true,
        ),
    ];
    // A name field with a newline after its NUL: node-tar keeps what follows the newline.
    let mut m = Member::file("package/setup.js", b"1");
    let mut name = b"package/setup.js\0\n".to_vec();
    name.resize(100, b'b');
    m.header[..100].copy_from_slice(&name);
    reseal(&mut m.header);
    f.push((
        "name-newline-after-nul",
        gz(&tar(&[pkg_of("name-newline-after-nul"), m])),
        false,
    ));
    // Past node-tar's 1000x inflate ratio: npm aborts.
    let zeros = tar(&[
        pkg_of("inflates-past-npm-ratio"),
        Member::file("package/zeros.bin", &vec![0u8; 8 << 20]),
    ]);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&zeros).expect("gzip in memory");
    f.push((
        "inflates-past-npm-ratio",
        e.finish().expect("gzip in memory"),
        false,
    ));
    // ustar prefix joined although empty (byte 475 set).
    let mut m = Member::file("package/setup.js", b"1");
    m.header[475] = b'x';
    reseal(&mut m.header);
    f.push((
        "ustar-prefix-empty-joined",
        gz(&tar(&[pkg_of("ustar-prefix-empty-joined"), m])),
        false,
    ));
    let mut m = Member::file("a.js", b"1");
    m.header[345..352].copy_from_slice(b"package");
    reseal(&mut m.header);
    f.push((
        "ustar-prefix-benign",
        gz(&tar(&[pkg_of("ustar-prefix-benign"), m])),
        true,
    ));
    f
}

// ---- a seeded mutator of tar headers ----

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

/// Offsets of the header blocks of a tar (read leniently: octal size field, no checks).
pub fn header_offsets(t: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= t.len() {
        let h = &t[at..at + 512];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        out.push(at);
        let size = std::str::from_utf8(&h[124..136])
            .ok()
            .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
            .and_then(|s| u64::from_str_radix(s, 8).ok())
            .unwrap_or(0);
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
    out
}

/// Split a tar into its members (header + data, padded), dropping the end marker.
pub fn members(t: &[u8]) -> Vec<Vec<u8>> {
    let offs = header_offsets(t);
    let end = {
        let mut e = t.len();
        if let Some(&last) = offs.last() {
            let size = std::str::from_utf8(&t[last + 124..last + 136])
                .ok()
                .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
                .and_then(|s| u64::from_str_radix(s, 8).ok())
                .unwrap_or(0);
            e = (last + 512 + (size as usize).div_ceil(512) * 512).min(t.len());
        }
        e
    };
    let mut out = Vec::new();
    for (i, &o) in offs.iter().enumerate() {
        let next = offs.get(i + 1).copied().unwrap_or(end);
        out.push(t[o..next.max(o)].to_vec());
    }
    out
}

fn name_of(m: &[u8]) -> Vec<u8> {
    let n = &m[..100];
    n[..n.iter().position(|b| *b == 0).unwrap_or(100)].to_vec()
}

fn set_name(m: &mut [u8], name: &[u8]) {
    m[..100].fill(0);
    let n = name.len().min(100);
    m[..n].copy_from_slice(&name[..n]);
}

fn some_path(rng: &mut Rng, members: &[Vec<u8>]) -> String {
    let names: Vec<String> = members
        .iter()
        .map(|m| String::from_utf8_lossy(&name_of(m)).into_owned())
        .filter(|n| n.starts_with("package/"))
        .collect();
    let base = if names.is_empty() {
        "package/index.js".to_string()
    } else {
        rng.pick(&names).clone()
    };
    match rng.below(12) {
        0 => format!("{base}/"),
        1 => format!("./{base}"),
        2 => base.replacen("package", "zzz", 1),
        3 => format!("{base}x"),
        4 => base.replacen("package/", "package//", 1),
        5 => base.replacen("package/", "package/./", 1),
        6 => format!("package/{}", "d".repeat(rng.below(140))),
        7 => "package/.gitignore".into(),
        8 => "package/.npmignore".into(),
        9 => base.replacen("package/", "", 1),
        10 => format!("/{base}"),
        _ => base,
    }
}

fn pax_value(rng: &mut Rng, members: &[Vec<u8>]) -> (String, String) {
    let key = *rng.pick(&[
        "path",
        "path",
        "path",
        "linkpath",
        "size",
        "size",
        "comment",
        "mode",
        "type",
        "mtime",
        "uid",
        "charset",
        "SCHILY.xattr.user.x",
        "GNU.sparse.size",
    ]);
    let value = match key {
        "path" | "linkpath" => some_path(rng, members),
        "size" => rng
            .pick(&[
                "0", "1", "511", "512", "513", "7", "", "+1", "1e3", "0x10", " 5",
            ])
            .to_string(),
        "mode" => rng.pick(&["420", "493", "2541"]).to_string(),
        "type" => rng.pick(&["0", "5", "2", "File", "Directory"]).to_string(),
        "comment" => {
            let p = some_path(rng, members);
            rng.pick(&[
                format!("x\n{}", pax_record("path", &p).trim_end_matches('\n')),
                "plain".to_string(),
                format!("a\0{p}"),
            ])
            .clone()
        }
        _ => rng.below(1 << 20).to_string(),
    };
    (key.to_string(), value)
}

fn pax_body(rng: &mut Rng, members: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let (k, v) = pax_value(rng, members);
        let mut rec = pax_record(&k, &v).into_bytes();
        match rng.below(10) {
            // A wrong or non-canonical length.
            0 => rec.insert(0, b'0'),
            1 => {
                let sp = rec.iter().position(|b| *b == b' ').unwrap_or(0);
                if sp > 0 {
                    rec[sp - 1] = b'0' + (rec[sp - 1] - b'0' + 1) % 10;
                }
            }
            2 => {
                rec.pop();
            }
            _ => {}
        }
        body.extend_from_slice(&rec);
    }
    body
}

fn extension(rng: &mut Rng, members: &[Vec<u8>]) -> Vec<u8> {
    let m = match rng.below(5) {
        0 | 1 => Member::raw_pax(b'x', &pax_body(rng, members)),
        2 => Member::raw_pax(b'g', &pax_body(rng, members)),
        3 => {
            let mut n = some_path(rng, members).into_bytes();
            if rng.chance(4) {
                n.extend_from_slice(b"\0junk");
            } else {
                n.push(0);
            }
            Member::new(b"././@LongLink", b'L', &n, 0o644, b"")
        }
        _ => {
            let n = some_path(rng, members);
            Member::new(b"././@LongLink", b'K', n.as_bytes(), 0o644, b"")
        }
    };
    let mut out = m.header.to_vec();
    out.extend_from_slice(&m.data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// One random header edit of a tar (uncompressed); the result is gzipped by the caller.
pub fn mutate(t: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut ms = members(t);
    if ms.is_empty() {
        return t.to_vec();
    }
    let edits = if rng.chance(2) { 1 } else { 1 + rng.below(3) };
    for _ in 0..edits {
        let i = rng.below(ms.len());
        let reseal_after = !rng.chance(12);
        match rng.below(16) {
            // Insert an extension header (pax local/global, GNU long name/link) before a member.
            0..=3 => {
                let e = extension(rng, &ms);
                ms.insert(i, e);
                continue;
            }
            // Rename a member.
            4 | 5 => {
                let p = some_path(rng, &ms);
                set_name(&mut ms[i], p.as_bytes());
            }
            // Change the typeflag.
            6 => {
                ms[i][156] = *rng.pick(&[
                    b'0', 0, b'1', b'2', b'5', b'7', b'x', b'g', b'L', b'D', b'S',
                ]);
            }
            // Change the size field.
            7 => {
                let size = std::str::from_utf8(&ms[i][124..135])
                    .ok()
                    .and_then(|s| u64::from_str_radix(s.trim_matches('\0'), 8).ok())
                    .unwrap_or(0);
                let new = match rng.below(4) {
                    0 => 0,
                    1 => size + 1 + rng.below(600) as u64,
                    2 => size.saturating_sub(1 + rng.below(600) as u64),
                    _ => 512,
                };
                octal(&mut ms[i][124..136], new);
            }
            // Change the mode.
            8 => {
                let mode = *rng.pick(&[
                    0o600, 0o700, 0o777, 0o444, 0o4755, 0o2755, 0o1777, 0o100644, 0,
                ]);
                let s = format!("{mode:07o}\0");
                if s.len() == 8 {
                    ms[i][100..108].copy_from_slice(s.as_bytes());
                }
            }
            // Set a link name.
            9 => {
                let l = some_path(rng, &ms);
                ms[i][157..257].fill(0);
                let n = l.len().min(100);
                ms[i][157..157 + n].copy_from_slice(&l.as_bytes()[..n]);
            }
            // ustar prefix games.
            10 => match rng.below(4) {
                0 => ms[i][475] = b'x',
                1 => {
                    let name = name_of(&ms[i]);
                    if let Some(slash) = name.iter().position(|b| *b == b'/') {
                        let (pre, rest) = (name[..slash].to_vec(), name[slash + 1..].to_vec());
                        set_name(&mut ms[i], &rest);
                        ms[i][345..500].fill(0);
                        ms[i][345..345 + pre.len()].copy_from_slice(&pre);
                    }
                }
                2 => ms[i][345..348].copy_from_slice(b"zzz"),
                _ => ms[i][257..265].copy_from_slice(b"ustar  \0"),
            },
            // Duplicate, drop or swap members.
            11 => {
                let c = ms[i].clone();
                ms.insert(rng.below(ms.len() + 1), c);
            }
            12 => {
                if ms.len() > 1 {
                    ms.remove(i);
                }
                continue;
            }
            13 => {
                let j = rng.below(ms.len());
                ms.swap(i, j);
                continue;
            }
            // Checksum field forms.
            14 => {
                let sum: u32 = ms[i][..148]
                    .iter()
                    .chain(&ms[i][156..512])
                    .map(|b| u32::from(*b))
                    .sum::<u32>()
                    + 256;
                let f = match rng.below(3) {
                    0 => format!("{sum:08o}"),
                    1 => format!("{sum:07o} "),
                    _ => format!(" {sum:06o}\0"),
                };
                ms[i][148..156].copy_from_slice(f.as_bytes());
                continue;
            }
            // A random byte in the header.
            _ => {
                let at = rng.below(512);
                ms[i][at] = rng.next() as u8;
            }
        }
        if reseal_after {
            reseal(&mut ms[i]);
        }
    }
    let mut out: Vec<u8> = ms.concat();
    if rng.chance(20) {
        out.extend_from_slice(&[0u8; 512]);
        out.extend_from_slice(&ms[0]);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

// ---- the oracle ----

/// What npm wrote for one tarball (`None`: npm failed to extract it).
#[derive(Debug, Clone)]
pub struct Written {
    pub files: BTreeMap<String, (String, u32)>,
    pub dirs: BTreeSet<String>,
    pub others: Vec<String>,
}

/// Where npm's global modules are, when node and npm's bundled pacote are there.
pub fn npm_root() -> Option<PathBuf> {
    let root = match std::env::var_os("VETTED_NPM_ROOT") {
        Some(r) => PathBuf::from(r),
        None => {
            let out = Command::new("npm").args(["root", "-g"]).output().ok()?;
            if !out.status.success() {
                return None;
            }
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    let node = Command::new("node").arg("--version").output().ok()?;
    (node.status.success() && root.join("npm/node_modules/pacote").is_dir()).then_some(root)
}

pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/extract.js")
}

/// Extract every tarball with npm's pacote in one node process.
pub fn extract_all(root: &Path, files: &[PathBuf]) -> Result<Vec<Result<Written, String>>, String> {
    let mut child = Command::new("node")
        .arg(script())
        .env("VETTED_NPM_ROOT", root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut out = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
        if v["ok"] != true {
            out.push(Err(v["error"].as_str().unwrap_or("?").to_string()));
            continue;
        }
        let mut w = Written {
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            others: Vec::new(),
        };
        for e in v["entries"].as_array().into_iter().flatten() {
            let path = e["path"].as_str().unwrap_or_default().to_string();
            let mode = e["mode"].as_u64().unwrap_or(0) as u32;
            match e["type"].as_str() {
                Some("file") => {
                    w.files.insert(
                        path,
                        (e["sha256"].as_str().unwrap_or_default().to_string(), mode),
                    );
                }
                Some("dir") => {
                    w.dirs.insert(path);
                }
                other => w
                    .others
                    .push(format!("{path} ({other:?} -> {})", e["link"])),
            }
        }
        out.push(Ok(w));
    }
    let _ = writer.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || out.len() != files.len() {
        return Err(format!(
            "the oracle exited {status} after {} of {} tarballs",
            out.len(),
            files.len()
        ));
    }
    Ok(out)
}

/// What is on disk under `dir`, as the oracle reports it.
pub fn walk_dir(dir: &Path) -> Written {
    fn go(dir: &Path, rel: &str, w: &mut Written) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        names.sort();
        for name in names {
            let abs = dir.join(&name);
            let r = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            let Ok(md) = std::fs::symlink_metadata(&abs) else {
                continue;
            };
            let mode = std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o7777;
            if md.is_dir() {
                w.dirs.insert(r.clone());
                go(&abs, &r, w);
            } else if md.is_file() {
                let bytes = std::fs::read(&abs).unwrap_or_default();
                w.files
                    .insert(r, (vetted::digest::sha256(&bytes).hex(), mode));
            } else {
                w.others.push(r);
            }
        }
    }
    let mut w = Written {
        files: BTreeMap::new(),
        dirs: BTreeSet::new(),
        others: Vec::new(),
    };
    go(dir, "", &mut w);
    w
}

/// vetted's reading of a tarball: the manifest, or the rule it broke.
pub fn vetted_read(path: &Path) -> Result<ContentManifest, String> {
    match inspect_file(
        path,
        &InspectOptions {
            expect_archive: true,
            ..InspectOptions::default()
        },
    ) {
        Ok(m) => Ok(m),
        Err(ContentError::Rejected(r)) => Err(r.rule().to_string()),
        Err(e) => Err(format!("operational error: {e}")),
    }
}

/// Compare, file by file, what npm wrote with what vetted listed. `Ok` when they agree.
pub fn compare(m: &ContentManifest, w: &Written) -> Result<(), String> {
    let mut listed = BTreeMap::new();
    let mut parents = BTreeSet::new();
    for (k, e) in &m.entries {
        if e.kind == EntryKind::Embedded {
            continue;
        }
        let Some(rel) = k.strip_prefix("package/") else {
            return Err(format!("manifest key {k:?} is not under package/"));
        };
        if e.kind != EntryKind::File {
            return Err(format!(
                "manifest lists {k:?} as {:?}, npm writes only files",
                e.kind
            ));
        }
        let sha = e
            .sha256
            .as_ref()
            .map(|d| hex::encode(d.bytes()))
            .unwrap_or_default();
        listed.insert(rel.to_string(), (sha, e.mode & 0o7777));
        let mut p = rel;
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            parents.insert(p.to_string());
        }
    }
    let mut diffs = Vec::new();
    for (p, v) in &listed {
        match w.files.get(p) {
            None => diffs.push(format!("{p}: listed, npm did not write it")),
            Some(got) if got.0 != v.0 => diffs.push(format!("{p}: bytes differ")),
            Some(got) if got.1 != v.1 => diffs.push(format!(
                "{p}: mode {:04o} listed, npm wrote {:04o}",
                v.1, got.1
            )),
            Some(_) => {}
        }
    }
    for p in w.files.keys() {
        if !listed.contains_key(p) {
            diffs.push(format!("{p}: npm wrote it, not listed"));
        }
    }
    for d in &w.dirs {
        if !parents.contains(d) {
            diffs.push(format!("{d}/: npm made a directory no listed file is in"));
        }
    }
    for o in &w.others {
        diffs.push(format!("{o}: npm wrote a non-file"));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// The verdict on one archive.
#[derive(Debug)]
pub enum Verdict {
    Agree,
    Rejected(String),
    Disagree(String),
}

pub fn judge(path: &Path, npm: &Result<Written, String>) -> Verdict {
    match vetted_read(path) {
        Err(rule) => Verdict::Rejected(rule),
        Ok(m) => match npm {
            Err(e) => Verdict::Disagree(format!("vetted accepted, npm failed: {e}")),
            Ok(w) => match compare(&m, w) {
                Ok(()) => Verdict::Agree,
                Err(d) => Verdict::Disagree(d),
            },
        },
    }
}
