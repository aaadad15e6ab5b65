//! Writes the digest files: records each delivered batch's log files in the ledger, and cuts
//! every chain's hourly digest once its hour is over.
//!
//! Crash and retry safety rests on three facts:
//! - the ledger changes only by compare-and-swap, and a batch is recorded at most once (see
//!   [`Ledger::record`]), so a log file enters exactly one chain's pending list once;
//! - a digest is written create-only under a key fixed by its chain and end time. When the key
//!   already exists (a crashed run's attempt, or a concurrent run's), that object *is* the
//!   digest: it is read back and the chain advances past exactly the files it lists, so the
//!   ledger always follows what is in the bucket and the chain cannot fork;
//! - a chain advances one hour at a time from its last digest, so no hour is skipped.

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use super::format::{
    DigestFile, GZIP_LEVEL, PreviousDigest, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA,
    sha256_hex, signing_string,
};
use super::ledger::{DeliveredLogFile, DueDigest, Ledger};
use crate::config::Config;
use crate::document::{self, DocumentError, Style};
use crate::gzip;
use crate::layout::DIGEST_LEDGER_KEY;
use crate::ports::object_store::{Condition, ObjectStore, ObjectStoreError, PutOptions};
use crate::ports::signer::{PublicKey, SIGNATURE_ALGORITHM, Signer, SignerError};
use crate::public_keys;

/// How many times a ledger change is retried against concurrent changes before giving up (each
/// retry means another run changed the ledger meanwhile, which only deliver runs do).
const MAX_SWAP_ATTEMPTS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error("signing digest s3://{bucket}/{key}: {source}")]
    Sign {
        bucket: String,
        key: String,
        #[source]
        source: SignerError,
    },
    #[error("reading the digest signing key: {0}")]
    PublicKey(#[source] SignerError),
    #[error("publishing the digest signing key: {0}")]
    Publish(#[from] public_keys::PublicKeysError),
    #[error(
        "trail {trail} has EnableLogFileValidation but deliver was given no signing key (CAIRN_SIGNING_KEY in Lambda, --signing-key locally)"
    )]
    NoSigner { trail: String },
    #[error(
        "trail {trail} no longer validates and its digest chain needs its final digest, but deliver was given no signing key (CAIRN_SIGNING_KEY in Lambda, --signing-key locally)"
    )]
    NoSignerToClose { trail: String },
    #[error(
        "digest s3://{bucket}/{key} already exists but is not a digest this chain can follow: {why}"
    )]
    ForeignDigest {
        bucket: String,
        key: String,
        why: String,
    },
    #[error(
        "the digest ledger kept changing under this run ({MAX_SWAP_ATTEMPTS} attempts); another deliver run is busy, try again"
    )]
    Contended,
}

/// A digest file written (or found written) by a cut.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenDigest {
    pub trail: String,
    pub bucket: String,
    pub key: String,
    pub log_files: usize,
}

pub(crate) struct DigestWriter<'a> {
    config: &'a Config,
    store: &'a dyn ObjectStore,
    signer: Option<&'a dyn Signer>,
    public_key: OnceCell<PublicKey>,
}

impl<'a> DigestWriter<'a> {
    pub(crate) fn new(
        config: &'a Config,
        store: &'a dyn ObjectStore,
        signer: Option<&'a dyn Signer>,
    ) -> Self {
        Self {
            config,
            store,
            signer,
            public_key: OnceCell::new(),
        }
    }

    fn bucket(&self) -> &str {
        &self.config.state_bucket
    }

    /// Whether any trail wants digests; without one, the ledger is only read, for chains
    /// still to be closed.
    fn enabled(&self) -> bool {
        self.config.trails.iter().any(|t| t.log_file_validation())
    }

