//! template.yaml as CloudFormation deploys it: AWS's own SAM translator (scripts/sam-transform.py,
//! in the tools venv) expands the serverless resources, and each function's triggers, role,
//! environment and layer are checked in the result.
//!
//! scripts/test.sh installs the translator and sets CAIRN_SAM_TRANSLATOR, which makes this test
//! required; a plain `cargo test` without the tools says it did not run.

use std::process::Command;

use cairn_test_support::repo_file;
use serde_json::{Value, json};

/// The transformed template, or `None` (said on stderr) when the translator is not installed and
/// this run does not require it.
fn transformed() -> Option<Value> {
    let python = repo_file(".venv-tools/bin/python");
    let required = std::env::var_os("CAIRN_SAM_TRANSLATOR").is_some();
    let output = Command::new(&python)
        .arg(repo_file("scripts/sam-transform.py"))
        .arg(repo_file("template.yaml"))
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Some(serde_json::from_slice(&output.stdout).expect("the translator prints JSON"))
        }
        Ok(output)
            if !required
                && String::from_utf8_lossy(&output.stderr)
                    .contains("No module named 'samtranslator'") =>
        {
            eprintln!(
                "NOT RUN: the SAM translator is not in .venv-tools; run scripts/tools.sh install"
            );
            None
        }
        Ok(output) => panic!(
            "scripts/sam-transform.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) if !required => {
            eprintln!(
                "NOT RUN: {} ({error}); run scripts/tools.sh install",
                python.display()
            );
            None
        }
        Err(error) => panic!("{}: {error}", python.display()),
    }
}

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().expect("Resources")
}

/// The one resource of `kind` whose properties hold `property` = `value`.
fn one_with<'t>(template: &'t Value, kind: &str, property: &str, value: &Value) -> &'t Value {
    let found: Vec<&Value> = resources(template)
        .values()
        .filter(|resource| resource["Type"] == kind && &resource["Properties"][property] == value)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{kind} with {property} = {value}: {found:?}"
    );
    found[0]
}

fn get_att(resource: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [resource, attribute]})
}

fn reference(name: &str) -> Value {
    json!({"Ref": name})
}

#[test]
fn every_function_runs_the_packaged_bootstrap_with_its_role_and_the_config_layer() {
    let Some(template) = transformed() else {
        return;
    };
    let layers: Vec<&String> = resources(&template)
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Lambda::LayerVersion")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(layers.len(), 1, "one layer: cairn.yaml");
    let layer = &resources(&template)[layers[0].as_str()]["Properties"];
    assert_eq!(layer["CompatibleArchitectures"], json!(["arm64"]));
    assert_eq!(layer["CompatibleRuntimes"], json!(["provided.al2023"]));
    let functions: Vec<&String> = resources(&template)
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Lambda::Function")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        functions,
        [
            "DeliverFunction",
            "ForwardFunction",
            "IngestFunction",
            "NotifyFunction"
        ]
    );
    for name in functions {
        let function = &resources(&template)[name.as_str()];
        let binary = name.trim_end_matches("Function").to_lowercase();
        // Metadata also carries checkov's reasoned skips, which the build ignores.
        let metadata = &function["Metadata"];
        assert_eq!(metadata["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            metadata["BuildProperties"],
            json!({"Binary": binary}),
            "{name}"
        );
        let properties = &function["Properties"];
        assert_eq!(properties["Runtime"], "provided.al2023", "{name}");
        assert_eq!(properties["Architectures"], json!(["arm64"]), "{name}");
        assert_eq!(properties["Handler"], "bootstrap", "{name}");
        let role = name.replace("Function", "Role");
        assert_eq!(properties["Role"], get_att(&role, "Arn"), "{name}");
        assert_eq!(
            properties["Layers"],
            json!([reference(layers[0])]),
            "{name}"
        );
        assert_eq!(
            properties["Environment"]["Variables"]["CAIRN_CONFIG"], "/opt/cairn.yaml",
            "{name}"
        );
        let log_group = name.replace("Function", "LogGroup");
        assert_eq!(
            properties["LoggingConfig"]["LogGroup"],
            reference(&log_group),
            "{name}"
        );
        assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON", "{name}");
    }
    // Only deliver signs: the signing key is in its environment alone.
    for (name, resource) in resources(&template) {
        let signs =
            !resource["Properties"]["Environment"]["Variables"]["CAIRN_SIGNING_KEY"].is_null();
        assert_eq!(signs, name == "DeliverFunction", "{name}");
    }
}

