//! Implementations of the ports: `aws` over the AWS SDK, `local` over the filesystem, and
//! `counting`, a decorator over either that counts the requests made.

pub mod aws;
pub mod counting;
pub mod local;
