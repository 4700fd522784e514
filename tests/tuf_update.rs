//! `vetted trust-root update`: a TUF repository generated here with tough's editor and a
//! project test signer (fresh Ed25519 keys), each attack rejected beside a passing update; and
//! the real copy of Sigstore's root-signing repository in the corpus, updated end to end.
mod common;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use jiff::{Timestamp, ToSpan};
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use tough::editor::RepositoryEditor;
use tough::editor::signed::SignedRole;
use tough::key_source::{KeySource, LocalKeySource};
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{KeyHolder, PathPattern, PathSet, RoleKeys, RoleType, Root, Target};
use vetted::clock::FixedClock;
use vetted::trust::TrustRoots;
use vetted::trust::dir::TrustDir;
use vetted::trust::tuf::{TufError, TufSource, UpdateOutcome, UpdateRequest, update};

/// The generated repositories' "now": metadata expiries are relative to it.
fn base() -> Timestamp {
    "2030-01-01T00:00:00Z".parse().expect("time")
}

fn at(days: i64) -> Timestamp {
    base() + (days * 24).hours()
}

/// One Ed25519 test key on disk (PKCS#8 DER, as tough's LocalKeySource reads it).
fn key(dir: &Path, name: &str) -> PathBuf {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("keygen");
    let path = dir.join(format!("{name}.pk8"));
    std::fs::write(&path, pkcs8.as_ref()).expect("write key");
    path
}

fn source(path: &Path) -> Box<dyn KeySource> {
    Box::new(LocalKeySource {
        path: path.to_path_buf(),
    })
}

/// The project's test signer: keys for every role, in a temporary directory.
struct Signer {
    _dir: tempfile::TempDir,
    root: Vec<PathBuf>,
    targets: PathBuf,
    snapshot: PathBuf,
    timestamp: Vec<PathBuf>,
    npm: PathBuf,
}

