//! Generated OpenPGP keys and vendor manifests for the vendor-signature tests (rPGP).
#![allow(dead_code)]
use pgp::composed::{
    ArmorOptions, DetachedSignature, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{KeyFlags, SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{Duration, KeyDetails, Password, Tag, Timestamp};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use vetted::trust::vendor::VendorKey;

/// 2026-01-01T00:00:00Z: keys are made here.
pub const T0: u32 = 1_767_225_600;
pub const DAY: u32 = 86_400;

pub fn gen_key(seed: u64, uid: &str, subkey: bool) -> SignedSecretKey {
    gen_key_of(KeyType::Ed25519Legacy, seed, uid, subkey)
}

pub fn gen_key_of(key_type: KeyType, seed: u64, uid: &str, subkey: bool) -> SignedSecretKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut b = SecretKeyParamsBuilder::default();
    b.key_type(key_type)
        .can_certify(true)
        .can_sign(!subkey)
        .primary_user_id(uid.into())
        .created_at(Timestamp::from_secs(T0));
    if subkey {
        b.subkey(
            SubkeyParamsBuilder::default()
                .key_type(KeyType::Ed25519Legacy)
                .can_sign(true)
                .created_at(Timestamp::from_secs(T0))
                .build()
                .expect("subkey params"),
        );
    }
    b.build()
        .expect("params")
        .generate(&mut rng)
        .expect("generate")
}

pub fn armored_public(k: &SignedPublicKey) -> Vec<u8> {
    k.to_armored_bytes(ArmorOptions::default()).expect("armour")
}

pub fn fpr(k: &impl KeyDetails) -> String {
    hex::encode_upper(k.fingerprint().as_bytes())
}

pub struct SigOpts {
    pub typ: SignatureType,
    pub hash: HashAlgorithm,
    pub created: u32,
    pub expires_after: Option<u32>,
    pub issuer_fpr: bool,
}

impl Default for SigOpts {
    fn default() -> Self {
        SigOpts {
            typ: SignatureType::Binary,
            hash: HashAlgorithm::Sha512,
            created: T0 + DAY,
            expires_after: None,
            issuer_fpr: true,
        }
    }
}

/// A detached signature over `data` by `signer` (the primary key, or its first subkey), armoured.
pub fn sign_with(k: &SignedSecretKey, use_subkey: bool, data: &[u8], o: SigOpts) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut config = SignatureConfig::v4(o.typ, k.primary_key.algorithm(), o.hash);
    let (fp, id) = if use_subkey {
        let s = &k.secret_subkeys[0].key;
        (s.fingerprint(), s.legacy_key_id())
    } else {
        (k.primary_key.fingerprint(), k.primary_key.legacy_key_id())
    };
    let mut hashed = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
            o.created,
        )))
        .expect("sp"),
    ];
    if o.issuer_fpr {
        hashed.push(Subpacket::regular(SubpacketData::IssuerFingerprint(fp)).expect("sp"));
    }
    if let Some(e) = o.expires_after {
        hashed.push(
            Subpacket::regular(SubpacketData::SignatureExpirationTime(Duration::from_secs(
                e,
            )))
            .expect("sp"),
        );
    }
    config.hashed_subpackets = hashed;
    config.unhashed_subpackets =
        vec![Subpacket::regular(SubpacketData::IssuerKeyId(id)).expect("sp")];
    let sig = if use_subkey {
        config.sign(&k.secret_subkeys[0].key, &Password::empty(), data)
    } else {
        config.sign(&k.primary_key, &Password::empty(), data)
    }
    .expect("sign");
    let _ = &mut rng;
    DetachedSignature::new(sig)
        .to_armored_bytes(ArmorOptions::default())
        .expect("armour")
}

pub fn sign(k: &SignedSecretKey, data: &[u8]) -> Vec<u8> {
    sign_with(k, false, data, SigOpts::default())
}

pub fn sp(d: SubpacketData) -> Subpacket {
    Subpacket::regular(d).expect("subpacket")
}

