//! A loopback HTTP proxy in front of LocalStack that fails a seeded fraction of the AWS calls
//! passing through it, the ways AWS fails them: throttling (S3's `503 SlowDown`), an internal
//! error (`500`), a connection reset, and a slow answer. It counts what it did per service and
//! kind, and the SDK's attempt numbers, so a test can hold the pipeline's retries to account.
//!
//! Throttling, internal errors and resets happen before the request reaches LocalStack, as when
//! S3's front end sheds load: the call had no effect and repeating it is always safe. A slow
//! answer is LocalStack's real answer, held back.
//!
//! HTTP/1.1 only (what the SDK speaks to an `http://` endpoint), one request per connection: the
//! proxy answers every request with `Connection: close`, so each attempt is a connection of its
//! own and a fault never hits a request it was not drawn for.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// S3 `503 SlowDown`; SNS and CloudWatch Logs answer throttling with `400 Throttling` and
    /// `400 ThrottlingException`.
    Throttle,
    /// `500 InternalError` (CloudWatch Logs: `ServiceUnavailableException`).
    Internal,
    /// The connection reset (TCP RST) without an answer.
    Reset,
    /// LocalStack's answer, delayed.
    Slow,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Throttle, Fault::Internal, Fault::Reset, Fault::Slow];

    /// Whether the SDK sees the attempt fail (a slow answer is a late success).
    pub fn fails(self) -> bool {
        self != Fault::Slow
    }
}

/// Which calls fail and how.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    /// Per service whose calls may fail (by SigV4 signing name: `s3`, `sns`, `logs`), the
    /// fraction of its calls each fault hits, together at most 1. Other services' calls pass.
    pub services: &'static [(&'static str, [(Fault, f64); 4])],
    /// How long a slow answer is held back, drawn uniformly.
    pub slow: Range<Duration>,
}

/// What passed through, per service (SigV4 signing name).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Requests per (service, fault); `None` for a request passed on untouched.
    pub requests: BTreeMap<(String, Option<Fault>), usize>,
    /// The highest attempt number the SDK gave one call (its `amz-sdk-request: attempt=N;
    /// max=M` header), and the `max` it announced, per service.
    pub attempts: BTreeMap<String, (u32, u32)>,
    /// Attempts per SDK invocation (its `amz-sdk-invocation-id`), to count calls retried.
    pub invocations: BTreeMap<String, u32>,
}

impl Tally {
    /// Faults injected into `service`'s calls, per kind.
    pub fn faults(&self, service: &str) -> BTreeMap<Fault, usize> {
        self.requests
            .iter()
            .filter_map(|((s, fault), n)| (s == service).then_some((*fault)?).map(|f| (f, *n)))
            .collect()
    }

    /// Failed attempts (every fault but a slow answer) in `service`'s calls.
    pub fn failures(&self, service: &str) -> usize {
        self.faults(service)
            .iter()
            .filter(|(fault, _)| fault.fails())
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of `service`, faulted or not.
    pub fn requests(&self, service: &str) -> usize {
        self.requests
            .iter()
            .filter(|((s, _), _)| s == service)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The running proxy; it stops when dropped.
pub struct FaultProxy {
    address: SocketAddr,
    tally: Arc<Mutex<Tally>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

struct Shared {
    upstream: SocketAddr,
    plan: Plan,
    /// One generator per service, so that which of a service's calls fail depends only on the
    /// order of that service's calls, not on how they interleave with other services' calls.
    rngs: BTreeMap<&'static str, Mutex<StdRng>>,
    tally: Arc<Mutex<Tally>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and passes requests on to `upstream` (`host:port`).
    pub async fn start(upstream: SocketAddr, plan: Plan) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let tally = Arc::new(Mutex::new(Tally::default()));
        let shared = Arc::new(Shared {
            upstream,
            rngs: plan
                .services
                .iter()
                .enumerate()
                .map(|(i, (service, _))| {
                    let rng = StdRng::seed_from_u64(plan.seed.wrapping_add(i as u64));
                    (*service, Mutex::new(rng))
                })
                .collect(),
            plan,
            tally: Arc::clone(&tally),
        });
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Err(error) = shared.serve(client).await {
                        eprintln!("fault proxy: {error}");
                    }
                });
            }
        });
        Self {
            address,
            tally,
            accept,
        }
    }

    /// The endpoint URL to give the SDK.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What has passed through so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().unwrap().clone()
    }
}