impl Signer {
    fn new() -> Signer {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().to_path_buf();
        Signer {
            root: (0..3).map(|i| key(&p, &format!("root{i}"))).collect(),
            targets: key(&p, "targets"),
            snapshot: key(&p, "snapshot"),
            timestamp: vec![key(&p, "timestamp0"), key(&p, "timestamp1")],
            npm: key(&p, "npm"),
            _dir: dir,
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn key_ids(
    paths: &[PathBuf],
) -> (
    Vec<Decoded<Hex>>,
    HashMap<Decoded<Hex>, tough::schema::key::Key>,
) {
    let mut ids = Vec::new();
    let mut keys = HashMap::new();
    for p in paths {
        let k = source(p).as_sign().await.expect("key").tuf_key();
        let id = k.key_id().expect("key id");
        ids.push(id.clone());
        keys.insert(id, k);
    }
    (ids, keys)
}

/// A root: root keys `root_keys` (threshold `root_threshold`), the signer's other role keys,
/// timestamp threshold `ts_threshold` (of two keys).
async fn root_role(
    s: &Signer,
    version: u64,
    root_keys: &[PathBuf],
    root_threshold: u64,
    ts_threshold: u64,
    expires: Timestamp,
) -> Root {
    let mut keys = HashMap::new();
    let mut roles = HashMap::new();
    for (role, paths, threshold) in [
        (RoleType::Root, root_keys.to_vec(), root_threshold),
        (RoleType::Targets, vec![s.targets.clone()], 1),
        (RoleType::Snapshot, vec![s.snapshot.clone()], 1),
        (RoleType::Timestamp, s.timestamp.clone(), ts_threshold),
    ] {
        let (ids, k) = key_ids(&paths).await;
        keys.extend(k);
        roles.insert(
            role,
            RoleKeys {
                keyids: ids,
                threshold: NonZeroU64::new(threshold).expect("threshold"),
                _extra: HashMap::new(),
            },
        );
    }
    Root {
        spec_version: "1.0.0".into(),
        consistent_snapshot: true,
        version: NonZeroU64::new(version).expect("version"),
        expires,
        keys,
        roles,
        _extra: HashMap::new(),
    }
}

async fn sign_root(root: &Root, signers: &[PathBuf], holder: &Root) -> SignedRole<Root> {
    let sources: Vec<Box<dyn KeySource>> = signers.iter().map(|p| source(p)).collect();
    SignedRole::new(
        root.clone(),
        &KeyHolder::Root(holder.clone()),
        &sources,
        &SystemRandom::new(),
    )
    .await
    .expect("sign root")
}

/// What one generated repository state holds.
#[derive(Clone)]
struct State {
    version: u64,
    timestamp_expires: Timestamp,
    targets_expires: Timestamp,
    npm_expires: Timestamp,
    root_expires: Timestamp,
    trusted_root: Vec<u8>,
    npm_keys: Option<Vec<u8>>,
}

impl State {
    fn good(version: u64) -> State {
        State {
            version,
            timestamp_expires: at(7),
            targets_expires: at(365),
            npm_expires: at(180),
            root_expires: at(200),
            trusted_root: vetted::trust::PINNED_FILES
                .iter()
                .find(|(n, _)| *n == "public-good.trusted_root.json")
                .map(|(_, t)| t.as_bytes().to_vec())
                .expect("pinned root"),
            npm_keys: Some(npm_keys_target()),
        }
    }
}

/// The pinned npm keys, written the way Sigstore's TUF repository publishes them.
fn npm_keys_target() -> Vec<u8> {
    let pinned: Value = serde_json::from_str(
        vetted::trust::PINNED_FILES
            .iter()
            .find(|(n, _)| *n == "npm-registry-keys.json")
            .map(|(_, t)| *t)
            .expect("npm keys"),
    )
    .expect("json");
    let mut keys = Vec::new();
    for k in pinned["keys"].as_array().expect("keys") {
        for usage in k["usage"].as_array().expect("usage") {
            let mut valid = serde_json::Map::new();
            valid.insert(
                "start".into(),
                k["valid_from"]
                    .as_str()
                    .map_or(Value::from("2020-01-01T00:00:00Z"), Value::from),
            );
            if let Some(end) = k["valid_until"].as_str() {
                valid.insert("end".into(), Value::from(end));
            }
            keys.push(serde_json::json!({
                "keyId": k["keyid"], "keyUsage": usage,
                "publicKey": {"rawBytes": k["public_key"], "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": Value::Object(valid)}
            }));
        }
    }
    serde_json::to_vec_pretty(&serde_json::json!({ "keys": keys })).expect("json")
}

/// Place a target the way Sigstore does with consistent snapshots (TUF 5.7.3):
/// `targets/<dir>/<sha256>.<name>`.
fn place_target(repo: &Path, name: &str, bytes: &[u8]) {
    let hex = vetted::digest::sha256(bytes).hex();
    let (dir, file) = match name.rsplit_once('/') {
        Some((d, f)) => (format!("targets/{d}"), f.to_string()),
        None => ("targets".to_string(), name.to_string()),
    };
    std::fs::create_dir_all(repo.join(&dir)).expect("mkdir");
    std::fs::write(repo.join(dir).join(format!("{hex}.{file}")), bytes).expect("target");
}

async fn target(bytes: &[u8]) -> Target {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("t");
    std::fs::write(&p, bytes).expect("write");
    Target::from_path(&p).await.expect("target")
}

/// Write one repository state into `repo`: root v1 (signed by its own keys), timestamp,
/// snapshot and targets of `state.version`, the npm delegation, the targets.
fn write_repo(s: &Signer, repo: &Path, state: &State) -> PathBuf {
    std::fs::create_dir_all(repo).expect("mkdir");
    let runtime = rt();
    runtime.block_on(async {
        let root = root_role(s, 1, &s.root, 2, 1, state.root_expires).await;
        let signed_root = sign_root(&root, &s.root, &root).await;
        signed_root.write(repo, true).await.expect("write root");
        let root_path = repo.join("1.root.json");
        let v = NonZeroU64::new(state.version).expect("version");
        let mut editor = RepositoryEditor::new(&root_path).await.expect("editor");
        editor
            .targets_version(v)
            .expect("targets version")
            .targets_expires(state.targets_expires)
            .expect("targets expires")
            .snapshot_version(v)
            .snapshot_expires(at(3650))
            .timestamp_version(v)
            .timestamp_expires(state.timestamp_expires);
        editor
            .add_target("trusted_root.json", target(&state.trusted_root).await)
            .expect("add target");
        let targets_key = [source(&s.targets)];
        let npm_key = [source(&s.npm)];
        if let Some(npm) = &state.npm_keys {
            editor
                .delegate_role(
                    "registry.npmjs.org",
                    &npm_key,
                    PathSet::Paths(vec![
                        PathPattern::new("registry.npmjs.org/*").expect("pattern"),
                    ]),
                    true,
                    NonZeroU64::new(1).expect("threshold"),
                    state.npm_expires,
                    v,
                )
                .await
                .expect("delegate")
                .sign_targets_editor(&targets_key)
                .await
                .expect("sign targets")
                .change_delegated_targets("registry.npmjs.org")
                .expect("change")
                .targets_version(v)
                .expect("version")
                .targets_expires(state.npm_expires)
                .expect("expires")
                .add_target("registry.npmjs.org/keys.json", target(npm).await)
                .expect("add npm target")
                .sign_targets_editor(&npm_key)
                .await
                .expect("sign npm")
                .change_delegated_targets("targets")
                .expect("back to targets")
                .targets_version(v)
                .expect("version")
                .targets_expires(state.targets_expires)
                .expect("expires");
        }
        let all: Vec<Box<dyn KeySource>> = std::iter::once(&s.targets)
            .chain([&s.snapshot])
            .chain(s.timestamp.iter())
            .map(|p| source(p))
            .collect();
        let signed = editor.sign(&all).await.expect("sign repository");
        signed.write(repo).await.expect("write metadata");
    });
    place_target(repo, "trusted_root.json", &state.trusted_root);
    if let Some(npm) = &state.npm_keys {
        place_target(repo, "registry.npmjs.org/keys.json", npm);
    }
    repo.join("1.root.json")
}

fn request(repo: &Path, trust_dir: &Path, initial_root: &Path) -> UpdateRequest {
    UpdateRequest {
        source: TufSource::Dir(repo.to_path_buf()),
        trust_dir: trust_dir.to_path_buf(),
        initial_root: Some(std::fs::read(initial_root).expect("root")),
        insecure_as_of: None,
        limits: vetted::limits::TufLimits::default(),
    }
}

fn run(req: &UpdateRequest, now: Timestamp) -> Result<UpdateOutcome, TufError> {
    update(req, &FixedClock(now))
}

fn rejected(r: Result<UpdateOutcome, TufError>) -> (String, String) {
    match r {
        Err(TufError::Rejected { check, message }) => (check.to_string(), message),
        Err(TufError::Operational(m)) => {
            panic!("expected a rejection, got an operational error: {m}")
        }
        Ok(o) => panic!(
            "expected a rejection, got an update: {:?}",
            o.state.metadata
        ),
    }
}

fn versions(o: &UpdateOutcome) -> Vec<(String, u64)> {
    o.state
        .metadata
        .iter()
        .map(|r| (r.role.clone(), r.version))
        .collect()
}

fn state_bytes(dir: &Path) -> Option<Vec<u8>> {
    std::fs::read(TrustDir::state_path(dir)).ok()
}

#[test]
fn generated_repository_update_installs_trusted_root_and_npm_keys() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let state = State::good(3);
    let root = write_repo(&s, &repo, &state);
    let trust = work.path().join("trust");
    let out = run(&request(&repo, &trust, &root), at(1)).expect("update");
    assert_eq!(
        versions(&out),
        vec![
            ("root".into(), 1),
            ("timestamp".into(), 3),
            ("snapshot".into(), 3),
            ("targets".into(), 3),
            ("registry.npmjs.org".into(), 3)
        ]
    );
    let dir = TrustDir::open(&trust).expect("open").expect("state");
    assert_eq!(dir.trusted_root.as_bytes(), &state.trusted_root[..]);
    assert_eq!(
        dir.npm_keys.as_deref().map(str::as_bytes),
        state.npm_keys.as_deref()
    );
    let roots = TrustRoots::from_trust_dir(&dir).expect("roots");
    assert_eq!(
        roots.roots().len(),
        2,
        "installed public-good root + GitHub's"
    );
    let keys = vetted::trust::npm_keys::NpmRegistryKeys::for_trust_dir(Some(&dir)).expect("keys");
    assert_eq!(keys.keys().len(), 4, "one entry per (key, usage)");
    assert!(!out.state.insecure_as_of);
}

#[test]
fn repository_without_npm_keys_target_installs_trusted_root_and_says_so() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let mut state = State::good(1);
    state.npm_keys = None;
    let root = write_repo(&s, &repo, &state);
    let trust = work.path().join("trust");
    let out = run(&request(&repo, &trust, &root), at(1)).expect("update");
    assert!(out.state.npm_keys.is_none());
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("registry.npmjs.org/keys.json"))
    );
    let dir = TrustDir::open(&trust).expect("open").expect("state");
    assert!(dir.npm_keys.is_none());
}

