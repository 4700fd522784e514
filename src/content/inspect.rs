//! Inspectors: run over each file's bytes while they stream past, and fill [`Signals`].
//!
//! One pass of one multi-literal search (SIMD prefilter) per chunk finds every candidate; each
//! hit is then decoded from the bytes right after it. The same scan covers text files and the
//! printable strings of binaries (a URL is a run of printable ASCII after the scheme).
use super::manifest::{ExecutableFormat, Signals};
use regex::bytes::Regex;
use std::sync::LazyLock;

/// Most URLs collected from one file before `truncated` is set.
pub const MAX_URLS_PER_FILE: usize = 10_000;
/// Most environment variable names collected from one file.
pub const MAX_ENV_PER_FILE: usize = 10_000;
/// Longest token (URL) decoded; longer URLs are cut here.
const MAX_TOKEN: usize = 2048;
/// Bytes of a file's start kept to recognise its executable format.
const PREFIX: usize = 4096;

static NEEDLES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"https?://|wss?://|process\.env|Bun\.env|child_process|eval\(|new Function|node:vm|require\(['"]vm['"]\)|Bun v[0-9]"#,
    )
    .ok()
});

/// Streaming inspector for one file.
pub(crate) struct Inspector {
    prefix: Vec<u8>,
    carry: Vec<u8>,
    scratch: Vec<u8>,
    signals: Signals,
    /// The first Bun runtime version string (`Bun v1.4.4 (6634fc3b5)`), as `bun-v1.4.4`.
    runtime: Option<String>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

fn is_url_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
        && !matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
        )
}

impl Inspector {
    pub(crate) fn new() -> Self {
        Inspector {
            prefix: Vec::new(),
            carry: Vec::new(),
            scratch: Vec::new(),
            signals: Signals::default(),
            runtime: None,
        }
    }

    /// Feed the next bytes of the file.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        if self.prefix.len() < PREFIX {
            let take = (PREFIX - self.prefix.len()).min(chunk.len());
            self.prefix.extend_from_slice(&chunk[..take]);
        }
        if self.carry.is_empty() {
            self.scan(chunk, false);
        } else {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            scratch.extend_from_slice(&self.carry);
            scratch.extend_from_slice(chunk);
            self.scan(&scratch, false);
            self.scratch = scratch;
        }
    }

    /// The signals found, and the runtime version string of a single-file executable (Bun
    /// prints it as `Bun v1.4.4 (6634fc3b5) Linux x64`; this is its own string, not a URL).
    pub(crate) fn finish_with_runtime(self) -> (Signals, Option<String>) {
        let mut me = self;
        let runtime = me.runtime.take();
        (me.finish(), runtime)
    }

    /// The signals found.
    pub(crate) fn finish(mut self) -> Signals {
        let carry = std::mem::take(&mut self.carry);
        self.scan(&carry, true);
        self.signals.executable = executable_format(&self.prefix);
        self.signals
    }

    fn scan(&mut self, buf: &[u8], last: bool) {
        // Hits starting in the last MAX_TOKEN bytes wait for the next chunk, so a token never
        // straddles a chunk boundary.
        let end = if last {
            buf.len()
        } else {
            buf.len().saturating_sub(MAX_TOKEN)
        };
        if let Some(re) = NEEDLES.as_ref() {
            for m in re.find_iter(buf) {
                if m.start() >= end {
                    break;
                }
                self.hit(buf, m.start(), m.end());
            }
        }
        self.carry.clear();
        self.carry.extend_from_slice(&buf[end..]);
    }

    fn hit(&mut self, buf: &[u8], start: usize, end: usize) {
        let needle = &buf[start..end];
        let rest = &buf[end..buf.len().min(end + MAX_TOKEN)];
        match needle[0] {
            b'h' | b'w' => {
                if start > 0 && buf[start - 1].is_ascii_alphanumeric() {
                    return; // e.g. "news://": not one of our schemes
                }
                let mut n = rest.iter().take_while(|b| is_url_byte(**b)).count();
                while n > 0 && matches!(rest[n - 1], b'.' | b',' | b';' | b':' | b')' | b']') {
                    n -= 1;
                }
                if n == 0 {
                    return;
                }
                let mut url = Vec::with_capacity(needle.len() + n);
                url.extend_from_slice(needle);
                url.extend_from_slice(&rest[..n]);
                let url = String::from_utf8_lossy(&url).into_owned();
                if self.signals.urls.len() >= MAX_URLS_PER_FILE {
                    self.signals.truncated |= !self.signals.urls.contains(&url);
                } else {
                    self.signals.urls.insert(url);
                }
            }
            b'B' if needle.starts_with(b"Bun v") => {
                if self.runtime.is_none() {
                    let digits = rest
                        .iter()
                        .take(24)
                        .take_while(|b| b.is_ascii_digit() || **b == b'.')
                        .count();
                    let v = String::from_utf8_lossy(&buf[end - 1..end + digits]).into_owned();
                    let v = v.trim_end_matches('.');
                    // "Bun v1.4.4": major.minor.patch, nothing shorter.
                    if v.split('.').count() == 3 && v.split('.').all(|p| !p.is_empty()) {
                        self.runtime = Some(format!("bun-v{v}"));
                    }
                }
            }
            b'p' | b'B' => {
                let name = match rest.first() {
                    Some(b'.') => {
                        let n = rest[1..].iter().take_while(|b| is_ident(**b)).count();
                        &rest[1..1 + n]
                    }
                    Some(b'[') => match rest.get(1) {
                        Some(&q @ (b'"' | b'\'' | b'`')) => {
                            let body = &rest[2..];
                            let n = body.iter().take_while(|b| is_ident(**b)).count();
                            if body.get(n) == Some(&q) {
                                &body[..n]
                            } else {
                                &[][..]
                            }
                        }
                        _ => &[][..],
                    },
                    _ => &[][..],
                };
                if name.is_empty() || name.len() > 256 {
                    return;
                }
                let name = String::from_utf8_lossy(name).into_owned();
                if self.signals.env_vars.len() >= MAX_ENV_PER_FILE {
                    self.signals.truncated |= !self.signals.env_vars.contains(&name);
                } else {
                    self.signals.env_vars.insert(name);
                }
            }
            b'c' => {
                self.signals.capabilities.insert("child_process".into());
            }
            b'e' => {
                if start > 0 && (is_ident(buf[start - 1]) || buf[start - 1] == b'.') {
                    return; // retrieval(, obj.eval(
                }
                self.signals.capabilities.insert("eval".into());
            }
            b'n' if needle.starts_with(b"new") => {
                self.signals.capabilities.insert("new Function".into());
            }
            _ => {
                self.signals.capabilities.insert("vm".into());
            }
        }
    }
}

