//! The stack's resources as teardown sees them: their deletion order, how they are named in
//! reports, and the topic ARNs and queue URLs both the lookup and the deletion need.

use super::text;
use crate::deploy::aws_error::{error_code, is_not_found};
use crate::run_target::Target;
use crate::stack::StackNames;

/// The stack's resources, in deletion order (consumers before what they consume).
#[derive(Debug, Clone, Copy)]
pub(super) enum Resource {
    Function,
    LogGroup,
    StandardTopic,
    FifoTopic,
    FifoQueue,
    FailureQueue,
    Bucket,
    /// `harness bench`'s baseline bucket: absent unless a bench was cut off.
    BaselineBucket,
    Role,
    Key,
}

impl Resource {
    pub(super) const ALL: [Resource; 10] = [
        Resource::Function,
        Resource::LogGroup,
        Resource::StandardTopic,
        Resource::FifoTopic,
        Resource::FifoQueue,
        Resource::FailureQueue,
        Resource::Bucket,
        Resource::BaselineBucket,
        Resource::Role,
        Resource::Key,
    ];

    pub(super) fn label(self, n: &StackNames) -> String {
        match self {
            Resource::Function => format!("lambda function {}", n.function),
            Resource::LogGroup => format!("log group {}", n.log_group),
            Resource::StandardTopic => format!("sns topic {}", n.standard_topic),
            Resource::FifoTopic => format!("sns topic {}", n.fifo_topic),
            Resource::FifoQueue => format!("sqs queue {}", n.fifo_queue),
            Resource::FailureQueue => format!("sqs queue {}", n.failure_queue),
            Resource::Bucket => format!("s3 bucket {}", n.bucket),
            Resource::BaselineBucket => format!("s3 bucket {}", n.baseline_bucket),
            Resource::Role => format!("iam role {}", n.role),
            Resource::Key => format!("kms key {}", n.kms_alias),
        }
    }

    pub(super) fn topic_arn(self, t: &Target, n: &StackNames, account: &str) -> String {
        let name = match self {
            Resource::FifoTopic => &n.fifo_topic,
            _ => &n.standard_topic,
        };
        format!("arn:aws:sns:{}:{account}:{name}", t.region)
    }

    pub(super) async fn queue_url(
        self,
        t: &Target,
        n: &StackNames,
    ) -> Result<Option<String>, String> {
        let name = match self {
            Resource::FifoQueue => &n.fifo_queue,
            _ => &n.failure_queue,
        };
        match t.sqs().get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(str::to_owned)),
            Err(e) if is_not_found(error_code(&e)) => Ok(None),
            Err(e) => Err(text(e)),
        }
    }
}
