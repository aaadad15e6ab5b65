use std::fs;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::error_codes::*;
use super::*;
use crate::record::{
    EventCategory, EventType, MAX_RECORD_BYTES, Record, assert_compact_form_of, compact,
    split_batch,
};

fn fixture(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

const CHANNEL: &str =
    "arn:aws:cloudtrail:us-east-1:152089810396:channel/EXAMPLE8-0558-4f7e-a06a-43969EXAMPLE";

fn lake() -> LakeContext<'static> {
    LakeContext {
        region: "us-east-1",
        channel_arn: CHANNEL,
        ingestion_time: EventTime::parse("2021-10-27T12:13:20Z").expect("time"),
    }
}

fn read(text: &str) -> Result<Body<'_>, BodyError> {
    read_body(text, &lake())
}

fn body_error(text: &str) -> String {
    match read(text) {
        Ok(body) => panic!("accepted as {:?}: {text}", body.kind),
        Err(e) => e.to_string(),
    }
}

/// The start of a long text, for assertion messages.
fn short(text: &str) -> &str {
    text.char_indices()
        .nth(200)
        .map_or(text, |(cut, _)| &text[..cut])
}

/// Whether `inner` is a slice of `outer` itself: the record was borrowed, not rewritten.
fn borrowed_from(inner: &str, outer: &str) -> bool {
    let (start, end) = (
        outer.as_ptr() as usize,
        outer.as_ptr() as usize + outer.len(),
    );
    let at = inner.as_ptr() as usize;
    at >= start && at + inner.len() <= end
}

// ---------------------------------------------------------------- {"Records":[…]}

