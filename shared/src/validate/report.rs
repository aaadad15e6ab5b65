//! What validation found, and how `validate-logs` prints it: aws-cli's lines, counts and
//! summary, with Cairn's stricter findings in the same shape.

use std::fmt;
use std::io::{self, Write};

use crate::record::EventTime;

/// An object the validator names: `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub bucket: String,
    pub key: String,
}

impl Location {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Digest,
    Log,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Digest => "Digest file",
            Self::Log => "Log file",
        })
    }
}

/// What is wrong with one file. The first group are aws-cli's verdicts, worded as aws-cli
/// words them; the rest are the checks aws-cli does not make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationProblem {
    /// The object is not in the bucket.
    NotFound,
    /// Not one gzip member of the expected JSON, or content no writer would produce.
    InvalidFormat(String),
    /// The signature does not verify with the key the digest names.
    SignatureFailed,
    /// The digest's own `digestS3Bucket`/`digestS3Object` name another place.
    Moved { original: Location },
    /// No published key has the fingerprint the digest names.
    KeyNotFound {
        home_region: String,
        fingerprint: String,
    },
    /// A log file's uncompressed bytes do not hash to what its digest lists.
    HashMismatch,
    /// Bytes after the log file's gzip member.
    TrailingData,

    /// The digest has no `signature` S3 metadata (nor a later digest naming its signature).
    NoSignature,
    /// The key the digest names was not published as valid at the digest's end time: retired
    /// before it, or published for later digests only.
    KeyNotValid {
        fingerprint: String,
        digest_end: EventTime,
    },
    /// The digest is not what the next digest of the chain, which is signed, says its previous
    /// digest is.
    NotWhatTheNextDigestSays { next: Location, detail: String },
    /// A digest of this trail's chain that no later digest links to.
    NotInChain,
    /// A log file in the period that no digest lists.
    Unlisted,
    /// A listed log file missing from its key and found, with the listed hash, under another.
    MovedTo { found: Location },
    /// A log file listed by two digests.
    ListedTwice { first: Location },
    /// A digest lists a log file where its chain cannot have delivered it.
    Misfiled { digest: Location, detail: String },
}

impl fmt::Display for ValidationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("not found"),
            Self::InvalidFormat(detail) => write!(f, "invalid format: {detail}"),
            Self::SignatureFailed => f.write_str("signature verification failed"),
            Self::Moved { original } => {
                write!(f, "has been moved from its original location {original}")
            }
            Self::KeyNotFound {
                home_region,
                fingerprint,
            } => write!(
                f,
                "public key not found in region {home_region} for fingerprint {fingerprint}"
            ),
            Self::HashMismatch => f.write_str("hash value doesn't match"),
            Self::TrailingData => f.write_str("unexpected data after end of compressed stream"),
            Self::NoSignature => f.write_str(
                "signature verification failed: no signature and signature-algorithm S3 \
                 metadata (a plain `aws s3 sync` copy does not keep it)",
            ),
            Self::KeyNotValid {
                fingerprint,
                digest_end,
            } => write!(
                f,
                "signed with key {fingerprint}, which was not published as valid at the \
                 digest's end time {digest_end}"
            ),
            Self::NotWhatTheNextDigestSays { next, detail } => {
                write!(f, "is not the previous digest {next} names: {detail}")
            }
            Self::NotInChain => f.write_str(
                "not part of the chain: no later digest names it as its previous digest",
            ),
            Self::Unlisted => f.write_str("not listed in any digest"),
            Self::MovedTo { found } => write!(
                f,
                "not found; a file with its listed hash is at {found}, where no digest lists it"
            ),
            Self::ListedTwice { first } => {
                write!(f, "listed in more than one digest (first in {first})")
            }
            Self::Misfiled { digest, detail } => write!(f, "listed in {digest}, but {detail}"),
        }
    }
}

