//! The provisioning workflow's two programs: the Step Functions definition and the build commands.
//!
//! Both end up as strings inside Terraform JSON, where `${` starts an interpolation; neither may
//! contain one (the tests make sure), so shell variables are written `$NAME`.

use tenant_plugin_sdk::prelude::*;

/// The event `source` of the workflow's result events.
pub const RESULT_SOURCE: &str = "saas.provisioning";
/// `detail-type` of the event that asks for a new tenant.
pub const SIGNUP_DETAIL_TYPE: &str = "Tenant Signup";
/// `detail-type` of the event that asks for a tenant's removal.
pub const OFFBOARDING_DETAIL_TYPE: &str = "Tenant Offboarding";
/// `detail-type` of the event the job puts for a provisioned tenant.
pub const PROVISIONED: &str = "Tenant Provisioned";
/// `detail-type` of the event the job puts for an offboarded tenant.
pub const OFFBOARDED: &str = "Tenant Offboarded";
/// `detail-type` of the event announcing a failed provisioning.
pub const PROVISIONING_FAILED: &str = "Tenant Provisioning Failed";

/// The build's environment variable holding the tenant id; set per execution by the workflow.
pub const TENANT_ID_VARIABLE: &str = "TENANT_ID";
/// The build's environment variable holding `signup` or `offboarding`; set per execution.
pub const ACTION_VARIABLE: &str = "JOB_ACTION";
/// The build's environment variable holding the role Terraform assumes.
pub const DEPLOY_ROLE_VARIABLE: &str = "DEPLOY_ROLE_ARN";

/// The Amazon States Language definition of the provisioning workflow. Its input is
/// `{"tenant_id": "<id>", "action": "signup" | "offboarding"}` (the signup and offboarding rules'
/// input transformers make it).
///
/// `ProvisionTenant` runs the CodeBuild project and waits for it (`.sync`); the job itself puts
/// the result event on the bus (it knows the step that failed). The workflow retries when the
/// account's concurrent build limit is reached, and once more after a failed build, because the
/// job is idempotent (`tenants add` of a present tenant changes nothing, `terraform apply`
/// converges) and most failures of a fresh apply are eventual-consistency errors. A build that
/// still fails, or dies before the job could speak (a timeout), is announced by the workflow;
/// the execution then fails, so it shows as failed in the console and metrics.
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
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
            "ResultPath": null,
        })
    };
    let mut announce_failure = result_event(
        PROVISIONING_FAILED,
        json!({"tenant_id.$": "$.tenant_id", "error.$": "$.failure.Error", "cause.$": "$.failure.Cause"}),
    );
    announce_failure["Next"] = json!("ProvisioningFailed");
    let action = |action: &str| json!({"Type": "Pass", "Result": action, "ResultPath": "$.action", "Next": "ProvisionTenant"});
    json!({
        "Comment": "Provisions or offboards one tenant: the CodeBuild job registers or removes it in the fleet registry, applies or destroys its stack, and announces the result on the tenant event bus.",
        "StartAt": "ChooseAction",
        "States": {
            "ChooseAction": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.detail_type", "StringEquals": OFFBOARDING_DETAIL_TYPE, "Next": "Offboard"}],
                "Default": "Signup",
            },
            "Signup": action("signup"),
            "Offboard": action("offboarding"),
            "ProvisionTenant": {
                "Type": "Task",
                "Resource": "arn:aws:states:::codebuild:startBuild.sync",
                "Parameters": {
                    "ProjectName": project_name,
                    "EnvironmentVariablesOverride": [
                        {"Name": TENANT_ID_VARIABLE, "Type": "PLAINTEXT", "Value.$": "$.tenant_id"},
                        {"Name": ACTION_VARIABLE, "Type": "PLAINTEXT", "Value.$": "$.action"},
                    ]
                },
                "ResultSelector": {"Id.$": "$.Build.Id", "Status.$": "$.Build.BuildStatus"},
                "ResultPath": "$.build",
                "Retry": [
                    {"ErrorEquals": ["CodeBuild.AccountLimitExceededException"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2.0},
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 60, "MaxAttempts": 1, "BackoffRate": 1.0},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "AnnounceFailure"}],
                "End": true,
            },
            "AnnounceFailure": announce_failure,
            "ProvisioningFailed": {
                "Type": "Fail",
                "Error": "TenantProvisioningFailed",
                "Cause": "The provisioning build failed; the failure event on the tenant event bus carries the build's error.",
            },
        }
    })
}

/// The provisioning job's script: checks the request, installs the pinned tools, registers or
/// removes the tenant in the fleet registry, synthesizes and applies or destroys its stack, and
/// announces the result (see the file's header for its environment).
pub const JOB_SCRIPT: &str = include_str!("../job/provision.sh");

/// The delimiter of the heredoc that carries [`JOB_SCRIPT`] in the buildspec.
const SCRIPT_DELIMITER: &str = "PROVISION_JOB";

