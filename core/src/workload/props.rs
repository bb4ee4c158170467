//! Property tests of [`plan`] and [`content`] over generated specs, seeds and run prefixes:
//! determinism, key validity, the distinctness rule, content identity and shape coverage.

use std::collections::HashMap;

use proptest::prelude::*;

use super::keys::shape_of;
use super::*;

fn spec() -> impl Strategy<Value = WorkloadSpec> {
    (
        (1_usize..30, 0_usize..=1, 0_usize..12, 0_usize..12),
        (prop_oneof![Just(0_u64), 0_u64..3000], 0_u64..5000),
        proptest::sample::subsequence(KeyShape::ALL.to_vec(), 1..=KeyShape::ALL.len()),
        proptest::sample::subsequence(vec!["text/plain", "image/png", "application/json"], 1..=3),
        1_usize..8,
    )
        .prop_map(
            |((files, multipart, overwrites, duplicates), (min, span), shapes, types, conc)| {
                WorkloadSpec {
                    files,
                    min_size: min,
                    max_size: min + span,
                    multipart: multipart.min(files),
                    key_shapes: shapes,
                    content_types: types.into_iter().map(str::to_owned).collect(),
                    concurrency: conc,
                    overwrites,
                    duplicate_content: duplicates,
                }
            },
        )
}

fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        "h[a-z2-7]{10}/",
        "[a-z0-9]{0,12}",
        "[a-zé+% ]{1,20}/",
        Just("p".repeat(MAX_RUN_PREFIX_LEN)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn same_spec_and_seed_give_the_same_plan(spec in spec(), seed in any::<u64>(), prefix in prefix()) {
        let first = plan(&spec, seed, &prefix);
        prop_assert_eq!(first.len(), spec.total_uploads());
        prop_assert_eq!(&first, &plan(&spec, seed, &prefix));
    }

    #[test]
    fn keys_are_valid_and_prefixed(spec in spec(), seed in any::<u64>(), prefix in prefix()) {
        for upload in plan(&spec, seed, &prefix) {
            prop_assert!(upload.key.starts_with(&prefix), "{:?}", upload.key);
            prop_assert!(upload.key.len() <= MAX_KEY_LEN, "{} bytes", upload.key.len());
            prop_assert!(!upload.key.chars().any(char::is_control), "{:?}", upload.key);
            prop_assert!(is_valid_key(&upload.key));
            prop_assert!(spec.content_types.contains(&upload.content_type));
        }
    }

    #[test]
    fn keys_repeat_only_as_overwrites_of_the_latest_upload(spec in spec(), seed in any::<u64>()) {
        let plan = plan(&spec, seed, "hxq3kz7m2ab/");
        let mut latest: HashMap<&str, usize> = HashMap::new();
        for upload in &plan {
            let previous = latest.insert(&upload.key, upload.index);
            prop_assert_eq!(upload.overwrites, previous, "{:?}", upload.key);
            if let Some(previous) = previous {
                prop_assert_ne!(plan[previous].content_seed, upload.content_seed);
                prop_assert_eq!(upload.same_content_as, None);
            }
        }
        prop_assert_eq!(plan.iter().filter(|u| u.overwrites.is_some()).count(), spec.overwrites);
        prop_assert_eq!(latest.len(), spec.files + spec.duplicate_content);
    }

    #[test]
    fn content_has_its_size_and_duplicates_match(spec in spec(), seed in any::<u64>()) {
        let plan = plan(&spec, seed, "hxq3kz7m2ab/");
        let dups = plan.iter().filter(|u| u.same_content_as.is_some()).count();
        prop_assert_eq!(dups, spec.duplicate_content);
        for upload in &plan {
            prop_assert_eq!(upload.multipart, upload.size >= MULTIPART_THRESHOLD);
            let regular = (spec.min_size..=spec.max_size).contains(&upload.size);
            let forced = (MULTIPART_THRESHOLD..=MULTIPART_THRESHOLD + PART_SIZE).contains(&upload.size);
            prop_assert!(regular || forced, "size {}", upload.size);
            // Multipart contents are checked in the unit tests: 8 MiB per case is slow here.
            if !upload.multipart {
                prop_assert_eq!(content(upload).len() as u64, upload.size);
            }
            if let Some(original) = upload.same_content_as {
                let original = &plan[original];
                prop_assert_ne!(&original.key, &upload.key);
                prop_assert_eq!(original.content_seed, upload.content_seed);
                prop_assert_eq!(original.size, upload.size);
                if !upload.multipart {
                    prop_assert_eq!(content(original), content(upload));
                }
            }
        }
        let firsts = plan.iter().filter(|u| u.overwrites.is_none() && u.same_content_as.is_none());
        let forced = firsts.filter(|u| u.size >= MULTIPART_THRESHOLD).count();
        prop_assert!(forced >= spec.multipart);
        if spec.min_size == 0 && spec.files >= 2 && spec.files > spec.multipart {
            prop_assert!(plan.iter().any(|u| u.size == 0));
        }
    }

    #[test]
    fn each_requested_shape_appears(spec in spec(), seed in any::<u64>()) {
        let plan = plan(&spec, seed, "hxq3kz7m2ab/");
        let shapes: Vec<_> = plan.iter().map(|u| shape_of("hxq3kz7m2ab/", &u.key)).collect();
        for shape in &shapes {
            prop_assert!(shape.is_some_and(|s| spec.key_shapes.contains(&s)), "{:?}", shape);
        }
        if spec.files >= spec.key_shapes.len() {
            for shape in &spec.key_shapes {
                prop_assert!(shapes.contains(&Some(*shape)), "{} missing", shape);
            }
        }
    }
}
