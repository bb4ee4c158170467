//! Command-line interface: clap definitions and the commands they run.
//!
//! Each command resolves a [`Target`] from the shared flags and does one thing; `main` only
//! parses and maps the outcome to an exit code.

mod bench;
mod chaos;
mod lifecycle;
pub mod report_files;
mod scenarios;
mod stack;

use crate::run_target::TargetArgs;

use lifecycle::{down, status, up};
use scenarios::run_scenarios;
use stack::{check, deploy, gc, plan, teardown};

#[derive(Debug, clap::Parser)]
#[command(
    name = "harness",
    version,
    about = "Deploys, exercises and verifies the S3 -> Lambda -> SNS -> SQS FIFO upload pipeline"
)]
pub struct Cli {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Prove the pipeline end to end: deploy a fresh stack, read it back, upload a file, see its
    /// FIFO message and email, tear down and verify nothing is left.
    Check(CheckArgs),
    /// Run scenarios (scenarios/*.toml): seeded uploads, every delivery proven, reports written.
    Run(RunArgs),
    /// Start the embedded LocalStack and leave it running for later commands.
    Up,
    /// Stop the LocalStack `harness up` started, with every process it spawned.
    Down,
    /// Show whether a LocalStack started by `harness up` is running.
    Status,
    /// Print every IAM, KMS, S3, SNS and SQS policy the deploy generates (the least-privilege
    /// model), or write each as a JSON file for a policy linter.
    Policies(PoliciesArgs),
    /// List every resource and API call a deploy would make, without calling AWS.
    Plan(PlanArgs),
    /// Deploy (or converge) the whole stack and print what was made.
    Deploy(DeployArgs),
    /// Delete everything of one run, refusing untagged resources, and verify nothing is left.
    Teardown(TeardownArgs),
    /// Find leftovers of crashed runs by name and tear down every run older than DURATION.
    Gc(GcArgs),
    /// Measure end-to-end throughput: verified files/s over a sweep of concurrency and file
    /// size, against raw PutObject in the same run; writes bench.json and bench.html.
    Bench(BenchArgs),
    /// Run one chaos scenario: replay a seed exactly, or search many seeds and stop at the
    /// first violation, printing its replay command.
    Chaos(ChaosArgs),
}

#[derive(Debug, clap::Args)]
pub struct ChaosArgs {
    /// The chaos scenario to run (one with [[chaos]] faults, e.g. chaos-network).
    #[arg(long)]
    pub scenario: String,
    /// Seed of the (first) run (default: a new one, printed).
    #[arg(long, env = "HARNESS_SEED")]
    pub seed: Option<u64>,
    /// Search mode: run this many consecutive seeds from --seed, stopping at the first
    /// violation.
    #[arg(long, value_name = "SEEDS")]
    pub search: Option<u64>,
    /// Where the JSON, JUnit and HTML reports go.
    #[arg(long, default_value = "reports")]
    pub report_dir: std::path::PathBuf,
    #[command(flatten)]
    pub mailbox: MailboxArgs,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Concurrency levels to sweep, comma-separated.
    #[arg(long, default_value = "1,2,4,8,16")]
    pub concurrency: String,
    /// File sizes to sweep, comma-separated (B, KiB, MiB).
    #[arg(long, default_value = "1KiB,256KiB")]
    pub sizes: String,
    /// Files per point and per measurement.
    #[arg(long, default_value_t = crate::bench::config::DEFAULT_FILES)]
    pub files: usize,
    /// Seed for every random choice (default: a new one, printed).
    #[arg(long, env = "HARNESS_SEED")]
    pub seed: Option<u64>,
    /// `on`: every delivery proven; `off`: deliveries only counted; `both`: each point both ways.
    #[arg(long, value_enum, default_value_t = crate::bench::Checks::Both)]
    pub checks: crate::bench::Checks,
    /// How long one measurement may wait for its deliveries (default: 120 s + 1 s per file).
    #[arg(long)]
    pub delivery_deadline_s: Option<u64>,
    /// Where bench.json and bench.html go.
    #[arg(long, default_value = "reports")]
    pub report_dir: std::path::PathBuf,
    #[command(flatten)]
    pub mailbox: MailboxArgs,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct PoliciesArgs {
    /// Write each document of the example stack as DIR/<kind>-<what>.json (kind: identity,
    /// resource, trust or parameters) instead of printing them all as Markdown.
    #[arg(long, value_name = "DIR")]
    pub write: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Run id whose names to show (default: a new random one).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Address that gets the email alerts.
    #[arg(long, env = "HARNESS_EMAIL", default_value = "alerts@example.com")]
    pub email: String,
}

#[derive(Debug, clap::Args)]
pub struct SafetyArgs {
    /// AWS account ids a real-account run may use (also HARNESS_ALLOWED_ACCOUNTS, comma-separated).
    #[arg(
        long = "allow-account",
        env = "HARNESS_ALLOWED_ACCOUNTS",
        value_delimiter = ','
    )]
    pub allowed_accounts: Vec<String>,
    /// Allowed accounts that are sandboxes, where `harness chaos` may inject its reversible
    /// platform faults (also HARNESS_SANDBOX_ACCOUNTS, comma-separated).
    #[arg(
        long = "sandbox-account",
        env = "HARNESS_SANDBOX_ACCOUNTS",
        value_delimiter = ','
    )]
    pub sandbox_accounts: Vec<String>,
}

