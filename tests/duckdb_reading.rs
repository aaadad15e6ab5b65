//! DuckDB, the local stand-in for Athena, reads a delivered trail bucket through the Glue
//! table template.yaml creates: the same files (its storage.location.template as a glob), the
//! same column names and types, Records unnested (tests/duckdb_cloudtrail_logs.py). Its counts
//! and values are checked against the records read back from the log files here, apart from
//! any SQL.
//!
//! scripts/test.sh installs DuckDB's wheel into .venv-tools and sets CAIRN_DUCKDB, which makes
//! this test required; a plain `cargo test` without the tools says it did not run.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use cairn_shared::layout::LOG_FILE_KIND;
use cairn_test_support::digests::signer;
use cairn_test_support::glue_table::Stack;
use cairn_test_support::pipeline::{
    config, delivered, embedded_store, fixture_batches, stage_and_deliver,
};
use cairn_test_support::repo_file;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The pipeline configuration's organization trail (tests/support/pipeline.rs).
const TRAIL: &str = "everything";
const DELIVERED_AT: OffsetDateTime = datetime!(2026-05-04 12:00:00 UTC);

/// Runs the DuckDB script on `request`; `None` (said on stderr) when DuckDB is not installed
/// and this run does not require it.
fn duckdb(request: &Value) -> Option<Value> {
    let python = repo_file(".venv-tools/bin/python");
    let required = std::env::var_os("CAIRN_DUCKDB").is_some();
    let child = Command::new(&python)
        .arg(repo_file("tests/duckdb_cloudtrail_logs.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if !required => {
            eprintln!(
                "NOT RUN: {} ({error}); run scripts/tools.sh install",
                python.display()
            );
            return None;
        }
        Err(error) => panic!("{}: {error}", python.display()),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("request");
    let output = child.wait_with_output().expect("the DuckDB script");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if !required && stderr.contains("No module named 'duckdb'") {
            eprintln!("NOT RUN: DuckDB is not in .venv-tools; run scripts/tools.sh install");
            return None;
        }
        panic!("tests/duckdb_cloudtrail_logs.py failed: {stderr}");
    }
    Some(serde_json::from_slice(&output.stdout).expect("the script prints JSON"))
}

