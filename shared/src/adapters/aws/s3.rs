//! The object store on Amazon S3 (or LocalStack): the adapter production runs on.
//!
//! Every SDK type stays in this file; callers see only the port's types and errors.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};
use aws_types::service_config::ServiceConfigKey;
use bytes::Bytes;
use time::OffsetDateTime;

use crate::ports::object_store::{
    Condition, ETag, Encryption, ListEntry, ListPage, MAX_LIST_PAGE, ObjectInfo, ObjectStore,
    ObjectStoreError, PutOptions, PutReceipt, StoredObject, repeated_token, validate_delete_many,
    validate_key, validate_put,
};

/// [`ObjectStore`] over an S3 client.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
}

impl S3ObjectStore {
    /// Wraps a client configured elsewhere (it must already use path-style addressing if it talks
    /// to LocalStack).
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// A client from the shared SDK configuration ([`super::load_sdk_config`]).
    ///
    /// A custom endpoint (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3` or their profile settings)
    /// means LocalStack or another S3-compatible server, which cannot resolve the virtual-hosted
    /// `{bucket}.{host}` names the SDK uses by default, so those get path-style addressing.
    pub fn from_sdk_config(config: &SdkConfig) -> Self {
        Self::new(Client::from_conf(logging_retries!(s3_config(config))))
    }
}

fn s3_config(config: &SdkConfig) -> aws_sdk_s3::config::Builder {
    let builder = aws_sdk_s3::config::Builder::from(config);
    if has_custom_endpoint(config) {
        builder.force_path_style(true)
    } else {
        builder
    }
}

