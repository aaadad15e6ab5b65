//! Cairn's domain: CloudTrail records, trails and their selectors, and the narrow ports through
//! which the pipeline reaches storage, logs, notifications and signing.

pub mod adapters;
pub(crate) mod clock;
pub mod config;
pub mod delivery;
pub mod digest;
pub mod document;
pub mod filter;
pub mod forward;
pub mod history;
mod ids;
pub mod ingest;
mod invalid;
mod json_key;
pub mod layout;
pub mod names;
pub mod notify;
pub mod ports;
pub mod public_keys;
pub mod record;
pub mod selectors;
pub mod staging;
pub mod trail;
pub mod validate;
