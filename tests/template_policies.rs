//! template.yaml grants each function exactly what its code calls: every action of every role,
//! with the resources it applies to, is pinned here, so a widened policy (another action, a
//! broader resource, a managed policy, SAM's generated policies) fails. Also pinned: the signing
//! key and its key policy, the notify queue's wiring, the trail bucket's protections, and that
//! the template's default names are the ones cairn.yaml uses.

use cairn_shared::config::Config;
use cairn_test_support::repo_file;
use serde_yaml_ng::Value;
use serde_yaml_ng::value::TaggedValue;
use std::collections::BTreeMap;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn resource<'t>(template: &'t Value, name: &str) -> &'t Value {
    let resource = &template["Resources"][name];
    assert!(!resource.is_null(), "no resource {name}");
    resource
}

/// A template value as text, one string per alternative: `!Ref X` is `X`, `!GetAtt X.Arn` is
/// `X.Arn`, `!Sub` keeps its `${…}` text with its variables substituted, `!If` gives both
/// branches (with `!Ref AWS::NoValue` giving none).
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::Sequence(items) => items.iter().flat_map(texts).collect(),
        Value::Tagged(tagged) => match tag(tagged).as_str() {
            "!Ref" if tagged.value.as_str() == Some("AWS::NoValue") => vec![],
            "!Ref" | "!GetAtt" => texts(&tagged.value),
            "!If" => if_branches(tagged).flat_map(texts).collect(),
            "!Sub" => sub_texts(&tagged.value),
            other => panic!("unexpected tag {other}"),
        },
        other => panic!("unexpected value {other:?}"),
    }
}

fn tag(tagged: &TaggedValue) -> String {
    tagged.tag.to_string()
}

/// The two branches of `!If [condition, then, else]`.
fn if_branches(tagged: &TaggedValue) -> impl Iterator<Item = &Value> {
    let parts = tagged.value.as_sequence().expect("!If [c, a, b]");
    parts[1..].iter()
}

/// `!Sub text` or `!Sub [text, {name: value}]`, each variable replaced by each of its
/// alternatives: a reference as `${X}`, as in the short form, a plain string as itself.
fn sub_texts(value: &Value) -> Vec<String> {
    let (template, variables) = match value {
        Value::String(s) => return vec![s.clone()],
        Value::Sequence(parts) => (
            parts[0].as_str().expect("!Sub template"),
            parts[1].as_mapping().expect("!Sub variables"),
        ),
        other => panic!("unexpected !Sub {other:?}"),
    };
    let mut out = vec![template.to_owned()];
    for (name, value) in variables {
        let name = format!("${{{}}}", name.as_str().expect("variable name"));
        let alternatives = variable_texts(value);
        out = out
            .iter()
            .flat_map(|text| alternatives.iter().map(|v| text.replace(&name, v)))
            .collect();
    }
    out
}

fn variable_texts(value: &Value) -> Vec<String> {
    match value {
        Value::Tagged(tagged) if matches!(tag(tagged).as_str(), "!Ref" | "!GetAtt") => texts(value)
            .into_iter()
            .map(|v| format!("${{{v}}}"))
            .collect(),
        Value::Tagged(tagged) if tag(tagged) == "!If" => {
            if_branches(tagged).flat_map(variable_texts).collect()
        }
        other => texts(other),
    }
}

/// Every statement of a policy document, `!If` alternatives included.
fn statements(document: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for statement in document["Statement"].as_sequence().expect("Statement list") {
        match statement {
            Value::Tagged(tagged) if tag(tagged) == "!If" => {
                out.extend(if_branches(tagged).filter(|branch| branch.is_mapping()));
            }
            statement => out.push(statement),
        }
    }
    out
}

/// action → resources, over every Allow statement of a role's inline policies.
fn grants(template: &Value, role: &str) -> BTreeMap<String, Vec<String>> {
    let properties = &resource(template, role)["Properties"];
    assert!(
        properties["ManagedPolicyArns"].is_null(),
        "{role}: managed policies grant more than the code uses"
    );
    let mut grants: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for policy in properties["Policies"].as_sequence().expect("Policies") {
        for statement in statements(&policy["PolicyDocument"]) {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{role}");
            assert!(statement["Condition"].is_null(), "{role}: {statement:?}");
            for action in texts(&statement["Action"]) {
                let resources = grants.entry(action).or_default();
                resources.extend(texts(&statement["Resource"]));
                resources.sort();
            }
        }
    }
    grants
}

