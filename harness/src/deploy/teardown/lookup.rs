//! Looks a resource up: whether it exists and, if so, its tags (which teardown checks for
//! our run before deleting anything, and checks again to list what is left).

use std::collections::HashMap;

use super::resource::Resource;
use super::text;
use crate::deploy::aws_error::{error_code, is_not_found};
use crate::run_target::Target;
use crate::stack::StackNames;

/// Result of looking a resource up: its tags when it exists.
pub(super) enum Lookup {
    Missing,
    Present(HashMap<String, String>),
}

impl Resource {
    pub(super) async fn lookup(
        self,
        t: &Target,
        n: &StackNames,
        account: &str,
    ) -> Result<Lookup, String> {
        let missing = |code: Option<&str>| is_not_found(code);
        match self {
            Resource::Function => match t
                .lambda()
                .get_function()
                .function_name(&n.function)
                .send()
                .await
            {
                Ok(out) => function_tags(&out).map(Lookup::Present),
                Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                Err(e) => Err(text(e)),
            },
            Resource::LogGroup => {
                let out = t
                    .logs()
                    .describe_log_groups()
                    .log_group_name_prefix(&n.log_group)
                    .send()
                    .await
                    .map_err(text)?;
                let Some(group) = out
                    .log_groups()
                    .iter()
                    .find(|g| g.log_group_name() == Some(n.log_group.as_str()))
                else {
                    return Ok(Lookup::Missing);
                };
                let arn = group
                    .arn()
                    .unwrap_or_default()
                    .trim_end_matches(":*")
                    .to_owned();
                let tags = t
                    .logs()
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(tags.tags().cloned().unwrap_or_default()))
            }
            Resource::StandardTopic | Resource::FifoTopic | Resource::ProbeTopic => {
                let arn = self.topic_arn(t, n, account);
                // Tags of a deleted topic may still answer (LocalStack): ask for the topic first.
                match t.sns().get_topic_attributes().topic_arn(&arn).send().await {
                    Ok(_) => {}
                    Err(e) if missing(error_code(&e)) => return Ok(Lookup::Missing),
                    Err(e) => return Err(text(e)),
                }
                match t
                    .sns()
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Lookup::Present(
                        out.tags()
                            .iter()
                            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                            .collect(),
                    )),
                    Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                    Err(e) => Err(text(e)),
                }
            }
            Resource::FifoQueue | Resource::FailureQueue => {
                let Some(url) = self.queue_url(t, n).await? else {
                    return Ok(Lookup::Missing);
                };
                let out = t
                    .sqs()
                    .list_queue_tags()
                    .queue_url(url)
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(out.tags().cloned().unwrap_or_default()))
            }
            Resource::Bucket | Resource::BaselineBucket | Resource::MismatchBucket => {
                let Some(s3) = self.bucket_client(t, n).await? else {
                    return Ok(Lookup::Missing);
                };
                match s3
                    .get_bucket_tagging()
                    .bucket(self.bucket_name(n))
                    .send()
                    .await
                {
                    Ok(out) => Ok(Lookup::Present(
                        out.tag_set()
                            .iter()
                            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                            .collect(),
                    )),
                    Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(Lookup::Missing),
                    // An existing bucket without tags is not ours.
                    Err(e) if error_code(&e) == Some("NoSuchTagSet") => {
                        Ok(Lookup::Present(HashMap::new()))
                    }
                    Err(e) => Err(text(e)),
                }
            }
            Resource::Role => match t.iam().list_role_tags().role_name(&n.role).send().await {
                Ok(out) => Ok(Lookup::Present(
                    out.tags()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                        .collect(),
                )),
                Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                Err(e) => Err(text(e)),
            },
            Resource::Key => {
                let key = match t.kms().describe_key().key_id(&n.kms_alias).send().await {
                    Ok(out) => out.key_metadata().cloned(),
                    Err(e) if missing(error_code(&e)) => None,
                    Err(e) => return Err(text(e)),
                };
                let Some(key) = key else {
                    return Ok(Lookup::Missing);
                };
                if key.key_state() == Some(&aws_sdk_kms::types::KeyState::PendingDeletion) {
                    return Ok(Lookup::Missing);
                }
                let tags = t
                    .kms()
                    .list_resource_tags()
                    .key_id(key.key_id())
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(
                    tags.tags()
                        .iter()
                        .map(|tag| (tag.tag_key().to_owned(), tag.tag_value().to_owned()))
                        .collect(),
                ))
            }
        }
    }
}

/// The tags GetFunction returned. Without `lambda:ListTags` AWS answers the function with a
/// `TagsError` instead of its tags: that is a permission to fix, not a function without our
/// tags (which teardown would refuse as foreign).
fn function_tags(
    out: &aws_sdk_lambda::operation::get_function::GetFunctionOutput,
) -> Result<HashMap<String, String>, String> {
    match out.tags_error() {
        Some(e) => Err(format!(
            "cannot read its tags ({}: {}); the credentials need lambda:ListTags on it",
            e.error_code(),
            e.message()
        )),
        None => Ok(out.tags().cloned().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
    use aws_sdk_lambda::types::TagsError;

    #[test]
    fn regression_a_function_whose_tags_cannot_be_read_is_an_error_not_foreign() {
        let denied = GetFunctionOutput::builder()
            .tags_error(
                TagsError::builder()
                    .error_code("AccessDeniedException")
                    .message("not authorized to perform: lambda:ListTags")
                    .build()
                    .unwrap(),
            )
            .build();
        let error = function_tags(&denied).unwrap_err();
        assert!(error.contains("lambda:ListTags"), "{error}");
        let tagged = GetFunctionOutput::builder()
            .tags("harness-run", "habcdefghij")
            .build();
        assert_eq!(
            function_tags(&tagged).unwrap()["harness-run"],
            "habcdefghij"
        );
    }
}
