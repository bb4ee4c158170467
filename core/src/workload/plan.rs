//! The seeded plan of a workload and the bytes of each upload.
//!
//! [`plan`] draws everything from the seed's [`Stream::Workload`] (see [`crate::seeds`]): first
//! the distinct files (which are forced to multipart, their sizes, key shapes and content
//! types), then the upload order, where each step is a new file, an overwrite of a key already
//! uploaded or a duplicate of content already uploaded, chosen in proportion to how many of
//! each are left. So overwrites and duplicates are spread through the run instead of bunched at
//! its end, and always come after the upload they refer to. [`content`] regenerates an upload's
//! bytes from its own seed.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::keys::{self, is_valid_run_prefix};
use super::{KeyShape, MULTIPART_THRESHOLD, PART_SIZE, PlannedUpload, WorkloadSpec};
use crate::seeds::{self, Stream};

/// A distinct file before it has a place in the upload order.
struct File {
    shape: KeyShape,
    size: u64,
    content_type: String,
}

enum Step {
    File,
    Overwrite,
    Duplicate,
}

/// The uploads of `spec` for `seed`, in upload order; every key starts with `run_prefix`.
///
/// The same spec, seed and prefix always give the same plan (with the same `rand_chacha`).
/// Sizes include the boundaries: with at least 2 files of which one is not forced to
/// multipart, one such file is exactly `min_size` (empty when that is 0), and with 3 files not
/// forced to multipart, one is exactly `max_size`.
///
/// # Panics
///
/// If `spec` is not valid ([`WorkloadSpec::validate`]), or `run_prefix` is longer than
/// [`super::MAX_RUN_PREFIX_LEN`] bytes or has a control character: both are the caller's bugs,
/// as scenarios are validated when loaded and prefixes come from run ids.
pub fn plan(spec: &WorkloadSpec, seed: u64, run_prefix: &str) -> Vec<PlannedUpload> {
    if let Err(e) = spec.validate() {
        panic!("workload::plan needs a valid spec: {e}");
    }
    assert!(
        is_valid_run_prefix(run_prefix),
        "run prefix {run_prefix:?} is longer than {} bytes or has a control character",
        keys::MAX_RUN_PREFIX_LEN
    );
    let mut rng = seeds::rng(seed, Stream::Workload);
    let mut files = distinct_files(spec, &mut rng).into_iter();
    let mut left = (spec.files, spec.overwrites, spec.duplicate_content);
    let mut plan: Vec<PlannedUpload> = Vec::with_capacity(spec.total_uploads());
    // For each distinct key so far, the index of its latest upload.
    let mut latest: Vec<usize> = Vec::new();
    while left.0 + left.1 + left.2 > 0 {
        let index = plan.len();
        let step = if index == 0 {
            Step::File
        } else {
            let r = rng.random_range(0..left.0 + left.1 + left.2);
            if r < left.0 {
                Step::File
            } else if r < left.0 + left.1 {
                Step::Overwrite
            } else {
                Step::Duplicate
            }
        };
        let upload = match step {
            Step::File => {
                left.0 -= 1;
                let file = files.next().expect("one file per remaining file step");
                let key = keys::key(file.shape, &mut rng, run_prefix, index);
                latest.push(index);
                upload(index, key, file.size, file.content_type, rng.random())
            }
            Step::Overwrite => {
                left.1 -= 1;
                let slot = rng.random_range(0..latest.len());
                let previous = latest[slot];
                latest[slot] = index;
                let size = rng.random_range(spec.min_size..=spec.max_size);
                let content_type = pick(&mut rng, &spec.content_types).clone();
                let key = plan[previous].key.clone();
                PlannedUpload {
                    overwrites: Some(previous),
                    ..upload(index, key, size, content_type, rng.random())
                }
            }
            Step::Duplicate => {
                left.2 -= 1;
                let original = &plan[rng.random_range(0..plan.len())];
                let shape = *pick(&mut rng, &spec.key_shapes);
                let key = keys::key(shape, &mut rng, run_prefix, index);
                latest.push(index);
                PlannedUpload {
                    same_content_as: Some(original.index),
                    ..upload(
                        index,
                        key,
                        original.size,
                        original.content_type.clone(),
                        original.content_seed,
                    )
                }
            }
        };
        plan.push(upload);
    }
    plan
}