#[test]
fn timestamp_version_rollback_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let newer = work.path().join("newer");
    let older = work.path().join("older");
    let root = write_repo(&s, &newer, &State::good(5));
    write_repo(&s, &older, &State::good(4));
    let trust = work.path().join("trust");
    run(&request(&newer, &trust, &root), at(1)).expect("newer update");
    let before = state_bytes(&trust);
    let mut req = request(&older, &trust, &root);
    req.initial_root = None;
    let (check, message) = rejected(run(&req, at(1)));
    assert_eq!(check, "tuf-metadata");
    assert!(
        message.contains("version 4") && message.contains("5"),
        "{message}"
    );
    assert_eq!(
        state_bytes(&trust),
        before,
        "a rejected update changes nothing"
    );
    // The same update again from the newer state passes.
    let mut again = request(&newer, &trust, &root);
    again.initial_root = None;
    run(&again, at(1)).expect("same state again");
}

#[test]
fn expired_timestamp_is_rejected_as_a_freeze_attack_unless_insecure_as_of() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root = write_repo(&s, &repo, &State::good(1));
    let trust = work.path().join("trust");
    let (check, message) = rejected(run(&request(&repo, &trust, &root), at(8)));
    assert_eq!(check, "tuf-expired");
    assert!(
        message.contains("timestamp") && message.contains("--insecure-as-of"),
        "{message}"
    );
    assert!(state_bytes(&trust).is_none(), "nothing installed");
    let mut replay = request(&repo, &trust, &root);
    replay.insecure_as_of = Some(at(2));
    let out = run(&replay, at(8)).expect("replayed as of day 2");
    assert!(out.state.insecure_as_of);
    assert_eq!(out.state.checked_as_of, at(2));
    // Every later run warns that the recorded timestamp has expired.
    let dir = TrustDir::open(&trust).expect("open").expect("state");
    let warnings = dir.warnings(at(8), 90);
    assert!(
        warnings.iter().any(|w| w.contains("timestamp")),
        "{warnings:?}"
    );
}