fn expected(table: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    table
        .iter()
        .map(|(action, resources)| {
            let mut resources: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
            resources.sort();
            (action.to_string(), resources)
        })
        .collect()
}

/// Log files and digests: `{prefix/}AWSLogs/` of the trail bucket, with or without a prefix.
const TRAIL_ROOT: &[&str] = &[
    "${TrailBucket.Arn}/${TrailKeyPrefix}/AWSLogs/*",
    "${TrailBucket.Arn}/AWSLogs/*",
];

#[test]
fn ingest_may_only_read_its_queue_and_stage() {
    assert_eq!(
        grants(&template(), "IngestRole"),
        expected(&[
            ("logs:CreateLogStream", &["IngestLogGroup.Arn"]),
            ("logs:PutLogEvents", &["IngestLogGroup.Arn"]),
            ("sqs:ReceiveMessage", &["IngestQueue.Arn"]),
            ("sqs:DeleteMessage", &["IngestQueue.Arn"]),
            ("sqs:GetQueueAttributes", &["IngestQueue.Arn"]),
            ("s3:PutObject", &["${StateBucket.Arn}/staging/*"]),
        ])
    );
}

/// ingest's queue: single events arrive in batches as large as Lambda allows (BatchSize at
/// most 10,000 for a standard queue, with a batching window of 1 to 300 seconds), only the
/// refused messages are handed back, those refused five times are kept in the dead-letter
/// queue, both queues are encrypted, and a batch in flight is not handed out again.
#[test]
fn ingest_takes_single_events_from_its_queue_in_batches() {
    let template = template();
    let events = &resource(&template, "IngestFunction")["Properties"]["Events"];
    let sqs = &events["Queued"];
    assert_eq!(sqs["Type"].as_str(), Some("SQS"));
    let sqs = &sqs["Properties"];
    assert_eq!(texts(&sqs["Queue"]), ["IngestQueue.Arn"]);
    assert_eq!(sqs["BatchSize"].as_u64(), Some(10_000));
    let window = sqs["MaximumBatchingWindowInSeconds"]
        .as_u64()
        .expect("a batching window");
    assert!((1..=300).contains(&window), "{window}");
    assert_eq!(
        texts(&sqs["FunctionResponseTypes"]),
        ["ReportBatchItemFailures"]
    );
    // The queue takes at most 2 of ingest's reserved concurrency (whose least default is 10).
    assert_eq!(sqs["ScalingConfig"]["MaximumConcurrency"].as_u64(), Some(2));
    let queue = &resource(&template, "IngestQueue")["Properties"];
    assert_eq!(
        texts(&queue["RedrivePolicy"]["deadLetterTargetArn"]),
        ["IngestDeadLetterQueue.Arn"]
    );
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(5));
    let timeout = template["Globals"]["Function"]["Timeout"]
        .as_u64()
        .expect("timeout");
    assert!(queue["VisibilityTimeout"].as_u64().expect("visibility") >= 6 * timeout);
    for name in ["IngestQueue", "IngestDeadLetterQueue"] {
        let properties = &resource(&template, name)["Properties"];
        assert_eq!(
            properties["SqsManagedSseEnabled"].as_bool(),
            Some(true),
            "{name}"
        );
    }
    assert_eq!(
        texts(&template["Outputs"]["IngestQueueUrl"]["Value"]),
        ["IngestQueue"]
    );
}

