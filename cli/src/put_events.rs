//! `cairn put-events`: event files to a deployed ingest Function URL, as a producer sends them:
//! SigV4-signed for the service `lambda` with the standard AWS credential chain, batched to what
//! one request may carry, retried when throttled or failed transiently.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use cairn_shared::ingest::error_codes::INTERNAL_FAILURE;
use cairn_shared::ingest::{MAX_AUDIT_EVENTS, MAX_AUDIT_EVENTS_BODY_BYTES};
use cairn_shared::record::split_batch;
use cairn_shared::retry::{RetryPolicy, retry};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::input::{InputFile, Shape};

/// Sends events to an ingest Function URL.
///
/// FILE takes the forms `cairn ingest` takes: {"Records":[…]} batches, EventBridge events,
/// PutAuditEvents bodies, or JSON lines of those or of bare records, plain or gzip. Records go
/// in {"Records":[…]} requests of at most 6 MB (a Function URL's payload limit), PutAuditEvents
/// events in requests of at most 100 events and 1 MB (PutAuditEvents' limits), each EventBridge
/// event in a request of its own. Each request is signed with SigV4 for the service `lambda`,
/// with credentials from the standard AWS chain (environment, profile, SSO, instance role);
/// --no-sign sends it unsigned, for a local endpoint such as `cargo lambda watch`'s. A throttled
/// or failed request (429, 5xx, a broken connection) is sent again with backoff, and so are the
/// events ingest's answer lists as failed with a retryable code (Throttling, InternalFailure);
/// other refusals are printed on stderr. Exits 1 when any event was refused.
///
/// The same call without cairn, for producers in other languages:
///
///   curl --aws-sigv4 "aws:amz:us-east-1:lambda" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
///     -H "x-amz-security-token: $AWS_SESSION_TOKEN" -H "content-type: application/json" \
///     --data-binary @events/ingest-records.json "$URL"
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct PutEventsArgs {
    /// The ingest Function URL (the stack's IngestFunctionUrl output).
    #[arg(long, value_name = "URL")]
    url: String,
    /// Sends the requests unsigned (for a local endpoint).
    #[arg(long)]
    no_sign: bool,
    /// The Region in the signature. Default: the URL's (…lambda-url.REGION.on.aws), else
    /// AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Event files to send.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// A Function URL invocation's payload is at most 6 MB (Lambda quotas: "Invocation payload
/// (request and response)", 6 MB for synchronous invocations). The body travels in it as a JSON
/// string (escaped) beside the request's headers and context, for which this leaves 64 KiB.
const MAX_ESCAPED_BODY_BYTES: usize = 6 * 1024 * 1024 - 64 * 1024;

/// The `errorCode`s of a refused event that sending it again may cure: the CloudTrail Data
/// API's `Throttling` and `InternalFailure` (`ResultErrorEntry`).
const RETRYABLE_CODES: [&str; 2] = ["Throttling", INTERNAL_FAILURE];

pub(crate) async fn run(args: &PutEventsArgs) -> Result<ExitCode> {
    let mut requests = Vec::new();
    for path in &args.files {
        let input = InputFile::read(path)?;
        for body in input.bodies()? {
            // Nothing is sent before every file reads: a bad line stops the run, named.
            let body = body?;
            requests
                .extend(batches(&body).with_context(|| format!("{}: not a body", path.display()))?);
        }
    }
    let sender = Sender::new(args).await?;
    let mut totals = Totals::default();
    for request in requests {
        sender.send(request, &mut totals).await?;
    }
    println!(
        "sent {} events in {} requests to {}: {} accepted, {} refused",
        totals.accepted + totals.refused,
        totals.requests,
        args.url,
        totals.accepted,
        totals.refused
    );
    Ok(crate::exit_code(totals.refused == 0))
}

/// One request's events, in the body kind they are sent in.
#[derive(Debug, Clone, PartialEq)]
enum Request {
    /// Records of a `{"Records":[…]}` body; the answer names them by position.
    Records(Vec<String>),
    /// PutAuditEvents events (`{"id","eventData",…}`); the answer names them by their id.
    AuditEvents(Vec<String>),
    /// An EventBridge event, alone in its request.
    EventBridge(String),
}

impl Request {
    fn body(&self) -> String {
        match self {
            Self::Records(records) => format!("{{\"Records\":[{}]}}", records.join(",")),
            Self::AuditEvents(events) => format!("{{\"auditEvents\":[{}]}}", events.join(",")),
            Self::EventBridge(event) => event.clone(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Records(events) | Self::AuditEvents(events) => events.len(),
            Self::EventBridge(_) => 1,
        }
    }

    /// The same request with only the events the answer's `ids` name.
    fn only(&self, ids: &[&str]) -> Option<Self> {
        let keep = |events: &[String], named: &dyn Fn(usize, &str) -> bool| -> Vec<String> {
            events
                .iter()
                .enumerate()
                .filter(|(position, event)| named(*position, event))
                .map(|(_, event)| event.clone())
                .collect()
        };
        let again = match self {
            Self::Records(records) => Self::Records(keep(records, &|position, _| {
                ids.contains(&position.to_string().as_str())
            })),
            Self::AuditEvents(events) => Self::AuditEvents(keep(events, &|_, event| {
                audit_event_id(event).is_some_and(|id| ids.contains(&id.as_str()))
            })),
            Self::EventBridge(_) if ids.is_empty() => return None,
            Self::EventBridge(event) => Self::EventBridge(event.clone()),
        };
        (again.len() > 0).then_some(again)
    }
}

fn audit_event_id(event: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_str::<Id>(event).ok().map(|event| event.id)
}

/// A body's events as the requests that carry them.
fn batches(body: &str) -> Result<Vec<Request>> {
    let shape = Shape::of(body)?;
    if shape.audit_events.is_some() {
        #[derive(Deserialize)]
        struct AuditBody<'a> {
            #[serde(rename = "auditEvents", borrow)]
            audit_events: Vec<&'a RawValue>,
        }
        let audit: AuditBody = serde_json::from_str(body)?;
        let events = audit.audit_events.iter().map(|raw| raw.get().to_owned());
        return Ok(pack(events, MAX_AUDIT_EVENTS, MAX_AUDIT_EVENTS_BODY_BYTES)
            .into_iter()
            .map(Request::AuditEvents)
            .collect());
    }
    if shape.records.is_some() {
        let records = split_batch(body)?
            .into_iter()
            .map(|raw| raw.get().to_owned());
        return Ok(pack(records, usize::MAX, usize::MAX)
            .into_iter()
            .map(Request::Records)
            .collect());
    }
    if shape.detail.is_some() {
        return Ok(vec![Request::EventBridge(body.to_owned())]);
    }
    bail!("neither Records, auditEvents nor an EventBridge event's detail")
}

/// Events packed in order into groups of at most `max_events`, each group's body at most
/// `max_body_bytes` as sent and at most [`MAX_ESCAPED_BODY_BYTES`] inside the invocation
/// payload. An event too large for any group goes alone; ingest refuses it with the reason.
fn pack(
    events: impl Iterator<Item = String>,
    max_events: usize,
    max_body_bytes: usize,
) -> Vec<Vec<String>> {
    // `{"auditEvents":[` and `]}` around the events (the longer of the two envelopes), and a
    // comma before each event but the first.
    const ENVELOPE: usize = 18;
    let mut groups: Vec<Vec<String>> = Vec::new();
    let (mut body_bytes, mut escaped_bytes) = (ENVELOPE, ENVELOPE);
    for event in events {
        let escaped = escaped_len(&event);
        let fits = groups.last().is_some_and(|group| {
            group.len() < max_events
                && body_bytes + 1 + event.len() <= max_body_bytes
                && escaped_bytes + 1 + escaped <= MAX_ESCAPED_BODY_BYTES
        });
        if !fits {
            groups.push(Vec::new());
            (body_bytes, escaped_bytes) = (ENVELOPE, ENVELOPE);
        }
        body_bytes += 1 + event.len();
        escaped_bytes += 1 + escaped;
        groups.last_mut().expect("a group").push(event);
    }
    groups
}

/// How long `text` is as a JSON string's contents.
fn escaped_len(text: &str) -> usize {
    serde_json::to_string(text).map_or(text.len(), |quoted| quoted.len() - 2)
}

#[derive(Default)]
struct Totals {
    requests: usize,
    accepted: usize,
    refused: usize,
}

/// ingest's answer, in PutAuditEvents' shape.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    successful: Vec<serde_json::Value>,
    #[serde(default)]
    failed: Vec<FailedEvent>,
}