#[test]
fn expired_final_root_targets_or_npm_role_are_rejected() {
    let s = Signer::new();
    for (what, change) in [
        (
            "root",
            (|st: &mut State| st.root_expires = at(1)) as fn(&mut State),
        ),
        ("targets", |st: &mut State| st.targets_expires = at(1)),
        ("registry.npmjs.org", |st: &mut State| {
            st.npm_expires = at(1)
        }),
    ] {
        let work = tempfile::tempdir().expect("tempdir");
        let repo = work.path().join("repo");
        let mut state = State::good(1);
        change(&mut state);
        let root = write_repo(&s, &repo, &state);
        let trust = work.path().join("trust");
        let (check, message) = rejected(run(&request(&repo, &trust, &root), at(2)));
        assert_eq!(check, "tuf-expired", "{what}");
        assert!(message.starts_with(what), "{what}: {message}");
    }
}

#[test]
fn timestamp_below_its_signature_threshold_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    // Root v1 requires 2 of 2 timestamp keys.
    let root_path = rt().block_on(async {
        let root = root_role(&s, 1, &s.root, 2, 2, at(200)).await;
        sign_root(&root, &s.root, &root)
            .await
            .write(&repo, true)
            .await
            .expect("write");
        repo.join("1.root.json")
    });
    // The repository itself is written by the editor against a 1-of-2 root, then the root
    // file is replaced by the 2-of-2 one: the timestamp carries both signatures.
    let tmp = work.path().join("tmp");
    write_repo(&s, &tmp, &State::good(1));
    for e in std::fs::read_dir(&tmp).expect("ls").flatten() {
        let name = e.file_name();
        if name != "1.root.json" {
            let to = repo.join(&name);
            if e.path().is_dir() {
                std::fs::rename(e.path(), to).expect("move");
            } else {
                std::fs::copy(e.path(), to).expect("copy");
            }
        }
    }
    let trust = work.path().join("trust");
    let ts_path = repo.join("timestamp.json");
    let mut ts: Value =
        serde_json::from_slice(&std::fs::read(&ts_path).expect("ts")).expect("json");
    assert_eq!(ts["signatures"].as_array().map(Vec::len), Some(2));
    run(&request(&repo, &trust, &root_path), at(1)).expect("2 of 2 signatures");
    // Drop one signature: 1 of the 2 required.
    let trust2 = work.path().join("trust2");
    ts["signatures"].as_array_mut().expect("sigs").truncate(1);
    std::fs::write(&ts_path, serde_json::to_vec(&ts).expect("json")).expect("write");
    let (check, message) = rejected(run(&request(&repo, &trust2, &root_path), at(1)));
    assert_eq!(check, "tuf-metadata");
    assert!(message.contains("threshold"), "{message}");
    // A signature repeated under the same key id counts once (TUF 5.4.2: unique keys).
    let sig = ts["signatures"][0].clone();
    ts["signatures"].as_array_mut().expect("sigs").push(sig);
    std::fs::write(&ts_path, serde_json::to_vec(&ts).expect("json")).expect("write");
    let (_, message) = rejected(run(&request(&repo, &trust2, &root_path), at(1)));
    assert!(
        message.contains("threshold") || message.contains("uplicate"),
        "{message}"
    );
}

