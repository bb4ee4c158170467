//! Configuration, read and validated once at init.
//!
//! Reading goes through a lookup closure so tests never touch the process environment. Every
//! problem is reported at once, each naming the variable, what is wrong and how to fix it, so
//! a misdeployed function fails at init instead of on the first upload.

use crate::ids::Grouping;
use crate::verdict::ExpectedKey;
use thiserror::Error;

pub const STANDARD_TOPIC_ARN: &str = "STANDARD_TOPIC_ARN";
pub const FIFO_TOPIC_ARN: &str = "FIFO_TOPIC_ARN";
pub const EXPECTED_KMS_KEY_ARN: &str = "EXPECTED_KMS_KEY_ARN";
pub const FIFO_GROUPING: &str = "FIFO_GROUPING";
pub const S3_FORCE_PATH_STYLE: &str = "S3_FORCE_PATH_STYLE";

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Standard SNS topic with the email subscription.
    pub standard_topic_arn: String,
    /// SNS FIFO topic (ends in `.fifo`) that feeds the SQS FIFO queue.
    pub fifo_topic_arn: String,
    pub expected_kms_key: ExpectedKey,
    pub grouping: Grouping,
    /// Path-style S3 addressing (`endpoint/bucket/key`); only needed for emulators reached
    /// through a host name such as `localhost`.
    pub s3_force_path_style: bool,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigProblem {
    #[error("{var} is not set; {fix}")]
    Missing { var: &'static str, fix: String },
    #[error("{var} is `{value}` but {problem}; {fix}")]
    Invalid {
        var: &'static str,
        value: String,
        problem: String,
        fix: String,
    },
}

impl ConfigProblem {
    pub fn var(&self) -> &'static str {
        match self {
            ConfigProblem::Missing { var, .. } | ConfigProblem::Invalid { var, .. } => var,
        }
    }
}

/// All configuration problems found at init.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid configuration: {}", list(.problems))]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Config {
    /// Reads and validates the configuration; `lookup` returns a variable's value, if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| {
            lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let standard = required(&get, STANDARD_TOPIC_ARN, "the standard SNS topic's ARN")
            .and_then(|v| sns_topic_arn(STANDARD_TOPIC_ARN, v, false));
        let fifo = required(&get, FIFO_TOPIC_ARN, "the FIFO SNS topic's ARN")
            .and_then(|v| sns_topic_arn(FIFO_TOPIC_ARN, v, true));
        let key = required(
            &get,
            EXPECTED_KMS_KEY_ARN,
            "the ARN (or key id) of the bucket's default KMS key",
        )
        .and_then(|v| {
            ExpectedKey::parse(&v).map_err(|problem| ConfigProblem::Invalid {
                var: EXPECTED_KMS_KEY_ARN,
                value: v,
                problem,
                fix: "set it to the KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID) or the key id"
                    .to_owned(),
            })
        });
        let grouping = grouping(get(FIFO_GROUPING));
        let path_style = path_style(get(S3_FORCE_PATH_STYLE));

        let standard = standard.map_err(|p| problems.push(p)).ok();
        let fifo = fifo.map_err(|p| problems.push(p)).ok();
        let key = key.map_err(|p| problems.push(p)).ok();
        let grouping = grouping.map_err(|p| problems.push(p)).ok();
        let path_style = path_style.map_err(|p| problems.push(p)).ok();

        match (standard, fifo, key, grouping, path_style) {
            (Some(standard), Some(fifo), Some(key), Some(grouping), Some(path_style))
                if problems.is_empty() =>
            {
                Ok(Config {
                    standard_topic_arn: standard,
                    fifo_topic_arn: fifo,
                    expected_kms_key: key,
                    grouping,
                    s3_force_path_style: path_style,
                })
            }
            _ => Err(ConfigError { problems }),
        }
    }
}

fn required(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    what: &str,
) -> Result<String, ConfigProblem> {
    get(var).ok_or_else(|| ConfigProblem::Missing {
        var,
        fix: format!("set it to {what}"),
    })
}

fn sns_topic_arn(var: &'static str, value: String, fifo: bool) -> Result<String, ConfigProblem> {
    let kind = if fifo { "FIFO" } else { "standard" };
    let invalid = |problem: String| ConfigProblem::Invalid {
        var,
        value: value.clone(),
        problem,
        fix: format!("set it to the {kind} topic's ARN"),
    };
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, name] = parts[..] else {
        return Err(invalid(
            "is not an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC)".to_owned(),
        ));
    };
    if arn != "arn" || partition.is_empty() {
        return Err(invalid(
            "is not an ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC)".to_owned(),
        ));
    }
    if service != "sns" {
        return Err(invalid(format!(
            "is a `{service}` ARN, not an SNS topic ARN"
        )));
    }
    if region.is_empty() {
        return Err(invalid("has no region".to_owned()));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("has no 12-digit account id".to_owned()));
    }
    if name.is_empty() || name.contains(':') {
        return Err(invalid("has no topic name".to_owned()));
    }
    match (fifo, name.ends_with(".fifo")) {
        (true, false) => Err(invalid("a FIFO topic ARN must end in `.fifo`".to_owned())),
        (false, true) => Err(invalid(
            "it is a FIFO topic, and email subscriptions need a standard topic".to_owned(),
        )),
        _ => Ok(value),
    }
}

