//! `vetted trust-root update`: refresh the trust directory from a TUF repository in the
//! layout of Sigstore's root-signing (`N.root.json`, `timestamp.json`, `N.snapshot.json`,
//! `N.targets.json`, delegated `N.registry.npmjs.org.json`, hash-prefixed targets), offline
//! from a copied directory or online from a URL.
//!
//! The TUF client is awslabs' `tough`: it walks the root chain from the trusted root
//! (TUF 5.3: each N+1 signed by a threshold of N's keys and of its own, versions exactly N+1),
//! checks the timestamp, snapshot and targets signatures and thresholds, version rollback
//! against the previous update (5.4.3, 5.5.5), mix-and-match (5.5.3 / 5.6.4: the targets
//! version is the one the snapshot names), and target lengths and hashes (5.7.2).
//!
//! Expiry (the freeze attack, 5.3.10, 5.4.4, 5.5.6, 5.6.5) is checked here instead, against
//! our clock (`crate::clock`), because tough reads the system clock itself: tough runs with
//! expiry enforcement off and every loaded role's `expires` is compared with the clock, or with
//! the `--insecure-as-of` time a user named to replay a recorded repository.
use super::dir::{InstalledFile, RoleState, STATE_FORMAT, TrustDir, TrustDirState};
use super::npm_keys::NpmRegistryKeys;
use crate::clock::Clock;
use crate::limits::TufLimits;
use crate::source::tuf::TufTransport;
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use tough::{ExpirationEnforcement, RepositoryLoader, TargetName};
use url::Url;

/// The Sigstore public-good TUF root this build trusts first (root v15 of
/// `sigstore/root-signing`, the root sigstore-python and sigstore-js embed), used when the trust
/// directory has never been updated and no `--initial-root` is given.
pub const PINNED_TUF_ROOT: &str = include_str!("../../trust-roots/sigstore-tuf-root.json");

/// The target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the npm registry keys (delegated to the `registry.npmjs.org` role).
pub const NPM_KEYS_TARGET: &str = "registry.npmjs.org/keys.json";

/// The trusted root media types this client knows (Sigstore protobuf-specs).
pub const TRUSTED_ROOT_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// Where the repository is.
#[derive(Debug, Clone)]
pub enum TufSource {
    /// A local copy (air-gapped): metadata at its top, targets in `targets/`.
    Dir(PathBuf),
    /// A URL: metadata at it, targets under `targets/`.
    Url(Url),
}

impl TufSource {
    /// A directory path or an `http(s)://` URL.
    pub fn parse(arg: &str) -> TufSource {
        match Url::parse(arg) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => TufSource::Url(u),
            _ => TufSource::Dir(PathBuf::from(arg)),
        }
    }

    fn describe(&self) -> String {
        match self {
            TufSource::Dir(p) => p.display().to_string(),
            TufSource::Url(u) => u.to_string(),
        }
    }
}

/// One update.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The repository.
    pub source: TufSource,
    /// The trust directory to update.
    pub trust_dir: PathBuf,
    /// The TUF root to start from when the directory has never been updated (default
    /// [`PINNED_TUF_ROOT`]). Ignored (an error) once the directory has a state.
    pub initial_root: Option<Vec<u8>>,
    /// Check expiry as of this time instead of the clock (`--insecure-as-of`).
    pub insecure_as_of: Option<Timestamp>,
    /// Limits.
    pub limits: TufLimits,
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
pub enum TufError {
    /// The repository's metadata or targets failed a check: nothing was installed.
    #[error("{check}: {message}")]
    Rejected {
        /// Short name of the check.
        check: &'static str,
        /// Expected and actual.
        message: String,
    },
    /// Our own failure (disk, network, usage): nothing was installed.
    #[error("{0}")]
    Operational(String),
}

impl TufError {
    fn rejected(check: &'static str, message: impl Into<String>) -> TufError {
        TufError::Rejected {
            check,
            message: message.into(),
        }
    }
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    /// The new state.
    pub state: TrustDirState,
    /// The state before, if the directory had one.
    pub previous: Option<TrustDirState>,
    /// Notes for the user (e.g. the npm keys target is not published).
    pub notes: Vec<String>,
}

fn op(e: impl std::fmt::Display) -> TufError {
    TufError::Operational(e.to_string())
}

