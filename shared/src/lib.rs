//! Cairn's domain: CloudTrail records, trails and their selectors, and the narrow ports through
//! which the pipeline reaches storage, logs, notifications and signing.

pub mod adapters;
pub mod alert;
pub(crate) mod clock;
pub mod config;
pub mod delivered;
pub mod delivery;
pub mod digest;
pub mod document;
pub mod emf;
pub mod filter;
pub mod forward;
pub mod gzip;
pub mod history;
mod ids;
pub mod ingest;
pub mod insights;
mod invalid;
mod json_key;
pub mod layout;
pub mod names;
pub mod notify;
pub mod ports;
pub mod public_keys;
pub mod record;
pub mod retry;
pub mod search;
pub mod selectors;
pub mod service;
pub mod staging;
pub mod trail;
pub mod trigger;
pub mod validate;