#[test]
fn root_rotation_signed_only_by_the_new_keys_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root1 = write_repo(&s, &repo, &State::good(1));
    let new_keys: Vec<PathBuf> = (0..2)
        .map(|i| key(work.path(), &format!("new{i}")))
        .collect();
    let (v1, v2, cross) = rt().block_on(async {
        let v1 = root_role(&s, 1, &s.root, 2, 1, at(200)).await;
        let v2 = root_role(&s, 2, &new_keys, 2, 1, at(300)).await;
        let by_new = sign_root(&v2, &new_keys, &v2).await;
        let by_old = sign_root(&v2, &s.root, &v1).await;
        let cross = by_new
            .clone()
            .add_old_signatures(by_old.signed().signatures.clone())
            .expect("cross-sign");
        (v1, by_new, cross)
    });
    let _ = v1;
    // 2.root.json signed by the new keys only: no threshold of version 1's keys (TUF 5.3.4).
    std::fs::write(repo.join("2.root.json"), v2.buffer()).expect("write");
    let trust = work.path().join("trust");
    let (check, message) = rejected(run(&request(&repo, &trust, &root1), at(1)));
    assert_eq!(check, "tuf-metadata");
    assert!(message.contains("root"), "{message}");
    // Cross-signed by the old and the new keys, the rotation is walked: root v2 in force. The
    // timestamp is still signed by the (unchanged) timestamp key, so the update passes.
    std::fs::write(repo.join("2.root.json"), cross.buffer()).expect("write");
    let out = run(&request(&repo, &trust, &root1), at(1)).expect("rotation");
    assert_eq!(out.state.role("root").map(|r| r.version), Some(2));
    // And the next update starts from root v2, not from the initial root.
    let mut again = request(&repo, &trust, &root1);
    again.initial_root = None;
    let out = run(&again, at(1)).expect("second update");
    assert_eq!(out.state.role("root").map(|r| r.version), Some(2));
}

#[test]
fn target_with_altered_bytes_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let state = State::good(1);
    let root = write_repo(&s, &repo, &state);
    // Same length, one byte changed, under the name the metadata gives it.
    let hex = vetted::digest::sha256(&state.trusted_root).hex();
    let path = repo.join(format!("targets/{hex}.trusted_root.json"));
    let mut bytes = state.trusted_root.clone();
    let i = bytes.iter().position(|b| *b == b'{').expect("brace") + 1;
    bytes[i] = b' ';
    std::fs::write(&path, &bytes).expect("write");
    let trust = work.path().join("trust");
    let (check, message) = rejected(run(&request(&repo, &trust, &root), at(1)));
    assert_eq!(check, "tuf-metadata");
    assert!(message.to_lowercase().contains("hash"), "{message}");
    assert!(state_bytes(&trust).is_none());
    // A longer file than listed is cut at the listed length and fails the same way.
    let mut longer = state.trusted_root.clone();
    longer.extend_from_slice(b"\n\n");
    std::fs::write(&path, &longer).expect("write");
    let (_, message) = rejected(run(&request(&repo, &trust, &root), at(1)));
    assert!(!message.is_empty());
}