    /// Checks up front that a signer is there if a trail needs one, so a misconfigured deliver
    /// fails before it delivers anything rather than after.
    pub(crate) fn check(&self) -> Result<(), DigestError> {
        match self.config.trails.iter().find(|t| t.log_file_validation()) {
            Some(trail) if self.signer.is_none() => Err(DigestError::NoSigner {
                trail: trail.name().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Adds a batch's log files (those of validating trails) to the ledger. Safe to repeat for
    /// the same batch: the ledger remembers the last batch recorded and a repeat changes nothing.
    pub(crate) async fn record(
        &self,
        batch: &str,
        delivered_at: OffsetDateTime,
        files: &[DeliveredLogFile<'_>],
    ) -> Result<(), DigestError> {
        // A batch with no file for a validating trail has nothing to record, now or on a redo.
        if !self.enabled() || files.is_empty() {
            return Ok(());
        }
        for _ in 0..MAX_SWAP_ATTEMPTS {
            let (mut ledger, etag) = self.read().await?;
            if !ledger.record(batch, delivered_at, files) {
                return Ok(());
            }
            if self.swap(&ledger, etag.as_ref()).await? {
                return Ok(());
            }
        }
        Err(DigestError::Contended)
    }

    /// Writes every digest whose hour has ended by `now`, oldest first, until every chain is
    /// up to date, and the final digest of every chain whose trail no longer validates. Safe
    /// to run at any time, repeatedly and concurrently (see the module docs).
    pub(crate) async fn cut_due(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<WrittenDigest>, DigestError> {
        let mut written = Vec::new();
        let mut conflicts = 0;
        loop {
            let (mut ledger, etag) = self.read().await?;
            if !self.enabled() && ledger.chains.is_empty() {
                return Ok(written);
            }
            // What alignment decides (where a chain starts, where its final digest ends) is
            // stored before any digest is written from it, so a run redoing the work after a
            // crash writes the same keys.
            let swapped = if ledger.align(self.config, now) {
                self.swap(&ledger, etag.as_ref()).await?
            } else if ledger.any_due(now) {
                let due = ledger.due(now, self.public_key(&ledger, now).await?.fingerprint());
                let mut this_round = Vec::with_capacity(due.len());
                for digest in due {
                    let (body, previous) = self.write(digest.clone()).await?;
                    ledger.advance(digest.chain, &body, previous);
                    this_round.push(WrittenDigest {
                        trail: ledger.chains[digest.chain].trail.clone(),
                        bucket: digest.bucket,
                        key: digest.key,
                        log_files: body.log_files.len(),
                    });
                }
                let swapped = self.swap(&ledger, etag.as_ref()).await?;
                if swapped {
                    written.extend(this_round);
                }
                swapped
            } else {
                return Ok(written);
            };
            if !swapped {
                conflicts += 1;
                if conflicts == MAX_SWAP_ATTEMPTS {
                    return Err(DigestError::Contended);
                }
            }
        }
    }

    /// The signer, which a trail that no longer validates needs too, for its final digest.
    fn signer(&self, ledger: &Ledger) -> Result<&'a dyn Signer, DigestError> {
        self.check()?;
        self.signer.ok_or_else(|| DigestError::NoSignerToClose {
            trail: ledger
                .chains
                .iter()
                .find(|chain| chain.final_end.is_some())
                .map(|chain| chain.trail.clone())
                .unwrap_or_default(),
        })
    }

    /// The signer's public key, published in the registry before its first use by this
    /// process. It is published as valid from the earliest period a chain may still sign, since
    /// a chain catching up signs digests of hours already past.
    async fn public_key(
        &self,
        ledger: &Ledger,
        now: OffsetDateTime,
    ) -> Result<&PublicKey, DigestError> {
        let signer = self.signer(ledger)?;
        self.public_key
            .get_or_try_init(|| async {
                let key = signer.public_key().await.map_err(DigestError::PublicKey)?;
                let valid_from = ledger.earliest_start().map_or(now, |start| start.min(now));
                public_keys::publish(self.store, self.bucket(), &key, valid_from, now).await?;
                Ok(key)
            })
            .await
    }

    /// Signs and writes one digest create-only; if its key is taken, the digest found there is
    /// the one the chain follows. Returns the digest in the bucket and what the next digest
    /// records about it.
    async fn write(&self, due: DueDigest) -> Result<(DigestFile, PreviousDigest), DigestError> {
        let DueDigest {
            bucket, key, body, ..
        } = due;
        let json = body.to_json();
        let hash = sha256_hex(&json);
        let signing = signing_string(
            &body.digest_end_time,
            &bucket,
            &key,
            &hash,
            body.previous_digest_signature.as_deref(),
        );
        let signer = self.signer.expect("the public key was read from it");
        let signature = hex::encode(signer.sign(signing.as_bytes()).await.map_err(|source| {
            DigestError::Sign {
                bucket: bucket.clone(),
                key: key.clone(),
                source,
            }
        })?);
        let options = PutOptions::new("application/json")
            .content_encoding("gzip")
            .metadata(SIGNATURE_METADATA, &signature)
            .metadata(SIGNATURE_ALGORITHM_METADATA, SIGNATURE_ALGORITHM)
            .condition(Condition::IfNoneMatch);
        match self
            .store
            .put(&bucket, &key, Bytes::from(gzip(&json)), &options)
            .await
        {
            Ok(_) => Ok((
                body,
                PreviousDigest {
                    bucket,
                    key,
                    hash,
                    signature,
                },
            )),
            Err(ObjectStoreError::PreconditionFailed { .. }) => {
                self.read_existing(bucket, key, &body).await
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The digest already at `key`, checked to continue the same chain as the one we built.
    async fn read_existing(
        &self,
        bucket: String,
        key: String,
        ours: &DigestFile,
    ) -> Result<(DigestFile, PreviousDigest), DigestError> {
        let object = self.store.get(&bucket, &key).await?;
        let foreign = |why: String| DigestError::ForeignDigest {
            bucket: bucket.clone(),
            key: key.clone(),
            why,
        };
        // Exactly one member, as the digest writer and aws-cli's validator have it; the size is
        // not capped, as validate-logs does not cap it either.
        let mut json = Vec::new();
        gzip::read_one_member(&object.body, usize::MAX, |chunk| {
            json.extend_from_slice(chunk)
        })
        .map_err(|e| foreign(e.to_string()))?;
        let found: DigestFile =
            serde_json::from_slice(&json).map_err(|e| foreign(format!("not a digest: {e}")))?;
        if found.previous_digest_signature != ours.previous_digest_signature
            || found.digest_start_time != ours.digest_start_time
        {
            return Err(foreign(
                "it follows another digest than this chain's last".to_owned(),
            ));
        }
        let signature = object
            .info
            .metadata
            .get(SIGNATURE_METADATA)
            .cloned()
            .ok_or_else(|| foreign("it has no signature metadata".to_owned()))?;
        let previous = PreviousDigest {
            bucket,
            key,
            hash: sha256_hex(&json),
            signature,
        };
        Ok((found, previous))
    }

    async fn read(
        &self,
    ) -> Result<(Ledger, Option<crate::ports::object_store::ETag>), DigestError> {
        Ok(document::read(self.store, self.bucket(), DIGEST_LEDGER_KEY).await?)
    }

    async fn swap(
        &self,
        ledger: &Ledger,
        expected: Option<&crate::ports::object_store::ETag>,
    ) -> Result<bool, DigestError> {
        Ok(document::swap(
            self.store,
            self.bucket(),
            DIGEST_LEDGER_KEY,
            (ledger, Style::Compact),
            expected,
        )
        .await?
        .is_some())
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        Compression::new(GZIP_LEVEL),
    );
    encoder
        .write_all(bytes)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}
