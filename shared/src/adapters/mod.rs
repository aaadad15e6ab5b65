//! Implementations of the ports: `aws` over the AWS SDK, `local` over the filesystem.

pub mod aws;
pub mod local;
