//! The run id and the name of every resource of one deployed stack.
//!
//! Every name is `<prefix>-<run id>-<role>`, so concurrent runs never collide, a bucket name
//! (global on AWS) carries the run id's randomness, and garbage collection can tell with
//! [`is_ours`] exactly which resources this harness made — never a foreign one. Pure: no I/O.

pub use super::rules::{NameError, ResourceKind};
pub use super::run_id::{RUN_ID_LEN, RunId, RunIdError};

/// Tag key on every resource; its value is the run id.
pub const TAG_KEY: &str = "harness-run";
/// Second tag on every resource, so a console user sees who made it.
pub const TAG_MANAGED_BY: (&str, &str) = ("managed-by", "upload-harness");
/// The tag a global resource (the IAM role) carries with the region of its stack, so a
/// teardown or gc from another region never deletes the role of a live stack there.
pub const TAG_REGION: &str = "harness-region";
/// Name prefix unless the caller picks another.
pub const DEFAULT_PREFIX: &str = "upl";
const MAX_PREFIX_LEN: usize = 16;

/// The name of every resource of one run's stack; build with [`StackNames::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    pub run_id: RunId,
    pub prefix: String,
    /// `<p>-<run>-uploads`; the run id's 50 random bits make it globally unique.
    pub bucket: String,
    /// `alias/<p>-<run>-key`
    pub kms_alias: String,
    /// `<p>-<run>-fn`
    pub function: String,
    /// `<p>-<run>-role`: the function's execution role.
    pub role: String,
    /// `<p>-<run>-policy`: the execution role's inline policy.
    pub role_policy: String,
    /// `<p>-<run>-notify`: standard topic with the email subscription.
    pub standard_topic: String,
    /// `<p>-<run>-events.fifo`
    pub fifo_topic: String,
    /// `<p>-<run>-queue.fifo`: subscribed (raw) to the FIFO topic.
    pub fifo_queue: String,
    /// `<p>-<run>-failures`: the function's async on-failure destination.
    pub failure_queue: String,
    /// `/aws/lambda/<function>`
    pub log_group: String,
    /// `<p>-<run>-created`: the bucket notification configuration's `Id`.
    pub notification_id: String,
    /// `<p>-<run>-s3-invoke`: the Lambda permission's `StatementId`.
    pub permission_statement_id: String,
    /// `<p>-<run>-baseline`: `harness bench`'s bucket without a notification. Not part of the
    /// deployed stack (so not in [`Self::all`]); the bench creates and removes it, and teardown
    /// and gc remove it when a bench was cut off.
    pub baseline_bucket: String,
    /// `<p>-<run>-mismatch`: the `region-mismatch` scenario's bucket in another region than
    /// the stack's. Tagged with the stack's region, removed by teardown from the stack's region.
    pub mismatch_bucket: String,
    /// `<p>-<run>-probe.fifo`: the `fifo-missing-group-id` scenario's FIFO topic for its
    /// invalid publishes (the stack's topics accept publishes from the execution role only).
    pub probe_topic: String,
}

impl StackNames {
    /// The names for `run_id` under `prefix` (see [`DEFAULT_PREFIX`]).
    pub fn new(run_id: &RunId, prefix: &str) -> Result<Self, NameError> {
        if !valid_prefix(prefix) {
            return Err(NameError::Prefix(prefix.to_owned()));
        }
        let stem = format!("{prefix}-{run_id}");
        let function = format!("{stem}-fn");
        let names = Self {
            run_id: run_id.clone(),
            prefix: prefix.to_owned(),
            bucket: format!("{stem}-uploads"),
            kms_alias: format!("alias/{stem}-key"),
            log_group: format!("/aws/lambda/{function}"),
            function,
            role: format!("{stem}-role"),
            role_policy: format!("{stem}-policy"),
            standard_topic: format!("{stem}-notify"),
            fifo_topic: format!("{stem}-events.fifo"),
            fifo_queue: format!("{stem}-queue.fifo"),
            failure_queue: format!("{stem}-failures"),
            notification_id: format!("{stem}-created"),
            permission_statement_id: format!("{stem}-s3-invoke"),
            baseline_bucket: format!("{stem}-baseline"),
            mismatch_bucket: format!("{stem}-mismatch"),
            probe_topic: format!("{stem}-probe.fifo"),
        };
        // Unreachable with a valid prefix (the property tests hold it), but a wrong name must
        // never reach AWS.
        for (kind, name) in names.all() {
            kind.check(name)?;
        }
        for (kind, name) in names.scenario_made() {
            kind.check(name)?;
        }
        Ok(names)
    }

    /// The names under [`DEFAULT_PREFIX`].
    pub fn with_default_prefix(run_id: &RunId) -> Self {
        Self::new(run_id, DEFAULT_PREFIX).expect("the default prefix is valid")
    }

