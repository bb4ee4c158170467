//! What IAM authorises a recorded request as, and whether a policy allows it: the model the
//! runner policy's proof (`requests::runner_policy`) judges the recorded `--target aws` paths
//! with.
//!
//! [`Classifier`] turns each request into the (action, resource ARN, condition context) triples
//! IAM evaluates, for every protocol the harness speaks: S3 REST (path style), the JSON
//! protocol by `x-amz-target` (KMS, SQS, CloudWatch Logs), the query protocol by `Action=`
//! (IAM, SNS, STS) and Lambda's REST paths. A request may need more than one action: a create
//! that carries tags is also authorised as the service's tag action, `CreateFunction` also as
//! `iam:PassRole` of its role, `kms:CreateAlias` on both the alias and the key, a
//! `DeleteObjects` per object. Calls a service makes with the caller's credentials on its behalf
//! (S3, SQS and SNS using the KMS key) are not requests of the harness and are not modelled.
//!
//! [`allowing_statement`] is IAM's evaluation reduced to what the runner policy uses: `Action`
//! exact (case-insensitive), `Resource` a glob (`*`, `?`), and the conditions `StringEquals`,
//! `StringLike`, `ForAllValues:StringEquals` and `Null` on the request's context. Two
//! simplifications, on purpose: `aws:ResourceTag/*` is treated as satisfied, because a request
//! does not show the tags of the resource it names (the deploy's own tags are checked by the
//! deploy trial, and teardown refuses untagged resources anyway); a key the request cannot name
//! (a KMS key addressed by an alias the recording never saw created) is `key/*`. Every other
//! condition key is evaluated as IAM does: `aws:RequestTag/*` and `aws:TagKeys` from the tags the
//! request carries (absent when it carries none), `s3:prefix`, `iam:PassedToService`,
//! `lambda:Principal`; a key the classifier does not supply fails the condition.

use std::collections::{BTreeMap, HashMap};

use harness::recording::RecordedRequest;
use serde_json::Value;

use super::inspect::form;