fn grouping(value: Option<String>) -> Result<Grouping, ConfigProblem> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("bucket") => Ok(Grouping::Bucket),
        Some("prefix") => Ok(Grouping::Prefix),
        Some(_) => Err(ConfigProblem::Invalid {
            var: FIFO_GROUPING,
            value: value.unwrap_or_default(),
            problem: "must be `bucket` or `prefix`".to_owned(),
            fix: "set `prefix` for one message group per top-level key prefix, or unset it for one group per bucket".to_owned(),
        }),
    }
}

fn path_style(value: Option<String>) -> Result<bool, ConfigProblem> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ConfigProblem::Invalid {
            var: S3_FORCE_PATH_STYLE,
            value: value.unwrap_or_default(),
            problem: "must be `true` or `false`".to_owned(),
            fix: "set `true` only for an S3 emulator reached by host name, else unset it"
                .to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const STANDARD: &str = "arn:aws:sns:eu-west-1:111122223333:upload-alerts";
    const FIFO: &str = "arn:aws:sns:eu-west-1:111122223333:upload-events.fifo";
    const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            (STANDARD_TOPIC_ARN, STANDARD),
            (FIFO_TOPIC_ARN, FIFO),
            (EXPECTED_KMS_KEY_ARN, KEY),
        ]
    }

    fn with(var: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut env: Vec<_> = valid().into_iter().filter(|(k, _)| *k != var).collect();
        env.push((var, value));
        env
    }

    #[test]
    fn valid_config_with_defaults() {
        let config = load(&valid()).unwrap();
        assert_eq!(config.standard_topic_arn, STANDARD);
        assert_eq!(config.fifo_topic_arn, FIFO);
        assert_eq!(config.expected_kms_key.as_str(), KEY);
        assert_eq!(config.grouping, Grouping::Bucket);
        assert!(!config.s3_force_path_style);
    }

    #[test]
    fn grouping_and_path_style_are_parsed() {
        let mut env = with(FIFO_GROUPING, "Prefix");
        env.push((S3_FORCE_PATH_STYLE, "true"));
        let config = load(&env).unwrap();
        assert_eq!(config.grouping, Grouping::Prefix);
        assert!(config.s3_force_path_style);
        assert_eq!(
            load(&with(FIFO_GROUPING, "")).unwrap().grouping,
            Grouping::Bucket
        );
    }

    #[test]
    fn fifo_topic_must_end_in_fifo() {
        let err = load(&with(
            FIFO_TOPIC_ARN,
            "arn:aws:sns:eu-west-1:111122223333:alerts",
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: FIFO_TOPIC_ARN is `arn:aws:sns:eu-west-1:111122223333:alerts` \
             but a FIFO topic ARN must end in `.fifo`; set it to the FIFO topic's ARN"
        );
    }

    #[test]
    fn standard_topic_must_not_be_fifo() {
        let err = load(&with(STANDARD_TOPIC_ARN, FIFO)).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].var(), STANDARD_TOPIC_ARN);
        assert!(err.to_string().contains("standard topic"), "{err}");
    }

    #[test]
    fn all_missing_variables_are_named_at_once() {
        let err = load(&[]).unwrap_err();
        let vars: Vec<_> = err.problems.iter().map(ConfigProblem::var).collect();
        assert_eq!(
            vars,
            [STANDARD_TOPIC_ARN, FIFO_TOPIC_ARN, EXPECTED_KMS_KEY_ARN]
        );
        assert!(
            err.to_string()
                .contains("STANDARD_TOPIC_ARN is not set; set it to")
        );
    }

    #[test]
    fn malformed_values_are_explained() {
        let cases = [
            (STANDARD_TOPIC_ARN, "upload-alerts", "not an SNS topic ARN"),
            (
                STANDARD_TOPIC_ARN,
                "arn:aws:sqs:eu-west-1:111122223333:q",
                "`sqs` ARN",
            ),
            (
                FIFO_TOPIC_ARN,
                "arn:aws:sns:eu-west-1:1234:t.fifo",
                "12-digit account",
            ),
            (
                FIFO_TOPIC_ARN,
                "arn:aws:sns::111122223333:t.fifo",
                "no region",
            ),
            (EXPECTED_KMS_KEY_ARN, "alias/uploads", "alias"),
            (FIFO_GROUPING, "key", "must be `bucket` or `prefix`"),
            (S3_FORCE_PATH_STYLE, "yes", "must be `true` or `false`"),
        ];
        for (var, value, expected) in cases {
            let err = load(&with(var, value)).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{var}={value}: {err}");
            assert_eq!(err.problems[0].var(), var);
            let text = err.to_string();
            assert!(text.contains(expected), "{var}={value}: {text}");
            assert!(text.contains(&format!("`{value}`")), "{text}");
        }
    }

    #[test]
    fn values_are_trimmed() {
        let env = with(
            FIFO_TOPIC_ARN,
            " arn:aws:sns:eu-west-1:111122223333:upload-events.fifo\n",
        );
        assert_eq!(load(&env).unwrap().fifo_topic_arn, FIFO);
    }
}