/// `k`'s public key with self-signatures made at T0 + 1 s (rPGP's generator stamps them with
/// the wall clock, which would make the tests depend on the day they run): the User ID
/// certification (expiring the key `expiry_days` after T0 when given) and, for a subkey, its
/// binding with signing flags and the subkey's back-signature.
pub fn public_with_expiry(k: &SignedSecretKey, expiry_days: Option<u32>) -> SignedPublicKey {
    let mut public = k.to_public_key();
    let pw = Password::empty();
    let created = || {
        sp(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
            T0 + 1,
        )))
    };
    let mut flags = KeyFlags::default();
    flags.set_sign(true);
    flags.set_certify(true);
    let mut config = SignatureConfig::v4(
        SignatureType::CertPositive,
        k.primary_key.algorithm(),
        HashAlgorithm::Sha256,
    );
    config.hashed_subpackets = vec![
        created(),
        sp(SubpacketData::IssuerFingerprint(
            k.primary_key.fingerprint(),
        )),
        sp(SubpacketData::KeyFlags(flags)),
    ];
    if let Some(days) = expiry_days {
        config
            .hashed_subpackets
            .push(sp(SubpacketData::KeyExpirationTime(Duration::from_secs(
                days * DAY,
            ))));
    }
    let user = public.details.users[0].id.clone();
    let sig = config
        .sign_certification(
            &k.primary_key,
            k.primary_key.public_key(),
            &pw,
            Tag::UserId,
            &user,
        )
        .expect("certify");
    public.details.users[0].signatures = vec![sig];
    for (i, sub) in k.secret_subkeys.iter().enumerate() {
        let sub = &sub.key;
        let mut back = SignatureConfig::v4(
            SignatureType::KeyBinding,
            sub.algorithm(),
            HashAlgorithm::Sha256,
        );
        back.hashed_subpackets = vec![
            created(),
            sp(SubpacketData::IssuerFingerprint(sub.fingerprint())),
        ];
        let back = back
            .sign_primary_key_binding(sub, sub.public_key(), &pw, k.primary_key.public_key())
            .expect("back-signature");
        let mut sflags = KeyFlags::default();
        sflags.set_sign(true);
        let mut bind = SignatureConfig::v4(
            SignatureType::SubkeyBinding,
            k.primary_key.algorithm(),
            HashAlgorithm::Sha256,
        );
        bind.hashed_subpackets = vec![
            created(),
            sp(SubpacketData::IssuerFingerprint(
                k.primary_key.fingerprint(),
            )),
            sp(SubpacketData::KeyFlags(sflags)),
            sp(SubpacketData::EmbeddedSignature(Box::new(back))),
        ];
        let bind = bind
            .sign_subkey_binding(
                &k.primary_key,
                k.primary_key.public_key(),
                &pw,
                sub.public_key(),
            )
            .expect("binding");
        public.public_subkeys[i].signatures = vec![bind];
    }
    public
}

pub fn pubkey(k: &SignedSecretKey) -> SignedPublicKey {
    public_with_expiry(k, None)
}

pub fn test_key(k: &SignedPublicKey) -> VendorKey {
    VendorKey::from_armored(
        "claude-code",
        "test key",
        &fpr(&k.primary_key),
        &armored_public(k),
    )
    .expect("test key")
}

/// A manifest in the vendor's format listing `binary` for linux-x64.
pub fn manifest_for(version: &str, binary: &[u8]) -> Vec<u8> {
    let sha = vetted::digest::sha256(binary).hex();
    format!(
        "{{\n  \"version\": \"{version}\",\n  \"buildDate\": \"2026-01-02T00:00:00Z\",\n  \"platforms\": {{\n    \"linux-x64\": {{\n      \"binary\": \"claude\",\n      \"checksum\": \"{sha}\",\n      \"size\": {}\n    }}\n  }}\n}}\n",
        binary.len()
    )
    .into_bytes()
}
