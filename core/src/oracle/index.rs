//! The uploads indexed by key, version id and ETag, built once per channel, so attributing a
//! delivery costs a few hash look-ups instead of a scan of every upload: judging a run stays
//! near-linear in its size (a scan per delivery made 10,000 objects take over a minute).
//!
//! A FIFO message names the key as uploaded, a mail as the handler renders it (control
//! characters escaped, see [`super::email::visible`]), so the index is built for one rendering of
//! the key. Every list holds positions in `uploads` in ascending order, the order in which the
//! attribution rules list candidates.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Uploaded;
use super::fifo::unquote;

/// The uploads (positions in `uploads`) grouped by one rendering of their key.
#[derive(Debug, Default)]
pub(super) struct UploadIndex<'a> {
    by_key: HashMap<Cow<'a, str>, Versions<'a>>,
}

/// The uploads of one key, by what tells them apart.
#[derive(Debug, Default)]
pub(super) struct Versions<'a> {
    all: Vec<usize>,
    /// By ETag without quotes.
    by_etag: HashMap<&'a str, Vec<usize>>,
    by_version: HashMap<&'a str, Vec<usize>>,
    /// Those without a version id.
    unversioned: Vec<usize>,
    /// Those without a version id, by ETag without quotes.
    unversioned_by_etag: HashMap<&'a str, Vec<usize>>,
}

impl<'a> UploadIndex<'a> {
    /// Indexes `uploads` under `render(key)`.
    pub fn new(uploads: &'a [Uploaded], render: impl Fn(&'a str) -> Cow<'a, str>) -> Self {
        let mut index = Self::default();
        for (u, up) in uploads.iter().enumerate() {
            index.by_key.entry(render(&up.key)).or_default().add(u, up);
        }
        index
    }

    /// The uploads whose rendered key is `key`, if any upload has it.
    pub fn versions(&self, key: &str) -> Option<&Versions<'a>> {
        self.by_key.get(key)
    }
}

impl<'a> Versions<'a> {
    fn add(&mut self, u: usize, up: &'a Uploaded) {
        let etag = unquote(&up.etag);
        self.all.push(u);
        self.by_etag.entry(etag).or_default().push(u);
        match &up.version_id {
            Some(version) => self.by_version.entry(version).or_default().push(u),
            None => {
                self.unversioned.push(u);
                self.unversioned_by_etag.entry(etag).or_default().push(u);
            }
        }
    }

    /// All of them.
    pub fn all(&self) -> &[usize] {
        &self.all
    }

    /// Those whose ETag (without quotes) is `etag`.
    pub fn with_etag(&self, etag: &str) -> &[usize] {
        found(&self.by_etag, etag)
    }

    /// Those whose version id is `version`.
    pub fn with_version(&self, version: &str) -> &[usize] {
        found(&self.by_version, version)
    }

    /// Those without a version id.
    pub fn unversioned(&self) -> &[usize] {
        &self.unversioned
    }

    /// Those without a version id whose ETag (without quotes) is `etag`.
    pub fn unversioned_with_etag(&self, etag: &str) -> &[usize] {
        found(&self.unversioned_by_etag, etag)
    }
}

fn found<'m>(map: &'m HashMap<&str, Vec<usize>>, value: &str) -> &'m [usize] {
    map.get(value).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests;
