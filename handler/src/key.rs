//! Decoding of the object key carried in an S3 event record.
//!
//! S3 puts the key into the event form-urlencoded: `+` stands for a space and a real `+` arrives
//! as `%2B`. LocalStack percent-encodes the space as `%20` instead. Decoding `+` to a space and
//! then every `%XX` escape handles both, so this is the only place that knows about it.

use thiserror::Error;

/// The key decoded to bytes that are not UTF-8 (S3 keys are UTF-8, so the event is broken).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("does not decode to UTF-8 (invalid byte sequence after percent-decoding)")]
pub struct KeyDecodeError;

/// Decodes an event key: `+` becomes a space, `%XX` becomes the byte `0xXX`, and the bytes must
/// form UTF-8. A `%` not followed by two hex digits is kept literally (AWS never sends one).
pub fn decode_key(raw: &str) -> Result<String, KeyDecodeError> {
    let mut rest = raw.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    // Runs without `+` or `%` are copied whole; only those two bytes need looking at.
    while let Some(at) = rest.iter().position(|&b| b == b'+' || b == b'%') {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        let (byte, used) = match rest {
            [b'+', ..] => (b' ', 1),
            [b'%', high, low, ..] => match (hex_value(*high), hex_value(*low)) {
                (Some(high), Some(low)) => (high << 4 | low, 3),
                _ => (b'%', 1),
            },
            _ => (b'%', 1),
        };
        out.push(byte);
        rest = &rest[used..];
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).map_err(|_| KeyDecodeError)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// How AWS encodes a key in an event: application/x-www-form-urlencoded, space as `+`.
    fn aws_encode(key: &str) -> String {
        form_urlencoded::byte_serialize(key.as_bytes()).collect()
    }

    /// How LocalStack encodes it: Python's `urllib.parse.quote` (safe `/`), space as `%20`.
    fn localstack_encode(key: &str) -> String {
        let mut out = String::new();
        for byte in key.bytes() {
            if byte.is_ascii_alphanumeric() || b"_.-~/".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    }

    #[test]
    fn plus_is_space_and_escaped_plus_is_plus() {
        assert_eq!(decode_key("a+b%2Bc").unwrap(), "a b+c");
    }

    #[test]
    fn percent_20_is_space_localstack_style() {
        assert_eq!(decode_key("my%20file.txt").unwrap(), "my file.txt");
    }

    #[test]
    fn multibyte_utf8_escapes_decode() {
        assert_eq!(decode_key("caf%C3%A9/%E2%82%AC.txt").unwrap(), "café/€.txt");
        assert_eq!(decode_key("%f0%9f%93%84").unwrap(), "📄");
    }

    #[test]
    fn stray_percent_is_kept() {
        assert_eq!(decode_key("100%").unwrap(), "100%");
        assert_eq!(decode_key("50%zz").unwrap(), "50%zz");
        assert_eq!(decode_key("%4").unwrap(), "%4");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(decode_key("%FF%FE"), Err(KeyDecodeError));
    }

    #[test]
    fn unencoded_safe_characters_pass_through() {
        assert_eq!(
            decode_key("dir/sub-dir/file_name.v1~x").unwrap(),
            "dir/sub-dir/file_name.v1~x"
        );
    }

    proptest! {
        #[test]
        fn aws_encoding_round_trips(key in any::<String>()) {
            prop_assert_eq!(decode_key(&aws_encode(&key)).unwrap(), key);
        }

        #[test]
        fn localstack_encoding_round_trips(key in any::<String>()) {
            prop_assert_eq!(decode_key(&localstack_encode(&key)).unwrap(), key);
        }

        #[test]
        fn keys_without_plus_or_percent_are_unchanged(key in "[^+%]*") {
            prop_assert_eq!(decode_key(&key).unwrap(), key);
        }
    }
}