/// Run an update. Nothing in the trust directory changes unless every check passes.
pub fn update(req: &UpdateRequest, clock: &dyn Clock) -> Result<UpdateOutcome, TufError> {
    std::fs::create_dir_all(&req.trust_dir)
        .map_err(|e| op(format!("cannot create {}: {e}", req.trust_dir.display())))?;
    let _lock = crate::atomic::Lock::acquire(&req.trust_dir.join(".lock"))
        .map_err(|e| op(format!("cannot lock {}: {e}", req.trust_dir.display())))?;
    let previous = TrustDir::read_state(&req.trust_dir).map_err(op)?;

    let (metadata_url, targets_url, transport) = match &req.source {
        TufSource::Dir(dir) => {
            let abs = std::fs::canonicalize(dir)
                .map_err(|e| op(format!("repository {}: {e}", dir.display())))?;
            if !abs.join("timestamp.json").is_file() {
                return Err(op(format!(
                    "repository {}: no timestamp.json (expected a TUF repository in the root-signing layout)",
                    dir.display()
                )));
            }
            let meta = Url::from_directory_path(&abs).map_err(|_| {
                op(format!(
                    "repository {}: not a directory path",
                    abs.display()
                ))
            })?;
            let targets = Url::from_directory_path(abs.join("targets")).map_err(|_| {
                op(format!(
                    "repository {}: not a directory path",
                    abs.display()
                ))
            })?;
            (meta, targets, TufTransport::filesystem())
        }
        TufSource::Url(u) => {
            let mut base = u.clone();
            if !base.path().ends_with('/') {
                base.set_path(&format!("{}/", base.path()));
            }
            let targets = base.join("targets/").map_err(op)?;
            let max = req
                .limits
                .targets_bytes
                .max(req.limits.snapshot_bytes)
                .max(req.limits.target_bytes)
                .max(req.limits.root_bytes);
            let t = TufTransport::http(
                max,
                std::time::Duration::from_secs(req.limits.request_seconds),
            )
            .map_err(op)?;
            (base, targets, t)
        }
    };

    // The root to start from: the directory's last verified root (so a root can never roll
    // back), or the pinned/initial root on first use.
    let start_root: Vec<u8> = match &previous {
        Some(state) => {
            if req.initial_root.is_some() {
                return Err(op(format!(
                    "{} was already initialised from a TUF root; --initial-root only applies to a new trust directory",
                    req.trust_dir.display()
                )));
            }
            let dir = TrustDir::tuf_state_dir(&req.trust_dir, state).map_err(op)?;
            std::fs::read(dir.join("root.json"))
                .map_err(|e| op(format!("{}: {e}", dir.join("root.json").display())))?
        }
        None => req
            .initial_root
            .clone()
            .unwrap_or_else(|| PINNED_TUF_ROOT.as_bytes().to_vec()),
    };

    // A fresh generation of the TUF client state, seeded with the previous trusted metadata
    // so that tough's rollback checks compare against what the last update accepted.
    let tuf_parent = req.trust_dir.join("tuf");
    std::fs::create_dir_all(&tuf_parent).map_err(op)?;
    let scratch = tempfile::Builder::new()
        .prefix("gen-")
        .tempdir_in(&tuf_parent)
        .map_err(op)?;
    if let Some(state) = &previous {
        let old = TrustDir::tuf_state_dir(&req.trust_dir, state).map_err(op)?;
        for f in ["root.json", "timestamp.json", "snapshot.json"] {
            let from = old.join(f);
            if from.is_file() {
                std::fs::copy(&from, scratch.path().join(f)).map_err(op)?;
            }
        }
    }

    let as_of = req.insecure_as_of.unwrap_or_else(|| clock.now());
    let loaded = load(
        &start_root,
        metadata_url,
        targets_url,
        transport.clone(),
        scratch.path(),
        &req.limits,
    );
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            if let Some(o) = transport.operational_error() {
                return Err(TufError::Operational(format!(
                    "cannot read the repository: {o}"
                )));
            }
            return Err(e);
        }
    };

    // Freeze attack: every role in force must be unexpired at the reference time.
    for role in &loaded.roles {
        if role.expires <= as_of {
            let hint = if req.insecure_as_of.is_some() {
                String::new()
            } else {
                "; replaying a recorded repository needs --insecure-as-of TIME".to_string()
            };
            return Err(TufError::rejected(
                "tuf-expired",
                format!(
                    "{} metadata version {} expired at {} (checked as of {as_of}){hint}",
                    role.role, role.version, role.expires
                ),
            ));
        }
    }

    let Some(trusted_root) = loaded.trusted_root else {
        return Err(TufError::rejected(
            "tuf-target",
            format!("the repository's targets list no {TRUSTED_ROOT_TARGET}"),
        ));
    };
    let text = std::str::from_utf8(&trusted_root.bytes)
        .map_err(|_| TufError::rejected("tuf-target", "trusted_root.json is not UTF-8"))?;
    // Fail closed on a trusted root of a format we do not know (the engine's parser is lenient).
    let media_type = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    if !TRUSTED_ROOT_MEDIA_TYPES.contains(&media_type.as_str()) {
        return Err(TufError::rejected(
            "tuf-target",
            format!(
                "{TRUSTED_ROOT_TARGET} media type: expected one of {}, got {media_type:?}",
                TRUSTED_ROOT_MEDIA_TYPES.join(", ")
            ),
        ));
    }
    sigstore_trust_root::TrustedRoot::from_json(text).map_err(|e| {
        TufError::rejected(
            "tuf-target",
            format!("{TRUSTED_ROOT_TARGET} is not a Sigstore trusted root: {e}"),
        )
    })?;
    let mut notes = Vec::new();
    if let Some(keys) = &loaded.npm_keys {
        let text = std::str::from_utf8(&keys.bytes)
            .map_err(|_| TufError::rejected("tuf-target", "npm keys target is not UTF-8"))?;
        NpmRegistryKeys::parse(text)
            .map_err(|e| TufError::rejected("tuf-target", format!("{NPM_KEYS_TARGET}: {e}")))?;
    } else {
        notes.push(format!(
            "the repository publishes no {NPM_KEYS_TARGET}: the npm registry keys stay the pinned ones"
        ));
    }

    // Install: content-named files first, then the state (the commit point).
    let trusted_file = install(&req.trust_dir, &trusted_root, "trusted_root.json")?;
    let npm_file = match &loaded.npm_keys {
        Some(k) => Some(install(&req.trust_dir, k, "npm-registry-keys.json")?),
        None => None,
    };
    let generation = scratch.keep();
    let generation_name = generation
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| format!("tuf/{n}"))
        .ok_or_else(|| op("temporary directory has no name"))?;
    // tough keeps the last root it verified; we keep its exact bytes so the next update starts
    // from them byte for byte.
    crate::atomic::write(&generation.join("root.json"), &loaded.final_root).map_err(op)?;
    let state = TrustDirState {
        format: STATE_FORMAT.to_string(),
        source: req.source.describe(),
        updated_at: clock.now(),
        checked_as_of: as_of,
        insecure_as_of: req.insecure_as_of.is_some(),
        metadata: loaded.roles,
        trusted_root: trusted_file,
        npm_keys: npm_file,
        tuf_state: generation_name,
    };
    let json = serde_json::to_vec_pretty(&state).map_err(op)?;
    if let Err(e) = crate::atomic::write(&TrustDir::state_path(&req.trust_dir), &json) {
        let _ = std::fs::remove_dir_all(&generation);
        return Err(op(e));
    }
    cleanup(&req.trust_dir, &state);
    Ok(UpdateOutcome {
        state,
        previous,
        notes,
    })
}

