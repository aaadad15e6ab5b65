//! Local adapters: the embedded store that needs no AWS account.

mod jsonl;
pub mod log_sink;
pub mod notifier;
pub mod object_store;
pub mod pem_signer;
