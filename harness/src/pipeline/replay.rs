//! The one formatter of replay commands: the same target, mailbox and seed, so any failure is
//! replayed with a copied line (`harness <target flags> <command> ... --seed N <mailbox flags>`).

use crate::mailbox::MailSetup;
use crate::run_target::Target;

/// `harness <target flags> <command><mailbox flags>`; `command` holds the subcommand and its
/// own flags, seed included.
pub fn command(target: &Target, mail: &MailSetup, command: &str) -> String {
    format!(
        "harness {} {command}{}",
        target.replay_flags(),
        mail.replay_flags()
    )
}

/// Replays one scenario run.
pub fn scenario(target: &Target, mail: &MailSetup, scenario: &str, seed: u64) -> String {
    command(
        target,
        mail,
        &format!("run --scenario {scenario} --seed {seed}"),
    )
}

/// Replays one chaos run (`harness chaos`, e.g. the seed a search stopped at).
pub fn chaos(target: &Target, mail: &MailSetup, scenario: &str, seed: u64) -> String {
    command(
        target,
        mail,
        &format!("chaos --scenario {scenario} --seed {seed}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_target::TargetKind;

    #[test]
    fn replay_command_names_scenario_seed_target_and_mailbox() {
        let sdk = aws_config::SdkConfig::builder().build();
        let embedded =
            Target::with_sdk_config(TargetKind::Embedded, "us-east-1", None, sdk.clone());
        assert_eq!(
            scenario(&embedded, &MailSetup::Auto, "overwrites", 7),
            "harness --target embedded run --scenario overwrites --seed 7"
        );
        let shared = Target::with_sdk_config(
            TargetKind::Localstack,
            "us-east-1",
            Some("http://ls:4566"),
            sdk.clone(),
        );
        assert_eq!(
            scenario(&shared, &MailSetup::Auto, "overwrites", 7),
            "harness --target localstack --endpoint-url http://ls:4566 run --scenario overwrites \
             --seed 7"
        );
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        let mail = MailSetup::S3 {
            bucket: "inbox".into(),
            prefix: "mail/ x".into(),
        };
        assert_eq!(
            scenario(&aws, &mail, "big-files", 1),
            "harness --target aws --region eu-west-1 run --scenario big-files --seed 1 \
             --mailbox-bucket inbox --mailbox-prefix \"mail/ x\""
        );
        assert_eq!(
            chaos(&aws, &mail, "chaos-throttle", 3),
            "harness --target aws --region eu-west-1 chaos --scenario chaos-throttle --seed 3 \
             --mailbox-bucket inbox --mailbox-prefix \"mail/ x\""
        );
    }
}
