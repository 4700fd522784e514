//! `vetted trust-root list|export`.
use super::{Failure, Outcome, finish};
use crate::trust::npm_keys::NpmRegistryKeys;
use crate::trust::{Instance, PinnedRoot, TrustRoots, UPSTREAM_SIGSTORE_ROOTS};
use serde_json::json;
use std::path::PathBuf;

/// Show or export the pinned trust roots.
#[derive(Debug, clap::Subcommand)]
pub enum TrustRootCommand {
    /// List each pinned root's certificate authorities, transparency logs, CT logs and timestamp
    /// authorities with their validity windows, and the npm registry keys.
    List {
        /// A trusted_root.json to list instead of the pinned roots.
        #[arg(long, value_name = "FILE")]
        trusted_root: Option<String>,
        /// Print JSON.
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
        TrustRootCommand::List { trusted_root, json } => {
            finish(json, list(trusted_root.as_deref(), json))
        }
        TrustRootCommand::Export { dir } => finish(false, export(&dir)),
    }
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

fn list(custom: Option<&str>, as_json: bool) -> Result<Outcome, Failure> {
    let roots: Vec<PinnedRoot> = match custom {
        Some(arg) => TrustRoots::from_arg(arg)
            .map_err(Failure::operational)?
            .roots()
            .to_vec(),
        None => [Instance::PublicGood, Instance::Staging, Instance::GitHub]
            .into_iter()
            .map(TrustRoots::embedded)
            .collect::<Result<_, _>>()
            .map_err(Failure::operational)?,
    };
    let keys = NpmRegistryKeys::pinned().map_err(Failure::operational)?;
    let described: Vec<_> = roots.iter().map(describe).collect();
    let now = jiff::Timestamp::now();
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
            json!({"sigstore": described, "npm_registry_keys": npm, "vendor_keys": vendor_keys})
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
            "    {:<50} {from} .. {until}",
            k["keyid"].as_str().unwrap_or("")
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
