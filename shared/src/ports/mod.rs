//! The narrow traits through which the domain reaches AWS services. Each has an AWS SDK adapter
//! and a local adapter under `crate::adapters`; nothing outside `adapters` sees an SDK type.

pub mod key_directory;
pub mod log_sink;
pub mod notifier;
pub mod object_store;
pub mod signer;
