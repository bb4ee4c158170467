//! An S3 client over the SDK's own mock HTTP client, for the unit tests of one deploy layer
//! (emptying a bucket, finding a bucket's region, removing an untagged bucket): `rules` answer
//! the requests in order, and no request leaves the process.

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};

pub(crate) fn mocked_s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
