//! The commands that act on a deployed stack: plan, deploy, check, teardown, gc, and the
//! preparation they share (handler artifact, target, account guard).

use crate::artifact::{self, BuildProfile};
use crate::deploy::{self, DeployConfig};
use crate::run_target::{self, Target, TargetArgs};
use crate::stack::{RunId, StackArns, StackNames, deploy_plan, render_plan};

use super::{
    CheckArgs, DeployArgs, GcArgs, HandlerBuild, Output, PlanArgs, PoliciesArgs, SafetyArgs,
    StackArgs, TeardownArgs,
};

/// Prints the example stack's policies as Markdown, or writes each as JSON for a linter.
pub(super) fn policies(args: PoliciesArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let Some(dir) = args.write else {
        print!("{}", crate::stack::docs::policies_markdown());
        return Ok(());
    };
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create {}: pass a writable --write DIR",
            dir.display()
        )
    })?;
    for document in crate::stack::docs::example_documents_sorted() {
        let path = dir.join(document.file);
        let text = serde_json::to_string_pretty(&document.body)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

pub(super) fn plan(target: &TargetArgs, args: PlanArgs) -> anyhow::Result<()> {
    let run_id = match &args.run_id {
        Some(id) => RunId::parse(id)?,
        None => RunId::random(),
    };
    let names = StackNames::with_default_prefix(&run_id);
    let region = target
        .aws
        .region
        .clone()
        .unwrap_or_else(|| run_target::DEFAULT_LOCALSTACK_REGION.to_owned());
    // Unknown until the deploy asks STS and KMS: shown as placeholders.
    let arns = StackArns::new("aws", &region, "ACCOUNT_ID", &names, "KEY_ID");
    println!("run {run_id}, region {region}; no AWS call is made\n");
    print!("{}", render_plan(&deploy_plan(&names, &arns, &args.email)));
    Ok(())
}

/// Connects to the target and applies the account guard, then builds (or reads) the handler:
/// a wrong endpoint, missing credentials or a refused account are told before a release build.
pub(super) async fn prepare(
    target_args: &TargetArgs,
    stack: &StackArgs,
) -> anyhow::Result<(Target, DeployConfig)> {
    let target = connect_allowed(target_args, &stack.safety).await?;
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
    let config = DeployConfig::new(handler_zip, stack.email.clone());
    Ok((target, config))
}

/// Connects to the target and, on AWS, refuses an account that is not explicitly allowed and
/// marks the sandbox accounts (where chaos may inject faults).
async fn connect_allowed(target_args: &TargetArgs, safety: &SafetyArgs) -> anyhow::Result<Target> {
    let mut target = Target::connect(target_args, &mut std::io::stderr()).await?;
    let account =
        deploy::check_account_allowed(&target, &safety.allowed_accounts, &mut std::io::stderr())
            .await?;
    if safety.sandbox_accounts.contains(&account) {
        target.mark_sandbox();
    }
    Ok(target)
}

pub(super) async fn deploy(target_args: &TargetArgs, args: DeployArgs) -> anyhow::Result<()> {
    let run_id = match &args.run_id {
        Some(id) => RunId::parse(id)?,
        None => RunId::random(),
    };
    let names = StackNames::with_default_prefix(&run_id);
    needs_a_lasting_target(target_args, "deploy")?;
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

pub(super) async fn check(target_args: &TargetArgs, args: CheckArgs) -> anyhow::Result<()> {
    let run_id = RunId::random();
    let names = StackNames::with_default_prefix(&run_id);
    let (target, config) = prepare(target_args, &args.stack).await?;
    let mail = args.mailbox.setup();
    let outcomes = crate::check::run(&target, &names, &config, &mail, &mut std::io::stderr()).await;
    let described = target.describe();
    target.shutdown()?;
    println!("\ncheck of run {run_id} on {described}:");
    print!(
        "{}",
        crate::redact::secrets(&crate::check::render(&outcomes))
    );
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} checks failed (details above)",
        outcomes.len()
    );
    let skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    if skipped == 0 {
        println!("all {} checks held", outcomes.len());
    } else {
        // A skipped check proved nothing: never count it among those that held.
        println!(
            "{} checks held, {skipped} skipped (reasons above)",
            outcomes.len() - skipped
        );
    }
    Ok(())
}

/// `deploy`, `teardown` and `gc` act on what outlives the command: on a MiniStack the command
/// would start for itself (empty, and stopped when it ends) they would prove nothing, so they
/// need one that lasts (there is no `harness up` for MiniStack).
fn needs_a_lasting_target(target_args: &TargetArgs, command: &str) -> anyhow::Result<()> {
    if target_args.target == run_target::TargetKind::Ministack
        && target_args.aws.endpoint_url.is_none()
    {
        return Err(super::UsageError(format!(
            "`harness {command} --target ministack` needs --endpoint-url of a MiniStack that \
             outlives the command: without it the command would start an empty one of its own \
             and stop it at the end (start one with `GATEWAY_PORT=4566 BIND_HOST=127.0.0.1 \
             python -m ministack`)"
        ))
        .into());
    }
    Ok(())
}

pub(super) async fn teardown(target_args: &TargetArgs, args: TeardownArgs) -> anyhow::Result<()> {
    let names = StackNames::with_default_prefix(&RunId::parse(&args.run_id)?);
    needs_a_lasting_target(target_args, "teardown")?;
    let target = connect_allowed(target_args, &args.safety).await?;
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

pub(super) async fn gc(target_args: &TargetArgs, args: GcArgs) -> anyhow::Result<()> {
    let older_than = args.older_than.unwrap_or_default();
    needs_a_lasting_target(target_args, "gc")?;
    let target = connect_allowed(target_args, &args.safety).await?;
    let which = match args.run_id.as_slice() {
        [] => "runs".to_owned(),
        ids => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            format!("run(s) {}", ids.join(", "))
        }
    };
    eprintln!(
        "looking for {which} older than {} on {}{}",
        deploy::gc::format_age(older_than),
        target.describe(),
        if args.dry_run { " (dry run)" } else { "" }
    );
    let options = deploy::gc::GcOptions {
        older_than,
        dry_run: args.dry_run,
        runs: (!args.run_id.is_empty()).then(|| args.run_id.iter().cloned().collect()),
    };
    let report = deploy::gc::gc(&target, &options, &mut std::io::stderr()).await;
    target.shutdown()?;
    if report.runs.is_empty() && report.errors.is_empty() {
        println!("no run of ours found");
    } else if report.runs.is_empty() {
        println!("no run of ours found in the listings that answered (see the errors below)");
    }
    for run in &report.runs {
        println!("{}", run.summary(older_than));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teardown_on_a_ministack_of_its_own_is_refused_as_proving_nothing() {
        let mut args = TargetArgs {
            target: run_target::TargetKind::Ministack,
            ..TargetArgs::default()
        };
        let error = needs_a_lasting_target(&args, "teardown").unwrap_err();
        assert_eq!(super::super::exit_code(&error), 2);
        assert!(error.to_string().contains("--endpoint-url"), "{error}");
        args.aws.endpoint_url = Some("http://127.0.0.1:4566".into());
        assert!(needs_a_lasting_target(&args, "teardown").is_ok());
        args.target = run_target::TargetKind::Embedded;
        args.aws.endpoint_url = None;
        assert!(needs_a_lasting_target(&args, "gc").is_ok());
    }
}
