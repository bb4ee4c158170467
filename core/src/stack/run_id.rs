//! The run id: the one random value a deployed stack is named, tagged and found by.
//!
//! Short (11 characters) and drawn from an alphabet every AWS service accepts in names, so it
//! fits in each resource name; validated on parse so a typo on the command line is refused
//! with a message instead of touching resources. Pure: no I/O.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;

use thiserror::Error;

/// Length of a run id: the lead letter and 10 base32 characters.
pub const RUN_ID_LEN: usize = 1 + RUN_ID_BODY_LEN;
const RUN_ID_BODY_LEN: usize = 10;
const RUN_ID_LEAD: u8 = b'h';
/// RFC 4648 base32, lowercase: every character is valid in every service's names.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A validated run id: `h` and 10 characters of `a-z2-7` (50 random bits), e.g. `hxq3kz7m2ab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

/// Why a string is not a run id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RunIdError {
    #[error("run id `{value}` has {len} characters; a run id is `h` followed by 10 of a-z, 2-7")]
    Length { value: String, len: usize },
    #[error("run id `{value}` does not start with `h`; a run id is `h` followed by 10 of a-z, 2-7")]
    Lead { value: String },
    #[error("run id `{value}` has `{ch}` at position {pos}; only a-z and 2-7 may follow the `h`")]
    Char { value: String, ch: char, pos: usize },
}

impl RunId {
    /// Validates `value`; the error names what is wrong and the expected form.
    pub fn parse(value: &str) -> Result<Self, RunIdError> {
        let len = value.chars().count();
        if len != RUN_ID_LEN {
            return Err(RunIdError::Length {
                value: value.to_owned(),
                len,
            });
        }
        if value.as_bytes()[0] != RUN_ID_LEAD {
            return Err(RunIdError::Lead {
                value: value.to_owned(),
            });
        }
        if let Some((pos, ch)) = value
            .char_indices()
            .skip(1)
            .find(|&(_, c)| !is_body_char(c))
        {
            return Err(RunIdError::Char {
                value: value.to_owned(),
                ch,
                pos,
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The run id for `seed`: deterministic, well mixed (splitmix64), so nearby seeds give
    /// unrelated ids. For tests and reproducible runs; deploys should prefer [`RunId::random`].
    pub fn from_seed(seed: u64) -> Self {
        let bits = splitmix64(seed);
        let mut id = String::with_capacity(RUN_ID_LEN);
        id.push(char::from(RUN_ID_LEAD));
        for i in 0..RUN_ID_BODY_LEN {
            // The top 50 bits, 5 at a time.
            let index = (bits >> (59 - 5 * i)) & 31;
            id.push(char::from(ALPHABET[index as usize]));
        }
        Self(id)
    }

    /// A fresh run id from the standard library's per-process random hash keys (seeded by the
    /// OS; each call gets new keys), so no extra dependency and no I/O of our own.
    pub fn random() -> Self {
        Self::from_seed(random_seed())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_body_char(c: char) -> bool {
    c.is_ascii_lowercase() || ('2'..='7').contains(&c)
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RunId {
    type Err = RunIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for RunId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A fresh seed from the standard library's per-process random state (no extra dependency):
/// for run ids and for runs started without `--seed` (which print it).
pub fn random_seed() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let err = RunId::parse("hABCDEFGHIJ").unwrap_err();
        assert_eq!(
            err,
            RunIdError::Char {
                value: "hABCDEFGHIJ".into(),
                ch: 'A',
                pos: 1
            }
        );
        assert!(err.to_string().contains("only a-z and 2-7"));
        assert!(matches!(
            RunId::parse("h123"),
            Err(RunIdError::Length { len: 4, .. })
        ));
        assert!(matches!(
            RunId::parse("xabcdefghij"),
            Err(RunIdError::Lead { .. })
        ));
        assert!(matches!(
            RunId::parse("habcdefghi1"),
            Err(RunIdError::Char {
                ch: '1',
                pos: 10,
                ..
            })
        ));
        assert!(matches!(
            RunId::parse("habcdefghié"),
            Err(RunIdError::Char { .. })
        ));
        assert_eq!(
            "habcdefgh27".parse::<RunId>().unwrap().as_str(),
            "habcdefgh27"
        );
    }

    #[test]
    fn seeded_ids_are_stable_and_random_ids_differ() {
        assert_eq!(RunId::from_seed(7), RunId::from_seed(7));
        assert_ne!(RunId::from_seed(7), RunId::from_seed(8));
        assert_ne!(RunId::random(), RunId::random());
    }

    proptest! {
        #[test]
        fn seeds_give_valid_ids(seed in any::<u64>()) {
            let id = RunId::from_seed(seed);
            prop_assert_eq!(RunId::parse(id.as_str()), Ok(id));
        }
    }
}
