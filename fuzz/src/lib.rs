//! The fuzz targets' bodies, one module each, with what they share. The libFuzzer binaries in
//! fuzz_targets/ each hand their input to one `run`; `tests/fuzz_corpus.rs` in the workspace
//! includes this file and replays every seed and every input that once crashed a target, so a
//! regression fails the ordinary test run without a fuzzing build.
//!
//! Every `run` takes any bytes and must neither panic nor hang; the asserts are the properties
//! each parser promises beyond that.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use cairn_shared::config::Config;
use flate2::Compression;
use flate2::write::GzEncoder;

/// A target's body: any bytes in, a panic for a broken promise.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and of its seed folder.
pub const TARGETS: [(&str, Target); 8] = [
    ("filter_pattern", filter_pattern::run),
    ("ingest_body", ingest_body::run),
    ("record", record::run),
    ("staging_object", staging_object::run),
    ("digest_file", digest_file::run),
    ("log_file", log_file::run),
    ("config", config::run),
    ("trigger", trigger::run),
];

/// The repository's `cairn.yaml`, the trails the fuzzed inputs are routed and checked against.
fn sample_config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::from_yaml(include_str!("../../cairn.yaml"), "cairn.yaml").expect("sample config")
    })
}

/// Runs a service call to completion on one thread.
fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
        })
        .block_on(future)
}

/// A folder for one process's scratch embedded store, in /dev/shm where there is one so the
/// millions of writes of a fuzzing run stay off the disk. Each target overwrites the same keys.
fn scratch_dir(target: &str) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("cairn-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Input whose first byte chooses whether the rest is taken as it is (odd) or gzipped here
/// (even), so the fuzzer reaches both the gzip framing and the JSON inside it.
fn maybe_gzip(data: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((flag, rest)) if flag % 2 == 0 => {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(rest).expect("in memory");
            encoder.finish().expect("in memory")
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    }
}

/// The filter-pattern engine promises to be total: any pattern text yields a pattern or an
/// error, and any event message yields a match or not. Patterns come from configuration and
/// messages from any producer, so both halves are untrusted.
///
/// Input layout: the pattern, a newline, then the message (patterns never span lines).
pub mod filter_pattern {
    use cairn_shared::filter::FilterPattern;

    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let (pattern, message) = text.split_once('\n').unwrap_or((text, ""));
        if let Ok(pattern) = FilterPattern::parse(pattern) {
            let _ = pattern.matches(message);
        }
    }
}

/// An ingest body from anyone who may call the function: a Function URL request or a body
/// invoked directly, of any of the three kinds. Reading it, validating each record, routing it
/// and encoding the staging object never panic, and what is staged reads back as written.
pub mod ingest_body {
    use cairn_shared::ingest::{LakeContext, function_url_body, read_body};
    use cairn_shared::record::{EventTime, Record};
    use cairn_shared::staging::{StagedEvent, encode, read_staged};
    use serde_json::value::RawValue;

    const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/cairn";

    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let request = serde_json::from_str::<&RawValue>(text)
            .ok()
            .and_then(function_url_body);
        match request {
            Some(Ok(body)) => ingest(&body),
            Some(Err(error)) => {
                let _ = error.http_status();
            }
            None => ingest(text),
        }
    }

    fn ingest(text: &str) {
        let lake = LakeContext {
            region: "us-east-1",
            channel_arn: CHANNEL,
            ingestion_time: EventTime::parse("2026-11-20T10:06:00Z").expect("a time"),
        };
        let Ok(body) = read_body(text, &lake) else {
            return;
        };
        let mut staged = Vec::new();
        for (index, submitted) in body.events.iter().enumerate() {
            let Ok(raw) = &submitted.event else { continue };
            if let Ok(record) = Record::parse(raw, Some(index))
                && let Some(event) = StagedEvent::route(super::sample_config(), &record)
            {
                staged.push(event);
            }
        }
        let bytes = encode(&staged);
        let read = read_staged("staging/fuzz.jsonl", &bytes).expect("ingest's own staging object");
        assert_eq!(read.len(), staged.len());
        assert_eq!(
            encode(&read),
            bytes,
            "a staging object reads back as written"
        );
    }
}

