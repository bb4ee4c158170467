//! The naming rules of each service a stack uses, as documented by AWS.
//!
//! Checked for every generated name before any reaches AWS (and by property tests for every
//! run id), so a name is refused here with a reason rather than by a half-made deploy.

use thiserror::Error;

/// Which service a name is for; each has its own rules ([`ResourceKind::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Bucket,
    KmsAlias,
    Function,
    Role,
    RolePolicy,
    StandardTopic,
    FifoTopic,
    FifoQueue,
    FailureQueue,
    LogGroup,
    NotificationId,
    PermissionStatementId,
}

/// A name that breaks its service's rules, or a prefix that would produce one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("{kind:?} name `{name}` is invalid: {problem}")]
    Invalid {
        kind: ResourceKind,
        name: String,
        problem: String,
    },
    #[error(
        "name prefix `{0}` is invalid: use 1-16 of a-z, 0-9 and single inner hyphens, starting \
         with a letter (and not `xn--`, `sthree`, `amzn-s3-demo`)"
    )]
    Prefix(String),
}

impl ResourceKind {
    /// Checks `name` against the service's documented naming rules.
    pub fn check(self, name: &str) -> Result<(), NameError> {
        let fail = |problem: &str| {
            Err(NameError::Invalid {
                kind: self,
                name: name.to_owned(),
                problem: problem.to_owned(),
            })
        };
        let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        let within = |min: usize, max: usize| (min..=max).contains(&name.len());
        match self {
            ResourceKind::Bucket => {
                if !within(3, 63) {
                    return fail("must be 3-63 characters");
                }
                if !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                {
                    return fail("only a-z, 0-9, `-` and `.` are allowed");
                }
                let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
                if !edge(name.chars().next()) || !edge(name.chars().last()) {
                    return fail("must start and end with a letter or digit");
                }
                if name.contains("..")
                    || name.split('.').count() == 4
                        && name.split('.').all(|p| p.parse::<u8>().is_ok())
                {
                    return fail("no `..` and no IP-address form");
                }
                let reserved_start = ["xn--", "sthree-", "amzn-s3-demo-"];
                let reserved_end = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
                if reserved_start.iter().any(|p| name.starts_with(p))
                    || reserved_end.iter().any(|s| name.ends_with(s))
                {
                    return fail("uses a prefix or suffix S3 reserves");
                }
                Ok(())
            }
            ResourceKind::KmsAlias => match name.strip_prefix("alias/") {
                Some(rest)
                    if !rest.is_empty() && name.len() <= 256 && !rest.starts_with("aws/") =>
                {
                    if rest.chars().all(|c| word(c) || c == '/') {
                        Ok(())
                    } else {
                        fail("only a-z, A-Z, 0-9, `/`, `_`, `-` after `alias/`")
                    }
                }
                _ => fail("must be `alias/` and 1-250 characters, not under `alias/aws/`"),
            },
            ResourceKind::Function
            | ResourceKind::NotificationId
            | ResourceKind::PermissionStatementId => {
                let max = match self {
                    ResourceKind::Function => 64,
                    ResourceKind::PermissionStatementId => 100,
                    // S3 documents no limit for a notification `Id`; this one is ours.
                    _ => 255,
                };
                if within(1, max) && name.chars().all(word) {
                    Ok(())
                } else {
                    fail(&format!("must be 1-{max} of a-z, A-Z, 0-9, `-`, `_`"))
                }
            }
            ResourceKind::Role | ResourceKind::RolePolicy => {
                let max = if self == ResourceKind::Role { 64 } else { 128 };
                let iam = |c: char| word(c) || "+=,.@".contains(c);
                if within(1, max) && name.chars().all(iam) {
                    Ok(())
                } else {
                    fail(&format!("must be 1-{max} of a-z, A-Z, 0-9, `+=,.@_-`"))
                }
            }
            ResourceKind::StandardTopic | ResourceKind::FailureQueue => {
                let max = if self == ResourceKind::StandardTopic {
                    256
                } else {
                    80
                };
                if name.ends_with(".fifo") {
                    fail("a standard topic or queue must not end in `.fifo`")
                } else if within(1, max) && name.chars().all(word) {
                    Ok(())
                } else {
                    fail(&format!("must be 1-{max} of a-z, A-Z, 0-9, `-`, `_`"))
                }
            }
            ResourceKind::FifoTopic | ResourceKind::FifoQueue => {
                let max = if self == ResourceKind::FifoTopic {
                    256
                } else {
                    80
                };
                match name.strip_suffix(".fifo") {
                    Some(stem)
                        if !stem.is_empty() && name.len() <= max && stem.chars().all(word) =>
                    {
                        Ok(())
                    }
                    _ => fail(&format!(
                        "must be at most {max} characters: a-z, A-Z, 0-9, `-`, `_`, then `.fifo`"
                    )),
                }
            }
            ResourceKind::LogGroup => {
                let ok = |c: char| word(c) || "./#".contains(c);
                if within(1, 512) && name.chars().all(ok) {
                    Ok(())
                } else {
                    fail("must be 1-512 of a-z, A-Z, 0-9, `._-/#`")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_rules_catch_bad_names() {
        use ResourceKind::*;
        for (kind, bad) in [
            (Bucket, "ab"),
            (Bucket, "Upper"),
            (Bucket, "-lead"),
            (Bucket, "192.168.1.2"),
            (Bucket, "x--ol-s3"),
            (KmsAlias, "alias/aws/s3"),
            (KmsAlias, "key"),
            (FifoQueue, "q"),
            (FailureQueue, "q.fifo"),
            (Function, "has space"),
        ] {
            assert!(kind.check(bad).is_err(), "{kind:?} {bad}");
        }
        assert!(FifoQueue.check(&format!("{}.fifo", "q".repeat(75))).is_ok());
        assert!(
            FifoQueue
                .check(&format!("{}.fifo", "q".repeat(76)))
                .is_err()
        );
    }
}
