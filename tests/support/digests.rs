//! The digest invariants deliver must keep, checked from the buckets and the digest ledger: per
//! chain one digest per hour with no gap or fork, each pointing at the one before by key, hash
//! and signature, each signature verifying with a published key, no chain behind the clock, and
//! every log file of a validating trail either listed in exactly one digest with its true hash
//! or waiting in the ledger for the next one. A chain no longer in the ledger was closed: its
//! last digest is its final one, which ends within the hour after the one before.

use std::collections::BTreeMap;
use std::io::Read;

use cairn_shared::adapters::local::PemSigner;
use cairn_shared::config::Config;
use cairn_shared::digest::{DigestFile, SIGNATURE_METADATA, sha256_hex, signing_string};
use cairn_shared::digest::{Ledger, period_end};
use cairn_shared::document;
use cairn_shared::layout::parse_digest_key;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::verify;
use cairn_shared::public_keys;
use cairn_shared::record::EventTime;
use flate2::read::GzDecoder;
use time::OffsetDateTime;

/// A new KMS key of the kind deliver signs digests with (RSA_2048, SIGN_VERIFY); its metadata.
pub async fn create_kms_signing_key(kms: &aws_sdk_kms::Client) -> aws_sdk_kms::types::KeyMetadata {
    kms.create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("metadata")
}

/// What the checked chains hold, for further assertions.
#[derive(Debug, Default)]
pub struct Chains {
    /// Digest keys per chain ("trail/account/region"), oldest first.
    pub digests: BTreeMap<String, Vec<String>>,
    /// Log files listed, per chain.
    pub listed: BTreeMap<String, usize>,
}

fn gunzip(bytes: &[u8], what: &str) -> Vec<u8> {
    let mut decoder = GzDecoder::new(bytes);
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).expect(what);
    assert!(
        decoder.into_inner().is_empty(),
        "{what}: data after the gzip member"
    );
    out
}

/// Checks every digest chain of the configuration's validating trails as of `now`, when no
/// deliver run is under way. Panics naming the first broken invariant.
pub async fn assert_digest_chains(
    store: &dyn ObjectStore,
    config: &Config,
    now: OffsetDateTime,
) -> Chains {
    check_chains(store, config, now, false).await
}

/// Checks the chains of trails that validated in `config` and no longer do: each is closed,
/// gone from the ledger, its last digest its final one, and every log file is listed once.
pub async fn assert_closed_digest_chains(
    store: &dyn ObjectStore,
    config: &Config,
    now: OffsetDateTime,
) -> Chains {
    check_chains(store, config, now, true).await
}

