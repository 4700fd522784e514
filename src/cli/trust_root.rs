//! `vetted trust-root list|update|export`, and the trust flags every verifying command shares.
use super::{Failure, Outcome, finish};
use crate::clock::{Clock, SystemClock};
use crate::trust::dir::{DEFAULT_MAX_AGE_DAYS, TrustDir, TrustDirState, age_days};
use crate::trust::npm_keys::NpmRegistryKeys;
use crate::trust::tuf::{TufError, TufSource, UpdateRequest};
use crate::trust::{
    Instance, PINNED_AS_OF, PinnedRoot, TrustError, TrustRoots, UPSTREAM_SIGSTORE_ROOTS,
};
use jiff::Timestamp;
use serde_json::json;
use std::path::PathBuf;

/// Which trust material a verifying command uses (flattened into every command that verifies).
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Trust directory kept current by `vetted trust-root update`: its Sigstore trusted root
    /// replaces the pinned public-good root and its npm registry keys the pinned keys.
    /// Default: $VETTED_TRUST_DIR, else ~/.local/share/vetted/trust once it has been updated,
    /// else the roots compiled into vetted.
    #[arg(long, value_name = "DIR", env = "VETTED_TRUST_DIR")]
    pub trust_dir: Option<PathBuf>,

    /// A trusted_root.json to use instead of the pinned or installed roots for this run (or the
    /// name of a pinned root: public-good, staging, github).
    #[arg(long, value_name = "FILE|NAME")]
    pub trusted_root: Option<String>,

    /// Warn when the trust root in force is older than this many days.
    #[arg(long, value_name = "DAYS", env = "VETTED_TRUST_MAX_AGE_DAYS", default_value_t = DEFAULT_MAX_AGE_DAYS)]
    pub trust_max_age_days: u64,
}

impl Default for TrustArgs {
    fn default() -> Self {
        TrustArgs {
            trust_dir: None,
            trusted_root: None,
            trust_max_age_days: DEFAULT_MAX_AGE_DAYS,
        }
    }
}

/// The trust material one run uses.
#[derive(Debug, Clone)]
pub struct TrustContext {
    /// Sigstore roots.
    pub roots: TrustRoots,
    /// npm registry keys.
    pub npm_keys: NpmRegistryKeys,
    /// The trust directory in force, if any.
    pub dir: Option<TrustDir>,
}

fn trust_failure(e: TrustError) -> Failure {
    match e {
        TrustError::Read { .. } => Failure::operational(e),
        other => Failure::rejected("trust-root", other),
    }
}

impl TrustArgs {
    /// The trust directory to use: the flag (or $VETTED_TRUST_DIR), which must have been
    /// updated; else the default directory when it has been.
    fn directory(&self) -> Result<Option<TrustDir>, Failure> {
        match &self.trust_dir {
            Some(dir) => match TrustDir::open(dir).map_err(Failure::operational)? {
                Some(d) => Ok(Some(d)),
                None => Err(Failure::operational(format!(
                    "trust directory {} has never been updated (no state.json): run `vetted trust-root update --from DIR|URL --trust-dir {}`",
                    dir.display(),
                    dir.display()
                ))),
            },
            None => match crate::trust::dir::default_dir() {
                Some(dir) => TrustDir::open(&dir).map_err(Failure::operational),
                None => Ok(None),
            },
        }
    }

    /// Load the trust material and print its staleness warnings on stderr.
    pub fn load(&self) -> Result<TrustContext, Failure> {
        let now = SystemClock.now();
        let dir = self.directory()?;
        let npm_keys =
            NpmRegistryKeys::for_trust_dir(dir.as_ref()).map_err(Failure::operational)?;
        let roots = match (&self.trusted_root, &dir) {
            (Some(arg), _) => TrustRoots::from_arg(arg).map_err(trust_failure)?,
            (None, Some(d)) => TrustRoots::from_trust_dir(d).map_err(trust_failure)?,
            (None, None) => TrustRoots::pinned().map_err(trust_failure)?,
        };
        for w in self.warnings(dir.as_ref(), now) {
            eprintln!("vetted: warning: {w}");
        }
        Ok(TrustContext {
            roots,
            npm_keys,
            dir,
        })
    }

    /// The staleness warnings at `now`.
    pub fn warnings(&self, dir: Option<&TrustDir>, now: Timestamp) -> Vec<String> {
        match dir {
            Some(d) => d.warnings(now, self.trust_max_age_days),
            None => pinned_warnings(now, self.trust_max_age_days),
        }
    }
}

