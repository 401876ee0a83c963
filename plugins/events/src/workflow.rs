//! The provisioning workflow's two programs: the Step Functions definition and the build commands.
//!
//! Both end up as strings inside Terraform JSON, where `${` starts an interpolation; neither may
//! contain one (the tests make sure), so shell variables are written `$NAME`.

use tenant_plugin_sdk::naming;
use tenant_plugin_sdk::prelude::*;

/// The event `source` of the workflow's result events.
pub const RESULT_SOURCE: &str = "saas.provisioning";
/// `detail-type` of the event announcing a provisioned tenant.
pub const PROVISIONED: &str = "Tenant Provisioned";
/// `detail-type` of the event announcing a failed provisioning.
pub const PROVISIONING_FAILED: &str = "Tenant Provisioning Failed";

/// The build's environment variable holding the tenant id; set per execution by the workflow.
pub const TENANT_ID_VARIABLE: &str = "TENANT_ID";
/// The build's environment variable holding the role Terraform assumes.
pub const DEPLOY_ROLE_VARIABLE: &str = "DEPLOY_ROLE_ARN";

/// The Amazon States Language definition of the provisioning workflow. Its input is
/// `{"tenant_id": "<id>"}` (the signup rule's input transformer makes it).
///
/// `ProvisionTenant` runs the CodeBuild project and waits for it (`.sync`); it retries when the
/// account's concurrent build limit is reached, and once more after a failed build, because
/// `terraform apply` is idempotent and most failures of a fresh apply are eventual-consistency
/// errors (a role not yet visible to the service that needs it). Any remaining error is caught
/// and announced on the bus; the execution then fails, so it shows as failed in the console and
/// metrics.
pub fn definition(project_name: &str, bus_name: &str) -> Value {
    let result_event = |detail_type: &str, detail: Value| {
        json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {
                "Entries": [{
                    "EventBusName": bus_name,
                    "Source": RESULT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail,
                }]
            },
            // `States.TaskFailed` also matches `EventBridge.FailedEntry`: a throttled PutEvents.
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
            "ResultPath": null,
        })
    };
    let mut announce_success = result_event(
        PROVISIONED,
        json!({"tenant_id.$": "$.tenant_id", "build_id.$": "$.build.Id"}),
    );
    announce_success["End"] = json!(true);
    let mut announce_failure = result_event(
        PROVISIONING_FAILED,
        json!({"tenant_id.$": "$.tenant_id", "error.$": "$.failure.Error", "cause.$": "$.failure.Cause"}),
    );
    announce_failure["Next"] = json!("ProvisioningFailed");
    json!({
        "Comment": "Provisions one tenant: synthesizes and applies its stack in CodeBuild, then announces the result on the tenant event bus.",
        "StartAt": "ProvisionTenant",
        "States": {
            "ProvisionTenant": {
                "Type": "Task",
                "Resource": "arn:aws:states:::codebuild:startBuild.sync",
                "Parameters": {
                    "ProjectName": project_name,
                    "EnvironmentVariablesOverride": [{
                        "Name": TENANT_ID_VARIABLE,
                        "Type": "PLAINTEXT",
                        "Value.$": "$.tenant_id",
                    }]
                },
                "ResultSelector": {"Id.$": "$.Build.Id", "Status.$": "$.Build.BuildStatus"},
                "ResultPath": "$.build",
                "Retry": [
                    {"ErrorEquals": ["CodeBuild.AccountLimitExceededException"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2},
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 60, "MaxAttempts": 1, "BackoffRate": 1},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "AnnounceFailure"}],
                "Next": "AnnounceSuccess",
            },
            "AnnounceSuccess": announce_success,
            "AnnounceFailure": announce_failure,
            "ProvisioningFailed": {
                "Type": "Fail",
                "Error": "TenantProvisioningFailed",
                "Cause": "The provisioning build failed; the failure event on the tenant event bus carries the build's error.",
            },
        }
    })
}