    /// Every name with its kind.
    pub fn all(&self) -> [(ResourceKind, &str); 12] {
        [
            (ResourceKind::Bucket, &self.bucket),
            (ResourceKind::KmsAlias, &self.kms_alias),
            (ResourceKind::Function, &self.function),
            (ResourceKind::Role, &self.role),
            (ResourceKind::RolePolicy, &self.role_policy),
            (ResourceKind::StandardTopic, &self.standard_topic),
            (ResourceKind::FifoTopic, &self.fifo_topic),
            (ResourceKind::FifoQueue, &self.fifo_queue),
            (ResourceKind::FailureQueue, &self.failure_queue),
            (ResourceKind::LogGroup, &self.log_group),
            (ResourceKind::NotificationId, &self.notification_id),
            (
                ResourceKind::PermissionStatementId,
                &self.permission_statement_id,
            ),
        ]
    }

    /// The resources a bench or a scenario makes next to the stack (not in [`Self::all`]):
    /// teardown and gc remove them too when a run was cut off.
    pub fn scenario_made(&self) -> [(ResourceKind, &str); 3] {
        [
            (ResourceKind::Bucket, &self.baseline_bucket),
            (ResourceKind::Bucket, &self.mismatch_bucket),
            (ResourceKind::FifoTopic, &self.probe_topic),
        ]
    }

    /// The two tags every resource carries: [`TAG_KEY`] = run id and [`TAG_MANAGED_BY`].
    pub fn tags(&self) -> [(&'static str, String); 2] {
        [
            (TAG_KEY, self.run_id.to_string()),
            (TAG_MANAGED_BY.0, TAG_MANAGED_BY.1.to_owned()),
        ]
    }
}

fn valid_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    (1..=MAX_PREFIX_LEN).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && !bytes.ends_with(b"-")
        && !prefix.contains("--")
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !["xn--", "sthree", "amzn-s3-demo"]
            .iter()
            .any(|p| prefix.starts_with(p))
}

/// The run id if `name` is exactly one of the names [`StackNames`] gives under
/// [`DEFAULT_PREFIX`]; `None` for anything else, near misses included.
pub fn is_ours(name: &str) -> Option<RunId> {
    is_ours_with_prefix(DEFAULT_PREFIX, name)
}

/// [`is_ours`] for another prefix.
pub fn is_ours_with_prefix(prefix: &str, name: &str) -> Option<RunId> {
    let stem = name
        .strip_prefix("alias/")
        .or_else(|| name.strip_prefix("/aws/lambda/"))
        .unwrap_or(name);
    let rest = stem.strip_prefix(prefix)?.strip_prefix('-')?;
    let run_id = RunId::parse(rest.get(..RUN_ID_LEN)?).ok()?;
    let names = StackNames::new(&run_id, prefix).ok()?;
    names
        .all()
        .iter()
        .chain(names.scenario_made().iter())
        .any(|&(_, n)| n == name)
        .then_some(run_id)
}

