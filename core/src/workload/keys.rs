//! Object keys of each [`KeyShape`], drawn from the plan's random stream.
//!
//! Keys are where S3 event decoding goes wrong (`+` versus space, a literal `%20`, non-ASCII,
//! S3's 1024-byte limit), so each shape builds keys that exercise exactly one of those. Every key
//! is `run prefix + top-level folder + ...`, and its last segment starts with the upload's index
//! (at least 4 digits) followed by a non-digit: that alone makes the keys of different uploads
//! distinct, whatever else was drawn. Pure: no I/O.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::KeyShape;

/// S3's limit on a key, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// The shortest `long` key, in bytes: long keys are 1000 to 1024 bytes.
pub const LONG_KEY_MIN_LEN: usize = 1000;
/// Longest run prefix a plan accepts, in bytes, so every shape still fits in [`MAX_KEY_LEN`].
pub const MAX_RUN_PREFIX_LEN: usize = 256;

/// First folders under the run prefix.
const TOPS: &[&str] = &["invoices", "photos", "logs", "exports", "reports"];
/// Words of `[a-z0-9-_.]`.
const WORDS: &[&str] = &[
    "report",
    "raw_data",
    "q3-summary",
    "v1.2",
    "backup",
    "img_0042",
    "notes",
    "archive",
];
const EXTENSIONS: &[&str] = &[".bin", ".csv", ".json", ".tar.gz", ".log", ".txt", ""];
const SPACED_DIRS: &[&str] = &["my documents", "scans 2024", "team  shared", " leading"];
const SPACED_NAMES: &[&str] = &["annual report", "two  spaces", "trailing ", "final (copy)"];
const PLUS_DIRS: &[&str] = &["c++", "a+b", "1+1=2", "plus+"];
const PLUS_NAMES: &[&str] = &["+lead", "x+y", "a++b", "tail+"];
const PERCENT_DIRS: &[&str] = &["100%done", "50%off", "%zz", "%2B"];
const PERCENT_NAMES: &[&str] = &["100%", "%41", "%2F", "%%", "%E2%82%AC"];
const UNICODE_DIRS: &[&str] = &["café", "données", "日本語", "Ελληνικά", "straße"];
/// Accented words, one in decomposed form (`e` + U+0301): S3 does not normalise keys.
const ACCENTED: &[&str] = &["résumé", "naïve", "façade", "Ångström", "e\u{301}clair"];
const CJK: &[&str] = &["報告", "写真", "데이터", "ファイル"];
const EMOJI: &[&str] = &["🎉", "📁", "👩‍💻", "🇪🇺"];
const FILLER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Longest run of filler in one segment of a long key (file-backed stores limit segments).
const LONG_SEGMENT: usize = 200;

/// True if `key` is a key S3 accepts: 1 to 1024 UTF-8 bytes without control characters.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && !key.chars().any(char::is_control)
}

/// True if `prefix` can start every key of a plan (see [`MAX_RUN_PREFIX_LEN`]).
pub(super) fn is_valid_run_prefix(prefix: &str) -> bool {
    prefix.len() <= MAX_RUN_PREFIX_LEN && !prefix.chars().any(char::is_control)
}