#[test]
fn deliver_may_take_staged_events_and_write_log_files() {
    let template = template();
    let mut put: Vec<&str> = vec![
        // Re-staging what another shard count staged (create-only).
        "${StateBucket.Arn}/staging/*",
        "${StateBucket.Arn}/deliver/*",
        "${StateBucket.Arn}/public-keys.json",
        "${StateBucket.Arn}/history/*",
        "${StateBucket.Arn}/quarantine/*",
        "${StateBucket.Arn}/insights/*",
        "${StateBucket.Arn}/alerts/CloudTrail-Insight/*",
    ];
    put.extend(TRAIL_ROOT);
    let mut get: Vec<&str> = vec![
        "${StateBucket.Arn}/staging/*",
        "${StateBucket.Arn}/deliver/*",
        "${StateBucket.Arn}/public-keys.json",
        "${StateBucket.Arn}/insights/*",
    ];
    get.extend(TRAIL_ROOT);
    assert_eq!(
        grants(&template, "DeliverRole"),
        expected(&[
            ("logs:CreateLogStream", &["DeliverLogGroup.Arn"]),
            ("logs:PutLogEvents", &["DeliverLogGroup.Arn"]),
            ("s3:ListBucket", &["StateBucket.Arn"]),
            ("s3:GetObject", &get),
            (
                "s3:DeleteObject",
                &[
                    "${StateBucket.Arn}/staging/*",
                    "${StateBucket.Arn}/deliver/*",
                ],
            ),
            ("s3:PutObject", &put),
            ("kms:GenerateDataKey", &["TrailKmsKeyArn"]),
        ])
    );
}

/// The trail's streams, as CloudTrail names them and as the role policy AWS documents for
/// CloudTrail grants them (CloudTrail User Guide, "Role policy document for CloudTrail to use
/// CloudWatch Logs for monitoring": `log-stream:111111111111_CloudTrail_us-east-2*` for the
/// account's trails, `log-stream:o-exampleorgid_*` for an organization trail of organization
/// o-exampleorgid): `{account}_CloudTrail_{region}`, or with TrailOrganizationId in front.
const TRAIL_STREAMS: &[&str] = &[
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${TrailLogGroup}:log-stream:${AWS::AccountId}_CloudTrail_*",
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${TrailLogGroup}:log-stream:${TrailOrganizationId}_*",
];

#[test]
fn forward_may_read_log_files_and_put_to_the_trails_log_streams() {
    let template = template();
    let mut get: Vec<&str> = vec!["${StateBucket.Arn}/forward/progress/*"];
    get.extend(TRAIL_ROOT);
    let mut streams: Vec<&str> = vec!["ForwardLogGroup.Arn"];
    streams.extend(TRAIL_STREAMS);
    assert_eq!(
        grants(&template, "ForwardRole"),
        expected(&[
            ("logs:CreateLogStream", &streams),
            ("logs:PutLogEvents", &streams),
            ("s3:GetObject", &get),
            ("s3:ListBucket", &["StateBucket.Arn"]),
            (
                "s3:PutObject",
                &[
                    "${StateBucket.Arn}/forward/progress/*",
                    "${StateBucket.Arn}/alerts/*",
                ],
            ),
            ("sqs:SendMessage", &["ForwardDeadLetterQueue.Arn"]),
            ("kms:Decrypt", &["TrailKmsKeyArn"]),
        ])
    );
    // The organization's streams only for an organization trail, the account's otherwise.
    let policy = &resource(&template, "ForwardRole")["Properties"]["Policies"][0];
    let trail_logs = statements(&policy["PolicyDocument"])
        .into_iter()
        .find(|statement| statement["Sid"].as_str() == Some("TrailLogs"))
        .expect("statement TrailLogs");
    let Value::Tagged(sub) = &trail_logs["Resource"] else {
        panic!("TrailLogs' Resource is a !Sub");
    };
    let Value::Tagged(choice) = &sub.value[1]["Streams"] else {
        panic!("Streams is an !If");
    };
    assert_eq!(tag(choice), "!If");
    assert_eq!(choice.value[0].as_str(), Some("IsOrganizationTrail"));
    assert_eq!(texts(&choice.value[1]), ["${TrailOrganizationId}_*"]);
    assert_eq!(texts(&choice.value[2]), ["${AWS::AccountId}_CloudTrail_*"]);
    let organization_trail: Value =
        serde_yaml_ng::from_str(r#"!Not [!Equals [!Ref TrailOrganizationId, ""]]"#).unwrap();
    assert_eq!(
        template["Conditions"]["IsOrganizationTrail"],
        organization_trail
    );
}

#[test]
fn notify_may_read_its_queue_and_alerts_and_publish() {
    let template = template();
    let mut get: Vec<&str> = vec![
        "${StateBucket.Arn}/alerts/*",
        "${StateBucket.Arn}/notify/sent/*",
    ];
    get.extend(TRAIL_ROOT);
    assert_eq!(
        grants(&template, "NotifyRole"),
        expected(&[
            ("logs:CreateLogStream", &["NotifyLogGroup.Arn"]),
            ("logs:PutLogEvents", &["NotifyLogGroup.Arn"]),
            ("sqs:ReceiveMessage", &["NotifyQueue.Arn"]),
            ("sqs:DeleteMessage", &["NotifyQueue.Arn"]),
            ("sqs:GetQueueAttributes", &["NotifyQueue.Arn"]),
            ("sns:Publish", &["NoticeTopic", "AlertTopic"]),
            ("s3:GetObject", &get),
            ("s3:ListBucket", &["StateBucket.Arn"]),
            ("s3:PutObject", &["${StateBucket.Arn}/notify/sent/*"]),
        ])
    );
}

/// Each function runs as its own role and nothing else: no SAM `Policies` (which would make SAM
/// generate a role with managed policies) and every role used by exactly one function.
#[test]
fn each_function_has_a_role_of_its_own() {
    let template = template();
    for (function, role) in [
        ("IngestFunction", "IngestRole"),
        ("DeliverFunction", "DeliverRole"),
        ("ForwardFunction", "ForwardRole"),
        ("NotifyFunction", "NotifyRole"),
    ] {
        let function = resource(&template, function);
        let properties = &function["Properties"];
        assert_eq!(texts(&properties["Role"]), [format!("{role}.Arn")]);
        assert!(properties["Policies"].is_null());
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda")
        );
        let trust = &resource(&template, role)["Properties"]["AssumeRolePolicyDocument"];
        assert_eq!(
            texts(&statements(trust)[0]["Principal"]["Service"]),
            ["lambda.amazonaws.com"]
        );
    }
    let roles = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::IAM::Role"))
        .count();
    assert_eq!(roles, 4, "a role no function accounts for");
}

