//! The target flags every command shares, as clap parses them: which kind of target and the
//! AWS CLI's own flags (profile, region, endpoint).

use std::path::PathBuf;

/// Flags every AWS-facing command shares (the same names as the AWS CLI's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Named profile from ~/.aws/config (target `aws`).
    #[arg(long, env = "AWS_PROFILE", global = true)]
    pub profile: Option<String>,
    /// Region to deploy to and call (default: the profile's, or us-east-1 on LocalStack).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Endpoint of an emulator started elsewhere (targets `localstack` and `ministack`).
    #[arg(long, global = true, value_parser = parse_endpoint_url)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TargetKind {
    /// A LocalStack the harness starts itself, no Docker needed.
    #[default]
    Embedded,
    /// A LocalStack reachable at --endpoint-url.
    Localstack,
    /// A MiniStack the harness starts itself (no Docker), or the one at --endpoint-url.
    Ministack,
    /// A real AWS account.
    Aws,
}

/// Target selection shared by every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Where the pipeline runs.
    #[arg(
        long,
        value_enum,
        default_value_t,
        env = "HARNESS_TARGET",
        global = true
    )]
    pub target: TargetKind,
    /// With --target localstack: start LocalStack's pinned Docker image (needs a Docker daemon).
    #[arg(long, global = true)]
    pub docker: bool,
    /// Python >= 3.12 for the embedded LocalStack or MiniStack (default: discovered).
    #[arg(long, env = "HARNESS_PYTHON", global = true)]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `--endpoint-url`: an absolute `http` or `https` URL with a host, refused at parse time (exit
/// code 2) instead of failing later as an unreachable LocalStack. The message never repeats a
/// password the URL carries.
pub fn parse_endpoint_url(text: &str) -> Result<String, String> {
    // The input is not repeated: a malformed URL may hide a password where redaction cannot
    // find it.
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("not a URL ({e}); e.g. http://localhost:4566"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("not an http(s) URL with a host; e.g. http://localhost:4566".into());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_a_malformed_endpoint_url_is_a_usage_error_not_an_unreachable_localstack() {
        assert_eq!(
            parse_endpoint_url("http://localhost:4566/"),
            Ok("http://localhost:4566".into())
        );
        for bad in [
            "localhost:4566",
            "ftp://host",
            "http//x",
            "http://user:s3cret@",
            "u:s3cret@h:4566",
            "http://u:pa/s3cret@h",
        ] {
            let error = parse_endpoint_url(bad).unwrap_err();
            assert!(error.contains("http://localhost:4566"), "{bad}: {error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }
}