#[test]
fn trusted_root_target_that_is_not_a_trusted_root_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let mut state = State::good(1);
    state.trusted_root = br#"{"mediaType":"something else"}"#.to_vec();
    let root = write_repo(&s, &repo, &state);
    let (check, _) = rejected(run(&request(&repo, &work.path().join("t"), &root), at(1)));
    assert_eq!(check, "tuf-target");
}

#[test]
fn mix_and_match_of_a_snapshot_from_another_state_is_rejected() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let a = work.path().join("a");
    let b = work.path().join("b");
    let root = write_repo(&s, &a, &State::good(1));
    write_repo(&s, &b, &State::good(2));
    // The timestamp of state 2 with the snapshot of state 1 renamed to the version it names.
    std::fs::copy(a.join("1.snapshot.json"), b.join("2.snapshot.json")).expect("copy");
    let (check, message) = rejected(run(&request(&b, &work.path().join("t"), &root), at(1)));
    assert_eq!(check, "tuf-metadata");
    assert!(message.contains("snapshot"), "{message}");
}

#[test]
fn installed_file_changed_on_disk_is_refused() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root = write_repo(&s, &repo, &State::good(1));
    let trust = work.path().join("trust");
    let out = run(&request(&repo, &trust, &root), at(1)).expect("update");
    let installed = trust.join(&out.state.trusted_root.file);
    let mut bytes = std::fs::read(&installed).expect("read");
    bytes.push(b' ');
    std::fs::write(&installed, bytes).expect("write");
    assert!(TrustDir::open(&trust).is_err());
}

#[test]
fn initial_root_for_an_initialised_trust_dir_is_refused() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root = write_repo(&s, &repo, &State::good(1));
    let trust = work.path().join("trust");
    run(&request(&repo, &trust, &root), at(1)).expect("update");
    assert!(matches!(
        run(&request(&repo, &trust, &root), at(1)),
        Err(TufError::Operational(_))
    ));
}

#[test]
fn stale_trust_dir_warns_after_max_age() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root = write_repo(&s, &repo, &State::good(1));
    let trust = work.path().join("trust");
    run(&request(&repo, &trust, &root), at(1)).expect("update");
    let dir = TrustDir::open(&trust).expect("open").expect("state");
    assert!(dir.warnings(at(3), 90).is_empty(), "fresh: no warning");
    let w = dir.warnings(at(1) + (24 * 91).hours(), 90);
    assert!(w.iter().any(|w| w.contains("91 days old")), "{w:?}");
    assert!(!dir.warnings(at(10), 5).is_empty(), "configurable age");
}

// ---- the real Sigstore repository (corpus copy) ----

fn sigstore_copy(corpus: &Path, name: &str) -> PathBuf {
    corpus.join("tuf").join(name)
}

fn replay(repo: &Path, trust: &Path, as_of: &str) -> UpdateRequest {
    UpdateRequest {
        source: TufSource::Dir(repo.to_path_buf()),
        trust_dir: trust.to_path_buf(),
        initial_root: None,
        insecure_as_of: Some(as_of.parse().expect("time")),
        limits: vetted::limits::TufLimits::default(),
    }
}

#[test]
fn sigstore_root_signing_copy_updates_end_to_end_from_the_pinned_root() {
    let Some(corpus) = common::corpus("sigstore_root_signing_copy_updates_end_to_end") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let trust = work.path().join("trust");
    let repo = sigstore_copy(&corpus, "sigstore-root-signing");
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
    let out = run(&replay(&repo, &trust, "2026-08-22T00:00:00Z"), now).expect("update");
    assert_eq!(
        versions(&out),
        vec![
            ("root".into(), 15),
            ("timestamp".into(), 762),
            ("snapshot".into(), 165),
            ("targets".into(), 14),
            ("registry.npmjs.org".into(), 8)
        ]
    );
    assert_eq!(
        out.state.trusted_root.sha256,
        "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66"
    );
    assert_eq!(
        out.state.npm_keys.as_ref().map(|f| f.sha256.as_str()),
        Some("160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d")
    );
    // The installed trusted root is the pinned public-good one, byte for byte.
    let dir = TrustDir::open(&trust).expect("open").expect("state");
    let pinned = vetted::trust::PINNED_FILES
        .iter()
        .find(|(n, _)| *n == "public-good.trusted_root.json")
        .map(|(_, t)| *t)
        .expect("pinned");
    assert_eq!(dir.trusted_root, pinned);
    // The TUF keys target dates the newer npm key from 2025-01-13 per usage.
    let keys = vetted::trust::npm_keys::NpmRegistryKeys::for_trust_dir(Some(&dir)).expect("keys");
    assert_eq!(keys.keys().len(), 4);
}

