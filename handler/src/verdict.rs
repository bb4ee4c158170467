//! The encryption verdict: is the object SSE-KMS encrypted with the expected key?
//!
//! HeadObject reports the algorithm and the KMS key either as a key ARN or as a bare key id, so
//! the comparison is on the key-id part. Anything but `aws:kms` with the expected key raises a
//! security alert.

use serde::{Deserialize, Serialize};

/// What HeadObject told us about the object (only the parts the handler uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadMetadata {
    /// `ServerSideEncryption`: `aws:kms`, `AES256`, `aws:kms:dsse`, or none.
    pub server_side_encryption: Option<String>,
    /// `SSEKMSKeyId`: key ARN or key id.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
    pub content_length: Option<u64>,
    /// ETag without the surrounding quotes.
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

/// The outcome of the encryption check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// `aws:kms` with the expected key.
    Encrypted,
    /// Not SSE-KMS (no server-side encryption reported, or SSE-S3 `AES256`, or another
    /// algorithm).
    Unencrypted,
    /// SSE-KMS, but with another key than the expected one (or no key reported).
    WrongKey,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Encrypted => "encrypted",
            Verdict::Unencrypted => "unencrypted",
            Verdict::WrongKey => "wrong-key",
        }
    }

    pub fn is_security_alert(self) -> bool {
        self != Verdict::Encrypted
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The KMS key objects must be encrypted with, as configured (key ARN or key id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedKey {
    configured: String,
    key_id: String,
}

impl ExpectedKey {
    /// Accepts `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID` or a bare `KEY_ID`; the error says
    /// what is wrong (the caller adds the variable name and the fix).
    pub fn parse(value: &str) -> Result<Self, String> {
        let key_id = if let Some(rest) = value.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_partition, service, _region, _account, resource] = parts[..] else {
                return Err("is not a valid ARN (expected 6 `:`-separated parts)".to_owned());
            };
            if service != "kms" {
                return Err(format!("is a `{service}` ARN, not a KMS key ARN"));
            }
            if resource.starts_with("alias/") {
                return Err(
                    "is a KMS alias ARN, but HeadObject reports the key itself, never the alias"
                        .to_owned(),
                );
            }
            resource
                .strip_prefix("key/")
                .ok_or_else(|| "is a KMS ARN but not of a key (`key/...`)".to_owned())?
        } else if value.starts_with("alias/") {
            return Err(
                "is a KMS alias, but HeadObject reports the key itself, never the alias".to_owned(),
            );
        } else {
            value
        };
        let well_formed = !key_id.is_empty()
            && key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !well_formed {
            return Err(
                "does not contain a well-formed key id (letters, digits and `-`)".to_owned(),
            );
        }
        Ok(Self {
            configured: value.to_owned(),
            key_id: key_id.to_owned(),
        })
    }

    /// The value as configured.
    pub fn as_str(&self) -> &str {
        &self.configured
    }

    /// True if `reported` (a key ARN or key id from HeadObject) names this key.
    pub fn matches(&self, reported: &str) -> bool {
        key_id_part(reported) == self.key_id
    }
}

/// The key id of a KMS key ARN (`arn:...:key/ID` -> `ID`); anything else is returned as is.
pub fn key_id_part(key: &str) -> &str {
    if key.starts_with("arn:") {
        key.rsplit_once(":key/").map_or(key, |(_, id)| id)
    } else {
        key
    }
}

/// Decides the verdict for an object.
pub fn verdict(meta: &HeadMetadata, expected: &ExpectedKey) -> Verdict {
    match meta.server_side_encryption.as_deref() {
        Some("aws:kms") => match meta.kms_key_id.as_deref() {
            Some(key) if expected.matches(key) => Verdict::Encrypted,
            _ => Verdict::WrongKey,
        },
        _ => Verdict::Unencrypted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const KEY_ARN: &str =
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn meta(sse: Option<&str>, key: Option<&str>) -> HeadMetadata {
        HeadMetadata {
            server_side_encryption: sse.map(str::to_owned),
            kms_key_id: key.map(str::to_owned),
            ..HeadMetadata::default()
        }
    }

    #[test]
    fn expected_key_matches_by_arn_or_id_either_way() {
        for configured in [KEY_ARN, KEY_ID] {
            let expected = ExpectedKey::parse(configured).unwrap();
            for reported in [KEY_ARN, KEY_ID] {
                assert_eq!(
                    verdict(&meta(Some("aws:kms"), Some(reported)), &expected),
                    Verdict::Encrypted,
                    "configured {configured}, reported {reported}"
                );
            }
        }
    }

    #[test]
    fn other_key_is_wrong_key() {
        let expected = ExpectedKey::parse(KEY_ARN).unwrap();
        let other = "arn:aws:kms:eu-west-1:111122223333:key/ffffffff-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            verdict(&meta(Some("aws:kms"), Some(other)), &expected),
            Verdict::WrongKey
        );
        assert_eq!(
            verdict(&meta(Some("aws:kms"), None), &expected),
            Verdict::WrongKey
        );
    }

    #[test]
    fn sse_s3_or_none_is_unencrypted() {
        let expected = ExpectedKey::parse(KEY_ID).unwrap();
        assert_eq!(
            verdict(&meta(Some("AES256"), None), &expected),
            Verdict::Unencrypted
        );
        assert_eq!(verdict(&meta(None, None), &expected), Verdict::Unencrypted);
        assert!(Verdict::Unencrypted.is_security_alert());
        assert!(Verdict::WrongKey.is_security_alert());
        assert!(!Verdict::Encrypted.is_security_alert());
    }

    #[test]
    fn expected_key_rejects_aliases_and_garbage() {
        assert!(
            ExpectedKey::parse("arn:aws:kms:eu-west-1:111122223333:alias/uploads")
                .unwrap_err()
                .contains("alias")
        );
        assert!(
            ExpectedKey::parse("alias/uploads")
                .unwrap_err()
                .contains("alias")
        );
        assert!(
            ExpectedKey::parse("arn:aws:sns:eu-west-1:111122223333:key/x")
                .unwrap_err()
                .contains("`sns` ARN")
        );
        assert!(ExpectedKey::parse("arn:aws:kms").is_err());
        assert!(ExpectedKey::parse("not a key").is_err());
        assert!(ExpectedKey::parse("").is_err());
        assert!(ExpectedKey::parse("mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
    }

    #[test]
    fn verdict_serializes_kebab_case() {
        assert_eq!(
            serde_json::to_string(&Verdict::WrongKey).unwrap(),
            "\"wrong-key\""
        );
    }
}