#[test]
fn each_function_has_its_trigger() {
    let Some(template) = transformed() else {
        return;
    };
    // ingest: its Function URL, IAM-authenticated.
    let url = one_with(
        &template,
        "AWS::Lambda::Url",
        "TargetFunctionArn",
        &reference("IngestFunction"),
    );
    assert_eq!(url["Properties"]["AuthType"], "AWS_IAM");
    // deliver: the schedule.
    let targets_deliver = json!([{"Arn": get_att("DeliverFunction", "Arn"), "Id": "DeliverFunctionScheduleLambdaTarget"}]);
    let schedule = one_with(&template, "AWS::Events::Rule", "Targets", &targets_deliver);
    assert_eq!(
        schedule["Properties"]["ScheduleExpression"],
        reference("DeliveryRate")
    );
    // forward: the trail bucket's Object Created events.
    let targets_forward = json!([{"Arn": get_att("ForwardFunction", "Arn"), "Id": "ForwardFunctionLogFileCreatedLambdaTarget"}]);
    let created = one_with(&template, "AWS::Events::Rule", "Targets", &targets_forward);
    assert_eq!(
        created["Properties"]["EventPattern"],
        json!({
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [reference("TrailBucketName")]}}
        })
    );
    // EventBridge may invoke deliver and forward from their own rules only.
    for (function, rule) in [
        ("DeliverFunction", "DeliverFunctionSchedule"),
        ("ForwardFunction", "ForwardFunctionLogFileCreated"),
    ] {
        let permission = one_with(
            &template,
            "AWS::Lambda::Permission",
            "SourceArn",
            &get_att(rule, "Arn"),
        );
        assert_eq!(
            permission["Properties"]["Principal"],
            "events.amazonaws.com"
        );
        assert_eq!(
            permission["Properties"]["FunctionName"],
            reference(function)
        );
    }
    // notify: its queue, reporting failed items one by one.
    let mapping = one_with(
        &template,
        "AWS::Lambda::EventSourceMapping",
        "FunctionName",
        &reference("NotifyFunction"),
    );
    assert_eq!(
        mapping["Properties"]["EventSourceArn"],
        get_att("NotifyQueue", "Arn")
    );
    assert_eq!(
        mapping["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    // ingest: its queue too, in batches as large as Lambda allows, reporting failed items.
    let mapping = one_with(
        &template,
        "AWS::Lambda::EventSourceMapping",
        "FunctionName",
        &reference("IngestFunction"),
    );
    assert_eq!(
        mapping["Properties"]["EventSourceArn"],
        get_att("IngestQueue", "Arn")
    );
    assert_eq!(mapping["Properties"]["BatchSize"], 10_000);
    assert_eq!(
        mapping["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        mapping["Properties"]["ScalingConfig"],
        json!({"MaximumConcurrency": 2})
    );
    // The optional routes into ingest keep their conditions through the transform.
    for (name, condition) in [
        ("CloudTrailEventsRule", "RoutesCloudTrailEvents"),
        ("CloudTrailEventsQueuePolicy", "RoutesCloudTrailEvents"),
        ("IngestUrlOrganizationPermission", "HasProducerOrganization"),
        (
            "IngestInvokeOrganizationPermission",
            "HasProducerOrganization",
        ),
    ] {
        assert_eq!(resources(&template)[name]["Condition"], condition, "{name}");
    }
}