/// The record decoder: any JSON a producer sends as a record is validated by its eventVersion
/// and classified; `compact` keeps it the same JSON; a batch splits into its records.
pub mod record {
    use cairn_shared::record::{Record, compact, split_batch};
    use serde_json::Value;
    use serde_json::value::RawValue;

    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(records) = split_batch(text) {
            for raw in records {
                check(raw);
            }
        }
        if let Ok(raw) = serde_json::from_str::<&RawValue>(text) {
            check(raw);
        }
    }

    fn check(raw: &RawValue) {
        let compacted = compact(raw);
        if let (Ok(before), Ok(after)) = (
            serde_json::from_str::<Value>(raw.get()),
            serde_json::from_str::<Value>(compacted.get()),
        ) {
            assert_eq!(before, after, "compact keeps the same JSON");
        }
        if let Ok(record) = Record::parse(&compacted, Some(0)) {
            let _ = (
                record.event_time(),
                record.event_type(),
                record.event_id(),
                record.aws_region(),
                record.recipient_account_id(),
                record.resources().len(),
                record.session_credential_from_console(),
            );
        }
    }
}

/// A staging object as deliver reads it back: bytes in the state bucket that anyone with
/// write access could have changed. What reads re-encodes to bytes that read the same again.
pub mod staging_object {
    use cairn_shared::staging::{encode, read_staged};

    pub fn run(data: &[u8]) {
        let Ok(events) = read_staged("staging/fuzz.jsonl", data) else {
            return;
        };
        for event in &events {
            for route in &event.routes {
                let _ = (route.trail(), route.account(), route.region());
            }
        }
        let again = encode(&events);
        let reread = read_staged("staging/fuzz.jsonl", &again).expect("its own encoding");
        assert_eq!(encode(&reread), again);
    }
}

/// A digest file as validate-logs reads it: any bytes at a digest key of the sample trail,
/// with any signature metadata, and any text as a digest key name. Every problem is a finding
/// about the file; and with no published key, nothing validates.
///
/// Input layout: the signature metadata (also tried as a key name), a newline, then the
/// digest body as `maybe_gzip` takes it. Without the signing key the fuzzer cannot reach what
/// is checked after the signature; the framing, the format and the key lookup come before.
pub mod digest_file {
    use std::sync::OnceLock;

    use bytes::Bytes;
    use cairn_shared::adapters::local::LocalObjectStore;
    use cairn_shared::digest::SIGNATURE_METADATA;
    use cairn_shared::layout::{ChainId, digest_key, parse_digest_key};
    use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
    use cairn_shared::record::EventTime;
    use cairn_shared::validate::{NoProgress, Request, TrailArn, validate};
    use time::macros::datetime;

    use super::{block_on, maybe_gzip, scratch_dir};

    const BUCKET: &str = "cairn-trail-123456789012";
    const ACCOUNT: &str = "123456789012";

    fn store() -> &'static LocalObjectStore {
        static STORE: OnceLock<LocalObjectStore> = OnceLock::new();
        STORE.get_or_init(|| {
            let store = LocalObjectStore::new(scratch_dir("digest_file"));
            block_on(store.create_bucket(BUCKET)).expect("bucket");
            store
        })
    }

    pub fn run(data: &[u8]) {
        let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
        let signature = &data[..split];
        let body = data.get(split + 1..).unwrap_or_default();
        let signature = std::str::from_utf8(signature).ok();
        if let Some(name) = signature {
            let _ = parse_digest_key(name);
        }
        let chain = ChainId {
            trail: "main".to_owned(),
            home_region: "us-east-1".to_owned(),
            account: ACCOUNT.to_owned(),
            region: "us-east-1".to_owned(),
        };
        let key = digest_key(Some("audit"), None, &chain, datetime!(2026-11-20 11:00 UTC));
        let mut options = PutOptions::new("application/json").content_encoding("gzip");
        // S3 user metadata is printable ASCII; anything else never reaches the validator.
        if let Some(signature) =
            signature.filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        {
            options = options
                .metadata(SIGNATURE_METADATA, signature)
                .metadata("signature-algorithm", "SHA256withRSA");
        }
        let store = store();
        block_on(store.put(BUCKET, &key, Bytes::from(maybe_gzip(body)), &options))
            .expect("scratch put");
        let request = Request {
            trail: TrailArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:trail/main")
                .expect("trail ARN"),
            bucket: BUCKET.to_owned(),
            prefix: Some("audit".to_owned()),
            organization_id: None,
            account: ACCOUNT.to_owned(),
            regions: None,
            copy_without_metadata: false,
            start: EventTime::parse("2026-11-20T09:00:00Z").expect("time"),
            end: EventTime::parse("2026-11-20T12:00:00Z").expect("time"),
        };
        let report = block_on(validate(store, &[], &request, &NoProgress)).expect("a local store");
        assert!(
            !report.is_valid(),
            "no digest validates without a published signing key"
        );
    }
}

