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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Digest,
    /// A digest of CloudTrail's backfill chain (`…_backfill.json.gz`), which aws-cli 1.45+
    /// validates after the regular chain and counts apart.
    BackfillDigest,
    Log,
}

impl FileKind {
    /// The name aws-cli's summary gives the kind (`validation.py` lines 1197-1203).
    fn summary_name(self) -> &'static str {
        match self {
            Self::Digest => "digest",
            Self::BackfillDigest => "backfill digest",
            Self::Log => "log",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // aws-cli prefixes every line of the backfill chain with `(backfill) `
        // (validation.py lines 1096, 1221, 1228, 1239).
        f.write_str(match self {
            Self::Digest => "Digest file",
            Self::BackfillDigest => "(backfill) Digest file",
            Self::Log => "Log file",
        })
    }
}

/// What is wrong with one file. The first group are aws-cli's verdicts, printed as aws-cli
/// prints them (see [`ValidationProblem::aws_cli_verdict`]); the rest are the checks aws-cli
/// does not make, printed on lines of their own marked as Cairn's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationProblem {
    /// The object is not in the bucket.
    NotFound,
    /// Not one gzip member of JSON with the fields a digest must have. The detail is Cairn's.
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
    /// The published key the digest names is not a PKCS #1 RSA key.
    KeyUnloadable { fingerprint: String, detail: String },
    /// A log file's uncompressed bytes do not hash to what its digest lists.
    HashMismatch,
    /// Bytes after the log file's gzip member.
    TrailingData,

    /// The digest has no `signature` S3 metadata, nor a later digest naming its signature: the
    /// newest digest of a copy that lost its S3 metadata (`aws s3 sync`). Neither valid nor
    /// invalid: counted apart as unverifiable.
    NoSignature,
    /// The signed digest holds what no CloudTrail writer produces (its own key, account, times
    /// or fields disagree). aws-cli accepts it.
    Inconsistent(String),
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

impl ValidationProblem {
    /// What aws-cli prints after `INVALID: ` for this problem, when aws-cli finds it
    /// (`validation.py`: lines 241-251 signature and format, 776 moved, 792 key not found, 844
    /// PKCS #1, 1223 and 1267 not found, 1245 log format, 1253 trailing data, 1260 hash); `None`
    /// for Cairn's own findings.
    pub fn aws_cli_verdict(&self) -> Option<String> {
        Some(match self {
            Self::NotFound | Self::MovedTo { .. } => "not found".to_owned(),
            Self::InvalidFormat(_) => "invalid format".to_owned(),
            Self::SignatureFailed => "signature verification failed".to_owned(),
            Self::Moved { .. } => "has been moved from its original location".to_owned(),
            Self::KeyNotFound {
                home_region,
                fingerprint,
            } => format!(
                "public key not found in region {home_region} for fingerprint {fingerprint}"
            ),
            Self::KeyUnloadable { fingerprint, .. } => {
                format!("Unable to load PKCS #1 key with fingerprint {fingerprint}")
            }
            Self::HashMismatch => "hash value doesn't match".to_owned(),
            Self::TrailingData => "unexpected data after end of compressed stream".to_owned(),
            _ => return None,
        })
    }

    /// What Cairn knows beyond aws-cli's verdict of the same problem.
    fn detail(&self) -> Option<String> {
        match self {
            Self::InvalidFormat(detail) | Self::KeyUnloadable { detail, .. } => {
                Some(detail.clone())
            }
            Self::Moved { original } => Some(format!("its original location is {original}")),
            Self::MovedTo { found } => Some(format!(
                "a file with its listed hash is at {found}, where no digest lists it"
            )),
            _ => None,
        }
    }
}

impl fmt::Display for ValidationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFormat(detail) => write!(f, "invalid format: {detail}"),
            Self::Moved { original } => {
                write!(f, "has been moved from its original location {original}")
            }
            Self::KeyUnloadable {
                fingerprint,
                detail,
            } => write!(
                f,
                "Unable to load PKCS #1 key with fingerprint {fingerprint}: {detail}"
            ),
            Self::MovedTo { found } => write!(
                f,
                "not found; a file with its listed hash is at {found}, where no digest lists it"
            ),
            Self::NoSignature => f.write_str(
                "no signature and signature-algorithm S3 metadata (a plain `aws s3 sync` copy \
                 does not keep it, and no later digest names its signature)",
            ),
            Self::Inconsistent(detail) => write!(f, "not as CloudTrail writes digests: {detail}"),
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
            Self::ListedTwice { first } => {
                write!(f, "listed in more than one digest (first in {first})")
            }
            Self::Misfiled { digest, detail } => write!(f, "listed in {digest}, but {detail}"),
            other => f.write_str(&other.aws_cli_verdict().unwrap_or_default()),
        }
    }
}

