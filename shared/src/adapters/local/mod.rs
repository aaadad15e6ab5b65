//! Local adapters: the embedded store that needs no AWS account.

mod jsonl;
mod log_sink;
mod notifier;
mod object_store;
mod pem_signer;
#[cfg(test)]
mod recording;

pub use log_sink::LocalLogSink;
pub use notifier::LocalNotifier;
pub use object_store::LocalObjectStore;
pub use pem_signer::PemSigner;
#[cfg(test)]
pub(crate) use recording::RecordingStore;