/// The bytes of `upload`: exactly `size` bytes of the ChaCha8 stream of its `content_seed`, so
/// a duplicate (same seed and size) has the same bytes and nothing has to be stored.
pub fn content(upload: &PlannedUpload) -> Vec<u8> {
    let len = usize::try_from(upload.size).expect("upload sizes are validated to fit in memory");
    let mut bytes = vec![0; len];
    ChaCha8Rng::seed_from_u64(upload.content_seed).fill_bytes(&mut bytes);
    bytes
}

fn upload(
    index: usize,
    key: String,
    size: u64,
    content_type: String,
    content_seed: u64,
) -> PlannedUpload {
    PlannedUpload {
        index,
        key,
        size,
        content_type,
        content_seed,
        multipart: size >= MULTIPART_THRESHOLD,
        overwrites: None,
        same_content_as: None,
    }
}

/// The `files` distinct files, in the order they will be uploaded.
fn distinct_files(spec: &WorkloadSpec, rng: &mut ChaCha8Rng) -> Vec<File> {
    let n = spec.files;
    let regular = n - spec.multipart;
    // Boundary sizes first (an empty file when min_size is 0), then uniform ones.
    let mut sizes = Vec::with_capacity(n);
    if regular >= 1 && n >= 2 {
        sizes.push(spec.min_size);
    }
    if regular >= 3 {
        sizes.push(spec.max_size);
    }
    while sizes.len() < regular {
        sizes.push(rng.random_range(spec.min_size..=spec.max_size));
    }
    for _ in 0..spec.multipart {
        sizes.push(rng.random_range(MULTIPART_THRESHOLD..=MULTIPART_THRESHOLD + PART_SIZE));
    }
    sizes.shuffle(rng);
    let shapes = cover(rng, n, &spec.key_shapes);
    let types = cover(rng, n, &spec.content_types);
    sizes
        .into_iter()
        .zip(shapes)
        .zip(types)
        .map(|((size, shape), content_type)| File {
            shape,
            size,
            content_type,
        })
        .collect()
}