/// The executable format of a file from its first bytes.
pub fn executable_format(prefix: &[u8]) -> Option<ExecutableFormat> {
    let word = |i: usize| -> Option<[u8; 4]> { prefix.get(i..i + 4)?.try_into().ok() };
    match word(0)? {
        [0x7f, b'E', b'L', b'F'] => return Some(ExecutableFormat::Elf),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => {
            return Some(ExecutableFormat::MachO);
        }
        [0xca, 0xfe, 0xba, 0xbe | 0xbf] => {
            // Fat Mach-O shares its magic with Java class files; a fat header's architecture
            // count is small, a class file's version there is >= 45.
            let n = u32::from_be_bytes(word(4)?);
            return (n > 0 && n < 45).then_some(ExecutableFormat::MachO);
        }
        _ => {}
    }
    if prefix.starts_with(b"#!") {
        return Some(ExecutableFormat::Script);
    }
    if prefix.starts_with(b"MZ") {
        // PE: the DOS header's e_lfanew (offset 0x3c) points at "PE\0\0".
        let off = u32::from_le_bytes(word(0x3c)?) as usize;
        if prefix.get(off..off.checked_add(4)?) == Some(b"PE\0\0") {
            return Some(ExecutableFormat::Pe);
        }
    }
    None
}

/// Inspect a whole buffer (tests and small files).
pub fn inspect_bytes(bytes: &[u8]) -> Signals {
    let mut i = Inspector::new();
    i.update(bytes);
    i.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_urls_env_and_capabilities() {
        let s = inspect_bytes(
            br#"const u = "https://api.example.com/v1?x=1"; fetch('wss://ws.example.org/s');
            process.env.API_KEY; process.env["HOME_DIR"]; require("child_process"); eval(x);
            new Function("a"); retrieval(y); news://no"#,
        );
        let urls: Vec<_> = s.urls.iter().map(String::as_str).collect();
        assert_eq!(
            urls,
            ["https://api.example.com/v1?x=1", "wss://ws.example.org/s"]
        );
        let env: Vec<_> = s.env_vars.iter().map(String::as_str).collect();
        assert_eq!(env, ["API_KEY", "HOME_DIR"]);
        let caps: Vec<_> = s.capabilities.iter().map(String::as_str).collect();
        assert_eq!(caps, ["child_process", "eval", "new Function"]);
        assert_eq!(s.executable, None);
    }

    #[test]
    fn tokens_straddling_chunks_are_found() {
        let mut text = vec![b' '; 100_000];
        text.extend_from_slice(b"http://straddle.example/path ");
        text.extend(std::iter::repeat_n(b' ', 100_000));
        for split in [99_990, 100_003, 100_020, 100_027] {
            let mut i = Inspector::new();
            i.update(&text[..split]);
            i.update(&text[split..]);
            let s = i.finish();
            assert!(
                s.urls.contains("http://straddle.example/path"),
                "split {split}"
            );
            assert_eq!(s.urls.len(), 1);
        }
    }

    #[test]
    fn caps_urls_per_file() {
        let mut text = Vec::new();
        for i in 0..(MAX_URLS_PER_FILE + 5) {
            text.extend_from_slice(format!("http://h{i}.example\n").as_bytes());
        }
        let s = inspect_bytes(&text);
        assert_eq!(s.urls.len(), MAX_URLS_PER_FILE);
        assert!(s.truncated);
    }

    #[test]
    fn recognises_executables() {
        assert_eq!(
            executable_format(b"\x7fELF\x02\x01"),
            Some(ExecutableFormat::Elf)
        );
        assert_eq!(
            executable_format(b"\xcf\xfa\xed\xfe...."),
            Some(ExecutableFormat::MachO)
        );
        assert_eq!(
            executable_format(b"\xca\xfe\xba\xbe\0\0\0\x02"),
            Some(ExecutableFormat::MachO)
        );
        assert_eq!(executable_format(b"\xca\xfe\xba\xbe\0\0\0\x34"), None);
        assert_eq!(
            executable_format(b"#!/usr/bin/env node\n"),
            Some(ExecutableFormat::Script)
        );
        let mut pe = vec![0u8; 0x80];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(executable_format(&pe), Some(ExecutableFormat::Pe));
        assert_eq!(executable_format(b"MZ"), None);
        assert_eq!(executable_format(b"hello"), None);
    }
}