#[test]
fn sigstore_root_signing_copy_is_rejected_now_without_insecure_as_of() {
    let Some(corpus) = common::corpus("sigstore_root_signing_copy_is_rejected_now") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let repo = sigstore_copy(&corpus, "sigstore-root-signing");
    let mut req = replay(&repo, &work.path().join("t"), "2026-08-22T00:00:00Z");
    req.insecure_as_of = None;
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
    let (check, message) = rejected(run(&req, now));
    assert_eq!(check, "tuf-expired");
    assert!(message.contains("root metadata version 15"), "{message}");
    // And as of 2026-09-01 (timestamp v762 expired on 08-28, the root still valid).
    req.insecure_as_of = Some("2026-09-01T00:00:00Z".parse().expect("time"));
    let (_, message) = rejected(run(&req, now));
    assert!(
        message.starts_with("timestamp metadata version 762"),
        "{message}"
    );
}

#[test]
fn older_sigstore_copy_after_the_newer_one_is_a_rollback() {
    let Some(corpus) = common::corpus("older_sigstore_copy_after_the_newer_one_is_a_rollback")
    else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let trust = work.path().join("trust");
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
    let older = sigstore_copy(&corpus, "sigstore-root-signing-older");
    let newer = sigstore_copy(&corpus, "sigstore-root-signing");
    // older, then newer: an update (timestamp 646 -> 762, npm role 7 -> 8).
    let first = run(&replay(&older, &trust, "2026-04-14T00:00:00Z"), now).expect("older");
    assert_eq!(first.state.role("timestamp").map(|r| r.version), Some(646));
    let second = run(&replay(&newer, &trust, "2026-08-22T00:00:00Z"), now).expect("newer");
    assert_eq!(second.state.role("timestamp").map(|r| r.version), Some(762));
    assert_eq!(
        second.state.role("registry.npmjs.org").map(|r| r.version),
        Some(8)
    );
    // newer, then older again: rejected (TUF 5.4.3), the state unchanged.
    let before = state_bytes(&trust);
    let (check, message) = rejected(run(&replay(&older, &trust, "2026-04-14T00:00:00Z"), now));
    assert_eq!(check, "tuf-metadata");
    assert!(
        message.contains("646") && message.contains("762"),
        "{message}"
    );
    assert_eq!(state_bytes(&trust), before);
}

/// Copy a corpus repository into a temporary directory (to tamper with the copy).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("ls").flatten() {
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).expect("copy");
            let mut perms = std::fs::metadata(&dst).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&dst, perms).expect("chmod");
        }
    }
}

#[test]
fn sigstore_targets_from_an_older_snapshot_are_rejected_by_version() {
    // Sigstore's snapshot lists targets by version only (no hashes), so mix-and-match is
    // stopped by the version check (TUF 5.6.4): targets v13 served where snapshot v165 names v14.
    let Some(corpus) = common::corpus("sigstore_targets_from_an_older_snapshot") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    copy_dir(&sigstore_copy(&corpus, "sigstore-root-signing"), &repo);
    std::fs::copy(
        sigstore_copy(&corpus, "sigstore-root-signing-older").join("13.targets.json"),
        repo.join("14.targets.json"),
    )
    .expect("copy");
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
    let (check, message) = rejected(run(
        &replay(&repo, &work.path().join("t"), "2026-08-22T00:00:00Z"),
        now,
    ));
    assert_eq!(check, "tuf-metadata");
    assert!(
        message.contains("13") && message.contains("14"),
        "{message}"
    );
}

