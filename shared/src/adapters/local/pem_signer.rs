//! Local signer: an RSA-2048 private key in a PKCS#8 PEM file, created on first use.
//!
//! This is the quick-start signer for the CLI and the embedded pipeline; deployments sign with
//! KMS, where the private key never leaves the service. The key file is the trail's identity:
//! every digest signed with it verifies only with its public key, so it is created exactly once
//! (two processes racing on a first run end up with the same key) and never rewritten.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use crate::ports::signer::{KEY_BITS, PublicKey, Signer, SignerError, check_message};

/// Signs with a private key read from (or first written to) a PEM file.
pub struct PemSigner {
    key_id: String,
    signing_key: Arc<SigningKey<Sha256>>,
    public_key: PublicKey,
}

impl std::fmt::Debug for PemSigner {
    /// Names the key file and fingerprint; the private key is never formatted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemSigner")
            .field("key_file", &self.key_id)
            .field("fingerprint", &self.public_key.fingerprint())
            .finish_non_exhaustive()
    }
}

impl PemSigner {
    /// Loads the RSA-2048 key at `path`, or generates one and writes it there (mode 0600,
    /// missing parent folders created) when no file exists.
    ///
    /// Safe to call repeatedly and from racing processes: the new key is written to a private
    /// temporary file and hard-linked into place, which fails if the file appeared meanwhile; the
    /// loser discards its key and loads the winner's. The file never exists half-written.
    pub async fn open_or_create(path: impl Into<PathBuf>) -> Result<Self, SignerError> {
        let path = path.into();
        let key_id = path.display().to_string();
        tokio::task::spawn_blocking(move || open_or_create_blocking(&path))
            .await
            .map_err(|e| failed(&key_id, "open key file", e.to_string()))?
    }

    fn from_private_key(key_id: String, key: RsaPrivateKey) -> Result<Self, SignerError> {
        if key.size() * 8 != KEY_BITS {
            return Err(SignerError::UnsuitableKey {
                key_id,
                reason: format!(
                    "RSA key of {} bits; CloudTrail digests use {KEY_BITS}",
                    key.size() * 8
                ),
            });
        }
        let public_key = PublicKey::from_rsa(&RsaPublicKey::from(&key))
            .map_err(|e| failed(&key_id, "derive public key", e.to_string()))?;
        Ok(Self {
            key_id,
            signing_key: Arc::new(SigningKey::new(key)),
            public_key,
        })
    }
}

#[async_trait]
impl Signer for PemSigner {
    /// RSA signing is CPU-bound (milliseconds), so it runs on the blocking pool.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        check_message(&self.key_id, message)?;
        let signing_key = Arc::clone(&self.signing_key);
        let message = message.to_vec();
        let signature = tokio::task::spawn_blocking(move || {
            // The RNG only blinds the private-key operation against timing attacks; PKCS#1 v1.5
            // signatures stay deterministic.
            signing_key.try_sign_with_rng(&mut rand::rngs::OsRng, &message)
        })
        .await
        .map_err(|e| failed(&self.key_id, "sign", e.to_string()))?
        .map_err(|e| failed(&self.key_id, "sign", e.to_string()))?;
        Ok(signature.to_vec())
    }

    async fn public_key(&self) -> Result<PublicKey, SignerError> {
        Ok(self.public_key.clone())
    }
}

fn open_or_create_blocking(path: &Path) -> Result<PemSigner, SignerError> {
    let key_id = path.display().to_string();
    match fs::read_to_string(path) {
        Ok(pem) => return load(key_id, path, &pem),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(&key_id, "read key file", e.to_string())),
    }

    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)
        .map_err(|e| failed(&key_id, "generate key", e.to_string()))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed(&key_id, "encode key", e.to_string()))?;
    match publish_new_file(path, pem.as_bytes()) {
        Ok(()) => PemSigner::from_private_key(key_id, key),
        // Another process created the key first: use its key, not ours.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let pem = fs::read_to_string(path)
                .map_err(|e| failed(&key_id, "read key file", e.to_string()))?;
            load(key_id, path, &pem)
        }
        Err(e) => Err(failed(&key_id, "write key file", e.to_string())),
    }
}

fn load(key_id: String, path: &Path, pem: &str) -> Result<PemSigner, SignerError> {
    warn_if_readable_by_others(path);
    // The parser's error never contains key material.
    let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| SignerError::UnsuitableKey {
        key_id: key_id.clone(),
        reason: format!("not an RSA private key in PKCS#8 PEM: {e}"),
    })?;
    PemSigner::from_private_key(key_id, key)
}

