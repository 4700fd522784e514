//! A streaming tar walker that reads every header the way npm's tar (node-tar 7, as bundled by
//! npm 10 and 11) reads it, and rejects every header node-tar would read differently from a
//! plain reading, or skip. The rules, each with the node-tar code it mirrors, are written down
//! in `docs/archive-rules.md`. Every allocation is bounded (GNU long names and pax records are
//! capped by [`Limits::tar_extension_bytes`](crate::limits::Limits)) and every failure is a
//! typed [`ArchiveRejection`].
use super::builder::{Builder, RawKind};
use super::rejection::ArchiveRejection;
use crate::limits::LimitExceeded;
use std::io::{self, Read};

const BLOCK: usize = 512;
/// File data is read in pieces of this size.
const BUF: usize = 256 << 10;
/// node-tar's `maxMetaEntrySize` (`parse.js`).
const NODE_TAR_MAX_META: u64 = 1 << 20;
/// Zero padding accepted after the end-of-archive marker (tar pads to its record size).
const MAX_PADDING: u64 = 16 << 20;

/// Errors while walking: a rejection, or a failure of the reader (which, for the in-memory
/// channel, means the upstream stage stopped; the caller asks that stage why).
pub(crate) enum WalkError {
    Rejected(ArchiveRejection),
    Io(io::Error),
}

impl From<ArchiveRejection> for WalkError {
    fn from(r: ArchiveRejection) -> Self {
        WalkError::Rejected(r)
    }
}

struct Stream<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Stream<R> {
    /// Fill `buf` completely; `Ok(false)` on a clean EOF before the first byte.
    fn fill(&mut self, buf: &mut [u8]) -> Result<bool, WalkError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => return Err(self.truncated()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(WalkError::Io(e)),
            }
        }
        self.offset += buf.len() as u64;
        Ok(true)
    }

    fn truncated(&self) -> WalkError {
        WalkError::Rejected(ArchiveRejection::CorruptTar {
            offset: self.offset,
            detail: "truncated: the stream ends inside an entry".into(),
        })
    }

    fn read_exact_or_truncated(&mut self, buf: &mut [u8]) -> Result<(), WalkError> {
        if self.fill(buf)? || buf.is_empty() {
            Ok(())
        } else {
            Err(self.truncated())
        }
    }

    /// Read `len` bytes, handing each piece to `f`, then the padding to the next block.
    fn data(
        &mut self,
        len: u64,
        buf: &mut [u8],
        mut f: impl FnMut(&[u8]) -> Result<(), ArchiveRejection>,
    ) -> Result<(), WalkError> {
        let mut left = len;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            self.read_exact_or_truncated(&mut buf[..n])?;
            f(&buf[..n])?;
            left -= n as u64;
        }
        let pad = (BLOCK - (len % BLOCK as u64) as usize) % BLOCK;
        self.read_exact_or_truncated(&mut buf[..pad])
    }
}

fn corrupt(offset: u64, detail: impl Into<String>) -> WalkError {
    WalkError::Rejected(ArchiveRejection::CorruptTar {
        offset,
        detail: detail.into(),
    })
}

fn pax_err(offset: u64, detail: impl Into<String>) -> WalkError {
    WalkError::Rejected(ArchiveRejection::PaxRecord {
        offset,
        detail: detail.into(),
    })
}

fn shown(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().to_string()
}

/// A header string field. node-tar `decString` is `toString('utf8').replace(/\0.*/, '')`, which
/// removes from the first NUL only up to the next line terminator: `a.js\0\nb` is `a.js\nb` to
/// it. A field with anything but NULs after its first NUL is refused.
fn cut<'a>(field: &'a [u8], what: &str, at: u64) -> Result<&'a [u8], WalkError> {
    match field.iter().position(|b| *b == 0) {
        Some(i) if field[i..].iter().any(|b| *b != 0) => Err(corrupt(
            at,
            format!("{what} field holds bytes after its terminating NUL"),
        )),
        Some(i) => Ok(&field[..i]),
        None => Ok(field),
    }
}

