//! The stages of the single read: a reader thread (read + sha256/sha512/sha1 of the compressed
//! bytes), an inflate thread (gzip), and the caller's thread (tar walk, per-file sha256,
//! inspectors). Stages are joined by bounded channels of fixed-size chunks, so memory stays
//! bounded whatever the input.
use super::rejection::ArchiveRejection;
use crate::digest::{Digests, MultiHasher};
use crate::limits::{LimitExceeded, Limits};
use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Size of one chunk passed between stages.
pub(crate) const CHUNK: usize = 256 << 10;
/// Chunks in flight per channel (bounded memory: DEPTH * CHUNK per stage).
const DEPTH: usize = 8;

/// Why a stage stopped.
#[derive(Debug)]
pub(crate) enum StageError {
    /// The input was rejected.
    Rejected(ArchiveRejection),
    /// Reading the file failed.
    Io(io::Error),
    /// The next stage hung up (it stopped on its own error); not a cause in itself.
    Hangup,
}

/// Reads chunks from a channel; implements `Read` and `BufRead`, and counts bytes consumed.
pub(crate) struct ChanReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    consumed: u64,
}

impl ChanReader {
    pub(crate) fn new(rx: Receiver<Vec<u8>>) -> Self {
        ChanReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            consumed: 0,
        }
    }

    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Make at least `n` bytes available (fewer only at EOF) and return them, without consuming.
    pub(crate) fn peek(&mut self, n: usize) -> &[u8] {
        while self.buf.len() - self.pos < n {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    self.buf.extend_from_slice(&chunk);
                }
                Err(_) => break,
            }
        }
        &self.buf[self.pos..]
    }
}

impl BufRead for ChanReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.buf.len() - self.pos);
        self.pos += amt;
        self.consumed += amt as u64;
    }
}

impl Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Stage 1: read the file, hash it, pass it on.
pub(crate) fn spawn_reader(
    mut file: std::fs::File,
    limits: Limits,
) -> io::Result<(ChanReader, JoinHandle<Result<Digests, StageError>>)> {
    let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
    let handle = std::thread::Builder::new()
        .name("vetted-read".into())
        .spawn(move || {
            let mut hasher = MultiHasher::new();
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut got = 0;
                while got < CHUNK {
                    match file.read(&mut chunk[got..]) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(StageError::Io(e)),
                    }
                }
                if got == 0 {
                    return Ok(hasher.finish());
                }
                chunk.truncate(got);
                hasher.update(&chunk);
                LimitExceeded::check("artifact bytes", limits.artifact_bytes, hasher.size())
                    .map_err(|l| StageError::Rejected(ArchiveRejection::limit(None, l)))?;
                tx.send(chunk).map_err(|_| StageError::Hangup)?;
            }
        })?;
    Ok((ChanReader::new(rx), handle))
}

/// node-tar's `MAX_DECOMPRESSION_RATIO`, with a small allowance for the first inflated bytes
/// (vetted counts the compressed bytes the decoder consumed, node-tar those it was handed).
const NODE_TAR_MAX_RATIO: u64 = 999;
const NODE_TAR_RATIO_GRACE: u64 = 64 << 10;

/// Stage 2: inflate one gzip member (RFC 1952), checking its CRC-32 and ISIZE, refusing any byte
/// after it, and stopping at once when the expansion ratio is crossed.
pub(crate) fn spawn_inflate(
    input: ChanReader,
    limits: Limits,
) -> io::Result<(ChanReader, JoinHandle<Result<(), StageError>>)> {
    let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
    let handle = std::thread::Builder::new()
        .name("vetted-inflate".into())
        .spawn(move || inflate(input, &tx, &limits))?;
    Ok((ChanReader::new(rx), handle))
}

fn gz_error(e: io::Error) -> StageError {
    StageError::Rejected(ArchiveRejection::CorruptGzip {
        detail: if e.kind() == io::ErrorKind::UnexpectedEof {
            "truncated: the stream ends inside the gzip member".into()
        } else {
            e.to_string()
        },
    })
}

fn inflate(input: ChanReader, tx: &SyncSender<Vec<u8>>, limits: &Limits) -> Result<(), StageError> {
    let mut gz = flate2::bufread::GzDecoder::new(input);
    let mut out: u64 = 0;
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut got = 0;
        while got < CHUNK {
            match gz.read(&mut chunk[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(gz_error(e)),
            }
        }
        if got == 0 {
            break;
        }
        chunk.truncate(got);
        out += got as u64;
        let consumed = gz.get_ref().consumed().max(1);
        // node-tar (`parse.js`, `MAX_DECOMPRESSION_RATIO = 1000`) aborts an extraction whose
        // inflated bytes pass 1000 times the compressed bytes it was given, from the first
        // chunk on: npm would fail to install what vetted would list.
        if out > NODE_TAR_RATIO_GRACE {
            LimitExceeded::check(
                "expansion ratio (unpacked/compressed; npm's tar stops at 1000)",
                NODE_TAR_MAX_RATIO,
                out / consumed,
            )
            .map_err(|l| StageError::Rejected(ArchiveRejection::limit(None, l)))?;
        }
        if out > limits.ratio_grace_bytes {
            LimitExceeded::check(
                "expansion ratio (unpacked/compressed)",
                limits.expansion_ratio,
                out / consumed,
            )
            .map_err(|l| StageError::Rejected(ArchiveRejection::limit(None, l)))?;
        }
        tx.send(chunk).map_err(|_| StageError::Hangup)?;
    }
    // The member ended with a matching CRC-32 and ISIZE. npm tarballs are one gzip member;
    // RFC 1952 allows several, but anything after the first is refused here, so every byte
    // that was hashed is a byte that was inspected.
    let mut rest = gz.into_inner();
    let trailing = rest.fill_buf().map_err(StageError::Io)?.len() as u64;
    if trailing > 0 {
        return Err(StageError::Rejected(ArchiveRejection::TrailingData {
            after: "gzip member",
            count: trailing,
        }));
    }
    Ok(())
}
