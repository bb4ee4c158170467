//! Email alerts: which uploaded version a mail names, and whether it says what the handler
//! must say about it.
//!
//! The handler's body (`handler/src/message.rs`, `body`) is one `{label:<18}{value}` line per
//! fact, with bucket and key passed through `visible` (control characters escaped, so a key
//! cannot forge lines). The oracle reads those lines back and compares them with the upload
//! rendered the same way. A mail names bucket, key, ETag and (on a versioned bucket) the version
//! id; when the version is not named, ETag tells overwrites apart, and versions with identical
//! content are counted together per (key, ETag) by [`super::matching`].

use std::borrow::Cow;

use super::index::{UploadIndex, Versions};
use super::matching::{self, Attributed, Channel};
use super::violation::{Mismatches, quoted_or_null};
use super::{Expect, MailReceived, Uploaded, Violation};
use crate::oracle::fifo::unquote;

/// Width of the label column in the handler's body.
const LABEL_WIDTH: usize = 18;

/// What the handler writes for an absent value.
const NONE: &str = "(none)";

/// Attributes the mails addressed to the run to uploads, counts them per upload and checks each
/// against its object. Deliveries in the returned attribution are positions in `mails`
/// (irrelevant mails are attributed to nothing).
pub(super) fn judge(
    expect: &Expect,
    uploads: &[Uploaded],
    mails: &[MailReceived],
) -> (Attributed, Vec<Violation>) {
    let fields: Vec<Option<Fields>> = mails
        .iter()
        .map(|m| relevant(expect, m).then(|| Fields::parse(&m.body)))
        .collect();
    let index = index(uploads);
    let candidates: Vec<Result<Vec<usize>, String>> = fields
        .iter()
        .map(|f| match f {
            Some(f) => attribute(expect, &index, f),
            None => Ok(Vec::new()),
        })
        .collect();
    let got = Attributed::new(
        uploads,
        &candidates,
        mails.iter().map(|m| m.at_ms).collect(),
    );
    let mut violations = Vec::new();
    for (position, (reason, f)) in candidates.iter().zip(&fields).enumerate() {
        if let (Err(reason), Some(f)) = (reason, f) {
            violations.push(Violation::UnexpectedEmail {
                position,
                subject: mails[position].subject.clone(),
                key: f.key.clone(),
                etag: f.etag.clone(),
                reason: reason.clone(),
            });
        }
    }
    violations.extend(matching::count_violations(
        uploads,
        &got.per_upload,
        Channel::Email,
    ));
    for (position, owner) in got.owner.iter().enumerate() {
        if let (Some(u), Some(f)) = (owner, &fields[position]) {
            violations.extend(check(expect, &uploads[*u], &mails[position], f));
        }
    }
    (got, violations)
}

/// The mail is the pipeline's: addressed to the run's address (plain or `Name <addr>`), and not
/// SNS's subscription confirmation.
pub(super) fn relevant(expect: &Expect, mail: &MailReceived) -> bool {
    let wanted = expect.email.trim();
    let addressed = mail.to.iter().any(|to| {
        let to = to.trim();
        let addr = to
            .rsplit_once('<')
            .map_or(to, |(_, a)| a.trim_end_matches('>'));
        addr.trim().eq_ignore_ascii_case(wanted)
    });
    addressed && !mail.subject.contains("Subscription Confirmation")
}

/// The handler's rendering of bucket and key in the body: control characters escaped.
pub(super) fn visible(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// The facts an alert body states (values as rendered; `(none)` read as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Fields {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub size: Option<String>,
    /// Without quotes.
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub verdict: Option<String>,
}

impl Fields {
    /// Reads the labelled lines in one pass; the first line of a label counts.
    pub fn parse(body: &str) -> Self {
        let mut f = Self::default();
        for (label, value) in body.lines().filter_map(labelled) {
            let slot = match label {
                "Bucket:" => &mut f.bucket,
                "Key:" => &mut f.key,
                "Size:" => &mut f.size,
                "ETag:" => &mut f.etag,
                "Version ID:" => &mut f.version_id,
                "Encryption:" => &mut f.verdict,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.to_owned());
        }
        let known = |v: Option<String>| v.filter(|v| v != NONE);
        f.etag = known(f.etag).map(|e| unquote(&e).to_owned());
        f.version_id = known(f.version_id);
        f
    }
}