/// The CodeBuild buildspec (YAML) that provisions the tenant named by `$TENANT_ID`.
///
/// The commands, in order: refuse a tenant id outside `[a-z0-9-]` (it comes from an event and is
/// used in a shell and a path); synthesize the tenant's stack; point the stack's AWS provider at
/// the deploy role through a Terraform override file, with the tenant id as a session tag so the
/// deploy role's policies can pin the session to that tenant's resources; then `init` and
/// `apply`. The backend keeps the build's own credentials, so only the build role needs the state
/// bucket.
pub fn buildspec(suffix: &str) -> String {
    let stack_dir = format!(
        "cdktf.out/stacks/{}",
        naming::tenant_stack_name("$TENANT_ID", suffix)
    );
    let override_file = format!("{stack_dir}/deploy_role_override.tf.json");
    let commands = [
        r#"case "$TENANT_ID" in ""|*[!a-z0-9-]*) echo "refusing tenant id '$TENANT_ID': expected [a-z0-9-]+" >&2; exit 1;; esac"#.to_owned(),
        r#"tenant-host synth --tenant "$TENANT_ID""#.to_owned(),
        format!(
            r#"printf '{{"provider":{{"aws":[{{"assume_role":[{{"role_arn":"%s","session_name":"provision-%s","tags":{{"TenantId":"%s"}}}}]}}]}}}}\n' "$DEPLOY_ROLE_ARN" "$TENANT_ID" "$TENANT_ID" > "{override_file}""#
        ),
        format!(r#"terraform -chdir="{stack_dir}" init -input=false"#),
        format!(r#"terraform -chdir="{stack_dir}" apply -auto-approve -input=false"#),
    ];
    let mut yaml = String::from("version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands:\n");
    for command in commands {
        yaml.push_str(&format!("      - {}\n", yaml_single_quoted(&command)));
    }
    yaml
}

/// A YAML single-quoted scalar: no escapes but `''` for `'`, so shell text survives unchanged.
fn yaml_single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_a_complete_state_machine() {
        let rendered = definition("saas-tenant-provisioner-dev", "saas-tenant-events-dev").to_string();
        assert!(
            !rendered.contains("${"),
            "Terraform would interpolate the definition"
        );
        let parsed: Value = serde_json::from_str(&rendered).expect("the definition is JSON");
        let states = parsed["States"].as_object().expect("States is an object");
        let names: Vec<&str> = states.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "AnnounceFailure",
                "AnnounceSuccess",
                "ProvisionTenant",
                "ProvisioningFailed"
            ]
        );
        assert!(states.contains_key(parsed["StartAt"].as_str().unwrap()));

        // Every transition lands on a declared state; every path ends.
        for (name, state) in states {
            for target in [&state["Next"], &state["Catch"][0]["Next"]] {
                if let Some(target) = target.as_str() {
                    assert!(states.contains_key(target), "{name} goes to undeclared {target}");
                }
            }
            let ends = state["End"] == json!(true) || state["Type"] == "Fail" || state.get("Next").is_some();
            assert!(ends, "{name} neither ends nor continues");
        }

        let provision = &states["ProvisionTenant"];
        assert_eq!(
            provision["Resource"],
            "arn:aws:states:::codebuild:startBuild.sync"
        );
        assert_eq!(
            provision["Parameters"]["ProjectName"],
            "saas-tenant-provisioner-dev"
        );
        assert_eq!(
            provision["Parameters"]["EnvironmentVariablesOverride"][0],
            json!({"Name": "TENANT_ID", "Type": "PLAINTEXT", "Value.$": "$.tenant_id"})
        );
        assert!(
            provision["Retry"]
                .as_array()
                .is_some_and(|retries| !retries.is_empty())
        );
        assert_eq!(provision["Catch"][0]["ErrorEquals"], json!(["States.ALL"]));
        assert_eq!(provision["Catch"][0]["Next"], "AnnounceFailure");
        assert_eq!(provision["Next"], "AnnounceSuccess");

        for (state, detail_type) in [
            ("AnnounceSuccess", PROVISIONED),
            ("AnnounceFailure", PROVISIONING_FAILED),
        ] {
            let entry = &states[state]["Parameters"]["Entries"][0];
            assert_eq!(states[state]["Resource"], "arn:aws:states:::events:putEvents");
            assert_eq!(entry["EventBusName"], "saas-tenant-events-dev");
            assert_eq!(entry["Source"], RESULT_SOURCE);
            assert_eq!(entry["DetailType"], detail_type);
            assert_eq!(entry["Detail"]["tenant_id.$"], "$.tenant_id");
        }
        assert_eq!(states["AnnounceFailure"]["Next"], "ProvisioningFailed");
    }

    #[test]
    fn buildspec_runs_the_provisioning_commands_in_order() {
        let spec = buildspec("dev");
        assert!(!spec.contains("${"), "Terraform would interpolate the buildspec");
        assert!(spec.starts_with("version: 0.2\n"));
        let commands: Vec<&str> = spec
            .lines()
            .filter_map(|line| line.strip_prefix("      - "))
            .collect();
        let expectations = [
            "*[!a-z0-9-]*",
            r#"tenant-host synth --tenant "$TENANT_ID""#,
            r#"> "cdktf.out/stacks/tenant-$TENANT_ID-dev/deploy_role_override.tf.json""#,
            r#"terraform -chdir="cdktf.out/stacks/tenant-$TENANT_ID-dev" init -input=false"#,
            r#"terraform -chdir="cdktf.out/stacks/tenant-$TENANT_ID-dev" apply -auto-approve -input=false"#,
        ];
        assert_eq!(commands.len(), expectations.len());
        for (command, expected) in commands.iter().zip(expectations) {
            assert!(command.contains(expected), "{command} should contain {expected}");
        }
    }

    #[test]
    fn single_quoted_scalars_double_embedded_quotes() {
        assert_eq!(yaml_single_quoted("echo 'a': b"), "'echo ''a'': b'");
    }
}