/// One line of the report, in the order aws-cli prints them: newest digest first, each followed
/// by its log files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Valid {
        kind: FileKind,
        file: Location,
    },
    Invalid {
        kind: FileKind,
        file: Location,
        problem: ValidationProblem,
    },
    /// A chain starts again after a period without digests (log file validation or logging was
    /// off): not an error, as in aws-cli.
    Gap {
        from: EventTime,
        to: EventTime,
    },
}

/// Everything one validation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<Line>,
    /// The span the valid digests cover, clipped to the requested range.
    pub found: Option<(EventTime, EventTime)>,
}

impl Report {
    pub fn count(&self, kind: FileKind, valid: bool) -> usize {
        self.lines
            .iter()
            .filter(|line| match line {
                Line::Valid { kind: k, .. } => valid && *k == kind,
                Line::Invalid { kind: k, .. } => !valid && *k == kind,
                Line::Gap { .. } => false,
            })
            .count()
    }

    pub fn is_valid(&self) -> bool {
        !self
            .lines
            .iter()
            .any(|line| matches!(line, Line::Invalid { .. }))
    }

    /// The problems found, as (kind, file, problem).
    pub fn invalid(&self) -> impl Iterator<Item = (FileKind, &Location, &ValidationProblem)> {
        self.lines.iter().filter_map(|line| match line {
            Line::Invalid {
                kind,
                file,
                problem,
            } => Some((*kind, file, problem)),
            _ => None,
        })
    }