/// A key of `shape` for the upload at `index`, starting with `prefix`.
pub(super) fn key(shape: KeyShape, rng: &mut ChaCha8Rng, prefix: &str, index: usize) -> String {
    let tag = format!("{index:04}");
    let top = pick(rng, TOPS);
    let ext = pick(rng, EXTENSIONS);
    let mut key = format!("{prefix}{top}/");
    match shape {
        KeyShape::Plain => {
            for _ in 0..rng.random_range(0..=2) {
                key.push_str(pick(rng, WORDS));
                key.push('/');
            }
            key.push_str(&format!("{tag}-{}{ext}", pick(rng, WORDS)));
        }
        KeyShape::Spaces => {
            let (dir, name) = (pick(rng, SPACED_DIRS), pick(rng, SPACED_NAMES));
            key.push_str(&format!("{dir}/{tag} {name}{ext}"));
        }
        KeyShape::Plus => {
            let (dir, name) = (pick(rng, PLUS_DIRS), pick(rng, PLUS_NAMES));
            key.push_str(&format!("{dir}/{tag}+{name}{ext}"));
        }
        KeyShape::Percent => {
            let (dir, name) = (pick(rng, PERCENT_DIRS), pick(rng, PERCENT_NAMES));
            key.push_str(&format!("{dir}/{tag}%20{name}{ext}"));
        }
        KeyShape::Unicode => {
            let dir = pick(rng, UNICODE_DIRS);
            let (accented, cjk, emoji) = (pick(rng, ACCENTED), pick(rng, CJK), pick(rng, EMOJI));
            key.push_str(&format!("{dir}/{tag}-{accented} {cjk}{emoji}{ext}"));
        }
        KeyShape::Deep => {
            // Segments after the run prefix: the top folder, the middle ones, the leaf.
            let segments = rng.random_range(10..=30_usize);
            for depth in 1..segments - 1 {
                key.push_str(&format!("{}-{depth}/", pick(rng, WORDS)));
            }
            key.push_str(&format!("{tag}-leaf{ext}"));
        }
        KeyShape::Long => long_key(rng, &mut key, &tag),
    }
    key
}

/// `head` + `long/` + filler segments + `{tag}-filler.bin`, 1000 to 1024 bytes in all.
fn long_key(rng: &mut ChaCha8Rng, key: &mut String, tag: &str) {
    let total = rng.random_range(LONG_KEY_MIN_LEN..=MAX_KEY_LEN);
    key.push_str("long/");
    let tail = tag.len() + "-".len() + ".bin".len();
    // Whole filler segments while more than one segment's worth is left.
    while total - key.len() - tail > LONG_SEGMENT + 1 {
        push_filler(rng, key, LONG_SEGMENT);
        key.push('/');
    }
    let pad = total - key.len() - tail;
    key.push_str(tag);
    key.push('-');
    push_filler(rng, key, pad);
    key.push_str(".bin");
    debug_assert_eq!(key.len(), total);
}

fn push_filler(rng: &mut ChaCha8Rng, key: &mut String, len: usize) {
    key.extend((0..len).map(|_| char::from(pick(rng, FILLER))));
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    *items.choose(rng).expect("word lists are not empty")
}