#[test]
fn records_batches_submit_every_record_compact_by_index() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut files: Vec<PathBuf> = fs::read_dir(fixtures.join("stratus_red_team_detonation_logs"))
        .expect("fixture dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.push(fixtures.join("awsdocs_user_guide_examples/awsdocs_example_records.json"));
    let mut submitted = 0;
    let mut already_compact = 0;
    for path in &files {
        let text = fs::read_to_string(path).expect("read");
        let body = read(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(body.kind, BodyKind::Records);
        let expected = split_batch(&text).expect("batch");
        assert_eq!(body.events.len(), expected.len());
        for (i, (event, raw)) in body.events.iter().zip(expected).enumerate() {
            assert_eq!(event.id, i.to_string());
            let record = match &event.event {
                Ok(record) => record,
                Err(refusal) => panic!("{}: event {i} is refused: {refusal}", path.display()),
            };
            // CloudTrail writes records compact: the same JSON, whitespace between tokens gone.
            assert_compact_form_of(raw.get(), record.get());
            if record.get() == raw.get() {
                assert!(matches!(record, Cow::Borrowed(_)), "{}", path.display());
                assert!(borrowed_from(record.get(), &text));
                already_compact += 1;
            }
            Record::parse(record, Some(i)).expect("a valid record");
            submitted += 1;
        }
    }
    assert_eq!(submitted, 310 + 22);
    assert!(
        already_compact < submitted,
        "the fixtures have pretty-printed records"
    );
}

#[test]
fn records_that_is_no_array_reports_its_position() {
    let error = read(r#"{"Records":{"eventVersion":"1.11"}}"#).expect_err("refused");
    assert!(matches!(error, BodyError::Batch(_)));
    assert_eq!(
        error.to_string(),
        "not a {\"Records\":[…]} batch: invalid type: map, expected a sequence at line 1 column 11"
    );
    assert_eq!((error.line(), error.column()), (Some(1), Some(11)));
    let empty = read(r#"{"Records":[]}"#).expect("an empty batch is a batch");
    assert!(empty.events.is_empty());
}

// ---------------------------------------------------------------- EventBridge

/// An EventBridge event as CloudTrail sends it, around `detail`.
fn eventbridge(detail_type: &str, source: &str, detail: &str) -> String {
    format!(
        r#"{{"version":"0","id":"6f87d04b-9f74-4f04-a780-7acf4b0a9b38","detail-type":"{detail_type}","source":"{source}","account":"123456789012","time":"2024-05-01T12:00:00Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
    )
}

#[test]
fn eventbridge_detail_is_the_record_compact() {
    let docs = fixture("awsdocs_user_guide_examples/awsdocs_example_records.json");
    let docs = split_batch(&docs).expect("batch");
    let stratus = fixture(
        "stratus_red_team_detonation_logs/aws.initial-access.console-login-without-mfa.json",
    );
    let console_login = split_batch(&stratus).expect("batch")[0];
    let cases = [
        (
            "AWS API Call via CloudTrail",
            "aws.cloudtrail",
            docs[16],
            "UpdateTrail",
        ),
        ("AWS Insight via CloudTrail", "aws.cloudtrail", docs[10], ""),
        (
            "AWS Service Event via CloudTrail",
            "aws.kms",
            docs[20],
            "RotateKey",
        ),
        (
            "AWS Console Sign In via CloudTrail",
            "aws.signin",
            console_login,
            "ConsoleLogin",
        ),
        (
            "AWS Console Signin via CloudTrail",
            "aws.signin",
            console_login,
            "ConsoleLogin",
        ),
    ];
    for (detail_type, source, record, name) in cases {
        let text = eventbridge(detail_type, source, record.get());
        let body = read(&text).unwrap_or_else(|e| panic!("{detail_type}: {e}"));
        assert_eq!(body.kind, BodyKind::EventBridge);
        let [event] = body.events.as_slice() else {
            panic!("{detail_type}: {} events", body.events.len());
        };
        assert_eq!(event.id, "6f87d04b-9f74-4f04-a780-7acf4b0a9b38");
        let detail = match &event.event {
            Ok(detail) => detail,
            Err(refusal) => panic!("{detail_type}: {refusal}"),
        };
        assert_compact_form_of(record.get(), detail.get());
        let parsed = Record::parse(detail, None).expect("a valid record");
        assert_eq!(parsed.event_name().unwrap_or(""), name);
        // A compact detail, as EventBridge delivers it, is taken from the body as it is.
        let sent = compact(record);
        let text = eventbridge(detail_type, source, sent.get());
        let body = read(&text).unwrap_or_else(|e| panic!("{detail_type}: {e}"));
        let Ok(Cow::Borrowed(detail)) = &body.events[0].event else {
            panic!("{detail_type}: a compact detail was copied");
        };
        assert_eq!(detail.get(), sent.get());
        assert!(borrowed_from(detail.get(), &text));
    }
}

#[test]
fn eventbridge_events_that_are_not_cloudtrail_records_are_refused() {
    let record = r#"{"eventVersion":"1.11"}"#;
    let known = CLOUDTRAIL_DETAIL_TYPES.join(", ");
    let api_call = eventbridge("AWS API Call via CloudTrail", "aws.ec2", record);
    let cases: Vec<(String, String)> = vec![
        (
            eventbridge(
                "EC2 Instance State-change Notification",
                "aws.ec2",
                r#"{"instance-id":"i-abcd1111","state":"pending"}"#,
            ),
            format!(
                "EventBridge detail-type \"EC2 Instance State-change Notification\" is not one CloudTrail sends ({known})"
            ),
        ),
        (
            api_call.replace(r#","detail":{"eventVersion":"1.11"}"#, ""),
            "the EventBridge event (AWS API Call via CloudTrail) has no detail, the CloudTrail record".into(),
        ),
        (
            api_call.replace(r#""detail":{"eventVersion":"1.11"}"#, r#""detail":"{}""#),
            "the EventBridge detail must be a JSON object, the CloudTrail record, not a string".into(),
        ),
        (
            api_call.replace(r#""detail-type":"AWS API Call via CloudTrail","#, ""),
            format!(
                "an EventBridge event needs a detail-type, one CloudTrail sends ({known})"
            ),
        ),
        (
            api_call.replace(r#""AWS API Call via CloudTrail""#, r#"["AWS API Call via CloudTrail"]"#),
            "the EventBridge detail-type must be a string, not an array".into(),
        ),
        (
            api_call.replace(r#""id":"6f87d04b-9f74-4f04-a780-7acf4b0a9b38","#, ""),
            "the EventBridge event has no id".into(),
        ),
        (
            api_call.replace(r#""6f87d04b-9f74-4f04-a780-7acf4b0a9b38""#, "42"),
            "the EventBridge event id must be a string, not a number".into(),
        ),
        (
            api_call.replace(r#""source":"aws.ec2""#, r#""source":"com.example.app""#),
            "EventBridge source \"com.example.app\" is not an AWS service's (aws.…), as CloudTrail's events are".into(),
        ),
        (
            api_call.replace(r#""source":"aws.ec2","#, ""),
            "the EventBridge event has no source".into(),
        ),
        (
            api_call.replace(r#""version":"0""#, r#""version":"1""#),
            "EventBridge event version \"1\" is not \"0\"".into(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(body_error(&text), expected, "{text}");
    }
}

// ---------------------------------------------------------------- shapes and syntax

#[test]
fn malformed_json_reports_line_and_column() {
    let text = "{\n  \"auditEvents\": [\n    {\"id\": \"1\", \"eventData\": \"{}\",}\n  ]\n}";
    let error = read(text).expect_err("broken JSON");
    assert_eq!((error.line(), error.column()), (Some(3), Some(35)));
    assert_eq!(
        error.to_string(),
        "the body is not valid JSON: key must be a string at line 3 column 35"
    );
    assert_eq!(
        body_error("{\"Records\": [{},\n]}"),
        "the body is not valid JSON: expected value at line 2 column 1"
    );
    let error = read("{\"Records\": [").expect_err("cut short");
    assert_eq!(
        error.to_string(),
        "the body is not valid JSON: EOF while parsing a list at line 1 column 13"
    );
    assert_eq!(
        body_error(""),
        "the body is not valid JSON: EOF while parsing a value at line 1 column 0"
    );
}

#[test]
fn bodies_of_no_known_kind_are_refused_by_what_they_hold() {
    let cases = [
        (
            "[1, 2]",
            "the body is not a JSON object ingest can read: invalid type: sequence, expected a JSON object: a {\"Records\":[…]} batch, an EventBridge event or a PutAuditEvents request at line 1 column 0",
        ),
        (
            "{}",
            "the body is none of the kinds ingest takes (a {\"Records\":[…]} batch, an EventBridge event whose detail is a CloudTrail record, or a PutAuditEvents {\"auditEvents\":[…]} request): it is an empty object",
        ),
        (
            r#"{"records":[], "id": "x", "b\u0061tch": 1}"#,
            "the body is none of the kinds ingest takes (a {\"Records\":[…]} batch, an EventBridge event whose detail is a CloudTrail record, or a PutAuditEvents {\"auditEvents\":[…]} request): its keys are \"id\", \"records\", \"batch\"",
        ),
        (
            r#"{"Records":[],"auditEvents":[]}"#,
            "the body mixes Records and auditEvents; send each kind in a body of its own",
        ),
        (
            r#"{"auditEvents":[],"detail":{}}"#,
            "the body mixes auditEvents and an EventBridge detail; send each kind in a body of its own",
        ),
        (
            r#"{"Records":[],"Records":[]}"#,
            "the body is not a JSON object ingest can read: the key `Records` appears twice at line 1 column 23",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(body_error(text), expected, "{text}");
    }
    let many: Vec<String> = (0..13).map(|i| format!("\"k{i}\":{i}")).collect();
    assert!(
        body_error(&format!("{{{}}}", many.join(","))).ends_with(
            "its keys are \"k0\", \"k1\", \"k2\", \"k3\", \"k4\", \"k5\", \"k6\", \"k7\", \"k8\", \"k9\" and 3 more"
        )
    );
}

// ---------------------------------------------------------------- PutAuditEvents

/// The eventData of AWS's PutAuditEvents example ("Create a custom integration with the
/// AWS CLI", custom-events.json), on one line.
const DOC_EVENT_DATA: &str = r#"{"version":"eventData.version","UID":"UID","userIdentity":{"type":"CustomUserIdentity","principalId":"principalId","details":{"key":"value"}},"eventTime":"2021-10-27T12:13:14Z","eventName":"eventName","userAgent":"userAgent","eventSource":"eventSource","requestParameters":{"key":"value"},"responseElements":{"key":"value"},"additionalEventData":{"key":"value"},"sourceIPAddress":"12.34.56.78","recipientAccountId":"152089810396"}"#;

/// `printf %s "$DOC_EVENT_DATA" | openssl dgst -binary -sha256 | base64`, worked out with
/// openssl itself.
const DOC_CHECKSUM: &str = "HGpMJ7Mr9oDSbW11Rw5q5H3ueY9e4v3YGpWFCY7fVII=";
const DOC_CHECKSUM_HEX: &str = "1c6a4c27b32bf680d26d6d75470e6ae47dee798f5ee2fdd81a9585098edf5482";

/// `lake_event_id(CHANNEL, "UID")`, worked out apart from this code (Python's hashlib).
const DOC_EVENT_ID: &str = "c7ca724d-9aa4-81f2-9a90-3e290df75b0d";

/// The doc example's eventData with fields changed; `"<absent>"` removes one.
fn event_data(changes: Value) -> String {
    let mut data: Map<String, Value> = serde_json::from_str(DOC_EVENT_DATA).expect("doc");
    if let Value::Object(changes) = changes {
        for (key, value) in changes {
            if value == json!("<absent>") {
                data.remove(&key);
            } else {
                data.insert(key, value);
            }
        }
    }
    serde_json::to_string(&data).expect("serialise")
}

/// A PutAuditEvents body of the given audit events.
fn audit(events: Vec<Value>) -> String {
    json!({ "auditEvents": events }).to_string()
}

fn event(id: &str, data: &str) -> Value {
    json!({"id": id, "eventData": data})
}

/// The one event of a one-event body, read.
fn only_event(text: &str) -> Result<Box<RawValue>, Refusal> {
    let body = read(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body.kind, BodyKind::AuditEvents);
    let [event] = <[Submitted; 1]>::try_from(body.events).expect("one event");
    event.event.map(Cow::into_owned)
}

fn refusal_of(data: &str) -> (String, String) {
    match only_event(&audit(vec![event("1", data)])) {
        Ok(record) => panic!("accepted: {}", record.get()),
        Err(refusal) => (refusal.error_code.to_owned(), refusal.error_message),
    }
}

#[test]
fn pretty_printed_event_data_is_stored_compact() {
    let compact_record = only_event(&audit(vec![event("1", DOC_EVENT_DATA)])).expect("accepted");
    // Whitespace added between the example's tokens, its member order kept.
    let pretty = DOC_EVENT_DATA
        .replace(",\"", ",\n  \"")
        .replace("\":", "\" : ")
        .replace('{', "{\n\t");
    assert_ne!(pretty, DOC_EVENT_DATA);
    let record = only_event(&audit(vec![event("1", &pretty)])).expect("accepted");
    assert_eq!(record.get(), compact_record.get());
    #[derive(serde::Deserialize)]
    struct Stored<'a> {
        #[serde(borrow, rename = "eventData")]
        event_data: &'a RawValue,
    }
    let stored: Stored = serde_json::from_str(record.get()).expect("record");
    assert_compact_form_of(&pretty, stored.event_data.get());
}

#[test]
fn aws_example_becomes_the_record_cloudtrail_lake_stores() {
    let text = audit(vec![json!({
        "id": "1", "eventData": DOC_EVENT_DATA, "eventDataChecksum": DOC_CHECKSUM
    })]);
    let body = read(&text).expect("valid");
    assert_eq!(body.kind, BodyKind::AuditEvents);
    assert_eq!(body.events.len(), 1);
    assert_eq!(body.events[0].id, "1");
    let record = body.events[0].event.as_ref().expect("accepted");
    assert_eq!(
        record.get(),
        format!(
            r#"{{"eventVersion":"1.11","eventCategory":"ActivityAuditLog","eventType":"ActivityLog","eventID":"{DOC_EVENT_ID}","eventTime":"2021-10-27T12:13:14Z","awsRegion":"us-east-1","recipientAccountId":"152089810396","metadata":{{"ingestionTime":"2021-10-27T12:13:20Z","channelARN":"{CHANNEL}"}},"eventData":{DOC_EVENT_DATA}}}"#
        )
    );
    let parsed = Record::parse(record, Some(0)).expect("the stored record is a valid record");
    assert_eq!(parsed.event_type(), EventType::ActivityLog);
    assert_eq!(parsed.category(), EventCategory::ActivityAuditLog);
    assert_eq!(parsed.event_id(), Some(DOC_EVENT_ID));
    assert_eq!(parsed.event_time().to_string(), "2021-10-27T12:13:14Z");
    assert_eq!(parsed.aws_region(), "us-east-1");
    assert_eq!(parsed.recipient_account_id(), Some("152089810396"));
    assert!(!parsed.is_read_only());
}

#[test]
fn checksums_in_base64_or_hex_are_checked() {
    for checksum in [
        DOC_CHECKSUM,
        DOC_CHECKSUM.trim_end_matches('='),
        DOC_CHECKSUM_HEX,
        &DOC_CHECKSUM_HEX.to_uppercase(),
    ] {
        let text = audit(vec![json!({
            "id": "1", "eventData": DOC_EVENT_DATA, "eventDataChecksum": checksum
        })]);
        only_event(&text).unwrap_or_else(|e| panic!("{checksum}: {e}"));
    }
    let other = STANDARD.encode([7u8; 32]);
    let cases = [
        (
            json!(other),
            format!(
                "eventDataChecksum \"{other}\" does not match eventData, whose SHA-256 is {DOC_CHECKSUM} in base64"
            ),
        ),
        (
            json!("not-a-checksum"),
            "eventDataChecksum \"not-a-checksum\" is not a SHA-256 digest in base64 (printf %s \"$eventData\" | openssl dgst -binary -sha256 | base64)".to_owned(),
        ),
        (
            // Base64 of 31 bytes: decodes, but is no SHA-256.
            json!(STANDARD.encode([1u8; 31])),
            format!(
                "eventDataChecksum \"{}\" is not a SHA-256 digest in base64 (printf %s \"$eventData\" | openssl dgst -binary -sha256 | base64)",
                STANDARD.encode([1u8; 31])
            ),
        ),
        (
            json!(42),
            "eventDataChecksum must be a string, not a number".to_owned(),
        ),
    ];
    for (checksum, expected) in cases {
        let text = audit(vec![json!({
            "id": "1", "eventData": DOC_EVENT_DATA, "eventDataChecksum": checksum
        })]);
        let refusal = only_event(&text).expect_err("bad checksum");
        assert_eq!(refusal.error_code, INVALID_CHECKSUM);
        assert_eq!(refusal.error_message, expected);
    }
    // The checksum covers the eventData text exactly: reformatting it breaks the match.
    let spaced = DOC_EVENT_DATA.replacen(',', ", ", 1);
    let text = audit(vec![json!({
        "id": "1", "eventData": spaced, "eventDataChecksum": DOC_CHECKSUM
    })]);
    assert_eq!(
        only_event(&text).expect_err("changed").error_code,
        INVALID_CHECKSUM
    );
}

#[test]
fn event_data_that_is_not_a_json_object_is_refused() {
    let cases = [
        (
            json!({"id": "1"}),
            FIELD_NOT_FOUND,
            "eventData is missing".to_owned(),
        ),
        (
            json!({"id": "1", "eventData": null}),
            FIELD_NOT_FOUND,
            "eventData is null".to_owned(),
        ),
        (
            json!({"id": "1", "eventData": serde_json::from_str::<Value>(DOC_EVENT_DATA).expect("doc")}),
            INVALID_DATA,
            "eventData must be a string holding the event as JSON text, not an object".to_owned(),
        ),
        (
            event("1", "{\"version\": \"1.0\",\n \"UID\": }"),
            INVALID_DATA,
            "eventData is not valid JSON: expected value at line 2 column 9".to_owned(),
        ),
        (
            event("1", "[\"version\"]"),
            INVALID_DATA,
            "eventData must be a JSON object, not an array".to_owned(),
        ),
        (
            event("1", r#"{"UID":"a","UID":"b"}"#),
            INVALID_DATA,
            "eventData: duplicate field `UID` at line 1 column 16".to_owned(),
        ),
        (
            event(
                "1",
                &format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_RECORD_BYTES)),
            ),
            FIELD_TOO_LONG,
            format!(
                "eventData is {} bytes, over the 262144-byte limit on one event",
                MAX_RECORD_BYTES + 10
            ),
        ),
    ];
    for (entry, code, message) in cases {
        let refusal = only_event(&audit(vec![entry.clone()])).expect_err("refused");
        assert_eq!(
            (refusal.error_code, refusal.error_message.as_str()),
            (code, message.as_str()),
            "{}",
            short(&entry.to_string())
        );
    }
}

#[test]
fn event_data_schema_rules_name_the_field() {
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(Value, &str, String)> = vec![
        (json!({"UID": "<absent>"}), FIELD_NOT_FOUND, "eventData.UID is missing".into()),
        (json!({"version": null}), FIELD_NOT_FOUND, "eventData.version is null".into()),
        (json!({"eventSource": "<absent>"}), FIELD_NOT_FOUND, "eventData.eventSource is missing".into()),
        (json!({"eventName": "  "}), INVALID_DATA, "eventData.eventName is empty".into()),
        (json!({"eventTime": "<absent>"}), FIELD_NOT_FOUND, "eventData.eventTime is missing".into()),
        (
            json!({"userIdentity": {"type": "CustomUserIdentity"}}),
            FIELD_NOT_FOUND,
            "eventData.userIdentity.principalId is missing".into(),
        ),
        (
            json!({"userIdentity": "alice"}),
            INVALID_DATA,
            "eventData.userIdentity must be a JSON object, not a string".into(),
        ),
        (
            json!({"userIdentity": {"type": "User", "principalId": "p", "details": ["x"]}}),
            INVALID_DATA,
            "eventData.userIdentity.details must be a JSON object, not an array".into(),
        ),
        (
            json!({"userIdentity": {"type": long(129), "principalId": "p"}}),
            FIELD_TOO_LONG,
            "eventData.userIdentity.type is 129 characters, over the 128-character limit".into(),
        ),
        (json!({"version": long(257)}), FIELD_TOO_LONG, "eventData.version is 257 characters, over the 256-character limit".into()),
        (json!({"eventName": long(1025)}), FIELD_TOO_LONG, "eventData.eventName is 1025 characters, over the 1024-character limit".into()),
        (json!({"UID": long(1025)}), FIELD_TOO_LONG, "eventData.UID is 1025 characters, over the 1024-character limit".into()),
        (json!({"userAgent": long(1025)}), FIELD_TOO_LONG, "eventData.userAgent is 1025 characters, over the 1024-character limit".into()),
        (json!({"errorCode": long(257)}), FIELD_TOO_LONG, "eventData.errorCode is 257 characters, over the 256-character limit".into()),
        (json!({"errorMessage": long(257)}), FIELD_TOO_LONG, "eventData.errorMessage is 257 characters, over the 256-character limit".into()),
        (json!({"eventSource": 7}), INVALID_DATA, "eventData.eventSource must be a string, not a number".into()),
        (
            json!({"requestParameters": "k=v"}),
            INVALID_DATA,
            "eventData.requestParameters must be a JSON object, not a string".into(),
        ),
        (
            json!({"responseElements": {"blob": long(100 * 1024)}}),
            FIELD_TOO_LONG,
            "eventData.responseElements is 102411 bytes, over the 102400-byte limit".into(),
        ),
        (
            json!({"additionalEventData": {"blob": long(28 * 1024)}}),
            FIELD_TOO_LONG,
            "eventData.additionalEventData is 28683 bytes, over the 28672-byte limit".into(),
        ),
        (
            json!({"sourceIPAddress": "source_IP_address"}),
            INVALID_DATA,
            "eventData.sourceIPAddress \"source_IP_address\" is not an IPv4 or IPv6 address".into(),
        ),
        (
            json!({"eventTime": "27/10/2021 12:13:14"}),
            INVALID_DATA,
            "eventData.eventTime \"27/10/2021 12:13:14\" is not a UTC time of the form yyyy-MM-ddTHH:mm:ss (a fraction of a second and a closing Z may follow)".into(),
        ),
        (
            json!({"eventTime": "2021-10-27T12:13:14+02:00"}),
            INVALID_DATA,
            "eventData.eventTime \"2021-10-27T12:13:14+02:00\" is not a UTC time of the form yyyy-MM-ddTHH:mm:ss (a fraction of a second and a closing Z may follow)".into(),
        ),
        (
            json!({"recipientAccountId": "111122223333"}),
            INVALID_RECIPIENT,
            "eventData.recipientAccountId \"111122223333\" is not 152089810396, the account that owns the channel".into(),
        ),
        (
            // Every problem is named; the first one's code is the event's.
            json!({"UID": "<absent>", "eventName": long(2000), "recipientAccountId": "1"}),
            FIELD_TOO_LONG,
            "eventData.eventName is 2000 characters, over the 1024-character limit; eventData.UID is missing; eventData.recipientAccountId \"1\" is not 152089810396, the account that owns the channel".into(),
        ),
    ];
    for (changes, code, message) in cases {
        let (got_code, got_message) = refusal_of(&event_data(changes.clone()));
        assert_eq!(
            (got_code.as_str(), got_message.as_str()),
            (code, message.as_str()),
            "{}",
            short(&changes.to_string())
        );
    }
}

#[test]
fn optional_fields_may_be_left_out_and_unknown_ones_are_kept() {
    let minimal = event_data(json!({
        "userAgent": "<absent>", "requestParameters": null, "responseElements": "<absent>",
        "additionalEventData": "<absent>", "sourceIPAddress": "<absent>",
        "userIdentity": {"type": "User", "principalId": "alice@example.com"},
        "x-custom": {"kept": [1, 2]}
    }));
    let record = only_event(&audit(vec![event("1", &minimal)])).expect("accepted");
    assert!(
        record
            .get()
            .ends_with(&format!(r#""eventData":{minimal}}}"#))
    );
    Record::parse(&record, None).expect("valid");
    // IPv6 is an IP address too.
    let v6 = event_data(json!({"sourceIPAddress": "2001:db8::1"}));
    only_event(&audit(vec![event("1", &v6)])).expect("IPv6 accepted");
}

#[test]
fn event_time_forms_are_stored_as_whole_utc_seconds() {
    for (given, stored) in [
        ("2021-10-27T12:13:14Z", "2021-10-27T12:13:14Z"),
        ("2021-10-27T12:13:14", "2021-10-27T12:13:14Z"),
        ("2021-10-27T12:13:14.987Z", "2021-10-27T12:13:14Z"),
        ("2021-10-27T12:13:14.123456789", "2021-10-27T12:13:14Z"),
    ] {
        let data = event_data(json!({ "eventTime": given }));
        let record = only_event(&audit(vec![event("1", &data)])).expect(given);
        let parsed = Record::parse(&record, None).expect("valid");
        assert_eq!(parsed.event_time().to_string(), stored, "{given}");
        // The caller's eventData keeps its own spelling.
        assert!(record.get().contains(&format!(r#""eventTime":"{given}""#)));
    }
    for bad in [
        "2021-10-27T12:13:14.Z",
        "2021-10-27T12:13:14.1234567890Z",
        "2021-02-30T00:00:00Z",
    ] {
        let (code, _) = refusal_of(&event_data(json!({ "eventTime": bad })));
        assert_eq!(code, INVALID_DATA, "{bad}");
    }
}

#[test]
fn event_ids_are_derived_from_the_channel_and_the_uid() {
    assert_eq!(lake_event_id(CHANNEL, "UID"), DOC_EVENT_ID);
    let id = lake_event_id(CHANNEL, "another-uid");
    assert_ne!(id, DOC_EVENT_ID);
    assert_ne!(
        lake_event_id(
            "arn:aws:cloudtrail:us-east-1:152089810396:channel/other",
            "UID"
        ),
        DOC_EVENT_ID
    );
    // 8-4-4-4-12 lowercase hex, version 8, RFC 9562 variant.
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(
        id.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert!(groups[2].starts_with('8'));
    assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));

    // A retry of the same event (another request, another id) is stored under the same eventID.
    let first = only_event(&audit(vec![event("first-try", DOC_EVENT_DATA)])).expect("ok");
    let retry = only_event(&audit(vec![event("retry", DOC_EVENT_DATA)])).expect("ok");
    let event_id = |raw: &RawValue| {
        Record::parse(raw, None)
            .expect("valid")
            .event_id()
            .map(str::to_owned)
    };
    assert_eq!(event_id(&first), event_id(&retry));
}

#[test]
fn duplicate_ids_refuse_the_later_events_only() {
    let other = event_data(json!({"UID": "UID-2"}));
    let text = audit(vec![
        event("a", DOC_EVENT_DATA),
        event("b", &other),
        event("a", &other),
        event("a", DOC_EVENT_DATA),
    ]);
    let body = read(&text).expect("read");
    let outcome: Vec<(&str, Result<(), &str>)> = body
        .events
        .iter()
        .map(|e| {
            let outcome = match &e.event {
                Ok(_) => Ok(()),
                Err(refusal) => Err(refusal.error_code),
            };
            (e.id.as_ref(), outcome)
        })
        .collect();
    assert_eq!(
        outcome,
        [
            ("a", Ok(())),
            ("b", Ok(())),
            ("a", Err(DUPLICATED_AUDIT_EVENT_ID)),
            ("a", Err(DUPLICATED_AUDIT_EVENT_ID)),
        ]
    );
    let Err(refusal) = &body.events[2].event else {
        unreachable!()
    };
    assert_eq!(
        refusal.error_message,
        "id \"a\" is already the id of auditEvents[0]; ids must be unique within a request"
    );
}

#[test]
fn one_bad_event_does_not_sink_the_request() {
    let text = audit(vec![
        event("ok-1", DOC_EVENT_DATA),
        event("bad", "not json"),
        event("ok-2", &event_data(json!({"UID": "UID-2"}))),
    ]);
    let body = read(&text).expect("read");
    let accepted: Vec<bool> = body.events.iter().map(|e| e.event.is_ok()).collect();
    assert_eq!(accepted, [true, false, true]);
}

#[test]
fn put_audit_events_request_limits() {
    let hundred: Vec<Value> = (0..100)
        .map(|i| {
            event(
                &format!("e{i}"),
                &event_data(json!({"UID": format!("u{i}")})),
            )
        })
        .collect();
    let text = audit(hundred.clone());
    let body = read(&text).expect("100 events");
    assert_eq!(body.events.len(), 100);
    assert!(body.events.iter().all(|e| e.event.is_ok()));
    let mut hundred_and_one = hundred;
    hundred_and_one.push(event("e100", DOC_EVENT_DATA));
    let long_id = "i".repeat(129);
    let cases = vec![
        (
            audit(vec![]),
            "auditEvents holds 0 events; PutAuditEvents takes 1 to 100".to_owned(),
        ),
        (
            audit(hundred_and_one),
            "auditEvents holds 101 events; PutAuditEvents takes 1 to 100".to_owned(),
        ),
        (
            audit(vec![event(&long_id, DOC_EVENT_DATA)]),
            format!(
                "auditEvents[0].id \"{}…\" must be 1 to 128 letters, digits, hyphens and underscores",
                &long_id[..64]
            ),
        ),
        (
            audit(vec![event("1", DOC_EVENT_DATA), event("has space", DOC_EVENT_DATA)]),
            "auditEvents[1].id \"has space\" must be 1 to 128 letters, digits, hyphens and underscores".to_owned(),
        ),
        (
            audit(vec![event("", DOC_EVENT_DATA)]),
            "auditEvents[0].id \"\" must be 1 to 128 letters, digits, hyphens and underscores".to_owned(),
        ),
        (
            audit(vec![json!({"eventData": DOC_EVENT_DATA})]),
            "auditEvents[0] has no id".to_owned(),
        ),
        (
            audit(vec![json!({"id": 1, "eventData": DOC_EVENT_DATA})]),
            "auditEvents[0].id must be a string, not a number".to_owned(),
        ),
        (
            audit(vec![json!(DOC_EVENT_DATA)]),
            "auditEvents[0] must be an object {\"id\",\"eventData\",\"eventDataChecksum\"}, not a string".to_owned(),
        ),
        (
            r#"{"auditEvents":{"id":"1"}}"#.to_owned(),
            "auditEvents must be an array of audit events, not an object".to_owned(),
        ),
        (
            r#"{"auditEvents":[{"id":"1","id":"2"}]}"#.to_owned(),
            "auditEvents[0]: duplicate field `id` at line 1 column 14".to_owned(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(body_error(&text), expected);
    }
    // 1 MB per request.
    let big = event_data(json!({"requestParameters": {"blob": "x".repeat(90_000)}}));
    let events: Vec<Value> = (0..12).map(|i| event(&format!("e{i}"), &big)).collect();
    let text = audit(events);
    let error = read(&text).expect_err("too large");
    assert_eq!(error.http_status(), 413);
    assert_eq!(
        error.to_string(),
        format!(
            "the body is {} bytes, over PutAuditEvents' limit of 1048576 bytes per request",
            text.len()
        )
    );
}

#[test]
fn channel_arn_and_external_id_in_the_body() {
    let with = |extra: Value| {
        let mut body = json!({"auditEvents": [event("1", DOC_EVENT_DATA)]});
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        body.to_string()
    };
    for ok in [
        json!({"channelArn": CHANNEL}),
        json!({"channelArn": "EXAMPLE8-0558-4f7e-a06a-43969EXAMPLE"}),
        json!({"channelArn": CHANNEL, "externalId": "UniqueExternalIDFromPartner"}),
        json!({"externalId": "a+b=c,d.e@f:g/h-i_j"}),
    ] {
        let text = with(ok.clone());
        let body = read(&text).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(body.events[0].event.is_ok(), "{ok}");
    }
    let cases = [
        (
            json!({"channelArn": "arn:aws:cloudtrail:us-east-1:152089810396:channel/other"}),
            format!(
                "channelArn \"arn:aws:cloudtrail:us-east-1:152089810396:channel/other\" is not the channel this ingest serves ({CHANNEL})"
            ),
        ),
        (
            json!({"channelArn": 5}),
            "channelArn must be a string, not a number".to_owned(),
        ),
        (
            json!({"externalId": "x"}),
            "externalId \"x\" must be 2 to 1224 characters of letters, digits and _+=,.@:/-".to_owned(),
        ),
        (
            json!({"externalId": "two words"}),
            "externalId \"two words\" must be 2 to 1224 characters of letters, digits and _+=,.@:/-".to_owned(),
        ),
    ];
    for (extra, expected) in cases {
        assert_eq!(body_error(&with(extra)), expected);
    }
}

#[test]
fn recipient_must_be_an_account_when_the_channel_names_none() {
    let plain = LakeContext {
        channel_arn: "my-channel",
        ..lake()
    };
    assert_eq!(plain.channel_account(), None);
    assert_eq!(lake().channel_account(), Some("152089810396"));
    let text = audit(vec![event(
        "1",
        &event_data(json!({"recipientAccountId": "not-an-account"})),
    )]);
    let body = read_body(&text, &plain).expect("read");
    let Err(refusal) = &body.events[0].event else {
        panic!("accepted")
    };
    assert_eq!(refusal.error_code, INVALID_RECIPIENT);
    assert_eq!(
        refusal.error_message,
        "eventData.recipientAccountId \"not-an-account\" is not an AWS account ID (12 digits)"
    );
    let text = audit(vec![event("1", DOC_EVENT_DATA)]);
    let body = read_body(&text, &plain).expect("read");
    assert!(body.events[0].event.is_ok());
}

#[test]
fn refusal_messages_stay_within_result_error_entry_limits() {
    let long = "x".repeat(2000);
    let mut changes: Map<String, Value> = [
        "version",
        "eventSource",
        "eventName",
        "UID",
        "userAgent",
        "errorCode",
        "errorMessage",
        "sourceIPAddress",
        "eventTime",
        "recipientAccountId",
    ]
    .into_iter()
    .map(|field| (field.to_owned(), json!(long)))
    .collect();
    changes.insert(
        "userIdentity".into(),
        json!({"type": long, "principalId": long, "details": long}),
    );
    for field in [
        "requestParameters",
        "responseElements",
        "additionalEventData",
    ] {
        changes.insert(field.into(), json!(long));
    }
    let (code, message) = refusal_of(&event_data(Value::Object(changes)));
    assert_eq!(code, FIELD_TOO_LONG);
    assert_eq!(message.chars().count(), 1024);
    assert!(message.ends_with('…'));
}