/// Mirrors how the S3 client itself picks its endpoint (see `aws_sdk_s3::config::Builder::from`).
fn has_custom_endpoint(config: &SdkConfig) -> bool {
    let s3_specific = || {
        let key = ServiceConfigKey::builder()
            .service_id("S3")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .ok()?;
        config.service_config()?.load_config(key)
    };
    config.endpoint_url().is_some() || s3_specific().is_some()
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<PutReceipt, ObjectStoreError> {
        let metadata = validate_put(bucket, key, options)?;
        let mut request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .content_type(&options.content_type)
            .set_content_encoding(options.content_encoding.clone())
            .set_metadata((!metadata.is_empty()).then(|| metadata.into_iter().collect()));
        request = match &options.encryption {
            None => request,
            Some(Encryption::S3Managed) => {
                request.server_side_encryption(ServerSideEncryption::Aes256)
            }
            Some(Encryption::Kms { key_id }) => request
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(key_id),
        };
        request = match &options.condition {
            Condition::None => request,
            Condition::IfNoneMatch => request.if_none_match("*"),
            Condition::IfMatch(etag) => request.if_match(etag.as_str()),
        };
        let output = request.send().await.map_err(|error| {
            match (
                map_error(error, "PutObject", bucket, key),
                &options.condition,
            ) {
                // S3 answers If-Match on a missing key with 404 NoSuchKey; to the caller that is
                // a compare-and-swap lost to a delete.
                (ObjectStoreError::NotFound { bucket, key }, Condition::IfMatch(_)) => {
                    ObjectStoreError::PreconditionFailed { bucket, key }
                }
                (error, _) => error,
            }
        })?;
        let etag = required(output.e_tag(), "ETag", "PutObject", bucket, key)?;
        Ok(PutReceipt {
            etag: ETag::new(etag),
        })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<StoredObject, ObjectStoreError> {
        validate_key(bucket, key)?;
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| map_error(error, "GetObject", bucket, key))?;
        let info = Described::from(&output).into_info("GetObject", bucket, key)?;
        let body = output
            .body
            .collect()
            .await
            .map_err(|error| ObjectStoreError::Backend {
                context: format!("S3 GetObject s3://{bucket}/{key}: reading the body failed"),
                source: Box::new(error),
            })?
            .into_bytes();
        Ok(StoredObject { body, info })
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, ObjectStoreError> {
        validate_key(bucket, key)?;
        let output = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| map_error(error, "HeadObject", bucket, key))?;
        Described::from(&output).into_info("HeadObject", bucket, key)
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
    ) -> Result<ListPage, ObjectStoreError> {
        const OPERATION: &str = "ListObjectsV2";
        let output = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .set_prefix((!prefix.is_empty()).then(|| prefix.to_owned()))
            .set_continuation_token(continuation_token.map(str::to_owned))
            .max_keys(MAX_LIST_PAGE as i32)
            .send()
            .await
            .map_err(|error| map_error(error, OPERATION, bucket, prefix))?;
        let entries = output
            .contents()
            .iter()
            .map(|object| {
                let key = required(object.key(), "Key", OPERATION, bucket, prefix)?;
                Ok(ListEntry {
                    size: size(object.size(), OPERATION, bucket, &key)?,
                    etag: ETag::new(required(object.e_tag(), "ETag", OPERATION, bucket, &key)?),
                    last_modified: timestamp(object.last_modified(), OPERATION, bucket, &key)?,
                    key,
                })
            })
            .collect::<Result<Vec<_>, ObjectStoreError>>()?;
        let next_token = if output.is_truncated() == Some(true) {
            Some(required(
                output.next_continuation_token(),
                "NextContinuationToken",
                OPERATION,
                bucket,
                prefix,
            )?)
        } else {
            None
        };
        Ok(ListPage {
            entries,
            next_token,
        })
    }

    async fn list_folders(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<String>, ObjectStoreError> {
        const OPERATION: &str = "ListObjectsV2";
        let mut folders = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .set_prefix((!prefix.is_empty()).then(|| prefix.to_owned()))
                .delimiter("/")
                .set_continuation_token(token.clone())
                .max_keys(MAX_LIST_PAGE as i32)
                .send()
                .await
                .map_err(|error| map_error(error, OPERATION, bucket, prefix))?;
            for common in output.common_prefixes() {
                folders.push(required(
                    common.prefix(),
                    "CommonPrefixes.Prefix",
                    OPERATION,
                    bucket,
                    prefix,
                )?);
            }
            if output.is_truncated() != Some(true) {
                return Ok(folders);
            }
            let next = required(
                output.next_continuation_token(),
                "NextContinuationToken",
                OPERATION,
                bucket,
                prefix,
            )?;
            if token.as_deref() == Some(next.as_str()) {
                return Err(repeated_token(bucket, prefix, &next));
            }
            token = Some(next);
        }
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectStoreError> {
        validate_key(bucket, key)?;
        // S3 itself answers 204 for a missing key, which is the idempotence the port promises.
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| map_error(error, "DeleteObject", bucket, key))?;
        Ok(())
    }

    /// One DeleteObjects request in quiet mode, which answers only the keys it could not
    /// delete (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html); a
    /// missing key is reported deleted, the idempotence the port promises.
    async fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), ObjectStoreError> {
        validate_delete_many(bucket, keys)?;
        let Some(first) = keys.first() else {
            return Ok(());
        };
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| request_unbuildable(bucket, first, error))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|error| request_unbuildable(bucket, first, error))?;
        let output = self
            .client
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|error| map_error(error, "DeleteObjects", bucket, first))?;
        match output.errors().first() {
            None => Ok(()),
            Some(failed) => Err(ObjectStoreError::Backend {
                context: format!(
                    "S3 DeleteObjects s3://{bucket}: {} of {} keys not deleted, the first {}",
                    output.errors().len(),
                    keys.len(),
                    failed.key().unwrap_or("(unnamed)")
                ),
                source: format!(
                    "{}: {}",
                    failed.code().unwrap_or("no code"),
                    failed.message().unwrap_or("no message")
                )
                .into(),
            }),
        }
    }
}

