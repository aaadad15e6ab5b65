//! Local adapters: the embedded store that needs no AWS account.

mod jsonl;
mod log_sink;
mod notifier;
mod object_store;
mod pem_signer;

pub use log_sink::LocalLogSink;
pub use notifier::LocalNotifier;
pub use object_store::LocalObjectStore;
pub use pem_signer::PemSigner;