/// The shape `key` was built with, from its second segment after `prefix` (tests only).
#[cfg(test)]
pub(super) fn shape_of(prefix: &str, key: &str) -> Option<KeyShape> {
    let segments: Vec<&str> = key.strip_prefix(prefix)?.split('/').collect();
    let second = *segments.get(1)?;
    let plain = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_/.".contains(c))
    };
    Some(if SPACED_DIRS.contains(&second) {
        KeyShape::Spaces
    } else if PLUS_DIRS.contains(&second) {
        KeyShape::Plus
    } else if PERCENT_DIRS.contains(&second) {
        KeyShape::Percent
    } else if UNICODE_DIRS.contains(&second) {
        KeyShape::Unicode
    } else if second == "long" {
        KeyShape::Long
    } else if second.ends_with("-1") && segments.len() >= 10 {
        KeyShape::Deep
    } else if segments.len() <= 4 && segments.iter().all(|s| plain(s)) {
        KeyShape::Plain
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const PREFIX: &str = "hxq3kz7m2ab/";

    /// Keys of `shape` for many seeds and indexes.
    fn samples(shape: KeyShape) -> Vec<(usize, String)> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        (0..300)
            .map(|i| {
                let index = i * 37;
                (index, key(shape, &mut rng, PREFIX, index))
            })
            .collect()
    }

    fn body(key: &str) -> &str {
        key.strip_prefix(PREFIX).unwrap()
    }

    #[test]
    fn every_key_is_valid_and_its_last_segment_leads_with_the_index() {
        for shape in KeyShape::ALL {
            for (index, key) in samples(shape) {
                assert!(is_valid_key(&key), "{shape}: {key:?}");
                let last = key.rsplit('/').next().unwrap();
                let tag = format!("{index:04}");
                let rest = last.strip_prefix(&tag).unwrap_or_else(|| panic!("{key:?}"));
                assert!(!rest.starts_with(|c: char| c.is_ascii_digit()), "{key:?}");
            }
        }
    }

    #[test]
    fn shapes_have_their_property() {
        for (_, key) in samples(KeyShape::Plain) {
            let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_/.".contains(c);
            assert!(body(&key).chars().all(ok), "{key:?}");
        }
        for (_, key) in samples(KeyShape::Spaces) {
            assert!(key.contains(' '), "{key:?}");
        }
        for (_, key) in samples(KeyShape::Plus) {
            assert!(key.contains('+'), "{key:?}");
        }
        for (_, key) in samples(KeyShape::Percent) {
            assert!(key.contains("%20"), "{key:?}");
            assert!(
                body(&key).split('/').nth(1).unwrap().contains('%'),
                "{key:?}"
            );
        }
        for (_, key) in samples(KeyShape::Unicode) {
            assert!(key.chars().any(|c| c.len_utf8() == 2), "no accent: {key:?}");
            assert!(key.chars().any(|c| c.len_utf8() == 3), "no CJK: {key:?}");
            assert!(key.chars().any(|c| c.len_utf8() == 4), "no emoji: {key:?}");
        }
        for (_, key) in samples(KeyShape::Deep) {
            let segments = body(&key).split('/').count();
            assert!((10..=30).contains(&segments), "{segments}: {key:?}");
        }
        for (_, key) in samples(KeyShape::Long) {
            assert!(
                (LONG_KEY_MIN_LEN..=MAX_KEY_LEN).contains(&key.len()),
                "{key:?}"
            );
            assert!(key.split('/').all(|s| s.len() <= 255), "{key:?}");
        }
    }

    #[test]
    fn long_keys_reach_both_ends_of_their_range_with_long_prefixes_too() {
        let prefix = "p".repeat(MAX_RUN_PREFIX_LEN);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let lens: Vec<usize> = (0..2000)
            .map(|i| key(KeyShape::Long, &mut rng, &prefix, i * 11).len())
            .collect();
        assert!(
            lens.iter()
                .all(|l| (LONG_KEY_MIN_LEN..=MAX_KEY_LEN).contains(l))
        );
        assert!(lens.contains(&LONG_KEY_MIN_LEN) && lens.contains(&MAX_KEY_LEN));
        for shape in KeyShape::ALL {
            let key = key(shape, &mut rng, &prefix, 99_999);
            assert!(is_valid_key(&key), "{shape}: {} bytes", key.len());
        }
    }

    #[test]
    fn shapes_are_recognised() {
        for shape in KeyShape::ALL {
            for (_, key) in samples(shape) {
                assert_eq!(shape_of(PREFIX, &key), Some(shape), "{key:?}");
            }
        }
        assert_eq!(shape_of(PREFIX, "other/a/b"), None);
    }

    #[test]
    fn key_and_prefix_validity() {
        assert!(is_valid_key("a"));
        assert!(is_valid_key(&"é".repeat(512)));
        assert!(!is_valid_key(&"é".repeat(513)));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a\nb"));
        assert!(!is_valid_key("a\u{7f}"));
        assert!(is_valid_run_prefix(""));
        assert!(is_valid_run_prefix(PREFIX));
        assert!(!is_valid_run_prefix(&"p".repeat(MAX_RUN_PREFIX_LEN + 1)));
        assert!(!is_valid_run_prefix("a\tb/"));
    }
}
