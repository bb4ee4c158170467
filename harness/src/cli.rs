//! Command-line interface: clap definitions and the commands they run.
//!
//! Each command resolves a [`Target`] from the shared flags and does one thing; `main` only
//! parses and maps the outcome to an exit code.

use std::io::Write;

use anyhow::Context;

use crate::artifact::{self, BuildProfile};
use crate::deploy::{self, DeployConfig};
use crate::localstack::{self, stop_instance};
use crate::paths;
use crate::stack::{RunId, StackArns, StackNames, deploy_plan, render_plan};
use crate::target::{self, Target, TargetArgs};

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
    /// Print every IAM, KMS, S3 and SQS policy the deploy generates (the least-privilege model).
    Policies,
    /// List every resource and API call a deploy would make, without calling AWS.
    Plan(PlanArgs),
    /// Deploy (or converge) the whole stack and print what was made.
    Deploy(DeployArgs),
    /// Delete everything of one run, refusing untagged resources, and verify nothing is left.
    Teardown(TeardownArgs),
    /// Find leftovers of crashed runs by name and tear down every run older than DURATION.
    Gc(GcArgs),
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
}

/// What every command that deploys needs: the handler, the email address, the account guard.
#[derive(Debug, clap::Args)]
pub struct StackArgs {
    /// Address that gets the email alerts.
    #[arg(long, env = "HARNESS_EMAIL", default_value = "alerts@example.com")]
    pub email: String,
    /// A prebuilt `bootstrap` to deploy instead of building `handler/`.
    #[arg(long)]
    pub bootstrap: Option<std::path::PathBuf>,
    /// Cargo profile to build the handler with.
    #[arg(long, value_enum, default_value_t = HandlerBuild::Release)]
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
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
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
    #[arg(long, value_name = "DURATION", value_parser = deploy::gc::parse_duration)]
    pub older_than: std::time::Duration,
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

/// Runs one command. Errors carry the fix in their message.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check(args) => check(&cli.target, args).await,
        Command::Run(args) => run_scenarios(&cli.target, args).await,
        Command::Up => up(&cli.target).await,
        Command::Down => down(),
        Command::Status => status(),
        Command::Policies => {
            print!("{}", crate::stack::docs::policies_markdown());
            Ok(())
        }
        Command::Plan(args) => plan(&cli.target, args),
        Command::Deploy(args) => deploy(&cli.target, args).await,
        Command::Teardown(args) => teardown(&cli.target, args).await,
        Command::Gc(args) => gc(&cli.target, args).await,
    }
}

fn plan(target: &TargetArgs, args: PlanArgs) -> anyhow::Result<()> {
    let run_id = match &args.run_id {
        Some(id) => RunId::parse(id)?,
        None => RunId::random(),
    };
    let names = StackNames::with_default_prefix(&run_id);
    let region = target
        .aws
        .region
        .clone()
        .unwrap_or_else(|| target::DEFAULT_LOCALSTACK_REGION.to_owned());
    // Unknown until the deploy asks STS and KMS: shown as placeholders.
    let arns = StackArns::new("aws", &region, "ACCOUNT_ID", &names, "KEY_ID");
    println!("run {run_id}, region {region}; no AWS call is made\n");
    print!("{}", render_plan(&deploy_plan(&names, &arns, &args.email)));
    Ok(())
}

/// Builds (or reads) the handler, connects to the target and applies the account guard.
async fn prepare(
    target_args: &TargetArgs,
    stack: &StackArgs,
) -> anyhow::Result<(Target, DeployConfig)> {
    let executable = match &stack.bootstrap {
        Some(path) => path.clone(),
        None => {
            eprintln!("building the handler ({:?})", stack.handler_build);
            let profile = match stack.handler_build {
                HandlerBuild::Dev => BuildProfile::Dev,
                HandlerBuild::Release => BuildProfile::Release,
            };
            artifact::build_bootstrap(profile)?
        }
    };
    let handler_zip = artifact::zip_bootstrap(&executable)?;
    let target = Target::connect(target_args, &mut std::io::stderr()).await?;
    deploy::check_account_allowed(
        &target,
        &stack.safety.allowed_accounts,
        &mut std::io::stderr(),
    )
    .await?;
    let config = DeployConfig::new(handler_zip, stack.email.clone());
    Ok((target, config))
}

