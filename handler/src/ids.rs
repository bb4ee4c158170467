//! The FIFO `MessageGroupId` and `MessageDeduplicationId`.
//!
//! SNS FIFO rejects a publish without both (the original system's silent failure) and accepts
//! only up to 128 characters of printable ASCII without space. Group ids decide ordering
//! (one group per bucket or per top-level prefix); dedup ids are a hash of the object's identity
//! so that a redelivered S3 event or a Lambda retry cannot produce a second FIFO message.

use sha2::{Digest, Sha256};

/// Longest group or deduplication id SNS accepts.
pub const SNS_ID_MAX_LEN: usize = 128;

/// How FIFO messages are grouped (ordering holds within a group only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One group per bucket: the group id is the bucket name.
    Bucket,
    /// One group per top-level key prefix: `bucket/prefix` for `prefix/...` keys, the bucket
    /// name for keys without a `/`.
    Prefix,
}

/// What makes an object (version) unique, as far as the FIFO message is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectIdentity<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: Option<&'a str>,
    /// Used only when there is no version id.
    pub etag: Option<&'a str>,
    pub sequencer: Option<&'a str>,
}

/// True if SNS accepts `id` as a `MessageGroupId` / `MessageDeduplicationId`: 1 to 128
/// characters from ``[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`` (printable ASCII but space).
pub fn is_valid_sns_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= SNS_ID_MAX_LEN && id.bytes().all(is_id_byte)
}

fn is_id_byte(byte: u8) -> bool {
    (0x21..=0x7e).contains(&byte)
}

/// Maps any string into the SNS id alphabet, deterministically. A string that is already valid
/// is returned unchanged; otherwise it is transliterated, the remaining invalid characters
/// become `_`, it is cut to fit, and `~` plus 16 hex digits of its SHA-256 are appended, so two
/// different inputs do not end up with the same id.
pub fn to_sns_id(raw: &str) -> String {
    if is_valid_sns_id(raw) {
        return raw.to_owned();
    }
    let readable: String = deunicode::deunicode_with_tofu(raw, "_")
        .bytes()
        .map(|b| if is_id_byte(b) { char::from(b) } else { '_' })
        .collect();
    let digest = sha256_hex(raw.as_bytes());
    let suffix = &digest[..16];
    let room = SNS_ID_MAX_LEN - 1 - suffix.len();
    let head = &readable[..readable.len().min(room)];
    format!("{head}~{suffix}")
}

/// The `MessageGroupId` for an object under the configured grouping.
pub fn group_id(grouping: Grouping, bucket: &str, key: &str) -> String {
    match grouping {
        Grouping::Bucket => to_sns_id(bucket),
        Grouping::Prefix => match key.split_once('/') {
            Some((prefix, _)) => to_sns_id(&format!("{bucket}/{prefix}")),
            None => to_sns_id(bucket),
        },
    }
}

/// The `MessageDeduplicationId`: hex SHA-256 (64 characters) of a length-prefixed encoding of
/// the object identity. Version id wins over ETag; tags keep the alternatives apart.
pub fn dedup_id(identity: &ObjectIdentity<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"s3-upload-alert/dedup/v1");
    put_field(&mut hasher, identity.bucket);
    put_field(&mut hasher, identity.key);
    match (identity.version_id, identity.etag) {
        (Some(version), _) => {
            hasher.update(b"V");
            put_field(&mut hasher, version);
        }
        (None, Some(etag)) => {
            hasher.update(b"E");
            put_field(&mut hasher, etag);
        }
        (None, None) => hasher.update(b"N"),
    }
    match identity.sequencer {
        Some(sequencer) => {
            hasher.update(b"S");
            put_field(&mut hasher, sequencer);
        }
        None => hasher.update(b"-"),
    }
    hex(&hasher.finalize())
}