/// A header number, read strictly: optional leading spaces, octal digits, then a NUL or a space
/// (or the end of the field). node-tar's `decNumber` is `parseInt(...trim(), 8)` after cutting at
/// a NUL, and switches to base-256 when the first byte has its high bit set (which throws on a
/// bad prefix, and the header is then skipped): base-256 is rejected, and a field node-tar
/// would read another way (a sign, a tab, no digits) is rejected. `terminated` asks for the NUL
/// or space inside the field: node-tar reads the checksum from 12 bytes (offset 148), not 8, so
/// an unterminated checksum would run on into the typeflag.
fn number(
    block: &[u8],
    off: usize,
    len: usize,
    what: &str,
    terminated: bool,
    at: u64,
) -> Result<u64, WalkError> {
    let f = &block[off..off + len];
    if f[0] & 0x80 != 0 {
        return Err(corrupt(
            at,
            format!("{what} field is base-256 encoded; expected octal digits"),
        ));
    }
    let start = f.iter().position(|b| *b != b' ').unwrap_or(len);
    let digits = f[start..]
        .iter()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    let end = start + digits;
    let ok = digits > 0
        && digits <= 21
        && match f.get(end) {
            None => !terminated,
            Some(b) => *b == 0 || *b == b' ',
        };
    if !ok {
        return Err(corrupt(
            at,
            format!(
                "{what} field is not a plain octal number: {:?}",
                String::from_utf8_lossy(f)
            ),
        ));
    }
    let mut v: u64 = 0;
    for d in &f[start..end] {
        v = v
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| corrupt(at, format!("{what} field overflows")))?;
    }
    Ok(v)
}

/// A number field node-tar decodes but whose value does not change what is written (uid, gid,
/// times, device numbers): only base-256 is rejected, because node-tar throws on a bad one and
/// then skips the header.
///
/// A valid base-256 value is accepted (registry tarballs carry uids too large for octal, e.g.
/// `buffer-equal-constant-time@1.0.1`'s 718322462): `large-numbers.js` `parse` takes a 0x80
/// prefix (positive, big-endian) or 0xff (two's complement) and throws on any other prefix or
/// on a value outside JavaScript's safe-integer range, and only those are rejected.
fn no_base256(block: &[u8], off: usize, len: usize, what: &str, at: u64) -> Result<(), WalkError> {
    let f = &block[off..off + len];
    if f[0] & 0x80 == 0 {
        return Ok(());
    }
    const MAX_SAFE: u128 = (1 << 53) - 1;
    let be = |b: &[u8]| b.iter().fold(0u128, |v, x| (v << 8) | u128::from(*x));
    let safe = match f[0] {
        0x80 => be(&f[1..]) <= MAX_SAFE,
        // The value is raw - 256^len; its magnitude must be a safe integer.
        0xff => (1u128 << (8 * len as u32)) - be(f) <= MAX_SAFE,
        _ => false,
    };
    if safe {
        return Ok(());
    }
    Err(corrupt(
        at,
        format!(
            "{what} field is base-256 encoded with a prefix or value node-tar refuses (it would skip the header)"
        ),
    ))
}

/// What the extension headers before an entry said.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    /// A local pax header was seen (node-tar merges a second one into the first).
    saw_pax: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && !self.saw_pax
    }
}

/// A pax record: keyword and value.
type PaxRecord<'a> = (&'a [u8], &'a [u8]);

/// The records of a pax header body, read the way both POSIX and node-tar agree on.
///
/// POSIX pax: records are `"%d %s=%s\n", <length>, <keyword>, <value>`. node-tar (`pax.js`
/// `parseKV`) instead splits the whole body at every `\n` and keeps a line only when
/// `parseInt(line) === byteLength(line) + 1`; it then drops `String(n).length + 1` bytes, cuts
/// the value at a NUL, and decodes the body as UTF-8. Both readings agree only when every value
/// is free of `\n` and NUL, every length is canonical decimal, and the body is UTF-8; anything
/// else is rejected, because the two can then see different records (a value holding a newline
/// followed by `NN path=...` is one record to POSIX and a `path` record to node-tar).
fn pax_records(data: &[u8], at: u64) -> Result<Vec<PaxRecord<'_>>, WalkError> {
    if std::str::from_utf8(data).is_err() {
        return Err(pax_err(at, "pax header is not UTF-8"));
    }
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| pax_err(at, "pax record without a length"))?;
        let digits = &rest[..sp];
        if digits.is_empty()
            || !digits.iter().all(u8::is_ascii_digit)
            || (digits[0] == b'0')
            || digits.len() > 9
        {
            return Err(pax_err(
                at,
                format!(
                    "pax record length {:?} is not a canonical decimal number",
                    shown(digits)
                ),
            ));
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| pax_err(at, "pax record length is not a number"))?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(pax_err(
                at,
                format!("pax record length {len} does not end at a newline"),
            ));
        }
        let record = &rest[sp + 1..len - 1];
        if record.contains(&b'\n') {
            return Err(pax_err(
                at,
                "pax record value holds a newline (node-tar splits records at newlines)",
            ));
        }
        if record.contains(&0) {
            return Err(pax_err(
                at,
                "pax record holds a NUL (node-tar cuts the value there)",
            ));
        }
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| pax_err(at, "pax record without '='"))?;
        if eq == 0 {
            return Err(pax_err(at, "pax record with an empty keyword"));
        }
        out.push((&record[..eq], &record[eq + 1..]));
        rest = &rest[len..];
    }
    Ok(out)
}

