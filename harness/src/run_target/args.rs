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
    /// Endpoint of a LocalStack started elsewhere (target `localstack`).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TargetKind {
    /// A LocalStack the harness starts itself, no Docker needed.
    #[default]
    Embedded,
    /// A LocalStack reachable at --endpoint-url.
    Localstack,
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
    /// Python >= 3.12 for the embedded LocalStack (default: discovered).
    #[arg(long, env = "HARNESS_PYTHON", global = true)]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}