/// What every command that deploys needs: the handler, the email address, the account guard.
#[derive(Debug, clap::Args)]
pub struct StackArgs {
    /// Address that gets the email alerts.
    #[arg(long, env = "HARNESS_EMAIL", default_value = "alerts@example.com", value_parser = parse_email)]
    pub email: String,
    /// A prebuilt `bootstrap` to deploy instead of building `handler/`.
    #[arg(long, value_parser = parse_bootstrap)]
    pub bootstrap: Option<std::path::PathBuf>,
    /// Cargo profile to build the handler with.
    #[arg(long, value_enum, default_value_t = HandlerBuild::Release, env = "HARNESS_HANDLER_BUILD")]
    pub handler_build: HandlerBuild,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// Run id to deploy or converge (default: a new random one, printed).
    #[arg(long)]
    pub run_id: Option<String>,
    /// `text` (a summary) or `json` (one object on stdout).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario to run (repeatable; default: every scenario that runs on the target).
    #[arg(long = "scenario")]
    pub scenarios: Vec<String>,
    /// Seed for every random choice (default: a new one, printed).
    #[arg(long, env = "HARNESS_SEED")]
    pub seed: Option<u64>,
    /// Where the JSON and JUnit reports go.
    #[arg(long, default_value = "reports")]
    pub report_dir: std::path::PathBuf,
    #[command(flatten)]
    pub mailbox: MailboxArgs,
    #[command(flatten)]
    pub stack: StackArgs,
}

/// Where the email alerts are read back (shared by check, run, chaos and bench).
#[derive(Debug, clap::Args)]
pub struct MailboxArgs {
    /// On AWS: the bucket an SES receipt rule stores mail for the alert address's (verified)
    /// domain in; the run confirms the subscription from it and reads the alerts back.
    #[arg(long, env = "HARNESS_MAILBOX_BUCKET")]
    pub mailbox_bucket: Option<String>,
    /// Key prefix of the stored mails in --mailbox-bucket.
    #[arg(long, default_value = "")]
    pub mailbox_prefix: String,
}

impl MailboxArgs {
    /// The S3 mailbox when a bucket is given, else LocalStack's own.
    pub fn setup(&self) -> crate::mailbox::MailSetup {
        match &self.mailbox_bucket {
            Some(bucket) => crate::mailbox::MailSetup::S3 {
                bucket: bucket.clone(),
                prefix: self.mailbox_prefix.clone(),
            },
            None => crate::mailbox::MailSetup::Auto,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub mailbox: MailboxArgs,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    /// The run whose stack to delete.
    #[arg(long)]
    pub run_id: String,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Remove runs whose newest resource is older than this: 30m, 2h, 1d, 1h30m (0 = all).
    /// Required unless --run-id names the runs (then it defaults to 0).
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = crate::deploy::gc::parse_duration,
        required_unless_present = "run_id"
    )]
    pub older_than: Option<std::time::Duration>,
    /// Only these runs (repeatable): e.g. the run an interrupted command names. Other runs in
    /// the account and region, concurrent jobs' included, are not touched.
    #[arg(long = "run-id", value_name = "ID", value_parser = crate::stack::RunId::parse)]
    pub run_id: Vec<crate::stack::RunId>,
    /// List what would be removed without deleting anything.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HandlerBuild {
    Dev,
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// A mistake in how the command was called: exit code 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Everything selected was skipped: the command ran, failed nothing and proved nothing, which
/// is never a success (exit code 3). Holds the reasons, one per skipped item.
#[derive(Debug, thiserror::Error)]
#[error("nothing was proven: every selected run was skipped ({})", .0.join("; "))]
pub struct NothingProven(pub Vec<String>);

/// The exit code of a failed command: 2 when the command was called wrongly (a usage error
/// anywhere in the error's chain: flags clap cannot check alone, a malformed run id, an unknown
/// scenario), 3 when nothing was proven, else 1.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    use crate::run_target::TargetError;
    if error.chain().any(|cause| cause.is::<NothingProven>()) {
        return 3;
    }
    let usage = error.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<crate::stack::RunIdError>()
            || cause.is::<crate::bench::ConfigError>()
            || matches!(
                cause.downcast_ref::<TargetError>(),
                Some(
                    TargetError::MissingEndpoint
                        | TargetError::StrayEndpoint
                        | TargetError::IsMiniStack { .. }
                        | TargetError::DockerMisuse
                )
            )
    });
    if usage { 2 } else { 1 }
}