/// A request's head, as much as the proxy needs of it.
struct Head {
    /// The head's bytes, up to and excluding the blank line.
    lines: Vec<String>,
    content_length: usize,
    service: String,
    /// `amz-sdk-request`'s attempt and max.
    attempt: Option<(u32, u32)>,
    invocation: Option<String>,
}

impl Shared {
    async fn serve(&self, mut client: TcpStream) -> std::io::Result<()> {
        let (head, mut body) = read_head(&mut client).await?;
        let Some(head) = parse_request_head(&head) else {
            return Ok(());
        };
        read_exactly(&mut client, &mut body, head.content_length).await?;
        let drawn = self.draw(&head.service);
        let fault = drawn.map(|(fault, _)| fault);
        self.count(&head, fault);
        let request = head.lines[0].clone();
        self.answer(head, body, client, drawn)
            .await
            .map_err(|error| std::io::Error::other(format!("{request} ({fault:?}): {error}")))
    }

    async fn answer(
        &self,
        head: Head,
        body: Vec<u8>,
        mut client: TcpStream,
        drawn: Option<(Fault, Duration)>,
    ) -> std::io::Result<()> {
        match drawn {
            Some((fault @ (Fault::Throttle | Fault::Internal), _)) => {
                let answer = error_answer(&head.service, fault);
                client.write_all(answer.as_bytes()).await?;
                client.shutdown().await
            }
            Some((Fault::Reset, _)) => {
                // SO_LINGER 0: closing sends RST, not FIN.
                client.set_zero_linger()?;
                drop(client);
                Ok(())
            }
            Some((Fault::Slow, delay)) => self.forward(&head, &body, &mut client, delay).await,
            None => {
                self.forward(&head, &body, &mut client, Duration::ZERO)
                    .await
            }
        }
    }

    /// The fault for the next call of `service`, and how long a slow answer is held back.
    fn draw(&self, service: &str) -> Option<(Fault, Duration)> {
        let (_, fractions) = self.plan.services.iter().find(|(s, _)| *s == service)?;
        let mut rng = self.rngs[service].lock().unwrap();
        let mut roll: f64 = rng.r#gen();
        let slow = &self.plan.slow;
        let delay = Duration::from_millis(
            rng.gen_range(slow.start.as_millis() as u64..slow.end.as_millis() as u64),
        );
        for (fault, fraction) in fractions {
            if roll < *fraction {
                return Some((*fault, delay));
            }
            roll -= fraction;
        }
        None
    }

    fn count(&self, head: &Head, fault: Option<Fault>) {
        let mut tally = self.tally.lock().unwrap();
        *tally
            .requests
            .entry((head.service.clone(), fault))
            .or_default() += 1;
        if let Some((attempt, max)) = head.attempt {
            let seen = tally.attempts.entry(head.service.clone()).or_default();
            *seen = (seen.0.max(attempt), seen.1.max(max));
        }
        if let Some(invocation) = &head.invocation {
            *tally.invocations.entry(invocation.clone()).or_default() += 1;
        }
    }

    /// Passes the request on with `Connection: close` and relays the answer, `delay` late,
    /// with `Connection: close` too.
    async fn forward(
        &self,
        head: &Head,
        body: &[u8],
        client: &mut TcpStream,
        delay: Duration,
    ) -> std::io::Result<()> {
        let mut upstream = TcpStream::connect(self.upstream).await?;
        upstream
            .write_all(closing_head(&head.lines).as_bytes())
            .await?;
        upstream.write_all(body).await?;
        let (answer_head, mut answer_body) = read_head(&mut upstream).await?;
        let lines = head_lines(&answer_head);
        let no_body = head.lines[0].starts_with("HEAD ")
            || lines[0]
                .split(' ')
                .nth(1)
                .is_some_and(|status| matches!(status, "204" | "304"));
        // A HEAD answer's Content-Length is the object's, with no body after it.
        match content_length(&lines) {
            _ if no_body => {}
            Some(length) => read_exactly(&mut upstream, &mut answer_body, length).await?,
            None => {
                upstream.read_to_end(&mut answer_body).await?;
            }
        }
        tokio::time::sleep(delay).await;
        client.write_all(closing_head(&lines).as_bytes()).await?;
        client.write_all(&answer_body).await?;
        client.shutdown().await
    }
}