/// The run id if the tags carry both ours: [`TAG_KEY`] with a valid run id, and
/// [`TAG_MANAGED_BY`]. Garbage collection should want this *and* [`is_ours`] to agree.
pub fn run_id_from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<RunId> {
    let mut run_id = None;
    let mut managed = false;
    for (key, value) in tags {
        if key == TAG_KEY {
            run_id = RunId::parse(value).ok();
        } else if (key, value) == TAG_MANAGED_BY {
            managed = true;
        }
    }
    run_id.filter(|_| managed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_baseline_bucket_carries_the_run_id_and_gc_recognises_it() {
        let names = StackNames::with_default_prefix(&RunId::from_seed(3));
        let bucket = &names.baseline_bucket;
        assert_eq!(*bucket, format!("upl-{}-baseline", names.run_id));
        assert!(bucket.len() <= 63);
        assert_ne!(*bucket, names.bucket);
        assert_eq!(is_ours(bucket), Some(names.run_id.clone()));
    }

    #[test]
    fn regression_the_region_mismatch_bucket_is_a_name_gc_recognises() {
        let names = StackNames::with_default_prefix(&RunId::from_seed(3));
        let run = &names.run_id;
        assert_eq!(names.mismatch_bucket, format!("upl-{run}-mismatch"));
        assert_eq!(is_ours(&names.mismatch_bucket), Some(run.clone()));
        assert_eq!(names.probe_topic, format!("upl-{run}-probe.fifo"));
        assert_eq!(is_ours(&names.probe_topic), Some(run.clone()));
    }
    use proptest::prelude::*;

    fn run_id() -> impl Strategy<Value = RunId> {
        "h[a-z2-7]{10}".prop_map(|s| RunId::parse(&s).unwrap())
    }

    fn prefix() -> impl Strategy<Value = String> {
        "[a-r][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}"
    }

    #[test]
    fn example_names() {
        let names = StackNames::with_default_prefix(&RunId::parse("hk3v7q2mzab").unwrap());
        assert_eq!(names.bucket, "upl-hk3v7q2mzab-uploads");
        assert_eq!(names.kms_alias, "alias/upl-hk3v7q2mzab-key");
        assert_eq!(names.function, "upl-hk3v7q2mzab-fn");
        assert_eq!(names.role, "upl-hk3v7q2mzab-role");
        assert_eq!(names.fifo_topic, "upl-hk3v7q2mzab-events.fifo");
        assert_eq!(names.fifo_queue, "upl-hk3v7q2mzab-queue.fifo");
        assert_eq!(names.failure_queue, "upl-hk3v7q2mzab-failures");
        assert_eq!(names.log_group, "/aws/lambda/upl-hk3v7q2mzab-fn");
        assert_eq!(names.tags()[0], ("harness-run", "hk3v7q2mzab".to_owned()));
    }

    #[test]
    fn bad_prefixes_are_refused() {
        let run = RunId::from_seed(1);
        for bad in [
            "",
            "Upl",
            "1up",
            "up-",
            "u--p",
            "xn--a",
            "sthree",
            "abcdefghijklmnopq",
            "u_p",
        ] {
            assert!(
                matches!(StackNames::new(&run, bad), Err(NameError::Prefix(_))),
                "{bad}"
            );
        }
        assert!(StackNames::new(&run, "ci-7").is_ok());
    }

    #[test]
    fn tags_identify_a_run_only_with_both() {
        let ok = [
            ("harness-run", "habcdefghij"),
            ("managed-by", "upload-harness"),
        ];
        assert_eq!(
            run_id_from_tags(ok),
            Some(RunId::parse("habcdefghij").unwrap())
        );
        assert_eq!(run_id_from_tags([("harness-run", "habcdefghij")]), None);
        assert_eq!(run_id_from_tags([("harness-run", "nope"), ok[1]]), None);
    }

    proptest! {
        #[test]
        fn every_name_is_valid_for_its_service(run in run_id(), prefix in prefix()) {
            let names = StackNames::new(&run, &prefix).unwrap();
            for (kind, name) in names.all() {
                prop_assert!(kind.check(name).is_ok(), "{kind:?} {name}");
                prop_assert!(name.contains(run.as_str()));
            }
            prop_assert_eq!(names.log_group, format!("/aws/lambda/{}", names.function));
        }


        #[test]
        fn distinct_runs_give_distinct_names(a in run_id(), b in run_id()) {
            prop_assume!(a != b);
            let (x, y) = (StackNames::with_default_prefix(&a), StackNames::with_default_prefix(&b));
            for ((_, n), (_, m)) in x.all().iter().zip(y.all()) {
                prop_assert_ne!(*n, m);
            }
            // And no name of one run is any name of the other.
            for (_, n) in x.all() {
                prop_assert!(y.all().iter().all(|&(_, m)| m != n));
            }
        }

        #[test]
        fn is_ours_round_trips(run in run_id(), prefix in prefix()) {
            let names = StackNames::new(&run, &prefix).unwrap();
            for (_, name) in names.all() {
                prop_assert_eq!(is_ours_with_prefix(&prefix, name), Some(run.clone()));
            }
            // What a bench or a scenario makes too, so gc finds what a cut-off run left.
            for (_, name) in names.scenario_made() {
                prop_assert_eq!(is_ours_with_prefix(&prefix, name), Some(run.clone()));
            }
        }

        #[test]
        fn is_ours_rejects_near_misses(run in run_id(), pick in 0usize..12, edit in 0usize..6, pos in any::<prop::sample::Index>()) {
            let names = StackNames::with_default_prefix(&run);
            let name = names.all()[pick].1;
            let i = pos.index(name.len());
            let near = match edit {
                0 => format!("{name}x"),
                1 => format!("x{name}"),
                2 => name[..name.len() - 1].to_owned(),
                3 => format!("{}{}", &name[..i], &name[i + 1..]),
                4 => name.to_uppercase(),
                _ => {
                    // Change one character to another allowed one.
                    let c = name.as_bytes()[i];
                    let swapped = if c == b'a' { 'b' } else { 'a' };
                    format!("{}{}{}", &name[..i], swapped, &name[i + 1..])
                }
            };
            prop_assume!(near != name);
            let at = name.find(run.as_str()).unwrap();
            if edit == 5 && (at + 1..at + RUN_ID_LEN).contains(&i) {
                // That is another run's valid name: recognised, but never as this run's.
                prop_assert_ne!(is_ours(&near), Some(run.clone()));
            } else {
                prop_assert_eq!(is_ours(&near), None, "{} accepted", near);
            }
            prop_assert_eq!(is_ours_with_prefix("other", name), None);
        }
    }

    #[test]
    fn is_ours_rejects_foreign_names() {
        for foreign in [
            "upl-hxxxxxxxxxx",
            "upl-habcdefghij-other",
            "upl-habcdefghij-fn-old",
            "alias/upl-habcdefghij-fn",
            "/aws/lambda/upl-habcdefghij-uploads",
            "upl-Habcdefghij-fn",
            "upl-habcdefghi1-fn",
            "my-bucket",
            "",
            "upl-",
        ] {
            assert_eq!(is_ours(foreign), None, "{foreign}");
        }
        assert!(is_ours("alias/upl-habcdefghij-key").is_some());
    }
}