/// A log file as forward reads it: any bytes at a log file key of the sample trail, with
/// Cairn's metadata, as anyone with write access to the trail bucket could leave them. forward
/// sends what it can and refuses the rest with a reason.
pub mod log_file {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use bytes::Bytes;
    use cairn_shared::adapters::local::{LocalLogSink, LocalObjectStore};
    use cairn_shared::delivered::{
        ACCOUNT_METADATA, NEWEST_EVENT_TIME_METADATA, OLDEST_EVENT_TIME_METADATA,
        RECORD_COUNT_METADATA, REGION_METADATA, TRAIL_METADATA,
    };
    use cairn_shared::forward::Forwarder;
    use cairn_shared::layout::log_file_key;
    use cairn_shared::ports::object_store::{ObjectStore, PutOptions};
    use cairn_shared::service::Service;
    use cairn_shared::trigger::ObjectCreated;
    use time::macros::datetime;

    use super::{block_on, maybe_gzip, sample_config, scratch_dir};

    const BUCKET: &str = "cairn-trail-123456789012";
    const ACCOUNT: &str = "123456789012";

    struct Scratch {
        store: LocalObjectStore,
        logs: PathBuf,
    }

    fn scratch() -> &'static Scratch {
        static SCRATCH: OnceLock<Scratch> = OnceLock::new();
        SCRATCH.get_or_init(|| {
            let dir = scratch_dir("log_file");
            let store = LocalObjectStore::new(dir.join("store"));
            block_on(store.create_bucket(BUCKET)).expect("bucket");
            block_on(store.create_bucket(&sample_config().state_bucket)).expect("bucket");
            Scratch {
                store,
                logs: dir.join("logs"),
            }
        })
    }

    pub fn run(data: &[u8]) {
        let Scratch { store, logs } = scratch();
        let now = datetime!(2026-11-20 10:06 UTC);
        let key = log_file_key(
            Some("audit"),
            None,
            ACCOUNT,
            "us-east-1",
            now,
            "FuzzFuzzFuzzFuzz",
        );
        let options = PutOptions::new("application/json")
            .content_encoding("gzip")
            .metadata(TRAIL_METADATA, "main")
            .metadata(ACCOUNT_METADATA, ACCOUNT)
            .metadata(REGION_METADATA, "us-east-1")
            .metadata(RECORD_COUNT_METADATA, "1")
            .metadata(OLDEST_EVENT_TIME_METADATA, "2026-11-20T10:00:00Z")
            .metadata(NEWEST_EVENT_TIME_METADATA, "2026-11-20T10:05:00Z");
        block_on(store.put(BUCKET, &key, Bytes::from(maybe_gzip(data)), &options))
            .expect("scratch put");
        // A fresh sink and no progress marker each time, so every input is forwarded from the
        // start and the scratch folder does not grow.
        let _ = std::fs::remove_dir_all(logs);
        let state = &sample_config().state_bucket;
        for marker in block_on(store.list_all(state, "")).expect("scratch list") {
            block_on(store.delete(state, &marker.key)).expect("scratch delete");
        }
        let sink = LocalLogSink::new(logs);
        let forwarder = Forwarder::new(sample_config(), store, &sink);
        let _ = block_on(forwarder.handle(&ObjectCreated::new(BUCKET, key), now));
    }
}

/// `cairn.yaml`: any text is a configuration or an error naming what is wrong.
pub mod config {
    use cairn_shared::config::Config;

    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Err(error) = Config::from_yaml(text, "cairn.yaml") {
            let _ = error.to_string();
        }
    }
}

/// forward's and notify's triggers: an EventBridge event, directly or as the body of an SQS
/// message. Any JSON is an object to handle, an event to ignore with the reason, or an error.
pub mod trigger {
    use cairn_shared::trigger::from_eventbridge;
    use serde_json::Value;

    pub fn run(data: &[u8]) {
        let Ok(event) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        read(&event);
        // An SQS batch: each message's body is an EventBridge event as text.
        if let Some(records) = event.get("Records").and_then(Value::as_array) {
            for body in records.iter().filter_map(|r| r.get("body")?.as_str()) {
                if let Ok(event) = serde_json::from_str::<Value>(body) {
                    read(&event);
                }
            }
        }
    }

    fn read(event: &Value) {
        let text = |name| event.get(name).and_then(Value::as_str).unwrap_or_default();
        let detail = event.get("detail").cloned().unwrap_or(Value::Null);
        let _ = from_eventbridge(text("detail-type"), text("source"), &detail);
    }
}