struct FetchedTarget {
    name: String,
    bytes: Vec<u8>,
}

struct Loaded {
    roles: Vec<RoleState>,
    final_root: Vec<u8>,
    trusted_root: Option<FetchedTarget>,
    npm_keys: Option<FetchedTarget>,
}

fn rejected_tough(e: tough::error::Error) -> TufError {
    // Walk the cause chain: tough's top-level messages ("Failed to verify timestamp metadata")
    // name the step, the causes name the check (threshold, version, hash).
    let mut message = e.to_string();
    let mut cur = std::error::Error::source(&e);
    while let Some(c) = cur {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cur = c.source();
    }
    TufError::rejected("tuf-metadata", message)
}

fn load(
    root: &[u8],
    metadata_url: Url,
    targets_url: Url,
    transport: TufTransport,
    datastore: &Path,
    limits: &TufLimits,
) -> Result<Loaded, TufError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(op)?;
    runtime.block_on(async {
        let root_vec = root.to_vec();
        let repo = RepositoryLoader::new(&root_vec, metadata_url.clone(), targets_url)
            .transport(transport.clone())
            .datastore(datastore)
            .limits(tough::Limits {
                max_root_size: limits.root_bytes,
                max_targets_size: limits.targets_bytes,
                max_timestamp_size: limits.timestamp_bytes,
                max_snapshot_size: limits.snapshot_bytes,
                max_root_updates: limits.root_updates,
            })
            // Expiry is checked by the caller against vetted's clock (module doc).
            .expiration_enforcement(ExpirationEnforcement::Unsafe)
            .load()
            .await
            .map_err(rejected_tough)?;

        let mut roles = vec![
            RoleState {
                role: "root".into(),
                version: repo.root().signed.version.get(),
                expires: repo.root().signed.expires,
            },
            RoleState {
                role: "timestamp".into(),
                version: repo.timestamp().signed.version.get(),
                expires: repo.timestamp().signed.expires,
            },
            RoleState {
                role: "snapshot".into(),
                version: repo.snapshot().signed.version.get(),
                expires: repo.snapshot().signed.expires,
            },
            RoleState {
                role: "targets".into(),
                version: repo.targets().signed.version.get(),
                expires: repo.targets().signed.expires,
            },
        ];
        if let Some(delegations) = &repo.targets().signed.delegations {
            for d in &delegations.roles {
                if let Some(t) = &d.targets {
                    roles.push(RoleState {
                        role: d.name.clone(),
                        version: t.signed.version.get(),
                        expires: t.signed.expires,
                    });
                }
            }
        }

        // The final root's exact bytes (tough re-serialises what it stores).
        let final_version = repo.root().signed.version.get();
        let final_root = if final_version
            == serde_json::from_slice::<tough::schema::Signed<tough::schema::Root>>(root)
                .map(|r| r.signed.version.get())
                .unwrap_or(0)
        {
            root.to_vec()
        } else {
            let url = metadata_url
                .join(&format!("{final_version}.root.json"))
                .map_err(op)?;
            let stream = tough::Transport::fetch(&transport, url.clone())
                .await
                .map_err(|e| op(format!("{url}: {e}")))?;
            let bytes = tough::IntoVec::into_vec(stream)
                .await
                .map_err(|e| op(format!("{url}: {e}")))?;
            // It must be the root tough verified, not whatever the server returns now.
            let reread: tough::schema::Signed<tough::schema::Root> = serde_json::from_slice(&bytes)
                .map_err(|e| TufError::rejected("tuf-metadata", format!("{url}: {e}")))?;
            if reread.signed != repo.root().signed || reread.signatures != repo.root().signatures {
                return Err(TufError::rejected(
                    "tuf-metadata",
                    format!("{url} changed during the update"),
                ));
            }
            bytes
        };

        let trusted_root = read_target(&repo, TRUSTED_ROOT_TARGET, limits).await?;
        let npm_keys = read_target(&repo, NPM_KEYS_TARGET, limits).await?;
        Ok(Loaded {
            roles,
            final_root,
            trusted_root,
            npm_keys,
        })
    })
}

