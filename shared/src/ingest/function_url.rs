//! The Lambda Function URL request and response (payload format 2.0): the HTTP body inside the
//! invocation payload, and the answer wrapped the way a Function URL passes it back.
//!
//! A request looks like `{"version":"2.0","routeKey":"$default","rawPath":"/",
//! "rawQueryString":"","headers":{…},"requestContext":{"http":{"method":"POST","path":"/",…},
//! …},"body":"…","isBase64Encoded":false}`; the body is base64 when the client sent content
//! Lambda doesn't take for text.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{BodyError, json_kind, json_text, quoted};
use crate::record::Slot;

/// The most a Function URL request's body may hold, as the JSON string Lambda passes it (base64
/// or not): Lambda's 6 MB limit on a synchronous invocation's payload ("Lambda quotas",
/// Function configuration, deployment, and execution), which the body can only be under.
/// Checked before the body is unescaped or decoded, so nothing bigger is copied.
pub const MAX_FUNCTION_URL_BODY_BYTES: usize = 6 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestFields<'a> {
    #[serde(borrow)]
    version: Slot<'a>,
    #[serde(borrow, rename = "rawPath")]
    raw_path: Slot<'a>,
    #[serde(borrow, rename = "requestContext")]
    request_context: Slot<'a>,
    #[serde(borrow)]
    body: Slot<'a>,
    #[serde(borrow, rename = "isBase64Encoded")]
    is_base64_encoded: Slot<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContextFields<'a> {
    #[serde(borrow)]
    http: Slot<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HttpFields<'a> {
    #[serde(borrow)]
    method: Slot<'a>,
}

/// The HTTP body of a Function URL invocation, or `None` when `payload` is not one (a direct
/// invocation carries the body itself). A Function URL request has `requestContext.http`, and
/// `rawPath` or `"version":"2.0"`. Only POST is taken; a base64 body (`isBase64Encoded`) is
/// decoded and must be UTF-8 text.
pub fn function_url_body(payload: &RawValue) -> Option<Result<Cow<'_, str>, BodyError>> {
    if !payload.get().starts_with('{') {
        return None;
    }
    let request: RequestFields = serde_json::from_str(payload.get()).ok()?;
    let context = request
        .request_context
        .raw()
        .filter(|raw| raw.get().starts_with('{'))?;
    let context: ContextFields = serde_json::from_str(context.get()).ok()?;
    let http = context
        .http
        .raw()
        .filter(|raw| raw.get().starts_with('{'))?;
    let versioned = request
        .version
        .raw()
        .is_some_and(|raw| raw.get() == "\"2.0\"");
    if request.raw_path.raw().is_none() && !versioned {
        return None;
    }
    Some(request_body(&request, http))
}

fn request_body<'a>(
    request: &RequestFields<'a>,
    http: &'a RawValue,
) -> Result<Cow<'a, str>, BodyError> {
    let invalid = |why: String| Err(BodyError::Invalid(why));
    let http: HttpFields = serde_json::from_str(http.get())
        .map_err(|e| BodyError::Invalid(format!("requestContext.http: {e}")))?;
    match http.method.raw().map(json_text) {
        Some(Some(method)) if method == "POST" => {}
        Some(Some(method)) => {
            return Err(BodyError::MethodNotAllowed {
                method: method.chars().take(32).collect(),
            });
        }
        _ => return invalid("the request has no method (requestContext.http.method)".into()),
    }
    let body = match request.body.raw() {
        Some(raw) if raw.get().len() > MAX_FUNCTION_URL_BODY_BYTES => {
            return Err(BodyError::TooLarge {
                bytes: raw.get().len(),
                limit: MAX_FUNCTION_URL_BODY_BYTES,
                limit_of: "a Function URL request's",
            });
        }
        Some(raw) if raw.get() != "null" => match json_text(raw) {
            Some(body) => body,
            None => {
                return invalid(format!(
                    "the request body must be a string, not {}",
                    json_kind(raw)
                ));
            }
        },
        _ => {
            return invalid(
                "the request has no body: POST a {\"Records\":[…]} batch, an EventBridge event or a PutAuditEvents request".into(),
            );
        }
    };
    let base64 = match request.is_base64_encoded.raw().map(|raw| raw.get()) {
        None | Some("null" | "false") => false,
        Some("true") => true,
        Some(other) => {
            return invalid(format!(
                "isBase64Encoded must be true or false, not {}",
                quoted(other)
            ));
        }
    };
    if !base64 {
        return Ok(body);
    }
    let bytes = STANDARD
        .decode(body.as_bytes())
        .map_err(|e| BodyError::Invalid(format!("the base64 request body does not decode: {e}")))?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|e| BodyError::Invalid(format!("the request body is not UTF-8 text: {e}")))
}

#[derive(Serialize)]
struct Response<'b> {
    #[serde(rename = "statusCode")]
    status_code: u16,
    headers: Headers,
    body: &'b str,
    /// Always empty. The Lambda Developer Guide's response format lists `cookies` among the
    /// members; `cargo lambda watch` (aws_lambda_events' ApiGatewayV2httpResponse) refuses a
    /// response without it, answering 500 though the events were staged.
    cookies: [&'static str; 0],
    #[serde(rename = "isBase64Encoded")]
    is_base64_encoded: bool,
}

#[derive(Serialize)]
struct Headers {
    #[serde(rename = "content-type")]
    content_type: &'static str,
}

