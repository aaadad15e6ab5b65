//! Reading a file that must be exactly one gzip member: CloudTrail log files and digest files
//! are, and aws-cli's validator refuses anything after the member, so forward and validate-logs
//! refuse it too.

use std::io::Read;

use flate2::bufread::GzDecoder;

#[derive(Debug, thiserror::Error)]
pub enum GunzipError {
    #[error("not gzip: {0}")]
    NotGzip(#[source] std::io::Error),
    #[error("more than {max_bytes} bytes uncompressed")]
    TooLarge { max_bytes: usize },
    #[error("data after the gzip member (a log file is exactly one gzip member)")]
    TrailingData,
    #[error("the uncompressed body is not UTF-8")]
    NotUtf8,
}

/// Decompresses the one gzip member `body` holds, handing at most `max_bytes` of it to `sink`
/// as they come (more is refused, so a gzip bomb stops there), and refuses anything after it.
pub fn read_one_member(
    body: &[u8],
    max_bytes: usize,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), GunzipError> {
    let mut decoder = GzDecoder::new(body);
    let mut buffer = vec![0; 64 * 1024];
    let mut total = 0usize;
    loop {
        match decoder.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                total = total.saturating_add(n);
                if total > max_bytes {
                    return Err(GunzipError::TooLarge { max_bytes });
                }
                sink(&buffer[..n]);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(GunzipError::NotGzip(error)),
        }
    }
    if decoder.into_inner().is_empty() {
        Ok(())
    } else {
        Err(GunzipError::TrailingData)
    }
}

/// The one gzip member of `body`, at most `max_bytes` uncompressed, as text.
pub fn read_one_member_text(body: &[u8], max_bytes: usize) -> Result<String, GunzipError> {
    let mut text = Vec::new();
    read_one_member(body, max_bytes, |chunk| text.extend_from_slice(chunk))?;
    String::from_utf8(text).map_err(|_| GunzipError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).expect("gzip");
        encoder.finish().expect("gzip")
    }

    #[test]
    fn one_member_within_the_bound_is_read_as_text() {
        assert_eq!(read_one_member_text(&gzip(b"hello"), 5).unwrap(), "hello");
        assert!(matches!(
            read_one_member_text(&gzip(b"hello"), 4),
            Err(GunzipError::TooLarge { max_bytes: 4 })
        ));
        assert!(matches!(
            read_one_member_text(&gzip(&[0xff, 0xfe]), 16),
            Err(GunzipError::NotUtf8)
        ));
    }

    #[test]
    fn anything_but_exactly_one_member_is_refused() {
        let mut two = gzip(b"hello");
        two.extend(gzip(b"again"));
        assert!(matches!(
            read_one_member(&two, usize::MAX, |_| {}),
            Err(GunzipError::TrailingData)
        ));
        assert!(matches!(
            read_one_member(b"{\"Records\":[]}", usize::MAX, |_| {}),
            Err(GunzipError::NotGzip(_))
        ));
        assert!(matches!(
            read_one_member(&[], usize::MAX, |_| {}),
            Err(GunzipError::NotGzip(_))
        ));
    }
}