/// `--email`: one address, `local@domain` with a dot in the domain (SNS refuses anything else
/// only after the whole stack is deployed).
fn parse_email(text: &str) -> Result<String, String> {
    let valid = text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.contains(char::is_whitespace)
            && !domain.contains('@')
    });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an email address; e.g. --email alerts@example.com"
        ))
    }
}

/// `--bootstrap`: an existing file (checked before anything is deployed or built).
fn parse_bootstrap(text: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(text);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "`{text}` is not a file; give the path of a built `bootstrap` (e.g. \
             target/release/bootstrap after `cargo build --release -p handler`) or leave \
             --bootstrap out to build it"
        ))
    }
}

/// Runs one command. Errors carry the fix in their message.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check(args) => check(&cli.target, args).await,
        Command::Run(args) => run_scenarios(&cli.target, args).await,
        Command::Up => up(&cli.target).await,
        Command::Down => down(),
        Command::Status => status(),
        Command::Policies(args) => stack::policies(args),
        Command::Plan(args) => plan(&cli.target, args),
        Command::Deploy(args) => deploy(&cli.target, args).await,
        Command::Teardown(args) => teardown(&cli.target, args).await,
        Command::Gc(args) => gc(&cli.target, args).await,
        Command::Bench(args) => bench::bench(&cli.target, args).await,
        Command::Chaos(args) => chaos::chaos(&cli.target, args).await,
    }
}

/// Prints where a command's reports went (run, chaos and bench all end with this line).
fn print_report_paths(paths: &[std::path::PathBuf]) {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    println!("reports: {}", shown.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("harness").chain(args.iter().copied()))
    }

    #[test]
    fn regression_email_and_bootstrap_are_checked_when_parsed() {
        assert!(parse(&["check", "--email", "alerts@example.com"]).is_ok());
        for bad in [
            "alerts",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@@example.com",
        ] {
            let error = parse(&["check", "--email", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad}");
        }
        let error = parse(&["check", "--bootstrap", "/no/such/bootstrap"]).unwrap_err();
        assert!(error.to_string().contains("is not a file"), "{error}");
    }

    #[test]
    fn regression_usage_errors_exit_2_and_failures_1() {
        use crate::run_target::TargetError;
        let usage = [
            anyhow::Error::new(TargetError::MissingEndpoint),
            anyhow::Error::new(crate::stack::RunId::parse("nope").unwrap_err()),
            anyhow::Error::new(UsageError("no scenario `x`".into())).context("run"),
            anyhow::Error::new(crate::bench::ConfigError::NoFiles),
        ];
        for error in &usage {
            assert_eq!(exit_code(error), 2, "{error:#}");
        }
        assert_eq!(exit_code(&anyhow::anyhow!("deploy failed")), 1);
        let skipped = NothingProven(vec!["odd-keys: needs --mailbox-bucket".into()]);
        assert!(
            skipped.to_string().starts_with("nothing was proven"),
            "{skipped}"
        );
        assert_eq!(exit_code(&anyhow::Error::new(skipped)), 3);
        let unreachable = TargetError::Unreachable {
            emulator: "LocalStack",
            endpoint: "http://x".into(),
            reason: "refused".into(),
        };
        assert_eq!(exit_code(&anyhow::Error::new(unreachable)), 1);
    }
}