async fn check_chains(
    store: &dyn ObjectStore,
    config: &Config,
    now: OffsetDateTime,
    closed: bool,
) -> Chains {
    let keys = public_keys::load(store, &config.state_bucket)
        .await
        .expect("public keys");
    let (ledger, _) = document::read::<Ledger>(
        store,
        &config.state_bucket,
        cairn_shared::layout::DIGEST_LEDGER_KEY,
    )
    .await
    .expect("digest ledger");
    let mut chains = Chains::default();
    let mut listed_files: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut log_files: BTreeMap<(String, String), String> = BTreeMap::new();

    for trail in config.trails.iter().filter(|t| t.log_file_validation()) {
        let mut per_chain: BTreeMap<String, Vec<(EventTime, String)>> = BTreeMap::new();
        for entry in store.list_all(trail.bucket(), "").await.expect("list") {
            if entry.key.contains("/CloudTrail-Digest/") {
                let parsed = parse_digest_key(&entry.key)
                    .unwrap_or_else(|| panic!("{} is not a digest key", entry.key));
                if parsed.chain.trail != trail.name() {
                    continue;
                }
                let chain = format!(
                    "{}/{}/{}",
                    parsed.chain.trail, parsed.chain.account, parsed.chain.region
                );
                per_chain
                    .entry(chain)
                    .or_default()
                    .push((parsed.end, entry.key));
            } else if entry.key.contains("/CloudTrail/") {
                let object = store.get(trail.bucket(), &entry.key).await.expect("get");
                let hash = sha256_hex(&gunzip(&object.body, &entry.key));
                log_files.insert((trail.bucket().to_owned(), entry.key), hash);
            }
        }
        for (chain, mut digests) in per_chain {
            digests.sort();
            let in_ledger = ledger
                .chains
                .iter()
                .find(|c| format!("{}/{}/{}", c.trail, c.account, c.region) == chain);
            assert_eq!(
                in_ledger.is_none(),
                closed,
                "chain {chain}: in the ledger, or closed, against expectations"
            );
            let final_key = closed
                .then(|| digests.last().map(|(_, key)| key.clone()))
                .flatten();
            let mut previous: Option<(String, String, String, EventTime)> = None;
            for (end, key) in &digests {
                let is_final = final_key.as_ref() == Some(key);
                let object = store.get(trail.bucket(), key).await.expect("get digest");
                let json = gunzip(&object.body, key);
                let digest: DigestFile = serde_json::from_slice(&json).expect("digest body");
                let hash = sha256_hex(&json);
                let signature = object
                    .info
                    .metadata
                    .get(SIGNATURE_METADATA)
                    .unwrap_or_else(|| panic!("{key}: no signature"))
                    .clone();
                assert_eq!(digest.digest_s3_object, *key, "{key}: moved");
                assert_eq!(digest.digest_s3_bucket, trail.bucket(), "{key}: moved");
                assert_eq!(digest.digest_end_time, end.to_string(), "{key}: end time");
                if !is_final {
                    assert_eq!(end.unix_seconds() % 3600, 0, "{key}: not on the hour");
                }
                let key_bytes = keys
                    .iter()
                    .find(|k| k.key.fingerprint() == digest.digest_public_key_fingerprint)
                    .unwrap_or_else(|| panic!("{key}: signed with an unpublished key"));
                let message = signing_string(
                    &digest.digest_end_time,
                    trail.bucket(),
                    key,
                    &hash,
                    digest.previous_digest_signature.as_deref(),
                );
                let raw = hex::decode(&signature).expect("hex signature");
                assert_eq!(
                    verify(key_bytes.key.pkcs1_der(), message.as_bytes(), &raw),
                    Ok(true),
                    "{key}: signature"
                );
                match &previous {
                    None => assert_eq!(
                        digest.previous(),
                        None,
                        "{key}: first digest has a previous"
                    ),
                    Some((prev_key, prev_hash, prev_signature, prev_end)) => {
                        let pointer = digest
                            .previous()
                            .unwrap_or_else(|| panic!("{key}: chain restarted"));
                        assert_eq!(&pointer.key, prev_key, "{key}: previous key (fork or gap)");
                        assert_eq!(&pointer.hash, prev_hash, "{key}: previous hash");
                        assert_eq!(
                            &pointer.signature, prev_signature,
                            "{key}: previous signature"
                        );
                        assert_eq!(
                            digest.digest_start_time,
                            prev_end.to_string(),
                            "{key}: periods not contiguous"
                        );
                        let after = end.unix_seconds() - prev_end.unix_seconds();
                        if is_final {
                            assert!(
                                (1..=3600).contains(&after),
                                "{key}: a final digest {after} s after the one before"
                            );
                        } else {
                            assert_eq!(after, 3600, "{key}: an hour skipped");
                        }
                    }
                }
                for file in &digest.log_files {
                    let listed_before = listed_files.insert(
                        (file.s3_bucket.clone(), file.s3_object.clone()),
                        file.hash_value.clone(),
                    );
                    assert!(
                        listed_before.is_none(),
                        "{} listed in two digests",
                        file.s3_object
                    );
                    let stamp = cairn_shared::layout::log_file_stamp(&file.s3_object)
                        .expect("log file stamp");
                    assert!(
                        stamp < *end,
                        "{} listed in a digest ending before it",
                        file.s3_object
                    );
                }
                *chains.listed.entry(chain.clone()).or_default() += digest.log_files.len();
                previous = Some((key.clone(), hash, signature, *end));
            }
            let (last_key, last_hash, last_signature, last_end) =
                previous.expect("at least one digest");
            let Some(in_ledger) = in_ledger else {
                chains
                    .digests
                    .insert(chain, digests.into_iter().map(|(_, k)| k).collect());
                continue;
            };
            let recorded = in_ledger
                .previous
                .as_ref()
                .expect("the ledger's last digest");
            assert_eq!(
                (&recorded.key, &recorded.hash, &recorded.signature),
                (&last_key, &last_hash, &last_signature),
                "chain {chain}: the ledger does not follow the last digest in the bucket"
            );
            assert_eq!(
                in_ledger.start,
                last_end.to_offset_date_time(),
                "chain {chain}: start"
            );
            chains
                .digests
                .insert(chain, digests.into_iter().map(|(_, k)| k).collect());
        }
    }
    for chain in &ledger.chains {
        assert!(
            period_end(chain.start) > now,
            "chain {}/{}/{} is behind: its digest ending {} is due",
            chain.trail,
            chain.account,
            chain.region,
            period_end(chain.start)
        );
        for file in &chain.pending {
            let before = listed_files.insert(
                (file.s3_bucket.clone(), file.s3_object.clone()),
                file.hash_value.clone(),
            );
            assert!(
                before.is_none(),
                "{} both pending and in a digest",
                file.s3_object
            );
        }
    }
    // Hashes listed are the files' true hashes, and every log file of a validating trail is
    // listed or pending.
    for trail in config.trails.iter().filter(|t| t.log_file_validation()) {
        for ((bucket, key), hash) in log_files.iter().filter(|((b, _), _)| b == trail.bucket()) {
            let listed = listed_files
                .get(&(bucket.clone(), key.clone()))
                .unwrap_or_else(|| {
                    panic!("log file s3://{bucket}/{key} is in no digest and not pending")
                });
            assert_eq!(listed, hash, "s3://{bucket}/{key}: listed hash");
        }
    }
    chains
}

/// One digest signing key per test process, in a folder that lives as long as the process:
/// RSA-2048 generation takes a moment, and tests of the same process may share the key.
pub async fn signer() -> &'static PemSigner {
    static SIGNER: tokio::sync::OnceCell<PemSigner> = tokio::sync::OnceCell::const_new();
    SIGNER
        .get_or_init(|| async {
            let dir = tempfile::tempdir().expect("tempdir").keep();
            PemSigner::open_or_create(dir.join("signing-key.pem"))
                .await
                .expect("test signing key")
        })
        .await
}
