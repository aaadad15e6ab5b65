//! Where a command keeps its data: the embedded store (a folder) or AWS itself.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cairn_shared::adapters::aws::CloudWatchLogsSink;
use cairn_shared::adapters::aws::KmsSigner;
use cairn_shared::adapters::aws::S3ObjectStore;
use cairn_shared::adapters::aws::SnsNotifier;
use cairn_shared::adapters::aws::load_sdk_config;
use cairn_shared::adapters::local::LocalLogSink;
use cairn_shared::adapters::local::LocalNotifier;
use cairn_shared::adapters::local::LocalObjectStore;
use cairn_shared::adapters::local::PemSigner;
use cairn_shared::config::Config;
use cairn_shared::ports::log_sink::LogSink;
use cairn_shared::ports::notifier::Notifier;
use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::ports::signer::Signer;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub(crate) struct BackendArgs {
    /// The embedded store: a folder holding each bucket as {DIR}/{bucket}/{key}, so a trail's
    /// log files can be read, copied or checked with ordinary tools. Created when missing.
    /// With --aws, only where `cairn run` writes metrics.jsonl.
    #[arg(long, global = true, value_name = "DIR", default_value = "cairn-data")]
    pub store: PathBuf,

    /// Use AWS instead of the embedded store: S3 through the SDK, configured from the standard
    /// environment (AWS_PROFILE, AWS_REGION, credentials, AWS_ENDPOINT_URL — point that at
    /// LocalStack to run against it). The buckets must exist.
    #[arg(long, global = true)]
    pub aws: bool,

    /// The key that signs digest files (trails with EnableLogFileValidation). On the embedded
    /// store, an RSA-2048 PEM file, created on first use (mode 0600, never printed); default
    /// {DIR}/.cairn-keys/signing-key.pem. With --aws, a KMS key id, ARN or alias of an
    /// RSA_2048 SIGN_VERIFY key. To rotate, name a new key: digests name their key's
    /// fingerprint and the old key stays published with its validity window.
    #[arg(long, global = true, value_name = "KEY", env = "CAIRN_SIGNING_KEY")]
    pub signing_key: Option<String>,
}

impl BackendArgs {
    /// The object store, with the configuration's buckets created when it is the embedded one
    /// (there is no account to create them in beforehand).
    pub(crate) async fn object_store(&self, config: &Config) -> Result<Box<dyn ObjectStore>> {
        if self.aws {
            let sdk = load_sdk_config().await;
            return Ok(Box::new(S3ObjectStore::from_sdk_config(&sdk)));
        }
        let store = LocalObjectStore::new(self.store.clone());
        let buckets = std::iter::once(config.state_bucket.as_str())
            .chain(config.trails.iter().map(|trail| trail.bucket()));
        for bucket in buckets {
            store
                .create_bucket(bucket)
                .await
                .with_context(|| format!("creating bucket {bucket} in {}", self.store.display()))?;
        }
        Ok(Box::new(store))
    }

    /// The digest signer: KMS with --aws (none unless a key is named), a PEM key file otherwise.
    pub(crate) async fn signer(&self) -> Result<Option<Box<dyn Signer>>> {
        if self.aws {
            let Some(key_id) = &self.signing_key else {
                return Ok(None);
            };
            let sdk = load_sdk_config().await;
            return Ok(Some(Box::new(KmsSigner::new(&sdk, key_id.clone()))));
        }
        let path = self.signing_key.as_ref().map_or_else(
            || self.store.join(".cairn-keys").join("signing-key.pem"),
            PathBuf::from,
        );
        let signer = PemSigner::open_or_create(&path)
            .await
            .with_context(|| format!("opening the digest signing key {}", path.display()))?;
        Ok(Some(Box::new(signer)))
    }

    pub(crate) fn is_embedded(&self) -> bool {
        !self.aws
    }

    /// Where forwarded log events go: CloudWatch Logs with --aws, otherwise JSON lines under
    /// `{DIR}/.cairn-logs/{group}/{stream}.jsonl`.
    pub(crate) async fn log_sink(&self) -> Box<dyn LogSink> {
        if self.aws {
            Box::new(CloudWatchLogsSink::new(&load_sdk_config().await))
        } else {
            Box::new(LocalLogSink::new(self.store.join(".cairn-logs")))
        }
    }

    /// Where notifications go: SNS with --aws, otherwise JSON lines (SNS's envelope, as an SQS
    /// subscriber receives it) under `{DIR}/.cairn-sns/{topic name}.jsonl`.
    pub(crate) async fn notifier(&self) -> Box<dyn Notifier> {
        if self.aws {
            Box::new(SnsNotifier::new(&load_sdk_config().await))
        } else {
            Box::new(LocalNotifier::new(self.notifications_dir()))
        }
    }

    /// The embedded store's SNS topics.
    pub(crate) fn notifications_dir(&self) -> PathBuf {
        self.store.join(".cairn-sns")
    }

    /// Where `cairn run` appends the EMF metric records of metric-filter matches, `{DIR}/metrics.jsonl`
    /// with either backend (in Lambda they go to the function's own log group, which turns them
    /// into metrics).
    pub(crate) fn metrics_file(&self) -> PathBuf {
        self.store.join("metrics.jsonl")
    }
}