/// One authorisation IAM makes for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub action: String,
    pub resource: String,
    /// Condition keys and their values.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Authorization {
    fn new(action: &str, resource: impl Into<String>) -> Self {
        Self {
            action: action.to_owned(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    fn with(mut self, key: &str, value: &str) -> Self {
        self.context
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
        self
    }

    fn with_tags(mut self, tags: &[(String, String)]) -> Self {
        for (key, value) in tags {
            self = self
                .with(&format!("aws:RequestTag/{key}"), value)
                .with("aws:TagKeys", key);
        }
        self
    }
}

/// Classifies requests in the order they were sent (it learns which key each alias names from
/// `CreateAlias`).
#[derive(Debug)]
pub struct Classifier {
    partition: String,
    account: String,
    aliases: HashMap<String, String>,
}

impl Classifier {
    pub fn new(account: &str) -> Self {
        Self {
            partition: "aws".into(),
            account: account.to_owned(),
            aliases: HashMap::new(),
        }
    }

    /// The authorisations `request` needs, or why it could not be classified.
    pub fn classify(&mut self, request: &RecordedRequest) -> Result<Vec<Authorization>, String> {
        let (region, service) = request
            .signing_scope()
            .ok_or("the request is not SigV4-signed")?;
        let region = region.to_owned();
        if let Some(target) = request.header("x-amz-target") {
            let body: Value = serde_json::from_slice(request.body.as_deref().unwrap_or_default())
                .map_err(|e| format!("JSON body: {e}"))?;
            let (prefix, operation) = target.split_once('.').ok_or("x-amz-target")?;
            return match prefix {
                "TrentService" => self.kms(&region, operation, &body),
                "AmazonSQS" => Ok(self.sqs(&region, operation, &body)),
                "Logs_20140328" => Ok(self.logs(&region, operation, &body)),
                other => Err(format!("unknown JSON service {other}")),
            };
        }
        match service {
            "s3" => s3(&self.partition, request),
            "lambda" => self.lambda(&region, request),
            "iam" | "sns" | "sts" => {
                let params = form(request);
                let action = params
                    .get("Action")
                    .ok_or("query protocol without Action")?;
                Ok(self.query(&region, service, action, &params))
            }
            other => Err(format!("unknown service {other}")),
        }
    }

    fn arn(&self, service: &str, region: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{region}:{}:{resource}",
            self.partition, self.account
        )
    }

    fn key_arn(&self, region: &str, key_id: &str) -> String {
        if key_id.starts_with("arn:") {
            if let Some(alias) = key_id.split(":alias/").nth(1) {
                return self.key_arn(region, &format!("alias/{alias}"));
            }
            return key_id.to_owned();
        }
        match key_id.strip_prefix("alias/") {
            Some(_) => match self.aliases.get(key_id) {
                Some(key) => self.arn("kms", region, &format!("key/{key}")),
                None => self.arn("kms", region, "key/*"),
            },
            None => self.arn("kms", region, &format!("key/{key_id}")),
        }
    }

    fn kms(
        &mut self,
        region: &str,
        operation: &str,
        body: &Value,
    ) -> Result<Vec<Authorization>, String> {
        let action = format!("kms:{operation}");
        let text = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
        Ok(match operation {
            "CreateKey" => {
                let tags: Vec<(String, String)> = body["Tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| (string(&t["TagKey"]), string(&t["TagValue"])))
                    .collect();
                let mut out = vec![Authorization::new(&action, "*").with_tags(&tags)];
                if !tags.is_empty() {
                    out.push(Authorization::new("kms:TagResource", "*").with_tags(&tags));
                }
                out
            }
            "ListAliases" => vec![Authorization::new(&action, "*")],
            "CreateAlias" | "UpdateAlias" => {
                let alias = text("AliasName");
                let key = self.key_arn(region, &text("TargetKeyId"));
                if let Some(id) = key.rsplit("key/").next().filter(|id| *id != "*") {
                    self.aliases.insert(alias.clone(), id.to_owned());
                }
                vec![
                    Authorization::new(&action, self.arn("kms", region, &alias)),
                    Authorization::new(&action, key),
                ]
            }
            "DeleteAlias" => {
                let alias = text("AliasName");
                let key = self.key_arn(region, &alias);
                self.aliases.remove(&alias);
                vec![
                    Authorization::new(&action, self.arn("kms", region, &alias)),
                    Authorization::new(&action, key),
                ]
            }
            _ => {
                let key_id = text("KeyId");
                if key_id.is_empty() {
                    return Err(format!("{action} without KeyId"));
                }
                vec![Authorization::new(&action, self.key_arn(region, &key_id))]
            }
        })
    }

    fn queue_arn(&self, region: &str, url_or_name: &str) -> String {
        let mut parts = url_or_name.trim_end_matches('/').rsplit('/');
        let name = parts.next().unwrap_or_default();
        let account = parts
            .next()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(&self.account);
        format!("arn:{}:sqs:{region}:{account}:{name}", self.partition)
    }

    fn sqs(&self, region: &str, operation: &str, body: &Value) -> Vec<Authorization> {
        let action = format!("sqs:{operation}");
        match operation {
            "ListQueues" => vec![Authorization::new(&action, "*")],
            "CreateQueue" | "GetQueueUrl" => {
                let arn = self.queue_arn(region, &string(&body["QueueName"]));
                let tags = string_map(&body["tags"]);
                let mut out = vec![Authorization::new(&action, arn.clone()).with_tags(&tags)];
                if !tags.is_empty() {
                    out.push(Authorization::new("sqs:TagQueue", arn).with_tags(&tags));
                }
                out
            }
            _ => vec![Authorization::new(
                &action,
                self.queue_arn(region, &string(&body["QueueUrl"])),
            )],
        }
    }

    fn logs(&self, region: &str, operation: &str, body: &Value) -> Vec<Authorization> {
        let action = format!("logs:{operation}");
        let group = |name: &str| self.arn("logs", region, &format!("log-group:{name}"));
        match operation {
            "DescribeLogGroups" => vec![Authorization::new(&action, "*")],
            "CreateLogGroup" => {
                let name = string(&body["logGroupName"]);
                let tags = string_map(&body["tags"]);
                let mut out = vec![
                    Authorization::new(&action, format!("{}:*", group(&name))).with_tags(&tags),
                ];
                if !tags.is_empty() {
                    out.push(Authorization::new("logs:TagResource", group(&name)).with_tags(&tags));
                }
                out
            }
            // The tagging actions are authorised on the ARN without `:*`.
            "ListTagsForResource" | "TagResource" | "UntagResource" => {
                let arn = string(&body["resourceArn"]);
                vec![Authorization::new(&action, arn.trim_end_matches(":*"))]
            }
            _ => vec![Authorization::new(
                &action,
                format!("{}:*", group(&string(&body["logGroupName"]))),
            )],
        }
    }

    fn query(
        &self,
        region: &str,
        service: &str,
        operation: &str,
        params: &BTreeMap<String, String>,
    ) -> Vec<Authorization> {
        let action = format!("{service}:{operation}");
        let param = |name: &str| params.get(name).cloned().unwrap_or_default();
        let tags = member_tags(params);
        match (service, operation) {
            ("sts", _) | ("iam", "ListRoles") | ("sns", "ListTopics") => {
                vec![Authorization::new(&action, "*")]
            }
            ("iam", _) => {
                let role = format!(
                    "arn:{}:iam::{}:role/{}",
                    self.partition,
                    self.account,
                    param("RoleName")
                );
                let mut out = vec![Authorization::new(&action, role.clone()).with_tags(&tags)];
                if operation == "CreateRole" && !tags.is_empty() {
                    out.push(Authorization::new("iam:TagRole", role).with_tags(&tags));
                }
                out
            }
            ("sns", "CreateTopic") => {
                let topic = self.arn("sns", region, &param("Name"));
                let mut out = vec![Authorization::new(&action, topic.clone()).with_tags(&tags)];
                if !tags.is_empty() {
                    out.push(Authorization::new("sns:TagResource", topic).with_tags(&tags));
                }
                out
            }
            ("sns", "Unsubscribe" | "GetSubscriptionAttributes" | "SetSubscriptionAttributes") => {
                vec![Authorization::new(&action, param("SubscriptionArn"))]
            }
            ("sns", "ListTagsForResource" | "TagResource" | "UntagResource") => {
                vec![Authorization::new(&action, param("ResourceArn"))]
            }
            _ => vec![Authorization::new(&action, param("TopicArn"))],
        }
    }

    fn lambda(
        &self,
        region: &str,
        request: &RecordedRequest,
    ) -> Result<Vec<Authorization>, String> {
        let path = decode(request.path());
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let body: Value =
            serde_json::from_slice(request.body.as_deref().unwrap_or_default()).unwrap_or_default();
        let function = |name: &str| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                self.arn("lambda", region, &format!("function:{name}"))
            }
        };
        let method = request.method.as_str();
        let at = segments
            .iter()
            .position(|s| *s == "functions")
            .ok_or_else(|| format!("unknown Lambda path {path}"))?;
        let name = segments.get(at + 1).copied().unwrap_or_default();
        let sub = segments.get(at + 2).copied();
        let operation = match (method, name, sub) {
            ("POST", "", None) => "CreateFunction",
            ("GET", "", None) => "ListFunctions",
            ("GET", _, None) => "GetFunction",
            ("DELETE", _, None) => "DeleteFunction",
            ("GET", _, Some("configuration")) => "GetFunctionConfiguration",
            ("PUT", _, Some("configuration")) => "UpdateFunctionConfiguration",
            ("PUT", _, Some("code")) => "UpdateFunctionCode",
            ("POST", _, Some("policy")) => "AddPermission",
            ("GET", _, Some("policy")) => "GetPolicy",
            ("DELETE", _, Some("policy")) => "RemovePermission",
            ("POST", _, Some("invocations")) => "InvokeFunction",
            ("PUT", _, Some("event-invoke-config")) => "PutFunctionEventInvokeConfig",
            ("GET", _, Some("event-invoke-config")) => "GetFunctionEventInvokeConfig",
            ("PUT", _, Some("concurrency")) => "PutFunctionConcurrency",
            ("DELETE", _, Some("concurrency")) => "DeleteFunctionConcurrency",
            ("GET", _, Some("concurrency")) => "GetFunctionConcurrency",
            _ => return Err(format!("unknown Lambda request {method} {path}")),
        };
        let action = format!("lambda:{operation}");
        Ok(match operation {
            "ListFunctions" => vec![Authorization::new(&action, "*")],
            "CreateFunction" => {
                let arn = function(&string(&body["FunctionName"]));
                let tags = string_map(&body["Tags"]);
                let mut out = vec![Authorization::new(&action, arn.clone()).with_tags(&tags)];
                if !tags.is_empty() {
                    out.push(Authorization::new("lambda:TagResource", arn).with_tags(&tags));
                }
                out.extend(pass_role(&body));
                out
            }
            "UpdateFunctionConfiguration" => {
                let mut out = vec![Authorization::new(&action, function(name))];
                out.extend(pass_role(&body));
                out
            }
            "AddPermission" => vec![
                Authorization::new(&action, function(name))
                    .with("lambda:Principal", &string(&body["Principal"])),
            ],
            // GetFunction answers the function's tags only if the caller may lambda:ListTags
            // (else a TagsError in their place), and teardown reads our tags from it.
            "GetFunction" => vec![
                Authorization::new(&action, function(name)),
                Authorization::new("lambda:ListTags", function(name)),
            ],
            _ => vec![Authorization::new(&action, function(name))],
        })
    }
}

