//! Signer over an asymmetric KMS key (`Sign`, `GetPublicKey`).
//!
//! The key must be `RSA_2048` with usage `SIGN_VERIFY`: CloudTrail's digest format and
//! `aws cloudtrail validate-logs` expect SHA256withRSA with a 2048-bit key. The private key never
//! leaves KMS; the public key is fetched once, converted from SubjectPublicKeyInfo to the PKCS#1
//! DER that `ListPublicKeys` publishes, and cached for the signer's lifetime. Name the key by id
//! or ARN (or an alias that is never re-pointed): every signature is checked against the cached
//! key, so a key swapped underneath fails loudly instead of breaking the digest chain.

use std::sync::OnceLock;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::get_public_key::GetPublicKeyError;
use aws_sdk_kms::operation::sign::SignError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};

use crate::ports::signer::{PublicKey, Signer, SignerError, check_message, verify};

/// Signs with a KMS key.
#[derive(Debug)]
pub struct KmsSigner {
    client: Client,
    key_id: String,
    public_key: OnceLock<PublicKey>,
}

impl KmsSigner {
    /// A signer for `key_id` (key id, key ARN or alias) using the shared SDK configuration (see
    /// [`super::load_sdk_config`]).
    pub fn new(config: &SdkConfig, key_id: impl Into<String>) -> Self {
        Self::from_client(
            Client::from_conf(logging_retries!(aws_sdk_kms::config::Builder::from(config))),
            key_id,
        )
    }

    /// A signer for `key_id` over an already configured client.
    pub fn from_client(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
            public_key: OnceLock::new(),
        }
    }

    /// The key as configured.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    async fn fetch_public_key(&self) -> Result<PublicKey, SignerError> {
        let output = self
            .client
            .get_public_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(|err| self.get_public_key_failure(err))?;
        let spec = output.key_spec();
        let usage = output.key_usage();
        if spec != Some(&KeySpec::Rsa2048) || usage != Some(&KeyUsageType::SignVerify) {
            let show = |value: Option<&str>| value.unwrap_or("unreported").to_owned();
            return Err(self.unsuitable(format!(
                "key spec {} with usage {}; CloudTrail digests need RSA_2048 with SIGN_VERIFY",
                show(spec.map(KeySpec::as_str)),
                show(usage.map(KeyUsageType::as_str)),
            )));
        }
        let spki = output
            .public_key()
            .ok_or_else(|| self.failed("GetPublicKey", "answered without a public key".into()))?;
        PublicKey::from_spki_der(spki.as_ref()).map_err(|e| self.unsuitable(e.to_string()))
    }

    fn get_public_key_failure(&self, err: SdkError<GetPublicKeyError>) -> SignerError {
        match err.as_service_error() {
            Some(
                GetPublicKeyError::InvalidKeyUsageException(_)
                | GetPublicKeyError::UnsupportedOperationException(_),
            ) => self.unsuitable(DisplayErrorContext(&err).to_string()),
            Some(
                GetPublicKeyError::DependencyTimeoutException(_)
                | GetPublicKeyError::KeyUnavailableException(_)
                | GetPublicKeyError::KmsInternalException(_),
            ) => self.retryable("GetPublicKey", &err),
            _ => self.sdk_failure("GetPublicKey", &err),
        }
    }

    fn sign_failure(&self, err: SdkError<SignError>) -> SignerError {
        match err.as_service_error() {
            Some(SignError::InvalidKeyUsageException(_)) => {
                self.unsuitable(DisplayErrorContext(&err).to_string())
            }
            Some(
                SignError::DependencyTimeoutException(_)
                | SignError::KeyUnavailableException(_)
                | SignError::KmsInternalException(_),
            ) => self.retryable("Sign", &err),
            _ => self.sdk_failure("Sign", &err),
        }
    }

    fn sdk_failure<E>(&self, operation: &'static str, err: &SdkError<E>) -> SignerError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if super::is_transient(err) {
            self.retryable(operation, err)
        } else {
            self.failed(operation, DisplayErrorContext(err).to_string())
        }
    }

    fn retryable<E>(&self, operation: &'static str, err: &SdkError<E>) -> SignerError
    where
        E: std::error::Error + 'static,
    {
        SignerError::Retryable {
            key_id: self.key_id.clone(),
            operation,
            detail: DisplayErrorContext(err).to_string(),
        }
    }

    fn failed(&self, operation: &'static str, detail: String) -> SignerError {
        SignerError::Failed {
            key_id: self.key_id.clone(),
            operation,
            detail,
        }
    }

    fn unsuitable(&self, reason: String) -> SignerError {
        SignerError::UnsuitableKey {
            key_id: self.key_id.clone(),
            reason,
        }
    }
}