/// One line of the report, in the order aws-cli prints them: newest digest first, each followed
/// by its log files; the regular chain before the backfill chain.
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
    /// The digest of a period between two digests the walk reached, named by the chain's
    /// hourly spacing, which is not in the bucket. aws-cli does not look for it: it reports
    /// one of a run of deleted digests (aws/aws-cli#7054).
    Missing {
        file: Location,
    },
    /// A chain starts again after a period without digests (log file validation or logging was
    /// off): not an error, as in aws-cli.
    Gap {
        backfill: bool,
        from: EventTime,
        to: EventTime,
    },
}

/// What a `Missing` line is, as a problem.
const NOT_FOUND: ValidationProblem = ValidationProblem::NotFound;

/// Who reports a line's finding, and how it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// aws-cli too: its line, in its counts.
    AwsCliValid,
    AwsCliInvalid,
    /// Cairn only: a line marked as Cairn's, in Cairn's count.
    Cairn,
    /// Neither valid nor invalid: the signature cannot be checked.
    Unverifiable,
}

impl Line {
    fn verdict(&self) -> Option<(FileKind, Verdict)> {
        match self {
            Self::Valid { kind, .. } => Some((*kind, Verdict::AwsCliValid)),
            Self::Invalid { kind, problem, .. } => Some((
                *kind,
                match problem {
                    ValidationProblem::NoSignature => Verdict::Unverifiable,
                    problem if problem.aws_cli_verdict().is_some() => Verdict::AwsCliInvalid,
                    _ => Verdict::Cairn,
                },
            )),
            Self::Missing { .. } => Some((FileKind::Digest, Verdict::Cairn)),
            Self::Gap { .. } => None,
        }
    }
}

/// Everything one validation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<Line>,
    /// The span the valid digests cover, clipped to the requested range.
    pub found: Option<(EventTime, EventTime)>,
}

/// The counts of a report, as its summary gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub valid_digests: usize,
    pub invalid_digests: usize,
    pub valid_backfill_digests: usize,
    pub invalid_backfill_digests: usize,
    pub valid_logs: usize,
    pub invalid_logs: usize,
    /// Problems only Cairn's stricter checks find.
    pub cairn_findings: usize,
    /// Digests whose signature cannot be checked (no signature metadata).
    pub unverifiable_digests: usize,
}

impl Counts {
    fn ratio(&self, kind: FileKind) -> (usize, usize) {
        match kind {
            FileKind::Digest => (self.valid_digests, self.invalid_digests),
            FileKind::BackfillDigest => {
                (self.valid_backfill_digests, self.invalid_backfill_digests)
            }
            FileKind::Log => (self.valid_logs, self.invalid_logs),
        }
    }

    fn ratio_mut(&mut self, kind: FileKind) -> (&mut usize, &mut usize) {
        match kind {
            FileKind::Digest => (&mut self.valid_digests, &mut self.invalid_digests),
            FileKind::BackfillDigest => (
                &mut self.valid_backfill_digests,
                &mut self.invalid_backfill_digests,
            ),
            FileKind::Log => (&mut self.valid_logs, &mut self.invalid_logs),
        }
    }

    /// Adds another chain's counts, for a total.
    pub fn add(&mut self, other: &Self) {
        for kind in [FileKind::Digest, FileKind::BackfillDigest, FileKind::Log] {
            let (valid, invalid) = other.ratio(kind);
            let (total_valid, total_invalid) = self.ratio_mut(kind);
            *total_valid += valid;
            *total_invalid += invalid;
        }
        self.cairn_findings += other.cairn_findings;
        self.unverifiable_digests += other.unverifiable_digests;
    }

    /// Whether nothing is invalid (unverifiable digests aside).
    pub fn is_valid(&self) -> bool {
        self.invalid_digests == 0
            && self.invalid_backfill_digests == 0
            && self.invalid_logs == 0
            && self.cairn_findings == 0
    }

    fn any_digest(&self) -> bool {
        self.valid_digests
            + self.invalid_digests
            + self.valid_backfill_digests
            + self.invalid_backfill_digests
            + self.unverifiable_digests
            > 0
    }
}

impl Report {
    /// Files of `kind` found valid (`valid`) or with any problem, Cairn's included, and
    /// unverifiable digests as neither.
    pub fn count(&self, kind: FileKind, valid: bool) -> usize {
        self.lines
            .iter()
            .filter_map(Line::verdict)
            .filter(|(k, verdict)| {
                *k == kind
                    && match verdict {
                        Verdict::AwsCliValid => valid,
                        Verdict::AwsCliInvalid | Verdict::Cairn => !valid,
                        Verdict::Unverifiable => false,
                    }
            })
            .count()
    }