/// The key signs (RSA, SIGN_VERIFY), deliver alone may use it, and deliver is told which it is.
#[test]
fn only_deliver_may_sign_with_the_signing_key() {
    let template = template();
    let key = resource(&template, "SigningKey");
    assert_eq!(key["Properties"]["KeySpec"].as_str(), Some("RSA_2048"));
    assert_eq!(key["Properties"]["KeyUsage"].as_str(), Some("SIGN_VERIFY"));
    let policy = statements(&key["Properties"]["KeyPolicy"]);
    let principals: Vec<(Vec<String>, Vec<String>)> = policy
        .iter()
        .map(|statement| {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"));
            (
                texts(&statement["Principal"]["AWS"]),
                texts(&statement["Action"]),
            )
        })
        .collect();
    assert_eq!(
        principals,
        [
            (
                vec!["arn:${AWS::Partition}:iam::${AWS::AccountId}:root".to_owned()],
                vec!["kms:*".to_owned()]
            ),
            (
                vec!["DeliverRole.Arn".to_owned()],
                vec!["kms:Sign".to_owned(), "kms:GetPublicKey".to_owned()]
            ),
        ]
    );
    let deliver = &resource(&template, "DeliverFunction")["Properties"];
    assert_eq!(
        texts(&deliver["Environment"]["Variables"]["CAIRN_SIGNING_KEY"]),
        ["SigningKey.Arn"]
    );
}

/// A flood of ingest requests is throttled at a bound the deployer sets, not scaled out.
#[test]
fn ingest_runs_at_most_its_reserved_concurrency() {
    let template = template();
    let properties = &resource(&template, "IngestFunction")["Properties"];
    assert_eq!(
        texts(&properties["ReservedConcurrentExecutions"]),
        ["IngestReservedConcurrency"]
    );
    let parameter = &template["Parameters"]["IngestReservedConcurrency"];
    assert_eq!(parameter["Type"].as_str(), Some("Number"));
    // Never below what the queue may take: Lambda would throttle the queue's own batches.
    let queue_takes =
        properties["Events"]["Queued"]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
            .as_u64()
            .expect("the queue's maximum concurrency");
    assert_eq!(parameter["MinValue"].as_u64(), Some(queue_takes));
    assert!(
        parameter["Default"]
            .as_u64()
            .is_some_and(|n| n >= queue_takes)
    );
}