/// The warning for the compiled-in roots, if they are older than `max_age_days`.
pub fn pinned_warnings(now: Timestamp, max_age_days: u64) -> Vec<String> {
    let Ok(as_of) = PINNED_AS_OF.parse::<Timestamp>() else {
        return vec![];
    };
    match age_days(as_of, now) {
        Some(days) if days > max_age_days => vec![format!(
            "the trust roots compiled into vetted were last confirmed current {days} days ago ({PINNED_AS_OF}, limit {max_age_days} days): run `vetted trust-root update --from DIR|URL` and use --trust-dir"
        )],
        _ => vec![],
    }
}

/// Show, update or export the trust roots.
#[derive(Debug, clap::Subcommand)]
pub enum TrustRootCommand {
    /// List the trust roots in force: the trust directory's state (source, age, TUF metadata
    /// versions and expiry) or the pinned roots' age, then each root's certificate
    /// authorities, transparency logs, CT logs and timestamp authorities with their validity
    /// windows, and the npm registry keys.
    List {
        #[command(flatten)]
        trust: TrustArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Update the trust directory from a TUF repository in Sigstore's root-signing layout: a
    /// directory copied from a mirror (air-gapped) or a URL. Walks the root chain from the
    /// directory's last root (first time: the pinned Sigstore TUF root, or --initial-root),
    /// checks signatures, thresholds, rollback, expiry, snapshot consistency and target
    /// lengths and hashes, then installs trusted_root.json and the npm registry keys
    /// atomically. Exit 0 updated, 1 rejected (nothing installed), 2 operational error.
    Update {
        /// The repository: a directory, or an http(s) URL (its targets under `targets/`).
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// The trust directory to update (default $VETTED_TRUST_DIR, else
        /// ~/.local/share/vetted/trust).
        #[arg(long, value_name = "DIR", env = "VETTED_TRUST_DIR")]
        trust_dir: Option<PathBuf>,
        /// The TUF root.json to start a new trust directory from (another Sigstore instance's
        /// repository); default the pinned Sigstore public-good TUF root.
        #[arg(long, value_name = "FILE")]
        initial_root: Option<PathBuf>,
        /// Check metadata expiry as of TIME (RFC 3339) instead of now, to replay a recorded
        /// repository whose timestamp has expired. Weakens the freeze-attack check.
        #[arg(long, value_name = "TIME")]
        insecure_as_of: Option<Timestamp>,
        /// Print the new state as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the Sigstore trusted roots embedded in the sigstore-trust-root crate to DIR
    /// (how `trust-roots/` is derived; compare with `git diff` before committing).
    Export {
        /// Output directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub fn run(cmd: TrustRootCommand) -> Outcome {
    match cmd {
        TrustRootCommand::List { trust, json } => finish(json, list(&trust, json)),
        TrustRootCommand::Update {
            from,
            trust_dir,
            initial_root,
            insecure_as_of,
            json,
        } => finish(
            json,
            update(&from, trust_dir, initial_root, insecure_as_of, json),
        ),
        TrustRootCommand::Export { dir } => finish(false, export(&dir)),
    }
}

fn update(
    from: &str,
    trust_dir: Option<PathBuf>,
    initial_root: Option<PathBuf>,
    insecure_as_of: Option<Timestamp>,
    as_json: bool,
) -> Result<Outcome, Failure> {
    let trust_dir = trust_dir
        .or_else(crate::trust::dir::default_dir)
        .ok_or_else(|| Failure::operational("no --trust-dir and no $HOME to default to"))?;
    let initial_root = match initial_root {
        Some(p) => Some(
            crate::limits::read_file_limited(
                &p,
                "TUF root size",
                crate::limits::TufLimits::default().root_bytes,
            )
            .map_err(|e| Failure::operational(format!("--initial-root {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let req = UpdateRequest {
        source: TufSource::parse(from),
        trust_dir: trust_dir.clone(),
        initial_root,
        insecure_as_of,
        limits: crate::limits::TufLimits::default(),
    };
    if insecure_as_of.is_some() {
        eprintln!(
            "vetted: warning: --insecure-as-of: metadata expiry is checked as of {}, not now",
            req.insecure_as_of
                .map(|t| t.to_string())
                .unwrap_or_default()
        );
    }
    let outcome = crate::trust::tuf::update(&req, &SystemClock).map_err(|e| match e {
        TufError::Rejected { check, message } => Failure::rejected(check, message),
        TufError::Operational(m) => Failure::operational(m),
    })?;
    for n in &outcome.notes {
        eprintln!("vetted: note: {n}");
    }
    if as_json {
        crate::outln!(
            "{}",
            json!({"schema": "vetted.trust-root-update/v1", "verdict": "updated", "trust_dir": trust_dir.display().to_string(),
                "state": outcome.state, "previous": outcome.previous})
        );
        return Ok(Outcome::Success);
    }
    let versions = |s: &TrustDirState| {
        s.metadata
            .iter()
            .map(|r| format!("{} v{}", r.role, r.version))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "updated {} from {}",
        trust_dir.display(),
        outcome.state.source
    );
    if let Some(prev) = &outcome.previous {
        eprintln!("  before: {}", versions(prev));
    }
    eprintln!("  now:    {}", versions(&outcome.state));
    for f in std::iter::once(&outcome.state.trusted_root).chain(outcome.state.npm_keys.iter()) {
        eprintln!(
            "  installed {} ({} bytes, sha256 {}) as {}",
            f.target, f.length, f.sha256, f.file
        );
    }
    Ok(Outcome::Success)
}

fn window(range: Option<sigstore_types::TimeRange>) -> serde_json::Value {
    match range {
        Some(r) => json!({"start": r.start.to_string(), "end": r.end.map(|e| e.to_string())}),
        None => json!(null),
    }
}

fn describe(root: &PinnedRoot) -> serde_json::Value {
    let r = &root.root;
    json!({
        "name": root.name,
        "instance": root.instance,
        "certificate_authorities": r.certificate_authorities.iter().map(|ca| json!({
            "uri": ca.uri,
            "subject": ca.subject.common_name.clone().or(ca.subject.organization.clone()),
            "certificates": ca.cert_chain.certificates.len(),
            "valid_for": window(ca.valid_for),
        })).collect::<Vec<_>>(),
        "transparency_logs": r.tlogs.iter().map(|t| json!({
            "base_url": t.base_url,
            "log_id": hex::encode(t.log_id.key_id.as_bytes()),
            "key": t.public_key.key_details.as_str(),
            "valid_for": window(t.public_key.valid_for),
        })).collect::<Vec<_>>(),
        "ct_logs": r.ctlogs.iter().map(|t| json!({
            "base_url": t.base_url,
            "log_id": hex::encode(t.log_id.key_id.as_bytes()),
            "key": t.public_key.key_details.as_str(),
            "valid_for": window(t.public_key.valid_for),
        })).collect::<Vec<_>>(),
        "timestamp_authorities": r.timestamp_authorities.iter().map(|t| json!({
            "uri": t.uri,
            "subject": t.subject.common_name.clone().or(t.subject.organization.clone()),
            "valid_for": window(t.valid_for),
        })).collect::<Vec<_>>(),
    })
}

fn state_json(dir: &TrustDir, now: Timestamp) -> serde_json::Value {
    let st = &dir.state;
    json!({
        "path": dir.path.display().to_string(),
        "source": st.source,
        "updated_at": st.updated_at.to_string(),
        "age_days": age_days(st.updated_at, now),
        "checked_as_of": st.checked_as_of.to_string(),
        "insecure_as_of": st.insecure_as_of,
        "metadata": st.metadata.iter().map(|r| json!({
            "role": r.role, "version": r.version, "expires": r.expires.to_string(),
            "expired": r.expires <= now,
        })).collect::<Vec<_>>(),
        "files": std::iter::once(&st.trusted_root).chain(st.npm_keys.iter()).collect::<Vec<_>>(),
    })
}

fn list(trust: &TrustArgs, as_json: bool) -> Result<Outcome, Failure> {
    let now = SystemClock.now();
    let ctx = trust.load()?;
    let roots: Vec<PinnedRoot> = match (&trust.trusted_root, &ctx.dir) {
        (None, None) => [Instance::PublicGood, Instance::Staging, Instance::GitHub]
            .into_iter()
            .map(TrustRoots::embedded)
            .collect::<Result<_, _>>()
            .map_err(Failure::operational)?,
        _ => ctx.roots.roots().to_vec(),
    };
    let source = match (&trust.trusted_root, &ctx.dir) {
        (Some(arg), _) => json!({"kind": "trusted-root", "trusted_root": arg}),
        (None, Some(d)) => json!({"kind": "trust-dir", "trust_dir": state_json(d, now)}),
        (None, None) => json!({"kind": "pinned", "pinned_as_of": PINNED_AS_OF,
            "age_days": PINNED_AS_OF.parse::<Timestamp>().ok().and_then(|t| age_days(t, now))}),
    };
    let warnings = trust.warnings(ctx.dir.as_ref(), now);
    let keys = ctx.npm_keys.clone();
    let described: Vec<_> = roots.iter().map(describe).collect();
    let vendor_keys = crate::trust::vendor::VendorKey::vendors()
        .into_iter()
        .map(|v| crate::trust::vendor::VendorKey::pinned(v).map(|k| k.info(now)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::operational)?;
    let npm: Vec<_> = keys
        .keys()
        .iter()
        .map(|k| {
            json!({"keyid": k.keyid, "usage": k.usage,
                "valid_from": k.valid_from.map(|t| t.to_string()), "valid_until": k.valid_until.map(|t| t.to_string())})
        })
        .collect();
    if as_json {
        crate::outln!(
            "{}",
            json!({"schema": "vetted.trust-root-list/v1", "source": source, "warnings": warnings, "sigstore": described, "npm_registry_keys": npm, "vendor_keys": vendor_keys})
        );
        return Ok(Outcome::Success);
    }
    let w = |v: &serde_json::Value| -> String {
        if v.is_null() {
            return "(no window)".into();
        }
        let start = v["start"].as_str().unwrap_or("?");
        let end = v["end"].as_str().unwrap_or("open");
        format!("{start} .. {end}")
    };
    match &ctx.dir {
        Some(d) => {
            let st = &d.state;
            crate::outln!("trust directory {} (from {})", d.path.display(), st.source);
            crate::outln!(
                "  updated {} ({} days ago){}",
                st.updated_at,
                age_days(st.updated_at, now).map_or("?".into(), |a| a.to_string()),
                if st.insecure_as_of {
                    format!(
                        ", expiry checked as of {} (--insecure-as-of)",
                        st.checked_as_of
                    )
                } else {
                    String::new()
                }
            );
            for r in &st.metadata {
                let state = if r.expires <= now { "EXPIRED" } else { "valid" };
                crate::outln!(
                    "  {:<20} version {:<6} expires {} ({state})",
                    r.role,
                    r.version,
                    r.expires
                );
            }
            for f in std::iter::once(&st.trusted_root).chain(st.npm_keys.iter()) {
                crate::outln!(
                    "  {:<30} sha256 {} ({} bytes)",
                    f.target,
                    f.sha256,
                    f.length
                );
            }
        }
        None if trust.trusted_root.is_none() => {
            crate::outln!(
                "pinned roots (compiled in), last confirmed current {PINNED_AS_OF} ({} days ago)",
                source["age_days"]
                    .as_u64()
                    .map_or("?".into(), |a| a.to_string())
            );
        }
        None => {}
    }
    for root in &described {
        crate::outln!(
            "{} ({})",
            root["name"].as_str().unwrap_or(""),
            root["instance"].as_str().unwrap_or("")
        );
        for (title, key, label) in [
            ("certificate authorities", "certificate_authorities", "uri"),
            ("transparency logs", "transparency_logs", "base_url"),
            ("CT logs", "ct_logs", "base_url"),
            ("timestamp authorities", "timestamp_authorities", "uri"),
        ] {
            let items = root[key].as_array().cloned().unwrap_or_default();
            crate::outln!("  {title}: {}", items.len());
            for item in &items {
                let name = item[label]
                    .as_str()
                    .or_else(|| item["subject"].as_str())
                    .unwrap_or("(unnamed)");
                crate::outln!("    {name:<50} {}", w(&item["valid_for"]));
            }
        }
    }
    crate::outln!("npm registry keys: {}", npm.len());
    for k in &npm {
        let from = k["valid_from"].as_str().unwrap_or("(unbounded)");
        let until = k["valid_until"].as_str().unwrap_or("open");
        crate::outln!(
            "    {:<50} {:<18} {from} .. {until}",
            k["keyid"].as_str().unwrap_or(""),
            k["usage"]
                .as_array()
                .map(|u| u
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(","))
                .unwrap_or_default()
        );
    }
    crate::outln!("vendor keys (OpenPGP): {}", vendor_keys.len());
    for k in &vendor_keys {
        crate::outln!(
            "    {:<14} {} {} created {} expires {} {}",
            k.vendor,
            k.fingerprint,
            k.algorithm,
            k.created,
            k.expires.as_deref().unwrap_or("never"),
            k.user_ids.join("; ")
        );
    }
    Ok(Outcome::Success)
}

fn export(dir: &std::path::Path) -> Result<Outcome, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::operational(format!("cannot create {}: {e}", dir.display())))?;
    for (name, text) in UPSTREAM_SIGSTORE_ROOTS {
        let path = dir.join(name);
        crate::atomic::write(&path, text.as_bytes())
            .map_err(|e| Failure::operational(format!("cannot write {}: {e}", path.display())))?;
        eprintln!(
            "wrote {} ({} bytes, sha256 {})",
            path.display(),
            text.len(),
            crate::digest::sha256(text.as_bytes()).hex()
        );
    }
    Ok(Outcome::Success)
}
