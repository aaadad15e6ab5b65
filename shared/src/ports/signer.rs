//! Signer port: signs the digest files' signing strings.
//!
//! CloudTrail signs each digest with RSA-2048, PKCS#1 v1.5 over SHA-256 ("SHA256withRSA") and
//! publishes the public key through `ListPublicKeys` as base64 PKCS#1 `RSAPublicKey` DER, keyed by
//! the lowercase hex MD5 of that DER. `aws cloudtrail validate-logs` loads exactly that shape, so
//! [`PublicKey`] carries those bytes and that fingerprint, whatever the key's origin (a KMS key
//! answers in SubjectPublicKeyInfo DER and is converted here).
//!
//! Signing is deterministic (PKCS#1 v1.5 has no salt): signing the same message twice gives the
//! same signature, so a repeated or retried `sign` is always safe and changes nothing.

use async_trait::async_trait;
use md5::{Digest, Md5};
use rsa::RsaPublicKey;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::Sha256;
use thiserror::Error;

/// The digest files' `digestSignatureAlgorithm` and the `signature-algorithm` S3 metadata value.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// The RSA modulus size CloudTrail uses for digest keys, in bits.
pub const KEY_BITS: usize = 2048;

/// The largest message a signer accepts, in bytes: KMS `Sign` with `MessageType::Raw` takes at
/// most 4,096 bytes. The local signer enforces it too, so a message that signs locally also signs
/// with KMS. Digest signing strings are a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Signs messages with an RSA-2048 key whose public half is published for validators.
///
/// Both calls are safe to repeat: `sign` is deterministic and `public_key` only reads.
#[async_trait]
pub trait Signer: Send + Sync {
    /// Signs `message` with RSA PKCS#1 v1.5 over its SHA-256 hash; returns the raw 256-byte
    /// signature (digest files store it as lowercase hex).
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// The public key that verifies this signer's signatures, as `ListPublicKeys` publishes it.
    async fn public_key(&self) -> Result<PublicKey, SignerError>;
}

/// A public key in the form CloudTrail's `ListPublicKeys` publishes and validators check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pkcs1_der: Vec<u8>,
    fingerprint: String,
}

impl PublicKey {
    /// Accepts PKCS#1 `RSAPublicKey` DER; refuses anything that does not parse as one.
    pub fn from_pkcs1_der(pkcs1_der: Vec<u8>) -> Result<Self, InvalidPublicKey> {
        RsaPublicKey::from_pkcs1_der(&pkcs1_der).map_err(|e| InvalidPublicKey(e.to_string()))?;
        Ok(Self::from_valid_pkcs1_der(pkcs1_der))
    }

    /// Converts SubjectPublicKeyInfo DER (what KMS `GetPublicKey` returns) to PKCS#1 DER.
    pub fn from_spki_der(spki_der: &[u8]) -> Result<Self, InvalidPublicKey> {
        let key = RsaPublicKey::from_public_key_der(spki_der)
            .map_err(|e| InvalidPublicKey(e.to_string()))?;
        Self::from_rsa(&key)
    }

    /// The PKCS#1 DER of an RSA public key.
    pub fn from_rsa(key: &RsaPublicKey) -> Result<Self, InvalidPublicKey> {
        let der = key
            .to_pkcs1_der()
            .map_err(|e| InvalidPublicKey(e.to_string()))?;
        Ok(Self::from_valid_pkcs1_der(der.into_vec()))
    }

    fn from_valid_pkcs1_der(pkcs1_der: Vec<u8>) -> Self {
        let fingerprint = fingerprint(&pkcs1_der);
        Self {
            pkcs1_der,
            fingerprint,
        }
    }

    /// The PKCS#1 `RSAPublicKey` DER bytes; `ListPublicKeys` publishes them base64-encoded as
    /// `Value`.
    pub fn pkcs1_der(&self) -> &[u8] {
        &self.pkcs1_der
    }