/// The CodeBuild buildspec (YAML): writes [`JOB_SCRIPT`] to a file, unchanged, and runs it with
/// bash, so the build runs exactly the script the tests run.
pub fn buildspec() -> String {
    let mut yaml = format!(
        "version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands:\n      - |\n        cat > provision.sh <<'{SCRIPT_DELIMITER}'\n"
    );
    for line in JOB_SCRIPT.lines() {
        if !line.is_empty() {
            yaml.push_str("        ");
            yaml.push_str(line);
        }
        yaml.push('\n');
    }
    yaml.push_str(&format!(
        "        {SCRIPT_DELIMITER}\n      - bash provision.sh\n"
    ));
    yaml
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
                "ChooseAction",
                "Offboard",
                "ProvisionTenant",
                "ProvisioningFailed",
                "Signup"
            ]
        );
        assert!(states.contains_key(parsed["StartAt"].as_str().unwrap()));

        // Every transition lands on a declared state; every path ends.
        for (name, state) in states {
            for target in [
                &state["Next"],
                &state["Catch"][0]["Next"],
                &state["Default"],
                &state["Choices"][0]["Next"],
            ] {
                if let Some(target) = target.as_str() {
                    assert!(states.contains_key(target), "{name} goes to undeclared {target}");
                }
            }
            let ends = state["End"] == json!(true)
                || state["Type"] == "Fail"
                || state.get("Next").is_some()
                || state.get("Default").is_some();
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
            provision["Parameters"]["EnvironmentVariablesOverride"],
            json!([
                {"Name": "TENANT_ID", "Type": "PLAINTEXT", "Value.$": "$.tenant_id"},
                {"Name": "JOB_ACTION", "Type": "PLAINTEXT", "Value.$": "$.action"}
            ])
        );
        assert!(
            provision["Retry"]
                .as_array()
                .is_some_and(|retries| !retries.is_empty())
        );
        assert_eq!(provision["Catch"][0]["ErrorEquals"], json!(["States.ALL"]));
        assert_eq!(provision["Catch"][0]["Next"], "AnnounceFailure");
        assert_eq!(provision["End"], true, "the job announces its own success");
        assert_eq!(states["Signup"]["Result"], "signup");
        assert_eq!(states["Offboard"]["Result"], "offboarding");
        assert_eq!(
            states["ChooseAction"]["Choices"][0]["StringEquals"],
            OFFBOARDING_DETAIL_TYPE
        );

        let failure = &states["AnnounceFailure"];
        let entry = &failure["Parameters"]["Entries"][0];
        assert_eq!(failure["Resource"], "arn:aws:states:::events:putEvents");
        assert_eq!(entry["EventBusName"], "saas-tenant-events-dev");
        assert_eq!(entry["Source"], RESULT_SOURCE);
        assert_eq!(entry["DetailType"], PROVISIONING_FAILED);
        assert_eq!(entry["Detail"]["tenant_id.$"], "$.tenant_id");
        assert_eq!(states["AnnounceFailure"]["Next"], "ProvisioningFailed");
    }

    #[test]
    fn the_buildspec_writes_the_job_script_unchanged_and_runs_it() {
        let spec = buildspec();
        assert!(
            !spec.contains("${") && !spec.contains("%{"),
            "Terraform would interpolate the buildspec"
        );
        assert!(spec.starts_with("version: 0.2\n"));
        let body: Vec<&str> = spec
            .lines()
            .skip_while(|line| !line.ends_with("<<'PROVISION_JOB'"))
            .skip(1)
            .take_while(|line| line.trim() != SCRIPT_DELIMITER)
            .map(|line| line.strip_prefix("        ").unwrap_or(line))
            .collect();
        assert_eq!(body.join("\n") + "\n", JOB_SCRIPT);
        assert!(spec.ends_with("      - bash provision.sh\n"));
        for needed in [
            "tenant-host tenants add \"$TENANT_ID\" --registry \"$REGISTRY_URL\" --plugins \"$plugins\"",
            "tenant-host synth --tenant \"$TENANT_ID\" --registry \"$REGISTRY_URL\" --plugins \"$plugins\"",
            "sha256sum --check",
            "terraform -chdir=\"$stack\" apply -auto-approve -input=false",
            "terraform -chdir=\"$stack\" destroy -auto-approve -input=false",
            "tenant-host tenants release \"$TENANT_ID\"",
            "aws events put-events",
        ] {
            assert!(JOB_SCRIPT.contains(needed), "the job script runs {needed}");
        }
        for event in [RESULT_SOURCE, PROVISIONED, OFFBOARDED, PROVISIONING_FAILED] {
            assert!(
                JOB_SCRIPT.contains(&format!("\"{event}\"")),
                "the job script puts {event}"
            );
        }
    }
}
