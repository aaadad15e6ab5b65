use std::path::Path;

use cairn_shared::config::Config;
use cairn_shared::ingest::BodyError;
use cairn_shared::ports::log_sink::LogSinkError;

use super::*;

fn store(kind: &str) -> ObjectStoreError {
    let (bucket, key) = ("cairn-state".to_owned(), "staging/x.jsonl".to_owned());
    match kind {
        "NotFound" => ObjectStoreError::NotFound { bucket, key },
        "PreconditionFailed" => ObjectStoreError::PreconditionFailed { bucket, key },
        "NoSuchBucket" => ObjectStoreError::NoSuchBucket { bucket },
        "InvalidRequest" => ObjectStoreError::InvalidRequest {
            bucket,
            key,
            reason: "a key S3 refuses".to_owned(),
        },
        _ => ObjectStoreError::Backend {
            context: format!("PutObject s3://{bucket}/{key}"),
            source: "connection refused".into(),
        },
    }
}

fn not_json() -> serde_json::Error {
    serde_json::from_str::<u8>("not json").expect_err("not JSON")
}

fn signer(retryable: bool) -> SignerError {
    let key_id = "alias/cairn".to_owned();
    if retryable {
        SignerError::Retryable {
            key_id,
            operation: "Sign",
            detail: "ThrottlingException".to_owned(),
        }
    } else {
        SignerError::Failed {
            key_id,
            operation: "Sign",
            detail: "DisabledException".to_owned(),
        }
    }
}

fn sink(retryable: bool) -> ForwardError {
    let (group, stream) = ("cairn/cloudtrail".to_owned(), "stream".to_owned());
    let source = if retryable {
        LogSinkError::Retryable {
            group,
            stream,
            operation: "PutLogEvents",
            detail: "ThrottlingException".to_owned(),
        }
    } else {
        LogSinkError::Failed {
            group,
            stream,
            operation: "PutLogEvents",
            detail: "AccessDenied".to_owned(),
        }
    };
    ForwardError::Sink {
        bucket: "trail".to_owned(),
        key: "log.json.gz".to_owned(),
        batch: 0,
        attempts: 6,
        source,
    }
}

fn error_type(error: impl Into<FunctionError>) -> String {
    Diagnostic::from(error.into()).error_type
}

#[test]
fn the_diagnostic_carries_the_kind_as_its_type_and_the_cause_as_its_message() {
    let error = store("Backend");
    let message = error.to_string();
    let diagnostic = Diagnostic::from(FunctionError::from(error));
    assert_eq!(diagnostic.error_type, "StoreUnavailable");
    assert_eq!(diagnostic.error_message, message);
}

#[test]
fn a_configuration_that_cannot_be_loaded_is_config_invalid() {
    let error = Config::load(Path::new("/nonexistent/cairn.yaml")).expect_err("no such file");
    assert_eq!(error_type(error), "ConfigInvalid");
}

#[test]
fn object_store_failures_are_told_apart_by_variant() {
    assert_eq!(error_type(store("NotFound")), "ObjectMissing");
    assert_eq!(error_type(store("PreconditionFailed")), "Contended");
    assert_eq!(error_type(store("NoSuchBucket")), "StoreUnavailable");
    assert_eq!(error_type(store("Backend")), "StoreUnavailable");
    assert_eq!(error_type(store("InvalidRequest")), "StoreRequestInvalid");
}

#[test]
fn an_unreachable_staging_area_is_staging_unavailable_and_a_bad_object_corrupt() {
    assert_eq!(
        error_type(StagingError::Store(store("Backend"))),
        "StagingUnavailable"
    );
    assert_eq!(
        error_type(StagingError::Store(store("NoSuchBucket"))),
        "StagingUnavailable"
    );
    assert_eq!(
        error_type(StagingError::Store(store("NotFound"))),
        "ObjectMissing"
    );
    let corrupt = StagingError::Corrupt {
        key: "staging/x.jsonl".to_owned(),
        source: not_json(),
    };
    assert_eq!(error_type(corrupt), "CorruptObject");
}

#[test]
fn the_state_bucket_out_of_reach_is_staging_unavailable_wherever_it_is_read() {
    let journal = DocumentError::Store(store("NoSuchBucket"));
    assert_eq!(
        error_type(DeliveryError::Document(journal)),
        "StagingUnavailable"
    );
    let marker = ProgressError::Store(store("Backend"));
    assert_eq!(error_type(marker), "StagingUnavailable");
}

#[test]
fn ingest_tells_a_bad_body_from_a_staging_failure() {
    let body = BodyError::Json(not_json());
    assert_eq!(error_type(IngestError::Body(body)), "BadEvent");
    let staging = StagingError::Store(store("Backend"));
    assert_eq!(
        error_type(IngestError::Staging(staging)),
        "StagingUnavailable"
    );
}