/// The fields GetObject and HeadObject share, borrowed from either output.
struct Described<'a> {
    content_length: Option<i64>,
    etag: Option<&'a str>,
    content_type: Option<&'a str>,
    content_encoding: Option<&'a str>,
    metadata: Option<&'a HashMap<String, String>>,
    last_modified: Option<&'a DateTime>,
    encryption: Option<&'a ServerSideEncryption>,
    kms_key_id: Option<&'a str>,
}

/// The two outputs have the same accessors but no trait in common.
macro_rules! described_from {
    ($($output:ty),+) => {$(
        impl<'a> From<&'a $output> for Described<'a> {
            fn from(output: &'a $output) -> Self {
                Self {
                    content_length: output.content_length(),
                    etag: output.e_tag(),
                    content_type: output.content_type(),
                    content_encoding: output.content_encoding(),
                    metadata: output.metadata(),
                    last_modified: output.last_modified(),
                    encryption: output.server_side_encryption(),
                    kms_key_id: output.ssekms_key_id(),
                }
            }
        }
    )+};
}

described_from!(GetObjectOutput, HeadObjectOutput);

impl Described<'_> {
    fn into_info(
        self,
        operation: &str,
        bucket: &str,
        key: &str,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        Ok(ObjectInfo {
            etag: ETag::new(required(self.etag, "ETag", operation, bucket, key)?),
            size: size(self.content_length, operation, bucket, key)?,
            content_type: self.content_type.map(str::to_owned),
            content_encoding: self.content_encoding.map(str::to_owned),
            metadata: self
                .metadata
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                .collect::<BTreeMap<_, _>>(),
            last_modified: timestamp(self.last_modified, operation, bucket, key)?,
            encryption: match (self.encryption, self.kms_key_id) {
                (Some(ServerSideEncryption::Aes256), _) => Some(Encryption::S3Managed),
                (Some(ServerSideEncryption::AwsKms), Some(key_id)) => Some(Encryption::Kms {
                    key_id: key_id.to_owned(),
                }),
                // DSSE-KMS and the rest are nothing Cairn writes or can name.
                _ => None,
            },
        })
    }
}

/// Maps S3's answers to the port's errors by error code first and HTTP status second: HEAD
/// responses have no body, so their 404 carries no code of S3's own.
fn map_error<E>(
    error: SdkError<E, HttpResponse>,
    operation: &str,
    bucket: &str,
    key: &str,
) -> ObjectStoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    match (error.code(), status) {
        (Some("NoSuchBucket"), _) => ObjectStoreError::NoSuchBucket {
            bucket: bucket.to_owned(),
        },
        (Some("NoSuchKey" | "NotFound"), _) | (_, Some(404)) => ObjectStoreError::NotFound {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        },
        // 409 ConditionalRequestConflict: a concurrent conditional write to the key won first.
        (_, Some(412)) | (Some("PreconditionFailed" | "ConditionalRequestConflict"), _) => {
            ObjectStoreError::PreconditionFailed {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            }
        }
        (code, status) => {
            let detail = match (code, error.message(), status) {
                (Some(code), Some(message), _) => format!("{code}: {message}"),
                (Some(code), None, _) => code.to_owned(),
                (None, _, Some(status)) => format!("HTTP {status}"),
                (None, _, None) => "no response".to_owned(),
            };
            ObjectStoreError::Backend {
                context: format!("S3 {operation} s3://{bucket}/{key} failed ({detail})"),
                source: Box::new(error),
            }
        }
    }
}

/// A field S3 always sends; its absence means a broken response, not a missing object.
fn required(
    value: Option<&str>,
    field: &str,
    operation: &str,
    bucket: &str,
    key: &str,
) -> Result<String, ObjectStoreError> {
    value
        .map(str::to_owned)
        .ok_or_else(|| malformed(field, operation, bucket, key))
}

fn size(
    value: Option<i64>,
    operation: &str,
    bucket: &str,
    key: &str,
) -> Result<u64, ObjectStoreError> {
    value
        .and_then(|size| u64::try_from(size).ok())
        .ok_or_else(|| malformed("a size", operation, bucket, key))
}

