//! `cairn run`: validate event files and route each event to the trails that select it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use cairn_shared::config::Config;
use cairn_shared::record::Record;

use crate::input::InputFile;

/// How many events one trail takes, per (account, region) log-file destination.
type Routing = BTreeMap<String, BTreeMap<(String, String), usize>>;

pub fn run(config_path: &Path, files: &[PathBuf]) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let mut routing: Routing = config
        .trails
        .iter()
        .map(|trail| (trail.name().to_owned(), BTreeMap::new()))
        .collect();
    let (mut accepted, mut refused) = (0usize, 0usize);

    for path in files {
        let input = InputFile::read(path)?;
        for (index, raw) in input.records()?.into_iter().enumerate() {
            let record = match Record::parse(raw, Some(index)) {
                Ok(record) => record,
                Err(error) => {
                    eprintln!("{}: refused {error}", path.display());
                    refused += 1;
                    continue;
                }
            };
            accepted += 1;
            for trail in &config.trails {
                if let Some(destination) = trail.selects(&record, &config.account_id) {
                    let key = (
                        destination.account_id.to_string(),
                        destination.region.to_string(),
                    );
                    *routing
                        .entry(trail.name().to_owned())
                        .or_default()
                        .entry(key)
                        .or_default() += 1;
                }
            }
        }
    }

    println!("{accepted} events accepted, {refused} refused");
    for trail in &config.trails {
        let destinations = &routing[trail.name()];
        let total: usize = destinations.values().sum();
        println!(
            "trail {} (s3://{}{}): {total} events",
            trail.name(),
            trail.bucket(),
            trail
                .prefix()
                .map(|prefix| format!("/{prefix}"))
                .unwrap_or_default()
        );
        for ((account, region), count) in destinations {
            println!("  account {account} region {region}: {count}");
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