/// A pax `size` value: canonical decimal only (node-tar reads `+value`, which also accepts
/// `""`, `"0x10"`, `"1e3"`, `" 7"`).
fn pax_size(value: &[u8], at: u64) -> Result<u64, WalkError> {
    let ok = !value.is_empty()
        && value.iter().all(u8::is_ascii_digit)
        && (value == b"0" || value[0] != b'0')
        && value.len() <= 15;
    ok.then(|| std::str::from_utf8(value).ok()?.parse().ok())
        .flatten()
        .ok_or_else(|| {
            pax_err(
                at,
                format!(
                    "pax size {:?} is not a canonical decimal number",
                    shown(value)
                ),
            )
        })
}

/// A local (`x`) pax header: `path`, `linkpath` and `size` are applied to the next entry as
/// node-tar applies them; `type` and `mode` (which node-tar also applies, `mode` in decimal) are
/// refused; other keywords do not change what node-tar writes and are ignored.
fn parse_local_pax(data: &[u8], p: &mut Pending, at: u64) -> Result<(), WalkError> {
    for (key, value) in pax_records(data, at)? {
        match key {
            b"path" => p.pax_path = Some(value.to_vec()),
            b"linkpath" => p.pax_link = Some(value.to_vec()),
            b"size" => p.pax_size = Some(pax_size(value, at)?),
            b"type" | b"mode" => {
                return Err(ArchiveRejection::PaxKeyword {
                    keyword: shown(key),
                    global: false,
                }
                .into());
            }
            k if k.starts_with(b"GNU.sparse.") => {
                return Err(ArchiveRejection::PaxKeyword {
                    keyword: shown(k),
                    global: false,
                }
                .into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// A global (`g`) pax header. node-tar keeps it and applies it to every later entry (`size`,
/// `mode`, `type`, and on the read entry even `linkpath`; `path` only through the header):
/// any keyword that changes what is written is refused, the rest is ignored.
fn parse_global_pax(data: &[u8], at: u64) -> Result<(), WalkError> {
    for (key, _) in pax_records(data, at)? {
        if matches!(key, b"path" | b"linkpath" | b"size" | b"mode" | b"type")
            || key.starts_with(b"GNU.sparse.")
        {
            return Err(ArchiveRejection::PaxKeyword {
                keyword: shown(key),
                global: true,
            }
            .into());
        }
    }
    Ok(())
}

/// A GNU long name or long link name body: node-tar applies `replace(/\0.*/, '')`, which
/// removes from the first NUL to the next newline only; a body with anything but NULs after
/// its first NUL is refused.
fn long_name(data: Vec<u8>, what: &str, at: u64) -> Result<Vec<u8>, WalkError> {
    let mut v = data;
    if let Some(i) = v.iter().position(|b| *b == 0) {
        if v[i..].iter().any(|b| *b != 0) {
            return Err(corrupt(
                at,
                format!("GNU {what} holds bytes after its terminating NUL"),
            ));
        }
        v.truncate(i);
    }
    Ok(v)
}

fn competing(path: &[u8], detail: &str) -> WalkError {
    ArchiveRejection::CompetingNames {
        path: shown(path),
        detail: detail.into(),
    }
    .into()
}

/// Walk a tar stream, recording every entry in `builder`. After the end-of-archive marker the
/// rest of the stream must be zero padding.
pub(crate) fn walk<R: Read>(reader: R, builder: &mut Builder) -> Result<(), WalkError> {
    builder.use_npm_layout();
    let mut s = Stream {
        inner: reader,
        offset: 0,
    };
    let mut block = [0u8; BLOCK];
    let mut buf = vec![0u8; BUF];
    let mut pending = Pending::default();
    // node-tar ignores (skips without applying) an extension header larger than its
    // `maxMetaEntrySize`, 1 MiB: vetted never reads a larger one.
    let ext_limit = builder.limits().tar_extension_bytes.min(NODE_TAR_MAX_META);
    loop {
        let at = s.offset;
        if !s.fill(&mut block)? {
            // POSIX asks for two zero blocks at the end; a stream that simply stops at a block
            // boundary is accepted (node-tar and GNU tar do the same), unless an extension
            // header dangles.
            if !pending.is_empty() {
                return Err(corrupt(at, "extension header without a following entry"));
            }
            return Ok(());
        }
        if block.iter().all(|b| *b == 0) {
            // node-tar needs two zero blocks for the end and reads on after a single one; here
            // everything after the first zero block must be zeros, so the two cannot differ.
            if !pending.is_empty() {
                return Err(corrupt(at, "extension header without a following entry"));
            }
            return drain_padding(&mut s, &mut buf);
        }
        // node-tar `Header.decode`: the checksum is the sum of the header with the checksum
        // field as spaces; a header whose checksum does not match is skipped by node-tar (it
        // warns and reads the next block as a header), so it is rejected here.
        let cksum = number(&block, 148, 8, "checksum", true, at)?;
        let sum: u64 = block[..148]
            .iter()
            .chain(&block[156..])
            .map(|b| u64::from(*b))
            .sum::<u64>()
            + 8 * 32;
        if cksum != sum {
            return Err(corrupt(at, "header checksum mismatch"));
        }
        let mode = number(&block, 100, 8, "mode", false, at)?;
        let header_size = number(&block, 124, 12, "size", false, at)?;
        no_base256(&block, 108, 8, "uid", at)?;
        no_base256(&block, 116, 8, "gid", at)?;
        no_base256(&block, 136, 12, "mtime", at)?;
        // node-tar reads the ustar prefix only with the POSIX magic `ustar\0` + version `00`:
        // all 155 bytes when byte 475 is not NUL (and then always joins with `/`, even to an
        // empty prefix), else 130 bytes (the rest are star's atime and ctime).
        let posix = &block[257..265] == b"ustar\x0000";
        let name = cut(&block[..100], "name", at)?;
        let mut header_path = name.to_vec();
        if posix {
            no_base256(&block, 329, 8, "devmajor", at)?;
            no_base256(&block, 337, 8, "devminor", at)?;
            let prefix = if block[475] != 0 {
                Some(cut(&block[345..500], "prefix", at)?)
            } else {
                no_base256(&block, 476, 12, "atime", at)?;
                no_base256(&block, 488, 12, "ctime", at)?;
                Some(cut(&block[345..475], "prefix", at)?).filter(|p| !p.is_empty())
            };
            if let Some(prefix) = prefix {
                let mut p = prefix.to_vec();
                p.push(b'/');
                p.extend_from_slice(name);
                header_path = p;
            }
        }
        // node-tar skips a header whose name is empty ("path is required"), and a header other
        // than a link or a pax header that has a link name ("linkpath forbidden"): its data
        // would then be read as headers.
        if name.is_empty() {
            return Err(corrupt(at, "header with an empty name field"));
        }
        let typeflag = block[156];
        let header_link = cut(&block[157..257], "link name", at)?;
        if !header_link.is_empty() && !matches!(typeflag, b'1' | b'2') {
            return Err(ArchiveRejection::LinknameOnNonLink {
                path: shown(&header_path),
                target: shown(header_link),
            }
            .into());
        }
        match typeflag {
            b'L' | b'K' | b'x' | b'g' => {
                // node-tar applies a local pax header's `size` to the next header even when
                // that is another extension header (whose data it then misreads): a local pax
                // header must be followed by the entry it describes.
                if pending.saw_pax {
                    return Err(competing(
                        &header_path,
                        "a pax header is followed by another extension header",
                    ));
                }
                LimitExceeded::check("tar extension header bytes", ext_limit, header_size)
                    .map_err(|l| ArchiveRejection::limit(None, l))?;
                let mut data = Vec::with_capacity(header_size as usize);
                s.data(header_size, &mut buf, |b| {
                    data.extend_from_slice(b);
                    Ok(())
                })?;
                // node-tar decodes the data chunk by chunk as UTF-8 (`this[META] += c`); a
                // character split across two chunks would decode differently, and chunks of
                // the inflated stream are only guaranteed to hold one 512-byte block whole.
                if data.len() > BLOCK && !data.is_ascii() {
                    return Err(pax_err(
                        at,
                        "extension header data longer than one block is not ASCII",
                    ));
                }
                match typeflag {
                    b'L' => {
                        if pending.long_name.is_some() {
                            return Err(competing(&header_path, "two GNU long names"));
                        }
                        pending.long_name = Some(long_name(data, "long name", at)?);
                    }
                    b'K' => {
                        if pending.long_link.is_some() {
                            return Err(competing(&header_path, "two GNU long link names"));
                        }
                        pending.long_link = Some(long_name(data, "long link name", at)?);
                    }
                    b'x' => {
                        pending.saw_pax = true;
                        parse_local_pax(&data, &mut pending, at)?;
                    }
                    _ => parse_global_pax(&data, at)?,
                }
                continue;
            }
            _ => {}
        }
        let p = std::mem::take(&mut pending);
        // GNU long name and pax `path` together: node-tar merges them and the later one wins,
        // other readers prefer one kind. Refused, as are both long link sources.
        let path = match (p.long_name, p.pax_path) {
            (Some(_), Some(pax)) => {
                return Err(competing(&pax, "a GNU long name and a pax path"));
            }
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => header_path,
        };
        let link = match (p.long_link, p.pax_link) {
            (Some(_), Some(_)) => {
                return Err(competing(&path, "a GNU long link name and a pax linkpath"));
            }
            (Some(l), None) | (None, Some(l)) => Some(l),
            (None, None) => None,
        };
        let size = p.pax_size.unwrap_or(header_size);
        if link.is_some() && !matches!(typeflag, b'1' | b'2') {
            // node-tar sets the read entry's linkpath anyway and then checks it like a link's
            // (skipping the file if it climbs out).
            return Err(ArchiveRejection::LinknameOnNonLink {
                path: shown(&path),
                target: shown(link.as_deref().unwrap_or_default()),
            }
            .into());
        }
        let link = link.unwrap_or_else(|| header_link.to_vec());
        let kind = match typeflag {
            // node-tar `types.js`: '0' File, NUL OldFile (decoded as '0'), '7' ContiguousFile,
            // '1' Link, '2' SymbolicLink, '3' CharacterDevice, '4' BlockDevice, '5' Directory,
            // '6' FIFO. Header.decode: "a '0' entry whose path ends in '/' is a directory"
            // (its size becomes 0 and its data is read as headers): refused, as is any other
            // non-directory named with a trailing '/'.
            b'0' | 0 | b'7' => {
                if path.ends_with(b"/") || name.ends_with(b"/") {
                    return Err(
                        ArchiveRejection::FileNamedLikeDirectory { path: shown(&path) }.into(),
                    );
                }
                RawKind::File { size }
            }
            b'5' => RawKind::Dir,
            b'2' => RawKind::Symlink { target: &link },
            b'1' => RawKind::Hardlink { target: &link },
            b'3' | b'4' | b'6' => {
                let kind = match typeflag {
                    b'3' => "character device",
                    b'4' => "block device",
                    _ => "fifo",
                };
                return Err(ArchiveRejection::DeviceOrFifo {
                    path: shown(&path),
                    kind,
                }
                .into());
            }
            other => {
                return Err(ArchiveRejection::UnsupportedEntryType {
                    path: shown(&path),
                    type_byte: char::from(other),
                }
                .into());
            }
        };
        let is_file = matches!(kind, RawKind::File { .. });
        if !is_file && size > 0 {
            // POSIX: for links and directories "the size field shall be zero"; node-tar forces
            // a directory's size to 0 and would read its payload as headers.
            return Err(corrupt(
                at,
                format!(
                    "entry {:?} is not a file but carries {size} bytes",
                    shown(&path)
                ),
            ));
        }
        match builder.add(&path, kind, mode as u32)? {
            Some(mut sink) => {
                s.data(size, &mut buf, |b| sink.update(b))?;
                builder.finish_file(sink)?;
            }
            None => s.data(size, &mut buf, |_| Ok(()))?,
        }
    }
}

/// After end-of-archive only zero bytes may follow (bounded).
fn drain_padding<R: Read>(s: &mut Stream<R>, buf: &mut [u8]) -> Result<(), WalkError> {
    let mut total = 0u64;
    loop {
        let n = match s.inner.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(WalkError::Io(e)),
        };
        let nonzero = buf[..n].iter().filter(|b| **b != 0).count() as u64;
        total += n as u64;
        if nonzero > 0 || total > MAX_PADDING {
            return Err(ArchiveRejection::TrailingData {
                after: "tar end-of-archive",
                count: if nonzero > 0 { nonzero } else { total },
            }
            .into());
        }
    }
}