#[test]
fn cli_update_list_and_verify_with_the_trust_dir() {
    let Some(corpus) = common::corpus("cli_update_list_and_verify_with_the_trust_dir") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let trust = work.path().join("trust");
    let repo = sigstore_copy(&corpus, "sigstore-root-signing");
    let t = trust.to_str().expect("utf8");
    let r = repo.to_str().expect("utf8");
    // Without --insecure-as-of the expired recording is rejected (exit 1), nothing installed.
    let out = common::vetted(["trust-root", "update", "--from", r, "--trust-dir", t]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("--insecure-as-of"));
    let out = common::vetted([
        "trust-root",
        "update",
        "--from",
        r,
        "--trust-dir",
        t,
        "--insecure-as-of",
        "2026-08-22T00:00:00Z",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["state"]["metadata"][1]["version"], 762);
    // list shows the versions; every run warns that the recorded timestamp has expired.
    let out = common::vetted(["trust-root", "list", "--trust-dir", t, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["source"]["kind"], "trust-dir");
    assert_eq!(v["source"]["trust_dir"]["metadata"][0]["role"], "root");
    assert_eq!(v["source"]["trust_dir"]["metadata"][0]["version"], 15);
    assert!(common::stderr(&out).contains("TUF timestamp metadata (version 762)"));
    // A production conformance bundle verifies with the installed root (exit 0), and the
    // report names the trust directory's root.
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    let verify = |dir: &str| {
        common::vetted([
            "verify-bundle",
            "--trust-dir",
            dir,
            "--json",
            "--bundle",
            cases
                .join("happy-path-v0.3/bundle.sigstore.json")
                .to_str()
                .expect("utf8"),
            "--certificate-identity",
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            cases.join("a.txt").to_str().expect("utf8"),
        ])
    };
    let out = verify(t);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        v["bundle"]["trust_root"]
            .as_str()
            .unwrap_or("")
            .contains("trust dir"),
        "{v}"
    );
    // The installed root changed on disk: the run stops (exit 2), it never falls back.
    let state: Value =
        serde_json::from_slice(&std::fs::read(trust.join("state.json")).expect("state"))
            .expect("json");
    let file = trust.join(state["trusted_root"]["file"].as_str().expect("file"));
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend_from_slice(b" ");
    std::fs::write(&file, bytes).expect("write");
    let out = verify(t);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    // A trust dir that was never updated is an operational error (exit 2).
    let empty = work.path().join("empty");
    let out = common::vetted([
        "trust-root",
        "list",
        "--trust-dir",
        empty.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
}

/// A minimal static file server on loopback for one test: GET only, at most `max` requests,
/// 404 for anything missing or outside `root`.
fn serve_dir(root: PathBuf, max: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let rel = path.trim_start_matches('/');
            let file = (!rel.split('/').any(|c| c == ".." || c.is_empty()))
                .then(|| root.join(rel))
                .and_then(|p| std::fs::read(p).ok());
            let _ = match file {
                Some(body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(&body)
                }
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    format!("http://{addr}/")
}

#[test]
fn update_over_http_from_a_loopback_mirror() {
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let state = State::good(2);
    let root = write_repo(&s, &repo, &state);
    let url = serve_dir(repo.clone(), 64);
    let trust = work.path().join("trust");
    let mut req = request(&repo, &trust, &root);
    req.source = TufSource::parse(&url);
    assert!(matches!(req.source, TufSource::Url(_)));
    let out = run(&req, at(1)).expect("update over http");
    assert_eq!(out.state.role("timestamp").map(|r| r.version), Some(2));
    assert!(
        out.state.npm_keys.is_some(),
        "the delegated target, fetched as dir/<hash>.name"
    );
    // A mirror that serves an altered target is rejected the same way as a directory.
    let hex = vetted::digest::sha256(&state.trusted_root).hex();
    let path = repo.join(format!("targets/{hex}.trusted_root.json"));
    let mut bytes = state.trusted_root.clone();
    bytes[1] ^= 0x20;
    std::fs::write(&path, &bytes).expect("write");
    let mut req2 = request(&repo, &work.path().join("trust2"), &root);
    req2.source = TufSource::parse(&url);
    let (check, _) = rejected(run(&req2, at(1)));
    assert_eq!(check, "tuf-metadata");
}

#[test]
fn unreachable_mirror_is_an_operational_error() {
    // A port nothing listens on (bound, then closed): connection refused, exit 2 not 1.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let s = Signer::new();
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let root = write_repo(&s, &repo, &State::good(1));
    let mut req = request(&repo, &work.path().join("trust"), &root);
    req.source = TufSource::parse(&format!("http://127.0.0.1:{port}/"));
    assert!(matches!(run(&req, at(1)), Err(TufError::Operational(_))));
}
