//! Why an archive was rejected (one variant per rule) and the operational failures of reading it.
use crate::limits::LimitExceeded;

/// A hostile or malformed archive: the entry and the rule it broke. Every variant is a
/// rejection (exit 1), never an operational error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveRejection {
    /// A path component is `..` (POSIX pax: "a pathname that contains `..` ... may be
    /// extracted outside the intended directory"; npm's tar refuses them too).
    #[error("entry {path:?}: path has a '..' component")]
    ParentComponent {
        /// The path as written in the archive.
        path: String,
    },
    /// The path is absolute (starts with `/`).
    #[error("entry {path:?}: path is absolute")]
    AbsolutePath {
        /// The path as written in the archive.
        path: String,
    },
    /// The path contains a backslash (a Windows separator: `a\..\b` escapes on Windows).
    #[error("entry {path:?}: path contains a backslash")]
    Backslash {
        /// The path as written in the archive.
        path: String,
    },
    /// The path starts with a drive letter (`C:`).
    #[error("entry {path:?}: path starts with a drive letter")]
    DriveLetter {
        /// The path as written in the archive.
        path: String,
    },
    /// The path contains a control character (bytes 0x00-0x1f, 0x7f).
    #[error("entry {path:?}: path contains control character 0x{byte:02x}")]
    ControlCharacter {
        /// The path, with control characters escaped.
        path: String,
        /// The offending byte.
        byte: u8,
    },
    /// The path is not valid UTF-8 (paths are compared and stored as text; fail closed).
    #[error("entry {path:?}: path is not valid UTF-8")]
    NonUtf8Path {
        /// The path, lossily decoded.
        path: String,
    },
    /// The path is empty (or only `.` components) for an entry that is not the root directory.
    #[error("an entry has an empty path")]
    EmptyPath,
    /// A symlink target is absolute.
    #[error("symlink {path:?} -> {target:?}: target is absolute")]
    AbsoluteLink {
        /// The link's path.
        path: String,
        /// Its target.
        target: String,
    },
    /// A symlink or hardlink target resolves outside the archive root.
    #[error("link {path:?} -> {target:?}: target resolves outside the archive root")]
    LinkEscapes {
        /// The link's path.
        path: String,
        /// Its target.
        target: String,
    },
    /// A hardlink names an entry that does not precede it as a regular file (tar: "the
    /// linkname field names a file previously archived").
    #[error("hardlink {path:?} -> {target:?}: target is not an earlier regular file")]
    HardlinkTarget {
        /// The link's path.
        path: String,
        /// Its target.
        target: String,
    },
    /// An entry lies beneath a symlink entry (extraction would write through the link).
    #[error("entry {path:?} lies beneath symlink {symlink:?}")]
    BeneathSymlink {
        /// The entry's path.
        path: String,
        /// The symlink it lies beneath.
        symlink: String,
    },
    /// A character device, block device or FIFO entry.
    #[error("entry {path:?}: {kind} entries are not allowed")]
    DeviceOrFifo {
        /// The entry's path.
        path: String,
        /// "character device", "block device" or "fifo".
        kind: &'static str,
    },
    /// An entry type vetted does not accept (e.g. GNU sparse, contiguous volume headers).
    #[error("entry {path:?}: unsupported entry type {type_byte:?}")]
    UnsupportedEntryType {
        /// The entry's path.
        path: String,
        /// The tar typeflag (or zip kind) as a character.
        type_byte: char,
    },
    /// Two entries have the same normalized path.
    #[error("entry {path:?} appears more than once")]
    DuplicatePath {
        /// The normalized path.
        path: String,
    },
    /// A pax record npm's tar (node-tar `pax.js`, which splits the body at every newline) and
    /// a POSIX reader could read differently: a value holding a newline or a NUL, a length that
    /// is not canonical decimal, a body that is not UTF-8.
    #[error("ambiguous pax header at byte {offset}: {detail}")]
    PaxRecord {
        /// Offset of the pax header in the uncompressed tar stream.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// A pax keyword that changes what node-tar writes in a way vetted does not mirror: `type`
    /// or `mode` in a local header; `path`, `linkpath`, `size`, `mode` or `type` in a global
    /// (`g`) header, which node-tar applies to every later entry.
    #[error("pax {} header sets {keyword:?}, which npm's tar would apply{}", if *global { "global" } else { "local" }, if *global { " to every later entry" } else { "" })]
    PaxKeyword {
        /// The keyword.
        keyword: String,
        /// Whether the header was global (`g`).
        global: bool,
    },
    /// More than one source for an entry's name or link name (GNU long name and pax `path`,
    /// two long names, a pax header followed by another extension header): readers differ on
    /// which one wins.
    #[error("entry {path:?}: competing name sources: {detail}")]
    CompetingNames {
        /// The entry's path (as far as it is known).
        path: String,
        /// Which sources.
        detail: String,
    },
    /// A regular-file entry whose name ends in `/`: node-tar turns a `0` entry named so into a
    /// directory and reads its data as headers.
    #[error("entry {path:?}: a file entry named like a directory (trailing '/')")]
    FileNamedLikeDirectory {
        /// The path as written.
        path: String,
    },
    /// A link name on an entry that is not a link: node-tar skips such a header ("linkpath
    /// forbidden") and reads its data as headers.
    #[error("entry {path:?} is not a link but names link target {target:?}")]
    LinknameOnNonLink {
        /// The entry's path.
        path: String,
        /// The link name.
        target: String,
    },
    /// A second top-level directory: npm strips the first path component whatever it is, so
    /// `zzz/setup.js` would be installed where `package/setup.js` is.
    #[error(
        "entry {path:?}: second top-level component {second:?} (the first entry's is {first:?}); npm strips the first component of every entry"
    )]
    SecondTopLevel {
        /// The entry's path.
        path: String,
        /// The first entry's top-level component.
        first: String,
        /// This entry's.
        second: String,
    },
    /// A file at the archive root: nothing is left once npm strips the first component.
    #[error(
        "entry {path:?} lies at the archive root; npm strips the first path component and would skip it"
    )]
    EntryAtRoot {
        /// The path as written.
        path: String,
    },
    /// Two entries land on one path once npm strips the first component and renames
    /// `.gitignore` to `.npmignore`.
    #[error("entries {first:?} and {second:?} are both installed as {path:?}")]
    PathCollision {
        /// The installed path (manifest key).
        path: String,
        /// The first entry.
        first: String,
        /// The second entry.
        second: String,
    },
    /// A file is also the parent directory of another entry (node-tar would fail one of them
    /// and go on).
    #[error("entry {path:?} needs {file:?} to be a directory, but it is a file")]
    FileAsDirectory {
        /// The entry.
        path: String,
        /// The file in its way.
        file: String,
    },
    /// A symlink or hardlink in a tarball: npm (pacote's filter) does not install links, so
    /// listing one would be listing content that never lands.
    #[error("entry {path:?}: {kind} entries are not installed by npm")]
    LinkNotInstalled {
        /// The entry's path.
        path: String,
        /// "symlink" or "hardlink".
        kind: &'static str,
    },
    /// setuid, setgid or sticky bits on a file.
    #[error("entry {path:?}: mode {mode:04o} has setuid, setgid or sticky bits")]
    SpecialModeBits {
        /// The entry's path.
        path: String,
        /// The mode as written.
        mode: u32,
    },
    /// The gzip stream is corrupt: bad header, bad CRC or length, or truncated (RFC 1952).
    #[error("corrupt gzip stream: {detail}")]
    CorruptGzip {
        /// What the decoder reported.
        detail: String,
    },
    /// Bytes follow the end of the data: after the (single) gzip member, or non-zero bytes
    /// after the tar end-of-archive marker. npm tarballs are a single gzip member.
    #[error("{count} unexpected byte(s) after the {after}")]
    TrailingData {
        /// "gzip member" or "tar end-of-archive".
        after: &'static str,
        /// How many bytes were seen (at least this many).
        count: u64,
    },
    /// The tar stream is corrupt: bad header checksum, bad number field, truncated.
    #[error("corrupt tar stream at byte {offset}: {detail}")]
    CorruptTar {
        /// Offset in the uncompressed tar stream.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// The zip archive is corrupt or uses a feature vetted refuses (encryption).
    #[error("corrupt zip archive: {detail}")]
    CorruptZip {
        /// What was wrong.
        detail: String,
    },
    /// The bytes are not an archive where an archive is expected.
    #[error("not an archive: expected tgz, tar or zip, found {found}")]
    NotAnArchive {
        /// What was found instead.
        found: String,
    },
    /// A limit was crossed; the read stopped there.
    #[error("{}{limit}", path.as_ref().map(|p| format!("entry {p:?}: ")).unwrap_or_default())]
    Limit {
        /// The entry being read, when the limit is about one.
        path: Option<String>,
        /// The limit.
        limit: LimitExceeded,
    },
}