async fn read_target(
    repo: &tough::Repository,
    name: &str,
    limits: &TufLimits,
) -> Result<Option<FetchedTarget>, TufError> {
    let target_name = TargetName::new(name).map_err(op)?;
    // Refuse oversized targets before fetching: lengths come from signed metadata, but a
    // compromised delegated key could still name a huge one.
    let listed = repo
        .all_targets()
        .find(|(n, _)| n.raw() == name)
        .map(|(_, t)| t.length);
    match listed {
        None => return Ok(None),
        Some(len) if len > limits.target_bytes => {
            return Err(TufError::rejected(
                "tuf-target",
                format!(
                    "{name} is listed as {len} bytes, limit {}",
                    limits.target_bytes
                ),
            ));
        }
        Some(_) => {}
    }
    let Some(stream) = repo
        .read_target(&target_name)
        .await
        .map_err(rejected_tough)?
    else {
        return Ok(None);
    };
    // tough checks the length and sha256 while streaming and fails the stream on a mismatch
    // (TUF 5.7.2); nothing is used unless the whole stream succeeds.
    let bytes = tough::IntoVec::into_vec(stream)
        .await
        .map_err(rejected_tough)?;
    Ok(Some(FetchedTarget {
        name: name.to_string(),
        bytes,
    }))
}

fn install(dir: &Path, t: &FetchedTarget, file_name: &str) -> Result<InstalledFile, TufError> {
    let hex = crate::digest::sha256(&t.bytes).hex();
    let rel = format!("targets/{hex}.{file_name}");
    crate::atomic::write(&dir.join(&rel), &t.bytes).map_err(op)?;
    Ok(InstalledFile {
        target: t.name.clone(),
        file: rel,
        sha256: hex,
        length: t.bytes.len() as u64,
    })
}

/// Remove files and TUF generations the new state no longer names (best effort: leftovers
/// are harmless, the state names what is in force).
fn cleanup(dir: &Path, state: &TrustDirState) {
    let keep: Vec<String> = std::iter::once(state.trusted_root.file.clone())
        .chain(state.npm_keys.iter().map(|f| f.file.clone()))
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir.join("targets")) {
        for e in entries.flatten() {
            let rel = format!("targets/{}", e.file_name().to_string_lossy());
            if !keep.contains(&rel) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("tuf")) {
        for e in entries.flatten() {
            let rel = format!("tuf/{}", e.file_name().to_string_lossy());
            if rel != state.tuf_state {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}