    /// Lowercase hex MD5 of [`Self::pkcs1_der`]: the digest files' `digestPublicKeyFingerprint`
    /// and `ListPublicKeys`' `Fingerprint`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Lowercase hex MD5 of a PKCS#1 public key DER, as CloudTrail computes key fingerprints.
pub fn fingerprint(pkcs1_der: &[u8]) -> String {
    hex::encode(Md5::digest(pkcs1_der))
}

/// Checks an RSA PKCS#1 v1.5 SHA-256 signature of `message` against a PKCS#1 DER public key.
///
/// `Ok(false)` means the signature does not match (wrong key, altered message or signature);
/// `Err` means the key itself is unusable.
pub fn verify(
    public_key_pkcs1_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, InvalidPublicKey> {
    let key = RsaPublicKey::from_pkcs1_der(public_key_pkcs1_der)
        .map_err(|e| InvalidPublicKey(e.to_string()))?;
    let Ok(signature) = Signature::try_from(signature) else {
        return Ok(false);
    };
    Ok(VerifyingKey::<Sha256>::new(key)
        .verify(message, &signature)
        .is_ok())
}

/// Bytes that are not an RSA public key in the expected DER encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a usable RSA public key: {0}")]
pub struct InvalidPublicKey(String);

/// Why signing or reading the public key failed. `key_id` names the key: a KMS key id or ARN, or
/// the local key file's path.
#[derive(Debug, Error)]
pub enum SignerError {
    /// The message exceeds [`MAX_MESSAGE_BYTES`]; nothing was sent.
    #[error("message of {len} bytes is too large to sign with key {key_id} (at most {max} bytes)", max = MAX_MESSAGE_BYTES)]
    MessageTooLarge { key_id: String, len: usize },
    /// The key cannot make CloudTrail digest signatures (wrong type, size or usage). Permanent.
    #[error("key {key_id} cannot sign Cairn digests: {reason}")]
    UnsuitableKey { key_id: String, reason: String },
    /// Throttling or a transient service or network failure: repeat the call later.
    #[error(
        "{operation} with key {key_id} was throttled or hit a transient failure; retry later: {detail}"
    )]
    Retryable {
        key_id: String,
        operation: &'static str,
        detail: String,
    },
    /// A failure that repeating the same call will not fix (missing or disabled key, access
    /// denied, unreadable key file).
    #[error("{operation} with key {key_id} failed: {detail}")]
    Failed {
        key_id: String,
        operation: &'static str,
        detail: String,
    },
}

impl SignerError {
    /// Whether repeating the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}

/// Refuses a message KMS would refuse, so local and KMS signers agree on what they sign.
pub fn check_message(key_id: &str, message: &[u8]) -> Result<(), SignerError> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(SignerError::MessageTooLarge {
            key_id: key_id.to_owned(),
            len: message.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::signature::{RandomizedSigner, SignatureEncoding};

    fn test_key() -> RsaPrivateKey {
        // 1024 bits keeps the unoptimised test build fast; the encodings do not depend on size.
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("generate test key")
    }

    #[test]
    fn spki_converts_to_the_pkcs1_der_of_the_same_key() {
        let private = test_key();
        let public = RsaPublicKey::from(&private);
        let spki = public.to_public_key_der().expect("spki");
        let pkcs1 = public.to_pkcs1_der().expect("pkcs1");
        assert_ne!(spki.as_bytes(), pkcs1.as_bytes());

        let converted = PublicKey::from_spki_der(spki.as_bytes()).expect("convert");
        assert_eq!(converted.pkcs1_der(), pkcs1.as_bytes());
        assert_eq!(
            converted,
            PublicKey::from_pkcs1_der(pkcs1.as_bytes().to_vec()).expect("pkcs1 accepted")
        );
        // PKCS#1 DER is not SPKI DER and vice versa: each parser refuses the other's bytes.
        assert!(PublicKey::from_spki_der(pkcs1.as_bytes()).is_err());
        assert!(PublicKey::from_pkcs1_der(spki.as_bytes().to_vec()).is_err());
    }

    #[test]
    fn fingerprint_is_lowercase_hex_md5_of_the_pkcs1_der() {
        // RFC 1321 test vector.
        assert_eq!(fingerprint(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let key = PublicKey::from_rsa(&RsaPublicKey::from(&test_key())).expect("key");
        assert_eq!(key.fingerprint(), fingerprint(key.pkcs1_der()));
        assert_eq!(key.fingerprint().len(), 32);
    }

    #[test]
    fn verify_accepts_a_signature_and_rejects_any_flipped_bit() {
        let private = test_key();
        let der = RsaPublicKey::from(&private).to_pkcs1_der().expect("der");
        let message = b"2024-01-01T01:00:00Z\nbucket/key\nabc\nnull";
        let signature = SigningKey::<Sha256>::new(private)
            .try_sign_with_rng(&mut rand::rngs::OsRng, message)
            .expect("sign")
            .to_vec();

        assert_eq!(verify(der.as_bytes(), message, &signature), Ok(true));

        let mut flipped_signature = signature.clone();
        flipped_signature[17] ^= 0x04;
        assert_eq!(
            verify(der.as_bytes(), message, &flipped_signature),
            Ok(false)
        );

        let mut flipped_message = message.to_vec();
        flipped_message[3] ^= 0x01;
        assert_eq!(
            verify(der.as_bytes(), &flipped_message, &signature),
            Ok(false)
        );

        assert_eq!(verify(der.as_bytes(), message, &signature[1..]), Ok(false));
        assert!(verify(b"not a key", message, &signature).is_err());
    }

    #[test]
    fn messages_over_the_kms_raw_limit_are_refused() {
        assert!(check_message("k", &[0; MAX_MESSAGE_BYTES]).is_ok());
        let err = check_message("k", &[0; MAX_MESSAGE_BYTES + 1]).expect_err("too large");
        assert!(matches!(
            err,
            SignerError::MessageTooLarge { ref key_id, len: 4097 } if key_id == "k"
        ));
        assert!(!err.is_retryable());
    }
}
