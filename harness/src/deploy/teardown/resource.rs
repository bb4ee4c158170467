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
    /// `fifo-missing-group-id`'s probe topic: absent unless that scenario was cut off.
    ProbeTopic,
    FifoQueue,
    FailureQueue,
    Bucket,
    /// `harness bench`'s baseline bucket: absent unless a bench was cut off.
    BaselineBucket,
    /// `region-mismatch`'s bucket, in another region than the stack: absent unless that
    /// scenario was cut off. Looked up wherever it lives.
    MismatchBucket,
    Role,
    Key,
}

impl Resource {
    pub(super) const ALL: [Resource; 12] = [
        Resource::Function,
        Resource::LogGroup,
        Resource::StandardTopic,
        Resource::FifoTopic,
        Resource::ProbeTopic,
        Resource::FifoQueue,
        Resource::FailureQueue,
        Resource::Bucket,
        Resource::BaselineBucket,
        Resource::MismatchBucket,
        Resource::Role,
        Resource::Key,
    ];

    pub(super) fn label(self, n: &StackNames) -> String {
        match self {
            Resource::Function => format!("lambda function {}", n.function),
            Resource::LogGroup => format!("log group {}", n.log_group),
            Resource::StandardTopic => format!("sns topic {}", n.standard_topic),
            Resource::FifoTopic => format!("sns topic {}", n.fifo_topic),
            Resource::ProbeTopic => format!("sns topic {}", n.probe_topic),
            Resource::FifoQueue => format!("sqs queue {}", n.fifo_queue),
            Resource::FailureQueue => format!("sqs queue {}", n.failure_queue),
            Resource::Bucket => format!("s3 bucket {}", n.bucket),
            Resource::BaselineBucket => format!("s3 bucket {}", n.baseline_bucket),
            Resource::MismatchBucket => format!("s3 bucket {}", n.mismatch_bucket),
            Resource::Role => format!("iam role {}", n.role),
            Resource::Key => format!("kms key {}", n.kms_alias),
        }
    }

    pub(super) fn topic_arn(self, t: &Target, n: &StackNames, account: &str) -> String {
        let name = match self {
            Resource::FifoTopic => &n.fifo_topic,
            Resource::ProbeTopic => &n.probe_topic,
            _ => &n.standard_topic,
        };
        format!("arn:aws:sns:{}:{account}:{name}", t.region)
    }

    /// The bucket this resource is, if it is one.
    pub(super) fn bucket(self, n: &StackNames) -> Option<&str> {
        matches!(
            self,
            Resource::Bucket | Resource::BaselineBucket | Resource::MismatchBucket
        )
        .then(|| self.bucket_name(n))
    }

    /// The bucket this resource names.
    pub(super) fn bucket_name(self, n: &StackNames) -> &str {
        match self {
            Resource::BaselineBucket => &n.baseline_bucket,
            Resource::MismatchBucket => &n.mismatch_bucket,
            _ => &n.bucket,
        }
    }

    /// An S3 client for the region the bucket lives in (the target's, except for the
    /// mismatch bucket), or `None` when no such bucket exists.
    pub(super) async fn bucket_client(
        self,
        t: &Target,
        n: &StackNames,
    ) -> Result<Option<aws_sdk_s3::Client>, String> {
        if !matches!(self, Resource::MismatchBucket) {
            return Ok(Some(t.s3()));
        }
        match bucket_region(&t.s3(), &t.region, self.bucket_name(n)).await? {
            None => Ok(None),
            Some(region) if region == t.region => Ok(Some(t.s3())),
            Some(region) => Ok(Some(t.s3_in(&region).await)),
        }
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

/// The region `bucket` lives in, `None` when it does not exist. S3 answers `HeadBucket` from
/// another region with an error (301, or 400 for a signature of the wrong region) that names
/// the bucket's region in `x-amz-bucket-region`.
async fn bucket_region(
    s3: &aws_sdk_s3::Client,
    here: &str,
    bucket: &str,
) -> Result<Option<String>, String> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Some(
            out.bucket_region()
                .filter(|r| !r.is_empty())
                .unwrap_or(here)
                .to_owned(),
        )),
        Err(e) => {
            let answered = e.raw_response().map(|r| {
                let region = r.headers().get("x-amz-bucket-region").map(str::to_owned);
                (r.status().as_u16(), region)
            });
            match answered {
                Some((404, _)) => Ok(None),
                Some((_, Some(region))) if !region.is_empty() => Ok(Some(region)),
                _ => Err(text(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_mocks::{Rule, mock};

    use crate::deploy::mocked_s3::mocked_s3;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn answer(status: u16, region: Option<&'static str>) -> Rule {
        mock!(aws_sdk_s3::Client::head_bucket).then_http_response(move || {
            let mut response = HttpResponse::new(
                StatusCode::try_from(status).expect("a valid status"),
                SdkBody::empty(),
            );
            if let Some(region) = region {
                response.headers_mut().insert("x-amz-bucket-region", region);
            }
            response
        })
    }

    #[tokio::test]
    async fn a_bucket_in_another_region_is_found_where_s3_says_it_is() {
        for status in [301, 400] {
            let rule = answer(status, Some("us-east-2"));
            let found = bucket_region(
                &mocked_s3(&[&rule]),
                "eu-west-1",
                "upl-habcdefghij-mismatch",
            )
            .await
            .unwrap();
            assert_eq!(found.as_deref(), Some("us-east-2"), "HTTP {status}");
        }
        let rule = answer(200, None);
        let here = bucket_region(&mocked_s3(&[&rule]), "eu-west-1", "b")
            .await
            .unwrap();
        assert_eq!(here.as_deref(), Some("eu-west-1"));
        let rule = answer(404, None);
        let missing = bucket_region(&mocked_s3(&[&rule]), "eu-west-1", "b")
            .await
            .unwrap();
        assert_eq!(missing, None);
        let rule = answer(500, None);
        assert!(
            bucket_region(&mocked_s3(&[&rule]), "eu-west-1", "b")
                .await
                .is_err()
        );
    }
}