/// A record's field as the table's string columns give it: a string as itself, anything else
/// as its JSON, null or absent as NULL.
fn column_text(value: &Value) -> Value {
    match value {
        Value::Null | Value::String(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

/// A JSON text column compared by what it holds (DuckDB writes the JSON anew).
fn parsed(value: &Value) -> Value {
    match value {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| value.clone()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn duckdb_reads_the_delivered_logs_through_the_glue_tables_columns() {
    let config = config();
    let trail = config
        .trails
        .iter()
        .find(|trail| trail.name() == TRAIL)
        .expect("the organization trail");
    let (dir, store) = embedded_store(&config).await;
    let batches = fixture_batches();
    stage_and_deliver(
        &store,
        &config,
        &batches,
        Some(signer().await),
        DELIVERED_AT,
    )
    .await;

    // The log files' records (Insights files are not the table's), read back apart from SQL.
    let mut records: Vec<(Value, String, String)> = Vec::new();
    for (text, placements) in delivered(&store, &config).await {
        for placement in placements {
            if placement.trail == TRAIL && placement.kind == LOG_FILE_KIND {
                let record: Value = serde_json::from_str(&text).expect("a record");
                records.push((record, placement.account, placement.region));
            }
        }
    }
    assert!(records.len() > 100, "{} records", records.len());

    let table = Stack::new(&[
        ("TrailBucketName", trail.bucket()),
        ("TrailKeyPrefix", trail.prefix().expect("a prefix")),
        (
            "TrailOrganizationId",
            trail.organization_id().expect("an organization"),
        ),
        ("TrailAccountIds", ""),
    ])
    .table();
    let local = |url: String| {
        url.replace(
            &format!("s3://{}/", trail.bucket()),
            &format!("{}/{}/", dir.path().display(), trail.bucket()),
        )
    };
    let glob = local(table.location_template_with(|key| {
        let format = table.parameter(&format!("projection.{key}.format"));
        // A date's folders, one `*` for each of its format's parts (yyyy/MM/dd).
        format.map_or("*".to_owned(), |format| {
            format.split('/').map(|_| "*").collect::<Vec<_>>().join("/")
        })
    })) + "/*.json.gz";
    let template = local(
        table
            .parameter("storage.location.template")
            .expect("storage.location.template")
            .to_owned(),
    );
    let request = json!({
        "glob": glob,
        "template": template,
        "partition_keys": table.partition_keys(),
        "columns": table.columns(),
        "queries": {
            "count": "SELECT count(*) FROM cloudtrail_logs",
            "names": "SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY eventname ORDER BY eventname",
            "denied": "SELECT count(*) FROM cloudtrail_logs WHERE errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation%'",
            "rows": "SELECT eventid, eventversion, eventtime, eventsource, awsregion, sourceipaddress, \
                     useragent, errorcode, errormessage, recipientaccountid, eventcategory, readonly, \
                     useridentity.type, useridentity.arn, useridentity.sessioncontext.sessionissuer.arn, \
                     requestparameters, responseelements, len(resources), resources[1].arn, \
                     tlsdetails.tlsversion, account, region, timestamp \
                     FROM cloudtrail_logs",
        },
    });
    let Some(answers) = duckdb(&request) else {
        return;
    };

    assert_eq!(answers["count"], json!([[records.len()]]));

    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (record, _, _) in &records {
        *names
            .entry(record["eventName"].as_str().expect("eventName"))
            .or_default() += 1;
    }
    let names: Vec<Value> = names
        .into_iter()
        .map(|(name, count)| json!([name, count]))
        .collect();
    assert_eq!(answers["names"], Value::Array(names));

    let denied = records
        .iter()
        .filter(|(record, _, _)| {
            record["errorCode"].as_str().is_some_and(|code| {
                code.contains("AccessDenied") || code.contains("UnauthorizedOperation")
            })
        })
        .count();
    assert!(denied > 0);
    assert_eq!(answers["denied"], json!([[denied]]));

    let day = format!(
        "{:04}/{:02}/{:02}",
        DELIVERED_AT.year(),
        u8::from(DELIVERED_AT.month()),
        DELIVERED_AT.day()
    );
    // Compared as sets of rows: a few of AWS's documentation examples have no eventID to
    // order them by.
    let sorted = |mut rows: Vec<Value>| {
        rows.sort_by_cached_key(Value::to_string);
        rows
    };
    let rows = sorted(
        answers["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                let mut row = row.clone();
                for json_column in [15, 16] {
                    row[json_column] = parsed(&row[json_column]);
                }
                row
            })
            .collect(),
    );
    let expected = sorted(
        records
            .iter()
            .map(|(record, account, region)| {
                let identity = &record["userIdentity"];
                let resources = record["resources"].as_array();
                json!([
                    record["eventID"],
                    record["eventVersion"],
                    record["eventTime"],
                    record["eventSource"],
                    record["awsRegion"],
                    record["sourceIPAddress"],
                    record["userAgent"],
                    record["errorCode"],
                    record["errorMessage"],
                    record["recipientAccountId"],
                    record["eventCategory"],
                    column_text(&record["readOnly"]),
                    identity["type"],
                    identity["arn"],
                    identity["sessionContext"]["sessionIssuer"]["arn"],
                    parsed(&column_text(&record["requestParameters"])),
                    parsed(&column_text(&record["responseElements"])),
                    resources.map(Vec::len),
                    resources.and_then(|r| r.first()).map(|first| &first["ARN"]),
                    record["tlsDetails"]["tlsVersion"],
                    account,
                    region,
                    day,
                ])
            })
            .collect(),
    );
    assert_eq!(rows.len(), expected.len());
    for (row, expected) in rows.iter().zip(&expected) {
        assert_eq!(row, expected);
    }
}
