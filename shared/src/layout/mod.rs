//! Every S3 key Cairn reads or writes, in one place: the trail bucket's log files and digests
//! as CloudTrail lays them out, and the state bucket's objects with how long each is kept.
//!
//! A leaf: it imports only `clock` (the times keys are dated by). Whatever writes or reads a
//! key asks this module for its shape, so two places can never spell one key differently.

mod state_bucket;
mod trail_bucket;

pub use state_bucket::*;
pub use trail_bucket::*;