/// Writes `contents` to a fresh 0600 file beside `path`, then links it to `path` without ever
/// replacing an existing file (`AlreadyExists` then).
fn publish_new_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "key path has no file name"))?;
    let mut temp_name = file_name.to_os_string();
    temp_name.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let temp_path = dir.join(temp_name);

    let result = write_private(&temp_path, contents).and_then(|()| fs::hard_link(&temp_path, path));
    // Either the key is now also at `path` or it was not published: the temporary name goes.
    let removed = fs::remove_file(&temp_path);
    result?;
    removed?;
    // Make the new name itself durable (directories can be synced on Unix only).
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(key_file = %path.display(), "signing key file is accessible to other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn failed(key_id: &str, operation: &'static str, detail: String) -> SignerError {
    SignerError::Failed {
        key_id: key_id.to_owned(),
        operation,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::signer::{fingerprint, verify};

    const MESSAGE: &[u8] = b"2024-05-01T12:00:00Z\nbucket/AWSLogs/1/CloudTrail-Digest/x.json.gz\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nnull";

    #[tokio::test]
    async fn creates_the_key_once_and_reuses_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/digest-key.pem");

        let first = PemSigner::open_or_create(&path).await.expect("create");
        let pem = fs::read_to_string(&path).expect("key file written");
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "PKCS#8 PEM"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the key file is left behind, no temporary file.
        let names: Vec<_> = fs::read_dir(path.parent().expect("parent"))
            .expect("read dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["digest-key.pem"]);

        let reopened = PemSigner::open_or_create(&path).await.expect("reopen");
        let (first_key, reopened_key) = (
            first.public_key().await.expect("public key"),
            reopened.public_key().await.expect("public key"),
        );
        assert_eq!(first_key, reopened_key);
        assert_eq!(
            fs::read_to_string(&path).expect("key file"),
            pem,
            "never rewritten"
        );

        // What one instance signs, the other's published key verifies.
        let signature = first.sign(MESSAGE).await.expect("sign");
        assert_eq!(
            verify(reopened_key.pkcs1_der(), MESSAGE, &signature),
            Ok(true)
        );
        // Debug output names the file, never the key.
        assert!(!format!("{first:?}").contains("PRIVATE"));
    }

    #[tokio::test]
    async fn signatures_are_deterministic_and_verify_with_the_published_pkcs1_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let signer = PemSigner::open_or_create(dir.path().join("k.pem"))
            .await
            .expect("create");
        let public_key = signer.public_key().await.expect("public key");

        let signature = signer.sign(MESSAGE).await.expect("sign");
        assert_eq!(signature.len(), KEY_BITS / 8);
        assert_eq!(signer.sign(MESSAGE).await.expect("sign again"), signature);
        assert_eq!(
            verify(public_key.pkcs1_der(), MESSAGE, &signature),
            Ok(true)
        );
        assert_eq!(
            public_key.fingerprint(),
            fingerprint(public_key.pkcs1_der())
        );

        let mut flipped = signature.clone();
        flipped[100] ^= 0x80;
        assert_eq!(verify(public_key.pkcs1_der(), MESSAGE, &flipped), Ok(false));

        let err = signer
            .sign(&[b'x'; crate::ports::signer::MAX_MESSAGE_BYTES + 1])
            .await
            .expect_err("over the KMS raw limit");
        assert!(matches!(
            err,
            SignerError::MessageTooLarge { len: 4097, .. }
        ));
    }

    #[tokio::test]
    async fn racing_first_runs_end_with_one_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.pem");
        let (a, b) = tokio::join!(
            PemSigner::open_or_create(&path),
            PemSigner::open_or_create(&path)
        );
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_eq!(
            a.public_key().await.expect("key"),
            b.public_key().await.expect("key")
        );
        let on_disk = PemSigner::open_or_create(&path).await.expect("reopen");
        assert_eq!(
            on_disk.public_key().await.expect("key"),
            a.public_key().await.expect("key")
        );
    }

    #[tokio::test]
    async fn refuses_a_key_file_that_is_not_an_rsa_2048_pkcs8_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("garbage.pem");
        fs::write(&garbage, "not a key").expect("write");
        let err = PemSigner::open_or_create(&garbage)
            .await
            .expect_err("garbage refused");
        assert!(matches!(err, SignerError::UnsuitableKey { .. }), "{err}");
        assert_eq!(fs::read_to_string(&garbage).expect("kept"), "not a key");

        let small = dir.path().join("small.pem");
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("generate");
        fs::write(
            &small,
            key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes(),
        )
        .expect("write");
        let err = PemSigner::open_or_create(&small)
            .await
            .expect_err("1024-bit key refused");
        assert!(err.to_string().contains("1024 bits"), "{err}");
    }
}