fn timestamp(
    value: Option<&DateTime>,
    operation: &str,
    bucket: &str,
    key: &str,
) -> Result<OffsetDateTime, ObjectStoreError> {
    // Whole seconds: HEAD's Last-Modified has no more, and a listing must agree with it.
    value
        .and_then(|time| OffsetDateTime::from_unix_timestamp(time.secs()).ok())
        .ok_or_else(|| malformed("LastModified", operation, bucket, key))
}

/// The SDK refused to build a DeleteObjects request (a required field missing).
fn request_unbuildable(
    bucket: &str,
    first: &str,
    error: aws_sdk_s3::error::BuildError,
) -> ObjectStoreError {
    ObjectStoreError::Backend {
        context: format!(
            "S3 DeleteObjects s3://{bucket} (from {first}): the request could not be built"
        ),
        source: Box::new(error),
    }
}

fn malformed(field: &str, operation: &str, bucket: &str, key: &str) -> ObjectStoreError {
    ObjectStoreError::Backend {
        context: format!("S3 {operation} s3://{bucket}/{key}: malformed response"),
        source: format!("the response lacks a valid {field}").into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
    use aws_sdk_s3::config::retry::RetryConfig;
    use aws_sdk_s3::config::{
        BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
        SharedCredentialsProvider,
    };
    use aws_sdk_s3::error::BoxError;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_sdk_s3::types::{CommonPrefix, Object};
    use aws_smithy_mocks::{Rule, RuleMode, create_mock_http_client, mock};
    use aws_types::service_config::LoadServiceConfig;

    use super::*;

    const BUCKET: &str = "trail-bucket";
    const KEY: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/x.json.gz";

    /// A store whose client answers from `rules` and never retries, so each test sees exactly
    /// the one response it scripted.
    fn store(rules: &[&Rule]) -> S3ObjectStore {
        S3ObjectStore::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules))
    }

    /// An S3 error document, so the SDK's own error parsing runs on it.
    fn s3_error(code: &str) -> Option<String> {
        Some(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{code} happened</Message><RequestId>r</RequestId></Error>"
        ))
    }

    fn put_options() -> PutOptions {
        PutOptions::new("application/json")
    }

    #[tokio::test]
    async fn missing_keys_are_not_found_on_get_and_on_a_bodiless_head() {
        let get = mock!(Client::get_object)
            .sequence()
            .http_status(404, s3_error("NoSuchKey"))
            .build();
        let head = mock!(Client::head_object)
            .sequence()
            .http_status(404, None)
            .build();
        let store = store(&[&get, &head]);

        let error = store.get(BUCKET, KEY).await.expect_err("404");
        assert!(
            matches!(&error, ObjectStoreError::NotFound { bucket, key } if bucket == BUCKET && key == KEY),
            "{error:?}"
        );
        assert!(error.to_string().contains(&format!("s3://{BUCKET}/{KEY}")));
        let error = store.head(BUCKET, KEY).await.expect_err("404");
        assert!(
            matches!(error, ObjectStoreError::NotFound { .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_bucket_is_no_such_bucket() {
        let put = mock!(Client::put_object)
            .sequence()
            .http_status(404, s3_error("NoSuchBucket"))
            .build();
        let list = mock!(Client::list_objects_v2)
            .sequence()
            .http_status(404, s3_error("NoSuchBucket"))
            .build();
        let store = store(&[&put, &list]);

        let error = store
            .put(BUCKET, KEY, Bytes::new(), &put_options())
            .await
            .expect_err("404");
        assert!(
            matches!(&error, ObjectStoreError::NoSuchBucket { bucket } if bucket == BUCKET),
            "{error:?}"
        );
        let error = store.list_page(BUCKET, "", None).await.expect_err("404");
        assert!(
            matches!(error, ObjectStoreError::NoSuchBucket { .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn lost_conditional_writes_are_precondition_failed() {
        let cases = [
            (Condition::IfNoneMatch, 412, "PreconditionFailed"),
            (Condition::IfNoneMatch, 409, "ConditionalRequestConflict"),
            (
                Condition::IfMatch(ETag::new("\"abc\"")),
                412,
                "PreconditionFailed",
            ),
            (
                Condition::IfMatch(ETag::new("\"abc\"")),
                409,
                "ConditionalRequestConflict",
            ),
            // If-Match on a key deleted meanwhile: S3 says 404 NoSuchKey.
            (Condition::IfMatch(ETag::new("\"abc\"")), 404, "NoSuchKey"),
        ];
        for (condition, status, code) in cases {
            let rule = mock!(Client::put_object)
                .sequence()
                .http_status(status, s3_error(code))
                .build();
            let error = store(&[&rule])
                .put(
                    BUCKET,
                    KEY,
                    Bytes::new(),
                    &put_options().condition(condition),
                )
                .await
                .expect_err(code);
            assert!(
                matches!(&error, ObjectStoreError::PreconditionFailed { bucket, key } if bucket == BUCKET && key == KEY),
                "{status} {code}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn other_failures_are_backend_errors_that_say_what_failed() {
        for (status, code) in [
            (409, "OperationAborted"),
            (403, "AccessDenied"),
            (503, "SlowDown"),
        ] {
            let rule = mock!(Client::put_object)
                .sequence()
                .http_status(status, s3_error(code))
                .build();
            let error = store(&[&rule])
                .put(BUCKET, KEY, Bytes::new(), &put_options())
                .await
                .expect_err(code);
            let ObjectStoreError::Backend { context, .. } = &error else {
                panic!("{status} {code}: {error:?}");
            };
            assert!(context.contains("PutObject"), "{context}");
            assert!(
                context.contains(&format!("s3://{BUCKET}/{KEY}")),
                "{context}"
            );
            assert!(context.contains(code), "{context}");
        }
    }

    #[tokio::test]
    async fn put_sends_every_option_as_s3_expects_it() {
        let rule = mock!(Client::put_object)
            .match_requests(|request| {
                request.bucket() == Some(BUCKET)
                    && request.key() == Some(KEY)
                    && request.content_type() == Some("application/json")
                    && request.content_encoding() == Some("gzip")
                    && request.metadata()
                        == Some(&HashMap::from([(
                            "signature-algorithm".to_owned(),
                            "SHA256withRSA".to_owned(),
                        )]))
                    && request.server_side_encryption() == Some(&ServerSideEncryption::AwsKms)
                    && request.ssekms_key_id() == Some("arn:aws:kms:us-east-1:1:key/k")
                    && request.if_none_match() == Some("*")
                    && request.if_match().is_none()
            })
            .then_output(|| PutObjectOutput::builder().e_tag("\"etag-1\"").build());
        let if_match = mock!(Client::put_object)
            .match_requests(|request| {
                request.if_match() == Some("\"etag-1\"")
                    && request.if_none_match().is_none()
                    && request.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
                    && request.metadata().is_none()
            })
            .then_output(|| PutObjectOutput::builder().e_tag("\"etag-2\"").build());
        let store = store(&[&rule, &if_match]);

        let options = put_options()
            .content_encoding("gzip")
            .metadata("Signature-Algorithm", "SHA256withRSA")
            .encryption(Encryption::Kms {
                key_id: "arn:aws:kms:us-east-1:1:key/k".into(),
            })
            .condition(Condition::IfNoneMatch);
        let receipt = store
            .put(BUCKET, KEY, Bytes::from_static(b"{}"), &options)
            .await
            .expect("put");
        assert_eq!(receipt.etag, ETag::new("\"etag-1\""));

        let options = put_options()
            .encryption(Encryption::S3Managed)
            .condition(Condition::IfMatch(receipt.etag));
        let receipt = store
            .put(BUCKET, KEY, Bytes::from_static(b"{}"), &options)
            .await
            .expect("put");
        assert_eq!(receipt.etag, ETag::new("\"etag-2\""));
        assert_eq!((rule.num_calls(), if_match.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn get_and_head_describe_the_object_in_port_types() {
        // The same description on either output's builder (they share no trait).
        macro_rules! described {
            ($builder:expr) => {
                $builder
                    .content_length(5)
                    .e_tag("\"5d41402abc4b2a76b9719d911017c592\"")
                    .content_type("application/json")
                    .content_encoding("gzip")
                    .metadata("signature", "ab12")
                    .last_modified(DateTime::from_secs(1_704_164_645))
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id("arn:aws:kms:us-east-1:1:key/k")
                    .build()
            };
        }
        let get = mock!(Client::get_object).then_output(|| {
            described!(GetObjectOutput::builder().body(ByteStream::from_static(b"hello")))
        });
        let head =
            mock!(Client::head_object).then_output(|| described!(HeadObjectOutput::builder()));
        let store = store(&[&get, &head]);

        let object = store.get(BUCKET, KEY).await.expect("get");
        assert_eq!(object.body, Bytes::from_static(b"hello"));
        let expected = ObjectInfo {
            etag: ETag::new("\"5d41402abc4b2a76b9719d911017c592\""),
            size: 5,
            content_type: Some("application/json".into()),
            content_encoding: Some("gzip".into()),
            metadata: BTreeMap::from([("signature".into(), "ab12".into())]),
            last_modified: time::macros::datetime!(2024-01-02 03:04:05 UTC),
            encryption: Some(Encryption::Kms {
                key_id: "arn:aws:kms:us-east-1:1:key/k".into(),
            }),
        };
        assert_eq!(object.info, expected);
        assert_eq!(store.head(BUCKET, KEY).await.expect("head"), expected);
    }

    #[tokio::test]
    async fn list_pages_follow_continuation_tokens() {
        let object = |key: &str| {
            Object::builder()
                .key(key)
                .size(3)
                .e_tag("\"e\"")
                .last_modified(DateTime::from_secs(0))
                .build()
        };
        let first = mock!(Client::list_objects_v2)
            .match_requests(|request| {
                request.prefix() == Some("AWSLogs/")
                    && request.max_keys() == Some(1000)
                    && request.continuation_token().is_none()
            })
            .then_output(move || {
                ListObjectsV2Output::builder()
                    .contents(object("AWSLogs/a"))
                    .is_truncated(true)
                    .next_continuation_token("token-1")
                    .build()
            });
        let last = mock!(Client::list_objects_v2)
            .match_requests(|request| request.continuation_token() == Some("token-1"))
            .then_output(move || {
                ListObjectsV2Output::builder()
                    .contents(object("AWSLogs/b"))
                    .is_truncated(false)
                    .build()
            });
        let store = store(&[&first, &last]);

        let page = store
            .list_page(BUCKET, "AWSLogs/", None)
            .await
            .expect("page");
        assert_eq!(page.next_token.as_deref(), Some("token-1"));
        assert_eq!(
            page.entries,
            [ListEntry {
                key: "AWSLogs/a".into(),
                size: 3,
                etag: ETag::new("\"e\""),
                last_modified: OffsetDateTime::UNIX_EPOCH,
            }]
        );
        let all = store.list_all(BUCKET, "AWSLogs/").await.expect("all");
        let keys: Vec<_> = all.iter().map(|entry| entry.key.as_str()).collect();
        assert_eq!(keys, ["AWSLogs/a", "AWSLogs/b"]);
    }

    #[tokio::test]
    async fn folders_are_the_common_prefixes_of_a_listing_by_delimiter() {
        let folder = |prefix: &str| CommonPrefix::builder().prefix(prefix).build();
        let first = mock!(Client::list_objects_v2)
            .match_requests(|request| {
                request.prefix() == Some("AWSLogs/")
                    && request.delimiter() == Some("/")
                    && request.continuation_token().is_none()
            })
            .then_output(move || {
                ListObjectsV2Output::builder()
                    .common_prefixes(folder("AWSLogs/111122223333/"))
                    .is_truncated(true)
                    .next_continuation_token("token-1")
                    .build()
            });
        let last = mock!(Client::list_objects_v2)
            .match_requests(|request| {
                request.delimiter() == Some("/") && request.continuation_token() == Some("token-1")
            })
            .then_output(move || {
                ListObjectsV2Output::builder()
                    .common_prefixes(folder("AWSLogs/444455556666/"))
                    .is_truncated(false)
                    .build()
            });
        let folders = store(&[&first, &last])
            .list_folders(BUCKET, "AWSLogs/")
            .await
            .expect("folders");
        assert_eq!(folders, ["AWSLogs/111122223333/", "AWSLogs/444455556666/"]);
    }

    #[tokio::test]
    async fn a_truncated_listing_without_a_token_is_an_error_not_a_short_listing() {
        let rule = mock!(Client::list_objects_v2)
            .then_output(|| ListObjectsV2Output::builder().is_truncated(true).build());
        let error = store(&[&rule])
            .list_page(BUCKET, "", None)
            .await
            .expect_err("malformed");
        assert!(
            matches!(&error, ObjectStoreError::Backend { context, .. } if context.contains("malformed")),
            "{error:?}"
        );
    }

    /// Records the URI of the request about to be sent.
    #[derive(Debug, Default, Clone)]
    struct CaptureUri(Arc<Mutex<Option<String>>>);

    impl Intercept for CaptureUri {
        fn name(&self) -> &'static str {
            "CaptureUri"
        }

        fn read_before_transmit(
            &self,
            context: &BeforeTransmitInterceptorContextRef<'_>,
            _runtime_components: &RuntimeComponents,
            _cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            *self.0.lock().expect("not poisoned") = Some(context.request().uri().to_owned());
            Ok(())
        }
    }

    #[derive(Debug)]
    struct S3EndpointFromEnvironment;

    impl LoadServiceConfig for S3EndpointFromEnvironment {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            (key.service_id() == "S3" && key.env() == "AWS_ENDPOINT_URL")
                .then(|| "http://127.0.0.1:4566".to_owned())
        }
    }

    /// The URI a GetObject through `from_sdk_config`'s settings is sent to.
    async fn request_uri(
        configure: impl FnOnce(aws_types::sdk_config::Builder) -> aws_types::sdk_config::Builder,
    ) -> String {
        let sdk_config = configure(
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                    "test", "test", None, None, "test",
                )))
                .http_client(create_mock_http_client()),
        )
        .build();
        let capture = CaptureUri::default();
        let client = Client::from_conf(
            s3_config(&sdk_config)
                .retry_config(RetryConfig::disabled())
                .interceptor(capture.clone())
                .build(),
        );
        // The mock HTTP client answers 418: only the request matters here.
        let _ = client.get_object().bucket(BUCKET).key("k").send().await;
        let uri = capture.0.lock().expect("not poisoned").clone();
        uri.expect("a request was sent")
    }

    #[tokio::test]
    async fn a_custom_endpoint_gets_path_style_addressing() {
        let uri = request_uri(|config| config.endpoint_url("http://127.0.0.1:4566")).await;
        assert_eq!(
            uri,
            format!("http://127.0.0.1:4566/{BUCKET}/k?x-id=GetObject")
        );

        let uri = request_uri(|config| config.service_config(S3EndpointFromEnvironment)).await;
        assert_eq!(
            uri,
            format!("http://127.0.0.1:4566/{BUCKET}/k?x-id=GetObject")
        );

        let uri = request_uri(|config| config).await;
        assert_eq!(
            uri,
            format!("https://{BUCKET}.s3.us-east-1.amazonaws.com/k?x-id=GetObject")
        );
    }
}