#[derive(Deserialize)]
struct FailedEvent {
    id: String,
    #[serde(rename = "errorCode")]
    error_code: String,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
}

/// Why an attempt at a request got no final answer.
#[derive(Debug, thiserror::Error)]
enum PostError {
    /// Throttled (429) or failed on the server's side (5xx): worth another attempt.
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// No answer at all: worth another attempt.
    #[error("the request failed: {0}")]
    Connection(#[source] hyper_util::client::legacy::Error),
    /// The request could not be signed (no credentials, say): final.
    #[error("signing the request: {0}")]
    Signing(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl PostError {
    fn is_retryable(&self) -> bool {
        !matches!(self, Self::Signing(_))
    }
}

struct Sender<'a> {
    args: &'a PutEventsArgs,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    signer: Option<Signer>,
    policy: RetryPolicy,
}

struct Signer {
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
    region: String,
}

impl<'a> Sender<'a> {
    async fn new(args: &'a PutEventsArgs) -> Result<Self> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("loading the system's root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let signer = if args.no_sign {
            None
        } else {
            let sdk = cairn_shared::adapters::aws::load_sdk_config().await;
            let credentials = sdk
                .credentials_provider()
                .context("no AWS credentials found (or use --no-sign for a local endpoint)")?;
            let region = args
                .region
                .clone()
                .or_else(|| url_region(&args.url))
                .unwrap_or_else(|| crate::args::region(None));
            Some(Signer {
                credentials,
                region,
            })
        };
        Ok(Self {
            args,
            client: Client::builder(TokioExecutor::new()).build(connector),
            signer,
            policy: RetryPolicy::default(),
        })
    }

    /// Sends `request`, then again the events its answer lists as failed with a retryable
    /// code, as the retry policy allows; counts and prints what became of each event.
    async fn send(&self, mut request: Request, totals: &mut Totals) -> Result<()> {
        let mut rounds = 1;
        loop {
            let body = request.body();
            totals.requests += 1;
            let sent = retry(
                &self.policy,
                || self.post(body.clone()),
                PostError::is_retryable,
            )
            .await;
            let (status, text) = match sent {
                Ok(((status, text), _)) => (status, text),
                Err(exhausted) => {
                    eprintln!(
                        "{} events not sent after {} attempts: {}",
                        request.len(),
                        exhausted.attempts,
                        exhausted.error
                    );
                    totals.refused += request.len();
                    return Ok(());
                }
            };
            if status != 200 {
                eprintln!("{} events refused: HTTP {status}: {text}", request.len());
                totals.refused += request.len();
                return Ok(());
            }
            let answer: Answer = serde_json::from_str(&text)
                .with_context(|| format!("ingest's answer is not JSON: {text}"))?;
            totals.accepted += answer.successful.len();
            let (again, refused): (Vec<&FailedEvent>, Vec<&FailedEvent>) =
                answer.failed.iter().partition(|failed| {
                    RETRYABLE_CODES.contains(&failed.error_code.as_str())
                        && rounds < self.policy.attempts
                });
            for failed in &refused {
                eprintln!(
                    "refused id {}: {}: {}",
                    failed.id, failed.error_code, failed.error_message
                );
            }
            totals.refused += refused.len();
            let ids: Vec<&str> = again.iter().map(|failed| failed.id.as_str()).collect();
            match request.only(&ids) {
                Some(retried) if !ids.is_empty() => {
                    tokio::time::sleep(self.policy.first_delay * rounds).await;
                    request = retried;
                    rounds += 1;
                }
                _ => return Ok(()),
            }
        }
    }

    /// One POST: the status and the body of a final answer (2xx or 4xx), or what makes it
    /// worth another attempt.
    async fn post(&self, body: String) -> Result<(u16, String), PostError> {
        let mut request = http::Request::post(self.args.url.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a URL, a header and a body make a request");
        if let Some(signer) = &self.signer {
            signer
                .sign(&mut request)
                .await
                .map_err(PostError::Signing)?;
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(PostError::Connection)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|collected| String::from_utf8_lossy(&collected.to_bytes()).into_owned())
            .unwrap_or_default();
        if status == 429 || status >= 500 {
            return Err(PostError::Status { status, body });
        }
        Ok((status, body))
    }
}

impl Signer {
    /// Adds SigV4's headers for the service `lambda` (Lambda Developer Guide, "Invoking Lambda
    /// function URLs": IAM-authenticated URLs take Signature Version 4 requests).
    async fn sign(
        &self,
        request: &mut http::Request<Full<Bytes>>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let credentials = self.credentials.provide_credentials().await?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let body = request
            .body()
            .clone()
            .collect()
            .await
            .expect("a full body")
            .to_bytes();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(&body),
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// The Region of a Function URL, `https://{id}.lambda-url.{region}.on.aws/`.
fn url_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let rest = host.split_once(".lambda-url.")?.1;
    rest.strip_suffix(".on.aws").map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize, size: usize) -> String {
        let record = format!("{{\"eventID\":\"{}\"}}", "x".repeat(size));
        format!("{{\"Records\":[{}]}}", vec![record; n].join(","))
    }

    #[test]
    fn records_go_in_requests_of_at_most_6_mb_inside_the_payload() {
        // 40 records of 400 KB: 16 MB, 15 to a request.
        let requests = batches(&records(40, 400_000)).expect("a batch");
        assert_eq!(
            requests.iter().map(Request::len).collect::<Vec<_>>(),
            [15, 15, 10]
        );
        for request in &requests {
            let body = request.body();
            assert!(
                escaped_len(&body) <= MAX_ESCAPED_BODY_BYTES,
                "{}",
                body.len()
            );
        }
        let sent: usize = requests.iter().map(Request::len).sum();
        assert_eq!(sent, 40);
        // Quotes double in the payload: a body of quotes counts twice.
        let quoted = format!(
            "{{\"Records\":[{}]}}",
            vec![format!("{{\"q\":\"{}\"}}", "\\\"".repeat(200_000)); 12].join(",")
        );
        for request in batches(&quoted).expect("a batch") {
            assert!(escaped_len(&request.body()) <= MAX_ESCAPED_BODY_BYTES);
        }
    }

    #[test]
    fn audit_events_go_by_100_and_1_mb() {
        let event = |i: usize, size: usize| {
            format!("{{\"id\":\"e{i}\",\"eventData\":\"{}\"}}", "d".repeat(size))
        };
        let body = |events: Vec<String>| format!("{{\"auditEvents\":[{}]}}", events.join(","));
        let small = batches(&body((0..250).map(|i| event(i, 10)).collect())).expect("body");
        assert_eq!(
            small.iter().map(Request::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        let large = batches(&body((0..5).map(|i| event(i, 300_000)).collect())).expect("body");
        assert_eq!(large.iter().map(Request::len).collect::<Vec<_>>(), [3, 2]);
        for request in &large {
            assert!(request.body().len() <= MAX_AUDIT_EVENTS_BODY_BYTES);
        }
    }

    #[test]
    fn an_eventbridge_event_goes_alone_and_as_it_is() {
        let event = r#"{"detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"a"}}"#;
        assert_eq!(
            batches(event).expect("an event"),
            [Request::EventBridge(event.to_owned())]
        );
        assert!(batches(r#"{"other":1}"#).is_err());
    }

    #[test]
    fn only_the_events_named_are_sent_again() {
        let records = Request::Records(vec![
            "{\"a\":0}".into(),
            "{\"a\":1}".into(),
            "{\"a\":2}".into(),
        ]);
        assert_eq!(
            records.only(&["0", "2"]),
            Some(Request::Records(vec![
                "{\"a\":0}".into(),
                "{\"a\":2}".into()
            ]))
        );
        assert_eq!(records.only(&[]), None);
        let audit = Request::AuditEvents(vec![
            r#"{"id":"x","eventData":"{}"}"#.into(),
            r#"{"id":"y","eventData":"{}"}"#.into(),
        ]);
        assert_eq!(
            audit.only(&["y"]),
            Some(Request::AuditEvents(vec![
                r#"{"id":"y","eventData":"{}"}"#.into()
            ]))
        );
        let event = Request::EventBridge("{}".into());
        assert_eq!(event.only(&["0"]), Some(event.clone()));
        assert_eq!(event.only(&[]), None);
    }

    #[test]
    fn the_region_comes_from_a_function_url() {
        assert_eq!(
            url_region("https://abcdefghij0123456789abcdefghij01.lambda-url.eu-west-1.on.aws/"),
            Some("eu-west-1".into())
        );
        assert_eq!(url_region("http://127.0.0.1:9000/lambda-url/ingest/"), None);
    }
}
