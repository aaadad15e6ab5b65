//! The ids Cairn makes itself: UUID text (RFC 9562 layout, lowercase 8-4-4-4-12 hex) and the
//! 16-character random ids of batches, journal owners and alert writers.

use rand::Rng;
use rand::distributions::Alphanumeric;

/// 16 random ASCII letters and digits, the length of CloudTrail's log file name suffix.
pub(crate) fn random_id() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// Writes `bytes` as a UUID of `version` (4 random, 8 custom), setting the version and the
/// RFC 9562 variant bits.
pub(crate) fn uuid_text(mut bytes: [u8; 16], version: u8) -> String {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_variant_bits_are_set() {
        assert_eq!(
            uuid_text([0xff; 16], 4),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            uuid_text([0; 16], 8),
            "00000000-0000-8000-8000-000000000000"
        );
    }
}