async fn deploy(target_args: &TargetArgs, args: DeployArgs) -> anyhow::Result<()> {
    let run_id = match &args.run_id {
        Some(id) => RunId::parse(id)?,
        None => RunId::random(),
    };
    let names = StackNames::with_default_prefix(&run_id);
    let (target, config) = prepare(target_args, &args.stack).await?;
    let (deployment, _) = deploy::deploy(&target, &names, &config, &mut std::io::stderr()).await?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&deployment)?),
        Output::Text => {
            println!(
                "deployed run {} to {}",
                deployment.run_id,
                target.describe()
            );
            println!("  bucket         {}", deployment.bucket);
            println!("  kms key        {}", deployment.kms_key_arn);
            println!("  function       {}", deployment.function_arn);
            println!("  standard topic {}", deployment.standard_topic_arn);
            println!("  fifo topic     {}", deployment.fifo_topic_arn);
            println!("  queue          {}", deployment.queue_url);
            println!("  failure queue  {}", deployment.failure_queue_url);
            println!("  email          {}", deployment.email_address);
            println!(
                "remove it with: harness teardown --run-id {}",
                deployment.run_id
            );
        }
    }
    if target.embedded_is_owned() {
        eprintln!(
            "note: this LocalStack was started for this command and stops with it; \
             run `harness up` first to keep a deployment"
        );
    }
    target.shutdown()?;
    Ok(())
}

async fn run_scenarios(target_args: &TargetArgs, args: RunArgs) -> anyhow::Result<()> {
    use crate::runner::{self, Status, report};
    let all = crate::scenario::load_dir(&crate::scenario::scenarios_dir())?;
    let chosen: Vec<_> = if args.scenarios.is_empty() {
        all
    } else {
        let mut chosen = Vec::new();
        for name in &args.scenarios {
            let Some(found) = all.iter().find(|s| &s.name == name) else {
                let known: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
                anyhow::bail!("no scenario `{name}`; known: {}", known.join(", "));
            };
            chosen.push(found.clone());
        }
        chosen
    };
    let seed = args.seed.unwrap_or_else(crate::stack::run_id::random_seed);
    eprintln!("seed {seed} (replay with --seed {seed})");
    let (target, config) = prepare(target_args, &args.stack).await?;
    let mut reports = Vec::new();
    for scenario in &chosen {
        let report = runner::run_scenario(
            &target,
            scenario,
            seed,
            &config.handler_zip,
            &mut std::io::stderr(),
        )
        .await;
        if report.status == Status::Failed {
            eprintln!("{}", report.failure_message());
        }
        reports.push(report);
    }
    target.shutdown()?;
    println!("\n{}", report::summary_table(&reports));
    for r in reports.iter().filter(|r| r.status == Status::Skipped) {
        println!(
            "skipped {}: {}",
            r.scenario,
            r.skipped_reason.as_deref().unwrap_or("")
        );
    }
    for r in &reports {
        for d in &r.divergences {
            println!("divergence ({}): {d}", r.scenario);
        }
    }
    let paths = report::write_reports(&args.report_dir, &reports)?;
    println!(
        "reports: {}",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let failed = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} scenario(s) failed (seed {seed})",
        reports.len()
    );
    Ok(())
}

async fn check(target_args: &TargetArgs, args: CheckArgs) -> anyhow::Result<()> {
    let run_id = RunId::random();
    let names = StackNames::with_default_prefix(&run_id);
    let (target, config) = prepare(target_args, &args.stack).await?;
    let outcomes = crate::check::run(&target, &names, &config, &mut std::io::stderr()).await;
    let described = target.describe();
    target.shutdown()?;
    println!("\ncheck of run {run_id} on {described}:");
    print!("{}", crate::check::render(&outcomes));
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} checks failed (details above)",
        outcomes.len()
    );
    println!("all {} checks held", outcomes.len());
    Ok(())
}

