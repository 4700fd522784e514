//! A streaming tar walker. The `tar` crate parses each 512-byte header; this module walks the
//! stream itself so that every allocation is bounded (GNU long names and pax records are capped
//! by [`Limits::tar_extension_bytes`]) and every failure is a typed [`ArchiveRejection`].
use super::builder::{Builder, RawKind};
use super::rejection::ArchiveRejection;
use crate::limits::LimitExceeded;
use std::io::{self, Read};

const BLOCK: usize = 512;
/// File data is read in pieces of this size.
const BUF: usize = 256 << 10;
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

fn strip_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    pax_sparse: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none()
            && self.long_link.is_none()
            && self.pax_path.is_none()
            && self.pax_link.is_none()
            && self.pax_size.is_none()
    }
}

/// POSIX pax: records are `"%d %s=%s\n", <length>, <keyword>, <value>`.
fn parse_pax(data: &[u8], p: &mut Pending, offset: u64) -> Result<(), WalkError> {
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| corrupt(offset, "pax record without a length"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt(offset, "pax record length is not a number"))?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(corrupt(offset, "pax record length is wrong"));
        }
        let record = &rest[sp + 1..len - 1];
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| corrupt(offset, "pax record without '='"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => p.pax_path = Some(value.to_vec()),
            b"linkpath" => p.pax_link = Some(value.to_vec()),
            b"size" => {
                p.pax_size = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| corrupt(offset, "pax size is not a number"))?,
                )
            }
            k if k.starts_with(b"GNU.sparse.") => p.pax_sparse = true,
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// Walk a tar stream, recording every entry in `builder`. After the end-of-archive marker the
/// rest of the stream must be zero padding.
pub(crate) fn walk<R: Read>(reader: R, builder: &mut Builder) -> Result<(), WalkError> {
    let mut s = Stream {
        inner: reader,
        offset: 0,
    };
    let mut block = [0u8; BLOCK];
    let mut buf = vec![0u8; BUF];
    let mut pending = Pending::default();
    let ext_limit = builder.limits().tar_extension_bytes;
    loop {
        let at = s.offset;
        if !s.fill(&mut block)? {
            // POSIX asks for two zero blocks at the end; a stream that simply stops at a block
            // boundary is accepted (GNU tar does the same), unless an extension header dangles.
            if !pending.is_empty() {
                return Err(corrupt(at, "extension header without a following entry"));
            }
            return Ok(());
        }
        if block.iter().all(|b| *b == 0) {
            if !pending.is_empty() {
                return Err(corrupt(at, "extension header without a following entry"));
            }
            return drain_padding(&mut s, &mut buf);
        }
        let header = tar::Header::from_byte_slice(&block);
        let sum: u32 = block[..148]
            .iter()
            .chain(&block[156..])
            .map(|b| u32::from(*b))
            .sum::<u32>()
            + 8 * 32;
        match header.cksum() {
            Ok(c) if c == sum => {}
            _ => return Err(corrupt(at, "header checksum mismatch")),
        }
        let header_size = header
            .entry_size()
            .map_err(|e| corrupt(at, format!("bad size field: {e}")))?;
        let typeflag = block[156];
        match typeflag {
            // GNU long name / long link name: the data is the name of the next entry.
            b'L' | b'K' | b'x' | b'g' => {
                LimitExceeded::check("tar extension header bytes", ext_limit, header_size)
                    .map_err(|l| ArchiveRejection::limit(None, l))?;
                let mut data = Vec::with_capacity(header_size as usize);
                s.data(header_size, &mut buf, |b| {
                    data.extend_from_slice(b);
                    Ok(())
                })?;
                match typeflag {
                    b'L' => pending.long_name = Some(strip_nul(data)),
                    b'K' => pending.long_link = Some(strip_nul(data)),
                    b'x' => parse_pax(&data, &mut pending, at)?,
                    // 'g': pax global header, not an entry; its keywords (rarely `path`) are
                    // not applied to later entries.
                    _ => {}
                }
                continue;
            }
            _ => {}
        }
        let p = std::mem::take(&mut pending);
        let size = p.pax_size.unwrap_or(header_size);
        let path = p
            .long_name
            .or(p.pax_path)
            .unwrap_or_else(|| header.path_bytes().into_owned());
        let link = p
            .long_link
            .or(p.pax_link)
            .or_else(|| header.link_name_bytes().map(|c| c.into_owned()))
            .unwrap_or_default();
        let mode = header.mode().unwrap_or(0);
        let shown = || String::from_utf8_lossy(&path).escape_debug().to_string();
        if p.pax_sparse {
            return Err(ArchiveRejection::UnsupportedEntryType {
                path: shown(),
                type_byte: 'S',
            }
            .into());
        }
        let kind = match typeflag {
            // POSIX ustar typeflag: '0' and NUL regular file, '7' contiguous file (treated as
            // regular), '1' link, '2' symlink, '3' char special, '4' block special, '5'
            // directory, '6' FIFO.
            b'0' | 0 | b'7' => RawKind::File { size },
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
                    path: shown(),
                    kind,
                }
                .into());
            }
            other => {
                return Err(ArchiveRejection::UnsupportedEntryType {
                    path: shown(),
                    type_byte: char::from(other),
                }
                .into());
            }
        };
        let is_file = matches!(kind, RawKind::File { .. });
        match builder.add(&path, kind, mode)? {
            Some(mut sink) => {
                s.data(size, &mut buf, |b| sink.update(b))?;
                builder.finish_file(sink)?;
            }
            None if size > 0 && !is_file => {
                // POSIX: for links and directories "the size field shall be zero"; a payload
                // there would be hidden from every extractor.
                return Err(corrupt(
                    at,
                    format!("entry {:?} is not a file but carries {size} bytes", shown()),
                ));
            }
            None => {}
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