/// The invocation result a Function URL turns into an HTTP response:
/// `{"statusCode":…,"headers":{"content-type":"application/json"},"body":"<body as JSON
/// text>","cookies":[],"isBase64Encoded":false}`. A `RawValue` body goes in verbatim.
pub fn function_url_response<T: Serialize + ?Sized>(
    status_code: u16,
    body: &T,
) -> Result<Box<RawValue>, serde_json::Error> {
    let body = serde_json::to_string(body)?;
    serde_json::value::to_raw_value(&Response {
        status_code,
        headers: Headers {
            content_type: "application/json",
        },
        body: &body,
        cookies: [],
        is_base64_encoded: false,
    })
}

/// The Function URL answer to a refused body: its HTTP status and `{"message":"…"}`.
pub fn function_url_error_response(error: &BodyError) -> Result<Box<RawValue>, serde_json::Error> {
    #[derive(Serialize)]
    struct ErrorBody {
        message: String,
    }
    function_url_response(
        error.http_status(),
        &ErrorBody {
            message: error.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).expect("test JSON")
    }

    /// A Function URL request as Lambda passes it (the shape of AWS's own example), with the
    /// given method, body and isBase64Encoded.
    fn request(method: &str, body: Option<&str>, base64: bool) -> Box<RawValue> {
        let body = body.map_or(String::new(), |body| {
            format!(
                r#""body":{},"#,
                serde_json::to_string(body).expect("string")
            )
        });
        payload(&format!(
            r#"{{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"","headers":{{"content-type":"application/json","host":"abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws"}},"requestContext":{{"accountId":"anonymous","apiId":"abcdefghijklmnopqrstuvwxyz123456","domainName":"abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws","domainPrefix":"abcdefghijklmnopqrstuvwxyz123456","http":{{"method":"{method}","path":"/","protocol":"HTTP/1.1","sourceIp":"203.0.113.7","userAgent":"curl/8.5.0"}},"requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","routeKey":"$default","stage":"$default","time":"01/May/2024:12:00:00 +0000","timeEpoch":1714564800000}},{body}"isBase64Encoded":{base64}}}"#
        ))
    }

    const BATCH: &str = r#"{"Records":[{"eventVersion":"1.11"}]}"#;

    #[test]
    fn plain_body_is_the_json_text() {
        let payload = request("POST", Some(BATCH), false);
        let body = function_url_body(&payload).expect("a Function URL request");
        assert_eq!(body.expect("a body"), BATCH);
    }

    #[test]
    fn base64_body_is_decoded() {
        let payload = request("POST", Some(&STANDARD.encode(BATCH)), true);
        let body = function_url_body(&payload).expect("a Function URL request");
        assert_eq!(body.expect("a body"), BATCH);
    }

    #[test]
    fn only_post_is_taken() {
        let payload = request("GET", None, false);
        let error = function_url_body(&payload)
            .expect("a Function URL request")
            .expect_err("GET refused");
        assert_eq!(
            error.to_string(),
            "GET is not allowed here: send the body with POST"
        );
        assert_eq!(error.http_status(), 405);
    }

    #[test]
    fn bad_bodies_are_refused_with_reasons() {
        let cases = [
            (
                request("POST", None, false),
                "the request has no body: POST a {\"Records\":[…]} batch, an EventBridge event or a PutAuditEvents request",
            ),
            (
                request("POST", Some("not base64!"), true),
                "the base64 request body does not decode: Invalid symbol 32, offset 3.",
            ),
            (
                request("POST", Some(&STANDARD.encode([0xff, 0xfe, b'{'])), true),
                "the request body is not UTF-8 text: invalid utf-8 sequence of 1 bytes from index 0",
            ),
        ];
        for (payload, expected) in cases {
            let error = function_url_body(&payload)
                .expect("a Function URL request")
                .expect_err("refused");
            assert_eq!(error.to_string(), expected);
            assert_eq!(error.http_status(), 400);
        }
    }

    #[test]
    fn other_payloads_are_not_function_url_requests() {
        for json in [
            BATCH,
            r#"{"auditEvents":[]}"#,
            r#"{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","detail":{}}"#,
            // API Gateway's REST (1.0) payload has a requestContext but no http or rawPath.
            r#"{"resource":"/","path":"/","httpMethod":"POST","requestContext":{"resourcePath":"/"},"body":"{}"}"#,
            r#"{"version":"1.0","requestContext":{"http":{"method":"POST"}}}"#,
            "[1,2]",
            "\"text\"",
        ] {
            assert!(function_url_body(&payload(json)).is_none(), "{json}");
        }
    }

    #[test]
    fn response_wraps_the_json_answer_as_text() {
        let answer = payload(r#"{"successful":[{"id":"1","eventID":"e"}],"failed":[]}"#);
        let response = function_url_response(200, &*answer).expect("serialises");
        assert_eq!(
            response.get(),
            r#"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"successful\":[{\"id\":\"1\",\"eventID\":\"e\"}],\"failed\":[]}","cookies":[],"isBase64Encoded":false}"#
        );
        let error = BodyError::MethodNotAllowed {
            method: "PUT".into(),
        };
        let response = function_url_error_response(&error).expect("serialises");
        assert_eq!(
            response.get(),
            r#"{"statusCode":405,"headers":{"content-type":"application/json"},"body":"{\"message\":\"PUT is not allowed here: send the body with POST\"}","cookies":[],"isBase64Encoded":false}"#
        );
    }
}
