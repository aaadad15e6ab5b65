//! Local log sink: JSON lines under a folder, one file per log stream.
//!
//! `{root}/{group}/{stream}.jsonl`, the group's `/` kept as subfolders (a leading `/`, as in
//! `/aws/cloudtrail`, adds none), each event one line `{"timestamp":…,"message":…}`. `/` and
//! `%` in a stream name are written `%2F` and `%25`, so a stream is always one file.

use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;

use super::jsonl;
use crate::ports::log_sink::{LogEvent, LogSink, LogSinkError, RejectedEvents, check_put};

/// Appends log events to JSON-lines files under a root folder.
#[derive(Debug, Clone)]
pub struct LocalLogSink {
    root: PathBuf,
}

#[derive(Serialize)]
struct SinkLine<'a> {
    timestamp: i64,
    message: &'a str,
}

impl LocalLogSink {
    /// A sink writing under `root` (created on the first put).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file holding `stream` of `group`.
    pub fn stream_path(&self, group: &str, stream: &str) -> Result<PathBuf, LogSinkError> {
        let mut path = self.root.clone();
        for segment in group.split('/').filter(|segment| !segment.is_empty()) {
            if segment == "." || segment == ".." {
                return Err(LogSinkError::InvalidName {
                    group: group.to_owned(),
                    stream: stream.to_owned(),
                    reason: "a '.' or '..' segment in a log group name cannot be stored locally",
                });
            }
            path.push(segment);
        }
        let file_name = stream.replace('%', "%25").replace('/', "%2F");
        path.push(format!("{file_name}.jsonl"));
        Ok(path)
    }
}

#[async_trait]
impl LogSink for LocalLogSink {
    /// Appends the whole batch with one write (see `jsonl::append`): the lines are in the file
    /// when this returns, and concurrent batches never interleave.
    async fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[LogEvent],
    ) -> Result<RejectedEvents, LogSinkError> {
        check_put(group, stream, events)?;
        if events.is_empty() {
            return Ok(RejectedEvents::none());
        }
        let path = self.stream_path(group, stream)?;
        let lines = jsonl::lines(events.iter().map(|event| SinkLine {
            timestamp: event.timestamp_ms,
            message: &event.message,
        }))
        .map_err(|e| failed(group, stream, e.to_string()))?;
        jsonl::append(path, lines)
            .await
            .map_err(|e| failed(group, stream, e.to_string()))?;
        Ok(RejectedEvents::none())
    }
}

fn failed(group: &str, stream: &str, detail: String) -> LogSinkError {
    LogSinkError::Failed {
        group: group.to_owned(),
        stream: stream.to_owned(),
        operation: "append to local log stream",
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::log_sink::{BatchViolation, MAX_BATCH_EVENTS, event};
    use std::fs;
    use std::sync::Arc;

    #[tokio::test]
    async fn appends_one_json_line_per_event_under_the_group_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = LocalLogSink::new(dir.path());
        let group = "/aws/cloudtrail/main";
        let stream = "123456789012_CloudTrail_us-east-1";

        let first = [
            event(1_700_000_000_000, r#"{"eventName":"PutObject"}"#),
            event(1_700_000_000_001, "line \"two\"\nwith newline é"),
        ];
        let second = [event(1_700_000_000_002, "third")];
        assert!(
            sink.put_events(group, stream, &first)
                .await
                .expect("put")
                .is_none()
        );
        sink.put_events(group, stream, &second)
            .await
            .expect("put again");
        sink.put_events(group, stream, &[])
            .await
            .expect("empty batch");

        let path = dir
            .path()
            .join("aws/cloudtrail/main/123456789012_CloudTrail_us-east-1.jsonl");
        assert_eq!(sink.stream_path(group, stream).expect("path"), path);
        assert_eq!(
            fs::read_to_string(&path).expect("stream file"),
            concat!(
                r#"{"timestamp":1700000000000,"message":"{\"eventName\":\"PutObject\"}"}"#,
                "\n",
                r#"{"timestamp":1700000000001,"message":"line \"two\"\nwith newline é"}"#,
                "\n",
                r#"{"timestamp":1700000000002,"message":"third"}"#,
                "\n",
            )
        );
    }

    #[tokio::test]
    async fn concurrent_batches_never_interleave() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = Arc::new(LocalLogSink::new(dir.path()));
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let sink = Arc::clone(&sink);
                tokio::spawn(async move {
                    let batch: Vec<_> = (0..500)
                        .map(|i| event(i, &format!("task {task} event {i} {}", "x".repeat(200))))
                        .collect();
                    sink.put_events("g", "s", &batch).await
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("put");
        }
        let text = fs::read_to_string(dir.path().join("g/s.jsonl")).expect("file");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8 * 500);
        // Each batch's 500 lines are contiguous and in order.
        for chunk in lines.chunks(500) {
            let first: serde_json::Value = serde_json::from_str(chunk[0]).expect("json");
            let task = first["message"]
                .as_str()
                .expect("message")
                .split(' ')
                .nth(1)
                .expect("task number")
                .to_owned();
            for (i, line) in chunk.iter().enumerate() {
                let value: serde_json::Value = serde_json::from_str(line).expect("json");
                assert_eq!(value["timestamp"], i as i64);
                assert!(
                    value["message"]
                        .as_str()
                        .expect("message")
                        .starts_with(&format!("task {task} event {i} "))
                );
            }
        }
    }

    #[tokio::test]
    async fn refuses_bad_batches_and_unsafe_names_without_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = LocalLogSink::new(dir.path().join("logs"));

        let err = sink
            .put_events("g", "s", &vec![event(1, "x"); MAX_BATCH_EVENTS + 1])
            .await
            .expect_err("too many");
        assert!(matches!(
            err,
            LogSinkError::BatchLimit {
                violation: BatchViolation::TooManyEvents { count: 10_001 },
                ..
            }
        ));
        let err = sink
            .put_events("g", "s", &[event(2, "a"), event(1, "b")])
            .await
            .expect_err("order");
        assert!(matches!(
            err,
            LogSinkError::BatchLimit {
                violation: BatchViolation::OutOfOrder { index: 1 },
                ..
            }
        ));
        for group in ["a/../../etc", "./x"] {
            let err = sink
                .put_events(group, "s", &[event(1, "a")])
                .await
                .expect_err("traversal refused");
            assert!(matches!(err, LogSinkError::InvalidName { .. }), "{err}");
        }
        let err = sink
            .put_events("g", "a:b", &[event(1, "a")])
            .await
            .expect_err("colon refused");
        assert!(matches!(err, LogSinkError::InvalidName { .. }));
        assert!(!dir.path().join("logs").exists(), "nothing written");
    }

    #[tokio::test]
    async fn a_stream_name_is_always_one_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = LocalLogSink::new(dir.path());
        sink.put_events("g", "2024/01/01/[$LATEST]a%b", &[event(1, "m")])
            .await
            .expect("put");
        assert!(
            dir.path()
                .join("g/2024%2F01%2F01%2F[$LATEST]a%25b.jsonl")
                .is_file()
        );
    }
}