/// An Object Created event forward still fails on after Lambda's retries is kept for replay.
#[test]
fn forward_keeps_what_it_failed_on() {
    let template = template();
    let dead_letters = &resource(&template, "ForwardFunction")["Properties"]["DeadLetterQueue"];
    assert_eq!(dead_letters["Type"].as_str(), Some("SQS"));
    assert_eq!(
        texts(&dead_letters["TargetArn"]),
        ["ForwardDeadLetterQueue.Arn"]
    );
}

/// notify's trigger: the rule sends both kinds of object to the queue, only the rule may send
/// there, failures end in the dead-letter queue, and the mapping reports failures per item.
#[test]
fn notify_takes_its_events_from_the_queue() {
    let template = template();
    let pattern = &resource(&template, "NotifyRule")["Properties"]["EventPattern"];
    let either = pattern["detail"]["$or"].as_sequence().expect("$or");
    assert_eq!(texts(&either[0]["bucket"]["name"]), ["TrailBucketName"]);
    assert_eq!(texts(&either[1]["bucket"]["name"]), ["StateBucketName"]);
    assert_eq!(
        either[1]["object"]["key"][0]["prefix"].as_str(),
        Some("alerts/")
    );
    let queue = &resource(&template, "NotifyQueue")["Properties"];
    assert_eq!(
        texts(&queue["RedrivePolicy"]["deadLetterTargetArn"]),
        ["NotifyDeadLetterQueue.Arn"]
    );
    let policy =
        statements(&resource(&template, "NotifyQueuePolicy")["Properties"]["PolicyDocument"]);
    assert_eq!(policy.len(), 1);
    assert_eq!(
        texts(&policy[0]["Condition"]["ArnEquals"]["aws:SourceArn"]),
        ["NotifyRule.Arn"]
    );
    let events = &resource(&template, "NotifyFunction")["Properties"]["Events"];
    let sqs = &events["Created"]["Properties"];
    assert_eq!(texts(&sqs["Queue"]), ["NotifyQueue.Arn"]);
    assert_eq!(sqs["BatchSize"].as_u64(), Some(100));
    assert_eq!(sqs["MaximumBatchingWindowInSeconds"].as_u64(), Some(10));
    assert_eq!(
        texts(&sqs["FunctionResponseTypes"]),
        ["ReportBatchItemFailures"]
    );
    let timeout = template["Globals"]["Function"]["Timeout"]
        .as_u64()
        .expect("timeout");
    assert!(queue["VisibilityTimeout"].as_u64().expect("visibility") >= 6 * timeout);
}

/// Both buckets refuse plain HTTP; the trail bucket is versioned, private and sends its events
/// to EventBridge.
#[test]
fn the_buckets_are_private_and_tls_only() {
    let template = template();
    for (bucket, policy) in [
        ("StateBucket", "StateBucketPolicy"),
        ("TrailBucket", "TrailBucketPolicy"),
    ] {
        let properties = &resource(&template, bucket)["Properties"];
        let block = &properties["PublicAccessBlockConfiguration"];
        for setting in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[setting].as_bool(), Some(true), "{bucket} {setting}");
        }
        assert_eq!(
            properties["NotificationConfiguration"]["EventBridgeConfiguration"]
                ["EventBridgeEnabled"]
                .as_bool(),
            Some(true)
        );
        let document = &resource(&template, policy)["Properties"]["PolicyDocument"];
        let deny = statements(document);
        assert_eq!(deny[0]["Effect"].as_str(), Some("Deny"));
        assert_eq!(deny[0]["Action"].as_str(), Some("s3:*"));
        assert_eq!(
            deny[0]["Condition"]["Bool"]["aws:SecureTransport"].as_bool(),
            Some(false)
        );
        assert_eq!(
            texts(&deny[0]["Resource"]),
            [format!("{bucket}.Arn"), format!("${{{bucket}.Arn}}/*")]
        );
    }
    let trail = &resource(&template, "TrailBucket")["Properties"];
    assert_eq!(
        trail["VersioningConfiguration"]["Status"].as_str(),
        Some("Enabled")
    );
}