#[test]
fn deliver_failures_keep_the_kind_of_their_cause() {
    assert_eq!(
        error_type(DeliveryError::Store(store("Backend"))),
        "StoreUnavailable"
    );
    assert_eq!(
        error_type(DeliveryError::Staging(StagingError::Store(store(
            "Backend"
        )))),
        "StagingUnavailable"
    );
    let corrupt_journal = DocumentError::Corrupt {
        bucket: "cairn-state".to_owned(),
        key: "deliver/journal.json".to_owned(),
        source: not_json(),
        remedy: "restore it",
    };
    assert_eq!(
        error_type(DeliveryError::Document(corrupt_journal)),
        "CorruptObject"
    );
    assert_eq!(
        error_type(DeliveryError::Document(DocumentError::Store(store(
            "PreconditionFailed"
        )))),
        "Contended"
    );
    let seen = DeliveryError::CorruptSeen {
        key: "deliver/seen/x".to_owned(),
        line: 3,
    };
    assert_eq!(error_type(seen), "CorruptObject");
    let lost = DeliveryError::LeaseLost {
        batch: "b".to_owned(),
    };
    assert_eq!(error_type(lost), "Contended");
    let irreproducible = DeliveryError::Irreproducible {
        batch: "b".to_owned(),
        why: "a staging object changed".to_owned(),
    };
    assert_eq!(error_type(irreproducible), "CorruptObject");
}

#[test]
fn digest_failures_name_signing_throttling_and_a_missing_key() {
    let sign = |source| DigestError::Sign {
        bucket: "trail".to_owned(),
        key: "digest.json.gz".to_owned(),
        source,
    };
    assert_eq!(error_type(sign(signer(false))), "SigningFailed");
    assert_eq!(error_type(sign(signer(true))), "Throttled");
    assert_eq!(
        error_type(DigestError::PublicKey(signer(false))),
        "SigningFailed"
    );
    let no_signer = DigestError::NoSigner {
        trail: "main".to_owned(),
    };
    assert_eq!(
        error_type(DeliveryError::Digest(no_signer)),
        "ConfigInvalid"
    );
    let foreign = DigestError::ForeignDigest {
        bucket: "trail".to_owned(),
        key: "digest.json.gz".to_owned(),
        why: "another chain".to_owned(),
    };
    assert_eq!(error_type(foreign), "CorruptObject");
    assert_eq!(error_type(DigestError::Contended), "Contended");
    assert_eq!(
        error_type(DigestError::Store(store("Backend"))),
        "StoreUnavailable"
    );
    let contended = PublicKeysError::Contended {
        bucket: "cairn-state".to_owned(),
        fingerprint: "f".to_owned(),
        attempts: 16,
    };
    assert_eq!(error_type(DigestError::Publish(contended)), "Contended");
    let corrupt = PublicKeysError::Corrupt {
        bucket: "cairn-state".to_owned(),
        reason: cairn_shared::public_keys::RegistryProblem::EndsBeforeStart {
            fingerprint: "f".to_owned(),
        },
    };
    assert_eq!(error_type(corrupt), "CorruptObject");
    assert_eq!(
        error_type(PublicKeysError::Store(store("NoSuchBucket"))),
        "StagingUnavailable"
    );
}

#[test]
fn forward_tells_throttling_from_a_refused_put() {
    assert_eq!(error_type(sink(true)), "Throttled");
    assert_eq!(error_type(sink(false)), "LogSinkFailed");
    assert_eq!(
        error_type(ForwardError::Store(store("NotFound"))),
        "ObjectMissing"
    );
    let unreadable = ForwardError::Unreadable {
        bucket: "trail".to_owned(),
        key: "log.json.gz".to_owned(),
        why: "not gzip".to_owned(),
    };
    assert_eq!(error_type(unreadable), "CorruptObject");
    let marker = ProgressError::Corrupt {
        bucket: "cairn-state".to_owned(),
        key: "forward/progress/x".to_owned(),
        source: not_json(),
        remedy: "delete it",
    };
    assert_eq!(error_type(ForwardError::Progress(marker)), "CorruptObject");
    assert_eq!(
        error_type(ForwardError::Progress(ProgressError::Store(store(
            "Backend"
        )))),
        "StagingUnavailable"
    );
}

#[test]
fn a_trigger_that_is_not_s3_shaped_is_a_bad_event() {
    let error = cairn_shared::trigger::decode_key("%zz").expect_err("not hex");
    assert_eq!(error_type(error), "BadEvent");
}

#[test]
fn every_kind_has_its_own_error_type() {
    let kinds = [
        ErrorKind::ConfigInvalid,
        ErrorKind::BadEvent,
        ErrorKind::StagingUnavailable,
        ErrorKind::StoreUnavailable,
        ErrorKind::ObjectMissing,
        ErrorKind::StoreRequestInvalid,
        ErrorKind::Contended,
        ErrorKind::CorruptObject,
        ErrorKind::Throttled,
        ErrorKind::SigningFailed,
        ErrorKind::LogSinkFailed,
        ErrorKind::NotifyFailed,
    ];
    let names: std::collections::BTreeSet<_> = kinds.iter().map(|k| k.error_type()).collect();
    assert_eq!(names.len(), kinds.len());
    for kind in kinds {
        assert_eq!(kind.error_type(), format!("{kind:?}"));
    }
}