#[async_trait]
impl Signer for KmsSigner {
    /// Checks the key first (once: the answer is cached), so an unsuitable key never signs.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        check_message(&self.key_id, message)?;
        let public_key = self.public_key().await?;
        let output = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            .send()
            .await
            .map_err(|err| self.sign_failure(err))?;
        let signature = output
            .signature()
            .ok_or_else(|| self.failed("Sign", "answered without a signature".into()))?
            .as_ref()
            .to_vec();
        match verify(public_key.pkcs1_der(), message, &signature) {
            Ok(true) => Ok(signature),
            _ => Err(self.failed(
                "Sign",
                format!(
                    "the signature does not verify with public key {}; was the key or alias changed?",
                    public_key.fingerprint()
                ),
            )),
        }
    }

    /// One `GetPublicKey` on the first call; the cached key afterwards.
    async fn public_key(&self) -> Result<PublicKey, SignerError> {
        if let Some(key) = self.public_key.get() {
            return Ok(key.clone());
        }
        // Racing first calls may both fetch; they get the same key, and the first one is kept.
        let key = self.fetch_public_key().await?;
        Ok(self.public_key.get_or_init(|| key).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::signer::MAX_MESSAGE_BYTES;
    use aws_sdk_kms::error::ErrorMetadata;
    use aws_sdk_kms::operation::get_public_key::GetPublicKeyOutput;
    use aws_sdk_kms::operation::sign::SignOutput;
    use aws_sdk_kms::types::error::{
        DisabledException, KeyUnavailableException, NotFoundException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock};
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::signature::{SignatureEncoding, Signer as _};
    use rsa::{RsaPrivateKey, RsaPublicKey};
    use sha2::Sha256;
    use std::sync::LazyLock;

    const KEY_ID: &str =
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const MESSAGE: &[u8] = b"2024-05-01T12:00:00Z\nbucket/key\nabc\nnull";

    /// Stands in for the KMS key. Its size does not matter to the adapter, which trusts the key
    /// spec KMS reports; 1024 bits keeps the unoptimised test build fast.
    static TEST_KEY: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("generate test key")
    });

    fn spki() -> Blob {
        let der = RsaPublicKey::from(&*TEST_KEY)
            .to_public_key_der()
            .expect("spki");
        Blob::new(der.as_bytes())
    }

    fn signature_of(message: &[u8]) -> Blob {
        let signature = SigningKey::<Sha256>::new(TEST_KEY.clone()).sign(message);
        Blob::new(signature.to_vec())
    }

    /// A signer whose client answers from `rules`, in order; any other call panics.
    fn signer(rules: &[&Rule]) -> KmsSigner {
        KmsSigner::from_client(
            mock_client!(aws_sdk_kms, RuleMode::Sequential, rules),
            KEY_ID,
        )
    }

    fn public_key_rule(spec: KeySpec, usage: KeyUsageType) -> Rule {
        mock!(Client::get_public_key)
            .match_requests(|req| req.key_id() == Some(KEY_ID))
            .then_output(move || {
                GetPublicKeyOutput::builder()
                    .key_id(KEY_ID)
                    .key_spec(spec.clone())
                    .key_usage(usage.clone())
                    .signing_algorithms(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
                    .public_key(spki())
                    .build()
            })
    }

    fn rsa_2048() -> Rule {
        public_key_rule(KeySpec::Rsa2048, KeyUsageType::SignVerify)
    }

    #[tokio::test]
    async fn signs_raw_messages_with_pkcs1_v15_sha256_and_caches_the_public_key() {
        let get_public_key = rsa_2048();
        let sign = mock!(Client::sign)
            .match_requests(|req| {
                req.key_id() == Some(KEY_ID)
                    && req.message().map(|m| m.as_ref()) == Some(MESSAGE)
                    && req.message_type() == Some(&MessageType::Raw)
                    && req.signing_algorithm() == Some(&SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            })
            .then_output(|| {
                SignOutput::builder()
                    .key_id(KEY_ID)
                    .signature(signature_of(MESSAGE))
                    .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
                    .build()
            });
        let sign_again = mock!(Client::sign).then_output(|| {
            SignOutput::builder()
                .signature(signature_of(MESSAGE))
                .build()
        });
        let signer = signer(&[&get_public_key, &sign, &sign_again]);

        let public_key = signer.public_key().await.expect("public key");
        let expected = RsaPublicKey::from(&*TEST_KEY);
        assert_eq!(
            public_key,
            PublicKey::from_rsa(&expected).expect("pkcs1"),
            "SPKI converted to PKCS#1"
        );
        let signature = signer.sign(MESSAGE).await.expect("sign");
        assert_eq!(
            verify(public_key.pkcs1_der(), MESSAGE, &signature),
            Ok(true)
        );
        assert_eq!(signer.sign(MESSAGE).await.expect("sign again"), signature);
        assert_eq!(get_public_key.num_calls(), 1, "public key cached");
        assert_eq!(sign.num_calls() + sign_again.num_calls(), 2);
    }

    #[tokio::test]
    async fn refuses_keys_that_are_not_rsa_2048_sign_verify_before_signing() {
        for (spec, usage) in [
            (KeySpec::Rsa4096, KeyUsageType::SignVerify),
            (KeySpec::EccNistP256, KeyUsageType::SignVerify),
            (KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt),
        ] {
            // Only GetPublicKey is answered: a Sign call would panic in the mock.
            let signer = signer(&[&public_key_rule(spec.clone(), usage.clone())]);
            let err = signer.sign(MESSAGE).await.expect_err("unsuitable key");
            assert!(matches!(err, SignerError::UnsuitableKey { .. }), "{err}");
            let text = err.to_string();
            assert!(
                text.contains(KEY_ID) && text.contains(spec.as_str()),
                "{text}"
            );
            assert!(text.contains(usage.as_str()), "{text}");
        }
    }

    #[tokio::test]
    async fn throttling_and_unavailable_keys_are_retryable() {
        let throttled = mock!(Client::sign).then_error(|| {
            SignError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        });
        let unavailable = mock!(Client::sign).then_error(|| {
            SignError::KeyUnavailableException(KeyUnavailableException::builder().build())
        });
        let get_public_key = rsa_2048();
        let signer = signer(&[&get_public_key, &throttled, &unavailable]);
        for _ in 0..2 {
            let err = signer.sign(MESSAGE).await.expect_err("transient");
            assert!(err.is_retryable(), "{err}");
            assert!(err.to_string().contains(KEY_ID), "{err}");
        }
    }

    #[tokio::test]
    async fn disabled_and_missing_keys_are_permanent() {
        let disabled = mock!(Client::sign)
            .then_error(|| SignError::DisabledException(DisabledException::builder().build()));
        let get_public_key = rsa_2048();
        let err = signer(&[&get_public_key, &disabled])
            .sign(MESSAGE)
            .await
            .expect_err("disabled");
        assert!(
            matches!(
                err,
                SignerError::Failed {
                    operation: "Sign",
                    ..
                }
            ),
            "{err}"
        );

        let missing = mock!(Client::get_public_key).then_error(|| {
            GetPublicKeyError::NotFoundException(
                NotFoundException::builder()
                    .message("Key not found")
                    .build(),
            )
        });
        let err = signer(&[&missing])
            .public_key()
            .await
            .expect_err("not found");
        assert!(
            matches!(
                err,
                SignerError::Failed {
                    operation: "GetPublicKey",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Key not found"), "{err}");
    }

    #[tokio::test]
    async fn a_signature_from_another_key_is_refused() {
        let other = mock!(Client::sign).then_output(|| {
            SignOutput::builder()
                .signature(signature_of(b"other"))
                .build()
        });
        let get_public_key = rsa_2048();
        let err = signer(&[&get_public_key, &other])
            .sign(MESSAGE)
            .await
            .expect_err("mismatch");
        assert!(err.to_string().contains("does not verify"), "{err}");
    }

    #[tokio::test]
    async fn messages_over_the_raw_limit_are_never_sent() {
        // No rules: any call would panic in the mock.
        let err = signer(&[])
            .sign(&[b'x'; MAX_MESSAGE_BYTES + 1])
            .await
            .expect_err("too large");
        assert!(
            matches!(err, SignerError::MessageTooLarge { len: 4097, .. }),
            "{err}"
        );
    }
}