/// The template's default names are cairn.yaml's, so a deployment with the defaults creates
/// and grants what the functions will use.
#[test]
fn the_templates_names_are_cairn_yamls() {
    let config = Config::load(&repo_file("cairn.yaml")).expect("cairn.yaml");
    let raw: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(repo_file("cairn.yaml")).expect("cairn.yaml"),
    )
    .expect("cairn.yaml is YAML");
    let template = template();
    let default = |name: &str| {
        texts(&template["Parameters"][name]["Default"])
            .pop()
            .unwrap_or_else(|| panic!("parameter {name} has no default"))
    };
    assert_eq!(default("StateBucketName"), config.state_bucket);
    let trail = config
        .trails
        .iter()
        .find(|trail| trail.bucket() == default("TrailBucketName"))
        .expect("a trail of cairn.yaml delivers to the template's trail bucket");
    assert_eq!(default("TrailKeyPrefix"), trail.prefix().unwrap_or(""));
    assert_eq!(
        default("TrailOrganizationId"),
        trail.organization_id().unwrap_or("")
    );
    // The accounts the Athena table projects: the trail's own, as it is not an organization's.
    assert_eq!(default("TrailAccountIds"), config.account_id);
    assert_eq!(
        trail.cloud_watch_logs_log_group_name(),
        Some(default("TrailLogGroupName").as_str())
    );
    let topic_name = |arn: &str| arn.rsplit(':').next().expect("name").to_owned();
    assert_eq!(
        trail.sns_topic_arn().map(topic_name),
        Some(default("NoticeTopicName"))
    );
    assert_eq!(
        raw["alertTopicArn"].as_str().map(topic_name),
        Some(default("AlertTopicName")),
        "cairn.yaml's alertTopicArn"
    );
}

/// With ProducerOrganizationId, the organization's principals may call ingest's Function URL,
/// signed, and nobody else: each statement is for any principal of that organization only, the
/// URL one for IAM auth alone, and the invoke one only through the URL.
#[test]
fn only_the_producer_organization_may_call_the_function_url() {
    let template = template();
    let statements = [
        (
            "IngestUrlOrganizationPermission",
            "lambda:InvokeFunctionUrl",
            ("FunctionUrlAuthType", "AWS_IAM"),
        ),
        (
            "IngestInvokeOrganizationPermission",
            "lambda:InvokeFunction",
            ("InvokedViaFunctionUrl", "true"),
        ),
    ];
    for (name, action, (scope, value)) in statements {
        let permission = resource(&template, name);
        assert_eq!(
            permission["Condition"].as_str(),
            Some("HasProducerOrganization"),
            "{name}"
        );
        let properties = permission["Properties"].as_mapping().expect("properties");
        let pinned: BTreeMap<String, Vec<String>> = properties
            .iter()
            .map(|(key, value)| (key.as_str().expect("a key").to_owned(), texts(value)))
            .collect();
        assert_eq!(
            pinned,
            expected(&[
                ("FunctionName", &["IngestFunction.Arn"]),
                ("Action", &[action]),
                ("Principal", &["*"]),
                ("PrincipalOrgID", &["ProducerOrganizationId"]),
                (scope, &[value]),
            ]),
            "{name}"
        );
    }
    let others: Vec<&str> = template["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Lambda::Permission"))
        .filter(|(_, resource)| texts(&resource["Properties"]["Principal"]) == ["*"])
        .map(|(name, _)| name.as_str().expect("a name"))
        .collect();
    assert_eq!(
        others,
        [
            "IngestUrlOrganizationPermission",
            "IngestInvokeOrganizationPermission"
        ],
        "no other permission is open to any principal"
    );
    let parameter = &template["Parameters"]["ProducerOrganizationId"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
    assert_eq!(
        parameter["AllowedPattern"].as_str(),
        Some("^$|^o-[a-z0-9]{10,32}$")
    );
}