/// Reads up to the blank line ending an HTTP head; returns the head and the bytes read past it.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            buffer.truncate(end);
            return Ok((buffer, rest));
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside an HTTP head",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Tops `buffer` up to `length` bytes from `stream`.
async fn read_exactly(
    stream: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
    length: usize,
) -> std::io::Result<()> {
    let start = buffer.len();
    if start < length {
        buffer.resize(length, 0);
        stream.read_exact(&mut buffer[start..]).await?;
    }
    Ok(())
}

fn head_lines(head: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .map(str::to_owned)
        .collect()
}

fn header<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines[1..].iter().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

fn content_length(lines: &[String]) -> Option<usize> {
    header(lines, "content-length").and_then(|length| length.parse().ok())
}

fn parse_request_head(head: &[u8]) -> Option<Head> {
    let lines = head_lines(head);
    assert!(
        header(&lines, "transfer-encoding").is_none(),
        "fault proxy: a chunked request body ({})",
        lines[0]
    );
    // `Credential=AKID/20261206/us-east-1/s3/aws4_request`: the SigV4 scope names the service.
    let service = header(&lines, "authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_owned();
    let attempt = header(&lines, "amz-sdk-request").and_then(|value| {
        let number = |name: &str| {
            value
                .split(';')
                .find_map(|part| part.trim().strip_prefix(name)?.parse().ok())
        };
        Some((number("attempt=")?, number("max=")?))
    });
    Some(Head {
        content_length: content_length(&lines).unwrap_or(0),
        invocation: header(&lines, "amz-sdk-invocation-id").map(str::to_owned),
        service,
        attempt,
        lines,
    })
}

/// The head with its `Connection` header replaced by `Connection: close`.
fn closing_head(lines: &[String]) -> String {
    let mut head = String::new();
    for line in lines {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// The error answer of `service` for a throttled or internally failed call, as AWS sends it.
///
/// S3: the REST error document, `<Error><Code>…</Code><Message>…</Message><RequestId>…`
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>: `SlowDown` is 503,
/// `InternalError` 500). SNS, a query-protocol service: `<ErrorResponse><Error><Type>…`
/// (<https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html>). CloudWatch Logs, JSON 1.1:
/// `{"__type":…,"message":…}`
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html>).
fn error_answer(service: &str, fault: Fault) -> String {
    let throttled = fault == Fault::Throttle;
    let (status, content_type, body) = match service {
        "s3" => {
            let (status, code, message) = if throttled {
                (
                    "503 Slow Down",
                    "SlowDown",
                    "Please reduce your request rate.",
                )
            } else {
                (
                    "500 Internal Server Error",
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            };
            (
                status,
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>FAULTPROXY0000001</RequestId><HostId>fault-proxy</HostId></Error>"
                ),
            )
        }
        "logs" => {
            let (status, kind, message) = if throttled {
                ("400 Bad Request", "ThrottlingException", "Rate exceeded")
            } else {
                (
                    "500 Internal Server Error",
                    "ServiceUnavailableException",
                    "The service cannot complete the request.",
                )
            };
            (
                status,
                "application/x-amz-json-1.1",
                format!(r#"{{"__type":"{kind}","message":"{message}"}}"#),
            )
        }
        _ => {
            let (status, kind, code, message) = if throttled {
                ("400 Bad Request", "Sender", "Throttling", "Rate exceeded")
            } else {
                (
                    "500 Internal Server Error",
                    "Receiver",
                    "InternalError",
                    "The request processing has failed because of an unknown error, exception or failure.",
                )
            };
            (
                status,
                "text/xml",
                format!(
                    "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy-0001</RequestId></ErrorResponse>"
                ),
            )
        }
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amz-request-id: FAULTPROXY0000001\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
