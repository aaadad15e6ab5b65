//! A loopback stand-in for the CloudTrail API, so the real `aws cloudtrail validate-logs` can
//! check Cairn's digests offline: it answers `ListPublicKeys` (JSON 1.1) from Cairn's key
//! registry, the only CloudTrail call validate-logs makes when given `--s3-bucket`; and, for
//! a trail it is told of, `DescribeTrails` and Organizations' `DescribeOrganization`, which
//! validate-logs calls for an organization trail without `--s3-bucket`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use cairn_shared::ports::object_store::ObjectStore;
use cairn_shared::public_keys;
use time::OffsetDateTime;

/// Operations by the last part of their `X-Amz-Target`: botocore sends
/// `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys`, the Rust SDK
/// `CloudTrail_20131101.ListPublicKeys`.
const LIST_PUBLIC_KEYS: &str = "ListPublicKeys";
const DESCRIBE_TRAILS: &str = "DescribeTrails";
const DESCRIBE_ORGANIZATION: &str = "DescribeOrganization";

/// The organization trail `DescribeTrails` answers with.
#[derive(Debug, Clone)]
pub struct DescribedTrail {
    pub arn: String,
    pub name: String,
    pub home_region: String,
    pub bucket: String,
    pub prefix: String,
    pub organization_id: String,
}

/// The stub, serving until dropped.
pub struct CloudTrailStub {
    /// `http://127.0.0.1:{port}`, for `AWS_ENDPOINT_URL_CLOUDTRAIL`.
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CloudTrailStub {
    /// Serves the keys published in `state_bucket`, read afresh for every request. Must be
    /// called inside a Tokio runtime, which the store's calls run on.
    pub fn start(store: Arc<dyn ObjectStore>, state_bucket: String) -> Self {
        Self::start_describing(store, state_bucket, None)
    }

    /// As [`CloudTrailStub::start`], also describing `trail` (point
    /// `AWS_ENDPOINT_URL_ORGANIZATIONS` at the stub too).
    pub fn start_describing(
        store: Arc<dyn ObjectStore>,
        state_bucket: String,
        trail: Option<DescribedTrail>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let stop = Arc::new(AtomicBool::new(false));
        let runtime = tokio::runtime::Handle::current();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for connection in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(connection) = connection else { continue };
                    let answer = runtime.block_on(answer(
                        &connection,
                        &*store,
                        &state_bucket,
                        trail.as_ref(),
                    ));
                    respond(connection, answer);
                }
            })
        };
        Self {
            endpoint,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for CloudTrailStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// (status, JSON body) for one request.
async fn answer(
    connection: &TcpStream,
    store: &dyn ObjectStore,
    state_bucket: &str,
    trail: Option<&DescribedTrail>,
) -> (u16, String) {
    let Some((target, body)) = read_request(connection, "x-amz-target") else {
        return (400, error("SerializationException", "unreadable request"));
    };
    let operation = target.rsplit('.').next().unwrap_or_default();
    match (operation, trail) {
        (DESCRIBE_TRAILS, Some(trail)) => {
            let answer = serde_json::json!({"trailList": [{
                "Name": trail.name,
                "S3BucketName": trail.bucket,
                "S3KeyPrefix": trail.prefix,
                "IsMultiRegionTrail": true,
                "HomeRegion": trail.home_region,
                "TrailARN": trail.arn,
                "LogFileValidationEnabled": true,
                "IsOrganizationTrail": true,
            }]});
            return (200, answer.to_string());
        }
        (DESCRIBE_ORGANIZATION, Some(trail)) => {
            let answer = serde_json::json!({"Organization": {"Id": trail.organization_id}});
            return (200, answer.to_string());
        }
        _ => {}
    }
    if operation != LIST_PUBLIC_KEYS {
        return (
            400,
            error(
                "UnknownOperationException",
                &format!("the stub does not answer {target}"),
            ),
        );
    }
    let input: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let time = |name: &str| {
        input[name].as_f64().map(|seconds| {
            OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128).expect("a time")
        })
    };
    match public_keys::load(store, state_bucket).await {
        Ok(keys) => {
            let response = public_keys::list_public_keys(
                &keys,
                time("StartTime"),
                time("EndTime"),
                OffsetDateTime::now_utc(),
            );
            (200, serde_json::to_string(&response).expect("json"))
        }
        Err(e) => (500, error("InternalFailure", &e.to_string())),
    }
}

fn error(kind: &str, message: &str) -> String {
    serde_json::json!({"__type": kind, "message": message}).to_string()
}

/// One HTTP/1.1 request to a loopback stub: the value of its header `header` (lowercase; empty
/// when absent) and its body.
pub fn read_request(connection: &TcpStream, header: &str) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(connection);
    let mut target = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                name if name == header => target = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((target, body))
}

fn respond(mut connection: TcpStream, (status, body): (u16, String)) {
    let reason = if status == 200 { "OK" } else { "Error" };
    let _ = write!(
        connection,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nx-amzn-RequestId: cairn-stub\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