    /// The summary's counts: aws-cli's, then Cairn's own findings and the unverifiable digests.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for (kind, verdict) in self.lines.iter().filter_map(Line::verdict) {
            let (valid, invalid) = counts.ratio_mut(kind);
            match verdict {
                Verdict::AwsCliValid => *valid += 1,
                Verdict::AwsCliInvalid => *invalid += 1,
                Verdict::Cairn => counts.cairn_findings += 1,
                Verdict::Unverifiable => counts.unverifiable_digests += 1,
            }
        }
        counts
    }

    /// Whether nothing is invalid; a digest that cannot be verified (the newest of a copy
    /// without S3 metadata) does not make a report invalid, it is counted apart.
    pub fn is_valid(&self) -> bool {
        self.counts().is_valid()
    }

    /// Every problem found, as (kind, file, problem): aws-cli's, Cairn's and the unverifiable
    /// digests.
    pub fn invalid(&self) -> impl Iterator<Item = (FileKind, &Location, &ValidationProblem)> {
        self.lines.iter().filter_map(|line| match line {
            Line::Invalid {
                kind,
                file,
                problem,
            } => Some((*kind, file, problem)),
            Line::Missing { file } => Some((FileKind::Digest, file, &NOT_FOUND)),
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

/// The mark of every line that is Cairn's and not aws-cli's, so that a diff of the two outputs
/// shows exactly Cairn's extra findings.
pub const CAIRN_MARK: &str = "cairn: ";

/// aws-cli's first line, printed before validation starts (`validation.py` line 1170).
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

/// The report's lines and summary as aws-cli prints them (`validation.py` lines 1157-1212):
/// problems and gaps to `err`, each set off by blank lines; valid files to `out` with
/// `verbose` only; the summary to `out`. Cairn's own findings and the details it knows beyond
/// aws-cli's verdict go to `err` on single lines starting with [`CAIRN_MARK`], which leave
/// aws-cli's spacing as it is; after aws-cli's summary, Cairn's counts, when not zero.
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
            } => match (problem, problem.aws_cli_verdict()) {
                (ValidationProblem::NoSignature, _) => {
                    writeln!(err, "{CAIRN_MARK}{kind}\t{file}\tUNVERIFIABLE: {problem}")?
                }
                (_, Some(verdict)) => {
                    error(
                        err,
                        format!("{kind}\t{file}\tINVALID: {verdict}"),
                        &mut blank_before,
                    )?;
                    if let Some(detail) = problem.detail() {
                        writeln!(err, "{CAIRN_MARK}{kind}\t{file}\t{detail}")?;
                    }
                }
                (_, None) => writeln!(err, "{CAIRN_MARK}{kind}\t{file}\tINVALID: {problem}")?,
            },
            Line::Missing { file } => writeln!(
                err,
                "{CAIRN_MARK}{}\t{file}\tINVALID: {NOT_FOUND}",
                FileKind::Digest
            )?,
            Line::Gap { backfill, from, to } => error(
                err,
                format!(
                    "{}No log files were delivered by CloudTrail between {from} and {to}",
                    if *backfill { "(backfill) " } else { "" }
                ),
                &mut blank_before,
            )?,
        }
    }

    if !blank_before {
        writeln!(out)?;
    }
    write_summary(&report.counts(), report.found, requested, out)
}

/// aws-cli's summary of `counts` (`validation.py` lines 1173-1212), then Cairn's lines.
pub fn write_summary(
    counts: &Counts,
    found: Option<(EventTime, EventTime)>,
    requested: (EventTime, EventTime),
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(
        out,
        "Results requested for {} to {}",
        requested.0, requested.1
    )?;
    if counts.any_digest() {
        match found {
            None => writeln!(out, "No valid digests found in range")?,
            Some((start, end)) => writeln!(out, "Results found for {start} to {end}:")?,
        }
        for kind in [FileKind::Digest, FileKind::BackfillDigest, FileKind::Log] {
            let (valid, invalid) = counts.ratio(kind);
            let (total, name) = (valid + invalid, kind.summary_name());
            if total > 0 {
                write!(out, "\n{valid}/{total} {name} files valid")?;
                if invalid > 0 {
                    write!(out, ", {invalid}/{total} {name} files INVALID")?;
                }
            }
        }
        writeln!(out)?;
    } else {
        writeln!(out, "No digests found")?;
    }
    if counts.cairn_findings > 0 {
        writeln!(
            out,
            "{CAIRN_MARK}{} more problems found by Cairn's stricter checks",
            counts.cairn_findings
        )?;
    }
    if counts.unverifiable_digests > 0 {
        writeln!(
            out,
            "{CAIRN_MARK}{} digest files UNVERIFIABLE: no signature metadata (the newest digest of \
             each chain of a copy without S3 metadata; `cairn sync` keeps it)",
            counts.unverifiable_digests
        )?;
    }
    Ok(())
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
                    backfill: false,
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