/// `iam:PassRole` of the function's role, when the request sets one.
fn pass_role(body: &Value) -> Option<Authorization> {
    body["Role"].as_str().map(|role| {
        Authorization::new("iam:PassRole", role).with("iam:PassedToService", "lambda.amazonaws.com")
    })
}

/// What an S3 request is authorised as (path style: `/BUCKET/KEY?QUERY`).
fn s3(partition: &str, request: &RecordedRequest) -> Result<Vec<Authorization>, String> {
    let path = decode(request.path());
    let path = path.strip_prefix('/').unwrap_or(&path);
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let query: BTreeMap<String, String> = form_urlencoded::parse(request.query().as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "x-id")
        .collect();
    let has = |name: &str| query.contains_key(name);
    let method = request.method.as_str();
    if bucket.is_empty() {
        return match method {
            "GET" => Ok(vec![Authorization::new("s3:ListAllMyBuckets", "*")]),
            _ => Err(format!("unknown S3 request {method} /")),
        };
    }
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let object = |key: &str| format!("{bucket_arn}/{key}");
    if key.is_empty() {
        let configured = [
            ("tagging", "BucketTagging"),
            ("versioning", "BucketVersioning"),
            ("policy", "BucketPolicy"),
            ("encryption", "EncryptionConfiguration"),
            ("notification", "BucketNotification"),
            ("publicAccessBlock", "BucketPublicAccessBlock"),
            ("ownershipControls", "BucketOwnershipControls"),
            ("location", "BucketLocation"),
        ]
        .into_iter()
        .find(|(q, _)| has(q));
        let action = match (method, configured) {
            ("PUT", Some((_, what))) => format!("s3:Put{what}"),
            ("GET", Some((_, what))) => format!("s3:Get{what}"),
            ("DELETE", Some(("tagging", _))) => "s3:PutBucketTagging".into(),
            ("DELETE", Some((_, what))) => format!("s3:Delete{what}"),
            ("PUT", None) => "s3:CreateBucket".into(),
            ("DELETE", None) => "s3:DeleteBucket".into(),
            ("GET", None) if has("versions") => "s3:ListBucketVersions".into(),
            ("GET" | "HEAD", None) => "s3:ListBucket".into(),
            ("POST", None) if has("delete") => {
                return Ok(delete_objects(request)
                    .into_iter()
                    .map(|(key, version)| {
                        let action = if version {
                            "s3:DeleteObjectVersion"
                        } else {
                            "s3:DeleteObject"
                        };
                        Authorization::new(action, object(&key))
                    })
                    .collect());
            }
            _ => return Err(format!("unknown S3 request {method} /{bucket}?{query:?}")),
        };
        let mut authorization = Authorization::new(&action, bucket_arn);
        if action == "s3:ListBucket"
            && let Some(prefix) = query.get("prefix")
        {
            authorization = authorization.with("s3:prefix", prefix);
        }
        return Ok(vec![authorization]);
    }
    let versioned = has("versionId");
    let action = match method {
        "PUT" | "POST" => "s3:PutObject",
        "GET" | "HEAD" if versioned => "s3:GetObjectVersion",
        "GET" | "HEAD" => "s3:GetObject",
        "DELETE" if has("uploadId") => "s3:AbortMultipartUpload",
        "DELETE" if versioned => "s3:DeleteObjectVersion",
        "DELETE" => "s3:DeleteObject",
        _ => return Err(format!("unknown S3 request {method} /{bucket}/{key}")),
    };
    Ok(vec![Authorization::new(action, object(key))])
}