fn put_field(hasher: &mut Sha256, value: &str) {
    hasher.update((value.len() as u64).to_be_bytes());
    hasher.update(value.as_bytes());
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn identity<'a>(bucket: &'a str, key: &'a str) -> ObjectIdentity<'a> {
        ObjectIdentity {
            bucket,
            key,
            version_id: None,
            etag: Some("d41d8cd98f00b204e9800998ecf8427e"),
            sequencer: Some("0066A1B2C3D4E5F601"),
        }
    }

    #[test]
    fn bucket_grouping_uses_the_bucket_name() {
        assert_eq!(group_id(Grouping::Bucket, "uploads", "a/b.txt"), "uploads");
    }

    #[test]
    fn prefix_grouping_uses_the_top_level_prefix() {
        assert_eq!(
            group_id(Grouping::Prefix, "uploads", "invoices/2024/a.pdf"),
            "uploads/invoices"
        );
        assert_eq!(group_id(Grouping::Prefix, "uploads", "root.txt"), "uploads");
        assert_eq!(
            group_id(Grouping::Prefix, "uploads", "/lead.txt"),
            "uploads/"
        );
    }

    #[test]
    fn prefix_with_space_and_unicode_is_mapped_and_hashed() {
        let id = group_id(Grouping::Prefix, "uploads", "Café reports/x.pdf");
        assert!(is_valid_sns_id(&id), "{id}");
        assert!(id.starts_with("uploads/Cafe_reports~"), "{id}");
        assert_ne!(
            id,
            group_id(Grouping::Prefix, "uploads", "Cafe_reports/x.pdf")
        );
    }

    #[test]
    fn long_prefix_is_cut_to_128() {
        let key = format!("{}/x", "p".repeat(300));
        let id = group_id(Grouping::Prefix, "b", &key);
        assert_eq!(id.len(), SNS_ID_MAX_LEN);
        assert!(is_valid_sns_id(&id));
    }

    #[test]
    fn dedup_id_is_64_hex_and_version_beats_etag() {
        let base = identity("b", "k");
        let id = dedup_id(&base);
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let versioned = ObjectIdentity {
            version_id: Some("3HL4kqtJlcpXroDTDmJ"),
            ..base
        };
        let other_etag = ObjectIdentity {
            etag: Some("ffff"),
            ..versioned
        };
        assert_ne!(dedup_id(&versioned), id);
        assert_eq!(dedup_id(&versioned), dedup_id(&other_etag));
    }

    #[test]
    fn length_prefix_keeps_field_boundaries() {
        assert_ne!(
            dedup_id(&identity("ab", "c")),
            dedup_id(&identity("a", "bc"))
        );
    }

    #[test]
    fn version_and_etag_with_same_text_differ() {
        let by_version = ObjectIdentity {
            version_id: Some("x"),
            etag: None,
            ..identity("b", "k")
        };
        let by_etag = ObjectIdentity {
            version_id: None,
            etag: Some("x"),
            ..identity("b", "k")
        };
        assert_ne!(dedup_id(&by_version), dedup_id(&by_etag));
    }

    fn any_identity() -> impl Strategy<
        Value = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    > {
        (
            "[a-z0-9.-]{3,63}",
            any::<String>(),
            proptest::option::of(any::<String>()),
            proptest::option::of("[0-9a-f]{32}(-[0-9]{1,3})?"),
            proptest::option::of("[0-9A-F]{16,18}"),
        )
    }

    fn as_identity(
        parts: &(
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    ) -> ObjectIdentity<'_> {
        ObjectIdentity {
            bucket: &parts.0,
            key: &parts.1,
            version_id: parts.2.as_deref(),
            etag: parts.3.as_deref(),
            sequencer: parts.4.as_deref(),
        }
    }

    /// Two identities that differ in a field that counts (the ETag does not count once there
    /// is a version id).
    fn effectively_equal(a: &ObjectIdentity<'_>, b: &ObjectIdentity<'_>) -> bool {
        let which = |i: &ObjectIdentity<'_>| match i.version_id {
            Some(v) => (Some(v.to_owned()), None),
            None => (None, i.etag.map(str::to_owned)),
        };
        a.bucket == b.bucket && a.key == b.key && a.sequencer == b.sequencer && which(a) == which(b)
    }

    proptest! {
        #[test]
        fn dedup_id_is_pure_and_valid(parts in any_identity()) {
            let identity = as_identity(&parts);
            let first = dedup_id(&identity);
            let copy = parts.clone();
            prop_assert_eq!(&first, &dedup_id(&as_identity(&copy)));
            prop_assert!(is_valid_sns_id(&first));
            prop_assert_eq!(first.len(), 64);
        }

        #[test]
        fn distinct_identities_give_distinct_dedup_ids(a in any_identity(), b in any_identity()) {
            let (ia, ib) = (as_identity(&a), as_identity(&b));
            if !effectively_equal(&ia, &ib) {
                prop_assert_ne!(dedup_id(&ia), dedup_id(&ib));
            }
        }

        #[test]
        fn distinct_keys_in_same_bucket_give_distinct_dedup_ids(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(dedup_id(&identity("b", &a)), dedup_id(&identity("b", &b)));
        }

        #[test]
        fn group_ids_are_always_valid(bucket in "[a-z0-9][a-z0-9.-]{2,62}", key in any::<String>()) {
            for grouping in [Grouping::Bucket, Grouping::Prefix] {
                let id = group_id(grouping, &bucket, &key);
                prop_assert!(is_valid_sns_id(&id), "{:?} -> {}", grouping, id);
                prop_assert_eq!(&id, &group_id(grouping, &bucket, &key));
            }
        }

        #[test]
        fn to_sns_id_is_always_valid_and_injective_on_samples(a in any::<String>(), b in any::<String>()) {
            prop_assume!(!a.is_empty() && !b.is_empty());
            let (ida, idb) = (to_sns_id(&a), to_sns_id(&b));
            prop_assert!(is_valid_sns_id(&ida));
            if a != b {
                prop_assert_ne!(ida, idb);
            }
        }
    }
}
