//! Unit tests of the upload index, and a check that attributing through it finds exactly what a
//! scan of every upload finds.

use super::*;
use crate::oracle::email::{self, Fields, visible};
use crate::oracle::fifo::{self, Named};
use crate::oracle::testkit::{self, BUCKET, upload};
use crate::oracle::{FifoReceived, Violation, judge};

#[test]
fn lists_positions_in_upload_order_by_key_etag_and_version() {
    let ups = [
        upload(0, "k", Some("v0"), "\"same\""),
        upload(1, "other", Some("v0"), "same"),
        upload(2, "k", None, "same"),
        upload(3, "k", Some("v3"), "diff"),
        upload(4, "k", None, "diff"),
    ];
    let index = UploadIndex::new(&ups, Cow::Borrowed);
    let k = index.versions("k").unwrap();
    assert_eq!(k.all(), [0, 2, 3, 4]);
    assert_eq!(k.with_etag("same"), [0, 2], "quotes are dropped");
    assert_eq!(k.with_version("v0"), [0]);
    assert_eq!(k.unversioned(), [2, 4]);
    assert_eq!(k.unversioned_with_etag("diff"), [4]);
    assert_eq!(k.with_version("v9"), [] as [usize; 0]);
    assert!(index.versions("nope").is_none());
}

#[test]
fn keys_are_indexed_as_rendered() {
    let ups = [upload(0, "a\nb", None, "e")];
    let index = UploadIndex::new(&ups, |k| Cow::Owned(k.replace('\n', "\\n")));
    assert_eq!(index.versions("a\\nb").map(Versions::all), Some(&[0][..]));
    assert!(index.versions("a\nb").is_none());
}

/// Keys that are overwritten, escaped in mails, or both.
const KEYS: [&str; 7] = [
    "plain",
    "a b.txt",
    "a+b.txt",
    "100%.txt",
    "naïve/北京 file.txt",
    "tab\there\nnewline",
    "tab\\there\\nnewline",
];

/// `n` uploads of few keys: every fifth without a version id and with one of three ETags (so
/// versions with identical content share key and ETag), the others versioned with their own ETag.
fn mixed_uploads(n: usize) -> Vec<Uploaded> {
    (0..n)
        .map(|i| {
            let key = KEYS[i % KEYS.len()];
            if i % 5 == 0 {
                upload(i, key, None, &format!("\"e{}\"", i % 3))
            } else {
                upload(i, key, Some(&format!("v{i}")), &format!("e-{i}"))
            }
        })
        .collect()
}

/// Some of `own` (the upload's own value), a value no upload has, or none.
fn variants(own: Option<&str>) -> [Option<String>; 3] {
    [own.map(str::to_owned), Some("unknown".to_owned()), None]
}

/// The FIFO rule as a scan of every upload (what the index replaced).
fn fifo_by_scan(uploads: &[Uploaded], n: &Named) -> Vec<usize> {
    let of_key = |keep: &dyn Fn(&Uploaded) -> bool| -> Vec<usize> {
        (0..uploads.len())
            .filter(|&u| uploads[u].key == n.key && keep(&uploads[u]))
            .collect()
    };
    let same_etag = |u: &Uploaded| n.etag.as_deref() == Some(fifo::unquote(&u.etag));
    match &n.version_id {
        Some(v) => {
            let exact = of_key(&|u| u.version_id.as_ref() == Some(v));
            if exact.is_empty() {
                of_key(&|u| u.version_id.is_none() && same_etag(u))
            } else {
                exact
            }
        }
        None => of_key(&same_etag),
    }
}

/// The email rule as a scan of every upload (what the index replaced).
fn email_by_scan(uploads: &[Uploaded], f: &Fields) -> Vec<usize> {
    let same = (0..uploads.len()).filter(|&u| {
        Some(visible(&uploads[u].key)) == f.key
            && f.etag
                .as_deref()
                .is_none_or(|e| e == fifo::unquote(&uploads[u].etag))
    });
    let Some(v) = &f.version_id else {
        return same.collect();
    };
    let same: Vec<usize> = same.collect();
    let exact: Vec<usize> = same
        .iter()
        .copied()
        .filter(|&u| uploads[u].version_id.as_ref() == Some(v))
        .collect();
    if exact.is_empty() {
        same.into_iter()
            .filter(|&u| uploads[u].version_id.is_none())
            .collect()
    } else {
        exact
    }
}

/// Found positions, `None` when the rule names no upload (as `attribute` returns them).
fn non_empty(positions: Vec<usize>) -> Option<Vec<usize>> {
    (!positions.is_empty()).then_some(positions)
}

#[test]
fn regression_judge_is_not_quadratic_in_uploads() {
    // `judge` used to scan every upload per delivery; it now looks deliveries up in an index.
    // The index must find exactly what the scan found, for every way a delivery names a version.
    let ups = mixed_uploads(300);
    let (fifo_index, email_index) = (fifo::index(&ups), email::index(&ups));
    let expect = testkit::expect();
    for up in &ups {
        let etag = Some(fifo::unquote(&up.etag));
        for version_id in variants(up.version_id.as_deref()) {
            for etag in variants(etag) {
                let named = Named {
                    key: up.key.clone(),
                    version_id: version_id.clone(),
                    etag: etag.clone(),
                    sequencer: None,
                    value: serde_json::Value::Null,
                };
                let by_scan = non_empty(fifo_by_scan(&ups, &named));
                let indexed = fifo::attribute(&fifo_index, &named).ok();
                assert_eq!(indexed, by_scan, "{named:?}");
                let fields = Fields {
                    bucket: Some(BUCKET.to_owned()),
                    key: Some(visible(&up.key)),
                    version_id: version_id.clone(),
                    etag,
                    ..Fields::default()
                };
                let by_scan = non_empty(email_by_scan(&ups, &fields));
                let indexed = email::attribute(&expect, &email_index, &fields);
                assert_eq!(indexed.ok(), by_scan, "{fields:?}");
            }
        }
    }
    // And the whole judgement of a mid-size run: perfect, then with the FIFO messages of every
    // twentieth upload (all versioned) dropped.
    let (messages, mails) = testkit::perfect(&ups);
    let j = judge(&expect, &ups, &messages, &mails, &[]);
    assert!(j.passed(), "{:?}", j.violations);
    assert!(
        j.objects
            .iter()
            .all(|o| o.fifo_messages == 1 && o.emails == 1)
    );
    let dropped = |u: &usize| u % 20 == 4;
    let messages: Vec<FifoReceived> = (0..ups.len())
        .filter(|u| !dropped(u))
        .map(|u| messages[u].clone())
        .collect();
    let j = judge(&expect, &ups, &messages, &mails, &[]);
    let missing: Vec<Violation> = ups
        .iter()
        .filter(|up| dropped(&up.index))
        .map(|up| Violation::MissingFifoMessage {
            index: up.index,
            key: up.key.clone(),
            version_id: up.version_id.clone(),
        })
        .collect();
    assert_eq!(j.violations, missing);
    assert_eq!(j.objects.iter().filter(|o| !o.ok).count(), missing.len());
}