/// `n` items drawn from `options`, each option at least once when `n` allows, shuffled.
fn cover<T: Clone>(rng: &mut ChaCha8Rng, n: usize, options: &[T]) -> Vec<T> {
    let mut out = options.to_vec();
    out.shuffle(rng);
    out.truncate(n);
    while out.len() < n {
        out.push(pick(rng, options).clone());
    }
    out.shuffle(rng);
    out
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    items.choose(rng).expect("validated lists are not empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::keys::shape_of;

    const PREFIX: &str = "hxq3kz7m2ab/";

    #[test]
    fn a_plan_has_every_kind_of_upload_in_a_valid_order() {
        let spec = WorkloadSpec {
            overwrites: 6,
            duplicate_content: 4,
            ..WorkloadSpec::with_files(4)
        };
        let plan = plan(&spec, 42, PREFIX);
        assert_eq!(plan.len(), 14);
        for (i, upload) in plan.iter().enumerate() {
            assert_eq!(upload.index, i);
            if let Some(previous) = upload.overwrites {
                assert!(previous < i);
                assert_eq!(plan[previous].key, upload.key);
                // The latest earlier upload of the key: nothing in between has it.
                assert!(plan[previous + 1..i].iter().all(|u| u.key != upload.key));
                assert_ne!(plan[previous].content_seed, upload.content_seed);
            }
            if let Some(original) = upload.same_content_as {
                assert!(original < i);
                assert_ne!(plan[original].key, upload.key);
                assert_eq!(content(&plan[original]), content(upload));
            }
        }
        assert_eq!(plan.iter().filter(|u| u.overwrites.is_some()).count(), 6);
        assert_eq!(
            plan.iter().filter(|u| u.same_content_as.is_some()).count(),
            4
        );
        assert_eq!(plan[0].overwrites, None);
        assert_eq!(plan[0].same_content_as, None);
    }

    #[test]
    fn sizes_cover_the_boundaries_and_forced_multipart() {
        let spec = WorkloadSpec {
            multipart: 1,
            max_size: 1000,
            ..WorkloadSpec::with_files(4)
        };
        for seed in 0..20 {
            let plan = plan(&spec, seed, PREFIX);
            let sizes: Vec<u64> = plan.iter().map(|u| u.size).collect();
            assert!(sizes.contains(&0) && sizes.contains(&1000), "{sizes:?}");
            let forced: Vec<_> = plan.iter().filter(|u| u.multipart).collect();
            assert_eq!(forced.len(), 1);
            assert!(
                (MULTIPART_THRESHOLD..=MULTIPART_THRESHOLD + PART_SIZE).contains(&forced[0].size)
            );
        }
        // Two files, one forced: the other one is the empty one.
        let spec = WorkloadSpec {
            multipart: 1,
            ..WorkloadSpec::with_files(2)
        };
        let plan = plan(&spec, 3, PREFIX);
        assert!(plan.iter().any(|u| u.size == 0));
        let big = plan.iter().find(|u| u.multipart).unwrap();
        assert_eq!(content(big).len() as u64, big.size);
    }

    #[test]
    fn large_sizes_are_multipart_and_one_file_may_be_anything() {
        let spec = WorkloadSpec {
            min_size: MULTIPART_THRESHOLD - 1,
            max_size: MULTIPART_THRESHOLD,
            ..WorkloadSpec::with_files(3)
        };
        let plan = plan(&spec, 9, PREFIX);
        assert!(
            plan.iter()
                .all(|u| u.multipart == (u.size >= MULTIPART_THRESHOLD))
        );
        assert!(plan.iter().any(|u| u.multipart) && plan.iter().any(|u| !u.multipart));
        let single = WorkloadSpec {
            min_size: 5,
            max_size: 5,
            ..WorkloadSpec::with_files(1)
        };
        assert_eq!(super::plan(&single, 1, "")[0].size, 5);
    }

    #[test]
    fn shapes_and_content_types_are_each_used() {
        let spec = WorkloadSpec {
            key_shapes: KeyShape::ALL.to_vec(),
            content_types: vec!["text/plain".into(), "image/png".into()],
            ..WorkloadSpec::with_files(7)
        };
        let plan = plan(&spec, 5, PREFIX);
        let mut shapes: Vec<_> = plan.iter().map(|u| shape_of(PREFIX, &u.key)).collect();
        shapes.sort();
        assert_eq!(shapes, KeyShape::ALL.map(Some));
        assert!(plan.iter().any(|u| u.content_type == "image/png"));
        assert!(plan.iter().any(|u| u.content_type == "text/plain"));
    }

    #[test]
    fn content_is_the_seeded_stream() {
        let mut upload = upload(0, "k".into(), 10, "text/plain".into(), 1);
        let ten = content(&upload);
        upload.size = 3;
        assert_eq!(content(&upload), ten[..3]);
        upload.size = 0;
        assert!(content(&upload).is_empty());
        upload.content_seed = 2;
        upload.size = 10;
        assert_ne!(content(&upload), ten);
    }

    /// Reports replay runs from their seed: a dependency update that changes what a seed
    /// means must be noticed here, not in a replay that silently differs.
    #[test]
    fn seeds_mean_the_same_across_builds() {
        let spec = WorkloadSpec {
            overwrites: 1,
            duplicate_content: 1,
            ..WorkloadSpec::with_files(2)
        };
        let plan = plan(&spec, 1, PREFIX);
        let summary: Vec<String> = plan
            .iter()
            .map(|u| {
                format!(
                    "{} {} {:?} {:?}",
                    u.key, u.size, u.overwrites, u.same_content_as
                )
            })
            .collect();
        assert_eq!(summary, GOLDEN_PLAN);
        let largest = plan.iter().max_by_key(|u| u.size).unwrap();
        assert_eq!(content(largest)[..8], GOLDEN_CONTENT);
    }

    const GOLDEN_PLAN: [&str; 4] = [
        "hxq3kz7m2ab/reports/q3-summary/0000-backup.csv 0 None None",
        "hxq3kz7m2ab/reports/q3-summary/0000-backup.csv 26383 Some(0) None",
        "hxq3kz7m2ab/exports/0002-notes.txt 26383 None Some(1)",
        "hxq3kz7m2ab/logs/0003-backup.tar.gz 34266 None None",
    ];
    const GOLDEN_CONTENT: [u8; 8] = [33, 106, 111, 161, 77, 48, 141, 136];

    #[test]
    #[should_panic(expected = "`files` is 0")]
    fn an_invalid_spec_is_a_bug() {
        plan(&WorkloadSpec::with_files(0), 1, PREFIX);
    }

    #[test]
    #[should_panic(expected = "control character")]
    fn a_bad_prefix_is_a_bug() {
        plan(&WorkloadSpec::with_files(1), 1, "a\nb/");
    }
}