async fn teardown(target_args: &TargetArgs, args: TeardownArgs) -> anyhow::Result<()> {
    let names = StackNames::with_default_prefix(&RunId::parse(&args.run_id)?);
    let target = Target::connect(target_args, &mut std::io::stderr()).await?;
    deploy::check_account_allowed(
        &target,
        &args.safety.allowed_accounts,
        &mut std::io::stderr(),
    )
    .await?;
    let report = deploy::teardown::teardown(&target, &names, &mut std::io::stderr()).await;
    target.shutdown()?;
    for error in &report.errors {
        eprintln!("error: {error}");
    }
    for left in &report.leftovers {
        eprintln!("left behind: {left}");
    }
    anyhow::ensure!(
        report.is_clean(),
        "teardown of run {} incomplete: {} error(s), {} leftover(s); re-run it after fixing the cause",
        args.run_id,
        report.errors.len(),
        report.leftovers.len()
    );
    println!(
        "run {} removed: {} deleted, {} already absent, nothing left",
        args.run_id,
        report.deleted.len(),
        report.absent.len()
    );
    Ok(())
}

async fn gc(target_args: &TargetArgs, args: GcArgs) -> anyhow::Result<()> {
    let target = Target::connect(target_args, &mut std::io::stderr()).await?;
    deploy::check_account_allowed(
        &target,
        &args.safety.allowed_accounts,
        &mut std::io::stderr(),
    )
    .await?;
    eprintln!(
        "looking for runs older than {} on {}{}",
        deploy::gc::format_age(args.older_than),
        target.describe(),
        if args.dry_run { " (dry run)" } else { "" }
    );
    let options = deploy::gc::GcOptions {
        older_than: args.older_than,
        dry_run: args.dry_run,
        runs: None,
    };
    let report = deploy::gc::gc(&target, &options, &mut std::io::stderr()).await;
    target.shutdown()?;
    if report.runs.is_empty() {
        println!("no run of ours found");
    }
    for run in &report.runs {
        println!("{}", run.summary(args.older_than));
    }
    for error in &report.errors {
        eprintln!("error: {error}");
    }
    let failed = report
        .runs
        .iter()
        .filter(|r| matches!(r.outcome, deploy::gc::Outcome::Failed(_)))
        .count();
    anyhow::ensure!(
        report.is_clean(),
        "gc incomplete: {failed} run(s) not removed cleanly, {} listing(s) failed; \
         resources without our tag are never deleted, remove them by hand if they are yours",
        report.errors.len()
    );
    Ok(())
}

async fn up(args: &TargetArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.target == target::TargetKind::Embedded,
        "`harness up` starts the embedded LocalStack; drop --target (other targets are already up)"
    );
    let instances = paths::instances_dir();
    if let Some(info) = localstack::read_running(&instances) {
        println!("{}", target::describe_instance(&info));
        return Ok(());
    }
    std::fs::create_dir_all(&instances)
        .with_context(|| format!("creating {}", instances.display()))?;
    let instance = target::start_embedded(args.python.clone(), &mut std::io::stderr()).await?;
    let info = instance.detach();
    localstack::write_state(&instances, &info)?;
    println!("{}", target::describe_instance(&info));
    println!("  stop it with: harness down");
    Ok(())
}

fn down() -> anyhow::Result<()> {
    let instances = paths::instances_dir();
    let state = localstack::state_file(&instances);
    let Ok(text) = std::fs::read_to_string(&state) else {
        println!(
            "no LocalStack started by `harness up` is recorded ({})",
            state.display()
        );
        return Ok(());
    };
    let info: localstack::InstanceInfo = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a harness state file; delete it", state.display()))?;
    eprint!("stopping LocalStack pid {} ... ", info.pid);
    let _ = std::io::stderr().flush();
    let outcome = stop_instance(&info, None);
    std::fs::remove_file(&state).with_context(|| format!("removing {}", state.display()))?;
    anyhow::ensure!(
        outcome.survivors.is_empty(),
        "processes survived: {:?}; kill them by hand (kill -9) and report a bug",
        outcome.survivors
    );
    eprintln!(
        "stopped ({} process(es){})",
        outcome.seen.len(),
        if outcome.killed_after_deadline {
            ", killed after the grace period"
        } else {
            ""
        }
    );
    Ok(())
}

fn status() -> anyhow::Result<()> {
    match localstack::read_running(&paths::instances_dir()) {
        Some(info) => println!("{}", target::describe_instance(&info)),
        None => println!("no LocalStack started by `harness up` is running"),
    }
    Ok(())
}
