//! Deletes a resource that lookup found and proved ours: subscriptions before topics, the
//! inline policy before the role, every object version before the bucket, and the KMS alias
//! before scheduling its key's deletion.

use super::resource::Resource;
use super::text;
use crate::deploy::aws_error::{error_code, is_not_found};
use crate::deploy::empty_bucket::empty_and_delete;
use crate::run_target::Target;
use crate::stack::StackNames;

impl Resource {
    pub(super) async fn delete(
        self,
        t: &Target,
        n: &StackNames,
        account: &str,
    ) -> Result<(), String> {
        match self {
            Resource::Function => t
                .lambda()
                .delete_function()
                .function_name(&n.function)
                .send()
                .await
                .map(drop)
                .map_err(text),
            Resource::LogGroup => t
                .logs()
                .delete_log_group()
                .log_group_name(&n.log_group)
                .send()
                .await
                .map(drop)
                .map_err(text),
            Resource::StandardTopic | Resource::FifoTopic | Resource::ProbeTopic => {
                let arn = self.topic_arn(t, n, account);
                let subs = t
                    .sns()
                    .list_subscriptions_by_topic()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map_err(text)?;
                for sub in subs.subscriptions() {
                    // Pending email subscriptions have no ARN yet and vanish with the topic.
                    if let Some(sub_arn) = sub.subscription_arn().filter(|a| a.starts_with("arn:"))
                    {
                        t.sns()
                            .unsubscribe()
                            .subscription_arn(sub_arn)
                            .send()
                            .await
                            .map_err(text)?;
                    }
                }
                t.sns()
                    .delete_topic()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::FifoQueue | Resource::FailureQueue => {
                let Some(url) = self.queue_url(t, n).await? else {
                    return Ok(());
                };
                t.sqs()
                    .delete_queue()
                    .queue_url(url)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::Bucket | Resource::BaselineBucket | Resource::MismatchBucket => {
                let Some(s3) = self.bucket_client(t, n).await? else {
                    return Ok(());
                };
                empty_and_delete(&s3, self.bucket_name(n)).await.map(drop)
            }
            Resource::Role => {
                let iam = t.iam();
                match iam
                    .delete_role_policy()
                    .role_name(&n.role)
                    .policy_name(&n.role_policy)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_not_found(error_code(&e)) => {}
                    Err(e) => return Err(text(e)),
                }
                iam.delete_role()
                    .role_name(&n.role)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::Key => {
                let kms = t.kms();
                let key = kms
                    .describe_key()
                    .key_id(&n.kms_alias)
                    .send()
                    .await
                    .map_err(text)?;
                let key_id = key
                    .key_metadata()
                    .map(|k| k.key_id().to_owned())
                    .unwrap_or_default();
                kms.delete_alias()
                    .alias_name(&n.kms_alias)
                    .send()
                    .await
                    .map_err(text)?;
                // 7 days is the minimum window KMS allows.
                kms.schedule_key_deletion()
                    .key_id(key_id)
                    .pending_window_in_days(7)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
        }
    }
}