/// The keys of a `DeleteObjects` body, each with whether it names a version.
fn delete_objects(request: &RecordedRequest) -> Vec<(String, bool)> {
    let body = request.body_text();
    body.split("<Object>")
        .skip(1)
        .map(|object| {
            let key = between(object, "<Key>", "</Key>").unwrap_or_default();
            let key = key
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
            (key, object.contains("<VersionId>"))
        })
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn string(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn string_map(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), string(v)))
        .collect()
}

/// The `Tags.member.N.Key/Value` of a query-protocol request.
fn member_tags(params: &BTreeMap<String, String>) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|(name, key)| {
            let n = name.strip_prefix("Tags.member.")?.strip_suffix(".Key")?;
            let value = params.get(&format!("Tags.member.{n}.Value"))?;
            Some((key.clone(), value.clone()))
        })
        .collect()
}

/// `*` any run of characters, `?` exactly one, as in an IAM `Resource` or `StringLike`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn values(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether one condition (operator, key, wanted values) holds for `context`.
fn condition_holds(
    operator: &str,
    key: &str,
    wanted: &[&str],
    context: &BTreeMap<String, Vec<String>>,
) -> bool {
    if key.starts_with("aws:ResourceTag/") {
        // Not visible in a request: see the module's comment.
        return true;
    }
    let found = context.get(key);
    match operator {
        "Null" => {
            let absent = found.is_none_or(Vec::is_empty);
            wanted.iter().all(|w| (*w == "true") == absent)
        }
        "StringEquals" => found.is_some_and(|f| f.iter().any(|v| wanted.contains(&v.as_str()))),
        "StringLike" => found.is_some_and(|f| f.iter().any(|v| wanted.iter().any(|w| glob(w, v)))),
        "ForAllValues:StringEquals" => {
            found.is_none_or(|f| f.iter().all(|v| wanted.contains(&v.as_str())))
        }
        _ => false,
    }
}

/// The Sid of the first statement of `policy` that allows `authorization`.
pub fn allowing_statement<'a>(policy: &'a Value, authorization: &Authorization) -> Option<&'a str> {
    policy["Statement"]
        .as_array()?
        .iter()
        .find_map(|statement| {
            let action = values(&statement["Action"])
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&authorization.action));
            let resource = values(&statement["Resource"])
                .iter()
                .any(|r| glob(r, &authorization.resource));
            let conditions = statement["Condition"].as_object().is_none_or(|operators| {
                operators.iter().all(|(operator, keys)| {
                    keys.as_object().is_some_and(|keys| {
                        keys.iter().all(|(key, wanted)| {
                            condition_holds(operator, key, &values(wanted), &authorization.context)
                        })
                    })
                })
            });
            (statement["Effect"] == "Allow" && action && resource && conditions)
                .then(|| statement["Sid"].as_str().unwrap_or("(no Sid)"))
        })
}

/// Every action `policy` names.
pub fn policy_actions(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| values(&s["Action"]))
        .map(str::to_owned)
        .collect()
}