    /// Folds in a valid digest's period for the "Results found" line, clipped to the request.
    pub(crate) fn track_found(
        &mut self,
        digest: (EventTime, EventTime),
        requested: (EventTime, EventTime),
    ) {
        let start = digest.0.max(requested.0);
        let end = digest.1.min(requested.1);
        self.found = Some(match self.found {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }
}

/// aws-cli's first line, printed before validation starts.
pub fn write_startup(
    out: &mut impl Write,
    trail_arn: &str,
    start: EventTime,
    end: EventTime,
) -> io::Result<()> {
    write!(
        out,
        "Validating log files for trail {trail_arn} between {start} and {end}\n\n"
    )
}

/// The report's lines and summary as aws-cli prints them: problems and gaps to `err`, each set
/// off by blank lines; valid files to `out` with `verbose` only; the summary to `out`.
pub fn write_report(
    report: &Report,
    requested: (EventTime, EventTime),
    verbose: bool,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<()> {
    // aws-cli's spacing: an error line is followed by a blank line and preceded by one unless
    // the last thing written already ended with one.
    let mut blank_before = true;
    let error = |err: &mut dyn Write, text: String, blank_before: &mut bool| {
        let lead = if *blank_before { "" } else { "\n" };
        *blank_before = true;
        write!(err, "{lead}{text}\n\n")
    };
    for line in &report.lines {
        match line {
            Line::Valid { kind, file } => {
                if verbose {
                    blank_before = false;
                    writeln!(out, "{kind}\t{file}\tvalid")?;
                }
            }
            Line::Invalid {
                kind,
                file,
                problem,
            } => error(
                err,
                format!("{kind}\t{file}\tINVALID: {problem}"),
                &mut blank_before,
            )?,
            Line::Gap { from, to } => error(
                err,
                format!("No log files were delivered by CloudTrail between {from} and {to}"),
                &mut blank_before,
            )?,
        }
    }

    if !blank_before {
        writeln!(out)?;
    }
    writeln!(
        out,
        "Results requested for {} to {}",
        requested.0, requested.1
    )?;
    let digests = (
        report.count(FileKind::Digest, true),
        report.count(FileKind::Digest, false),
    );
    if digests == (0, 0) {
        return writeln!(out, "No digests found");
    }
    match report.found {
        None => writeln!(out, "No valid digests found in range")?,
        Some((start, end)) => writeln!(out, "Results found for {start} to {end}:")?,
    }
    let logs = (
        report.count(FileKind::Log, true),
        report.count(FileKind::Log, false),
    );
    for ((valid, invalid), name) in [(digests, "digest"), (logs, "log")] {
        let total = valid + invalid;
        if total > 0 {
            write!(out, "\n{valid}/{total} {name} files valid")?;
            if invalid > 0 {
                write!(out, ", {invalid}/{total} {name} files INVALID")?;
            }
        }
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> EventTime {
        EventTime::parse(text).expect("time")
    }

    fn render(report: &Report, verbose: bool) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let requested = (time("2026-11-22T00:00:00Z"), time("2026-11-22T12:00:00Z"));
        write_report(report, requested, verbose, &mut out, &mut err).expect("write");
        (
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(err).expect("utf-8"),
        )
    }

    #[test]
    fn lines_and_summary_are_aws_clis() {
        let digest = Location::new("b", "d1.json.gz");
        let log = Location::new("b", "l1.json.gz");
        let report = Report {
            lines: vec![
                Line::Valid {
                    kind: FileKind::Digest,
                    file: digest.clone(),
                },
                Line::Invalid {
                    kind: FileKind::Log,
                    file: log.clone(),
                    problem: ValidationProblem::HashMismatch,
                },
                Line::Valid {
                    kind: FileKind::Log,
                    file: Location::new("b", "l2.json.gz"),
                },
                Line::Gap {
                    from: time("2026-11-22T03:00:00Z"),
                    to: time("2026-11-22T05:00:00Z"),
                },
            ],
            found: Some((time("2026-11-22T05:00:00Z"), time("2026-11-22T06:00:00Z"))),
        };
        let (out, err) = render(&report, true);
        assert_eq!(
            out,
            "Digest file\ts3://b/d1.json.gz\tvalid\n\
             Log file\ts3://b/l2.json.gz\tvalid\n\
             Results requested for 2026-11-22T00:00:00Z to 2026-11-22T12:00:00Z\n\
             Results found for 2026-11-22T05:00:00Z to 2026-11-22T06:00:00Z:\n\
             \n\
             1/1 digest files valid\n\
             1/2 log files valid, 1/2 log files INVALID\n"
        );
        assert_eq!(
            err,
            "\nLog file\ts3://b/l1.json.gz\tINVALID: hash value doesn't match\n\n\
             \nNo log files were delivered by CloudTrail between 2026-11-22T03:00:00Z and 2026-11-22T05:00:00Z\n\n"
        );
        assert!(!report.is_valid());

        let (quiet, _) = render(&report, false);
        assert!(quiet.starts_with("Results requested for"), "{quiet}");
    }

    #[test]
    fn no_digests_and_no_valid_digests_are_said_so() {
        let (out, err) = render(&Report::default(), false);
        assert_eq!(
            out,
            "Results requested for 2026-11-22T00:00:00Z to 2026-11-22T12:00:00Z\nNo digests found\n"
        );
        assert_eq!(err, "");

        let report = Report {
            lines: vec![Line::Invalid {
                kind: FileKind::Digest,
                file: Location::new("b", "d"),
                problem: ValidationProblem::NotFound,
            }],
            found: None,
        };
        let (out, err) = render(&report, false);
        assert!(
            out.ends_with("No valid digests found in range\n\n0/1 digest files valid, 1/1 digest files INVALID\n"),
            "{out}"
        );
        assert_eq!(err, "Digest file\ts3://b/d\tINVALID: not found\n\n");
    }

    #[test]
    fn found_times_are_clipped_to_the_request() {
        let mut report = Report::default();
        let requested = (time("2026-11-22T00:30:00Z"), time("2026-11-22T12:00:00Z"));
        report.track_found(
            (time("2026-11-22T11:00:00Z"), time("2026-11-22T13:00:00Z")),
            requested,
        );
        report.track_found(
            (time("2026-11-22T00:00:00Z"), time("2026-11-22T01:00:00Z")),
            requested,
        );
        assert_eq!(report.found, Some(requested));
    }
}