impl ArchiveRejection {
    /// A short stable name of the rule, for reports (`check` on the CLI).
    pub fn rule(&self) -> &'static str {
        match self {
            ArchiveRejection::ParentComponent { .. } => "archive-path-parent",
            ArchiveRejection::AbsolutePath { .. } => "archive-path-absolute",
            ArchiveRejection::Backslash { .. } => "archive-path-backslash",
            ArchiveRejection::DriveLetter { .. } => "archive-path-drive-letter",
            ArchiveRejection::ControlCharacter { .. } => "archive-path-control-character",
            ArchiveRejection::NonUtf8Path { .. } => "archive-path-not-utf8",
            ArchiveRejection::EmptyPath => "archive-path-empty",
            ArchiveRejection::AbsoluteLink { .. } => "archive-link-absolute",
            ArchiveRejection::LinkEscapes { .. } => "archive-link-escapes",
            ArchiveRejection::HardlinkTarget { .. } => "archive-hardlink-target",
            ArchiveRejection::BeneathSymlink { .. } => "archive-beneath-symlink",
            ArchiveRejection::DeviceOrFifo { .. } => "archive-device-or-fifo",
            ArchiveRejection::UnsupportedEntryType { .. } => "archive-entry-type",
            ArchiveRejection::DuplicatePath { .. } => "archive-duplicate-path",
            ArchiveRejection::PaxRecord { .. } => "archive-pax-record",
            ArchiveRejection::PaxKeyword { global: false, .. } => "archive-pax-keyword",
            ArchiveRejection::PaxKeyword { global: true, .. } => "archive-pax-global",
            ArchiveRejection::CompetingNames { .. } => "archive-competing-names",
            ArchiveRejection::FileNamedLikeDirectory { .. } => "archive-file-named-like-directory",
            ArchiveRejection::LinknameOnNonLink { .. } => "archive-linkname-on-non-link",
            ArchiveRejection::SecondTopLevel { .. } => "archive-second-top-level",
            ArchiveRejection::EntryAtRoot { .. } => "archive-entry-at-root",
            ArchiveRejection::PathCollision { .. } => "archive-path-collision",
            ArchiveRejection::FileAsDirectory { .. } => "archive-file-as-directory",
            ArchiveRejection::LinkNotInstalled { .. } => "archive-link-not-installed",
            ArchiveRejection::SpecialModeBits { .. } => "archive-mode-special-bits",
            ArchiveRejection::CorruptGzip { .. } => "archive-corrupt-gzip",
            ArchiveRejection::TrailingData { .. } => "archive-trailing-data",
            ArchiveRejection::CorruptTar { .. } => "archive-corrupt-tar",
            ArchiveRejection::CorruptZip { .. } => "archive-corrupt-zip",
            ArchiveRejection::NotAnArchive { .. } => "archive-format",
            ArchiveRejection::Limit { .. } => "archive-limit",
        }
    }

    pub(crate) fn limit(path: Option<&str>, limit: LimitExceeded) -> Self {
        ArchiveRejection::Limit {
            path: path.map(str::to_string),
            limit,
        }
    }
}

/// Building a content manifest failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The archive was rejected (exit 1).
    #[error(transparent)]
    Rejected(#[from] ArchiveRejection),
    /// The artifact could not be read (exit 2).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