/// A line's label (without its padding to the label column) and value, if it has the column.
fn labelled(line: &str) -> Option<(&str, &str)> {
    let (column, value) = line.split_at_checked(LABEL_WIDTH)?;
    Some((column.trim_end_matches(' '), value))
}

/// The uploads indexed by their key as the handler renders it in a mail ([`visible`]).
pub(super) fn index(uploads: &[Uploaded]) -> UploadIndex<'_> {
    UploadIndex::new(uploads, |key| Cow::Owned(visible(key)))
}

/// The uploads (positions) a mail may be for, or why it is for none; [`attribute`] with an index
/// built for this one look-up.
#[cfg(test)]
pub(super) fn candidates(
    expect: &Expect,
    uploads: &[Uploaded],
    f: &Fields,
) -> Result<Vec<usize>, String> {
    attribute(expect, &index(uploads), f)
}

/// The uploads (positions in the indexed slice) a mail may be for, or why it is for none: those
/// of its key and ETag (any ETag when the mail names none) with its version id; else, or with no
/// version id in the mail, those without a version id.
pub(super) fn attribute(
    expect: &Expect,
    index: &UploadIndex<'_>,
    f: &Fields,
) -> Result<Vec<usize>, String> {
    let (Some(bucket), Some(key)) = (&f.bucket, &f.key) else {
        return Err("no `Bucket:` and `Key:` lines: not an alert the handler renders".to_owned());
    };
    if *bucket != visible(&expect.bucket) {
        return Err(format!(
            "names bucket {bucket:?}, not the run's bucket {:?}",
            expect.bucket
        ));
    }
    let found = index
        .versions(key)
        .map_or_else(Vec::new, |of_key| of_version(of_key, f));
    if found.is_empty() {
        Err(format!(
            "names key {key:?} ETag {} version {}, which no upload has",
            quoted_or_null(&f.etag),
            quoted_or_null(&f.version_id)
        ))
    } else {
        Ok(found)
    }
}

/// Among the uploads of the mail's key, those of its ETag (if named) and version: the version id
/// when an upload has it, else those without a version id; all of them when no version is named.
fn of_version(of_key: &Versions<'_>, f: &Fields) -> Vec<usize> {
    let etag = f.etag.as_deref();
    let unversioned = || match etag {
        Some(e) => of_key.unversioned_with_etag(e),
        None => of_key.unversioned(),
    };
    match &f.version_id {
        Some(v) => {
            let exact: Vec<usize> = of_key
                .with_version(v)
                .iter()
                .copied()
                // Both lists ascend, so membership is a binary search.
                .filter(|&u| etag.is_none_or(|e| of_key.with_etag(e).binary_search(&u).is_ok()))
                .collect();
            if exact.is_empty() {
                unversioned().to_vec()
            } else {
                exact
            }
        }
        None => etag.map_or(of_key.all(), |e| of_key.with_etag(e)).to_vec(),
    }
}

/// Checks one mail attributed to `upload`: verdict, size and the Subject's alert marker.
pub(super) fn check(
    expect: &Expect,
    upload: &Uploaded,
    mail: &MailReceived,
    f: &Fields,
) -> Vec<Violation> {
    let mut report = Mismatches::new(upload);
    // Values as JSON strings, like the FIFO findings; an absent line is `missing`.
    let json = |v: &str| serde_json::Value::from(v).to_string();
    let found = |v: &Option<String>| v.as_deref().map_or_else(|| "missing".to_owned(), json);
    if f.verdict.as_deref() != Some(expect.verdict.as_str()) {
        report.push("email.Encryption", json(&expect.verdict), found(&f.verdict));
    }
    let size = format!("{} bytes", upload.size);
    if f.size.as_deref() != Some(size.as_str()) {
        report.push("email.Size", json(&size), found(&f.size));
    }
    let alert = expect.verdict != "encrypted";
    if mail.subject.starts_with("[SECURITY]") != alert {
        let expected = if alert {
            "starts with [SECURITY]"
        } else {
            "no [SECURITY] marker"
        };
        report.push("email.subject", expected, json(&mail.subject));
    }
    report.out
}

#[cfg(test)]
mod tests;
