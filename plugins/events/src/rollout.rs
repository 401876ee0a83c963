//! The fleet rollout state machine: applies the changed tenant stacks, one CodeBuild build per
//! stack, in canary phases, each a Step Functions Distributed Map over the same list in S3.
//!
//! The list is what `tenant-host plan-rollout --format json` prints (a JSON array of steps, each
//! with its `tenant` and `phase`), uploaded by the platform's CI; an execution's input names it:
//! `{"bucket": "...", "key": "..."}`. The phases run in order: `canary` (one stack, alone, no
//! failure tolerated), `percentage` and `rest` (up to `rollout-max-concurrency` builds at once,
//! failing when more than `rollout-tolerated-failure-percent` of a phase's items fail). A phase
//! that fails stops the rollout: the later phases never start. Each phase reads the whole list
//! and lets the items of other phases (and the central stack, applied by CI before the rollout)
//! succeed without work, so one list serves every phase.

use crate::workflow::{ACTION_VARIABLE, TENANT_ID_VARIABLE};
use tenant_plugin_sdk::prelude::*;

/// The job action the rollout's builds run: synthesize and apply one existing tenant's stack.
pub const ROLLOUT_ACTION: &str = "rollout";

/// How the rollout runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutLimits {
    /// Builds at once in the percentage and rest phases.
    pub max_concurrency: u64,
    /// Percentage of failed items a phase tolerates before it fails and stops the rollout.
    pub tolerated_failure_percent: u64,
}

/// The Amazon States Language definition of the rollout state machine.
pub fn definition(project_name: &str, limits: RolloutLimits) -> Value {
    // State names are unique across the whole machine, nested ones included.
    let phase = |name: &str, phase: &str, concurrency: u64, tolerated: u64, next: Option<&str>| {
        let (in_phase, other, apply) = (
            format!("{name}InPhase"),
            format!("{name}OtherPhase"),
            format!("{name}ApplyStack"),
        );
        let mut state = json!({
            "Type": "Map",
            "Comment": format!("Applies the stacks of the `{phase}` phase; the other items succeed without work."),
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
            },
            "ItemSelector": {"step.$": "$$.Map.Item.Value"},
            "MaxConcurrency": concurrency,
            "ToleratedFailurePercentage": tolerated,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": in_phase,
                "States": {
                    in_phase.clone(): {
                        "Type": "Choice",
                        "Choices": [{
                            "And": [
                                {"Variable": "$.step.phase", "IsString": true},
                                {"Variable": "$.step.phase", "StringEquals": phase},
                            ],
                            "Next": apply,
                        }],
                        "Default": other,
                    },
                    other.clone(): {"Type": "Succeed"},
                    apply.clone(): {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::codebuild:startBuild.sync",
                        "Parameters": {
                            "ProjectName": project_name,
                            "EnvironmentVariablesOverride": [
                                {"Name": TENANT_ID_VARIABLE, "Type": "PLAINTEXT", "Value.$": "$.step.tenant"},
                                {"Name": ACTION_VARIABLE, "Type": "PLAINTEXT", "Value": ROLLOUT_ACTION},
                            ],
                        },
                        "Retry": [
                            {"ErrorEquals": ["CodeBuild.AccountLimitExceededException"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2.0},
                        ],
                        "ResultPath": null,
                        "End": true,
                    },
                },
            },
            "ResultPath": null,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RolloutStopped"}],
        });
        match next {
            Some(next) => state["Next"] = json!(next),
            None => state["End"] = json!(true),
        }
        state
    };
    json!({
        "Comment": "Rolls the changed tenant stacks out in canary phases: one stack, then a percentage, then the rest; a phase failing beyond its tolerance stops the rollout.",
        "StartAt": "Canary",
        "States": {
            "Canary": phase("Canary", "canary", 1, 0, Some("Percentage")),
            "Percentage": phase("Percentage", "percentage", limits.max_concurrency, limits.tolerated_failure_percent, Some("Rest")),
            "Rest": phase("Rest", "rest", limits.max_concurrency, limits.tolerated_failure_percent, None),
            "RolloutStopped": {
                "Type": "Fail",
                "Error": "RolloutStopped",
                "Cause": "A phase failed beyond its tolerated failure percentage; later phases did not start. The failed builds are in the phase's Map Run.",
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RolloutLimits = RolloutLimits {
        max_concurrency: 25,
        tolerated_failure_percent: 5,
    };

    #[test]
    fn three_phases_read_the_list_and_stop_on_failure() {
        let rendered = definition("saas-tenant-provisioner-dev", LIMITS).to_string();
        assert!(
            !rendered.contains("${"),
            "Terraform would interpolate the definition"
        );
        let definition: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(definition["StartAt"], "Canary");
        let states = &definition["States"];
        for (name, phase, concurrency, tolerated, next) in [
            ("Canary", "canary", 1, 0, json!("Percentage")),
            ("Percentage", "percentage", 25, 5, json!("Rest")),
            ("Rest", "rest", 25, 5, Value::Null),
        ] {
            let map = &states[name];
            assert_eq!(map["Type"], "Map");
            assert_eq!(map["ItemReader"]["Resource"], "arn:aws:states:::s3:getObject");
            assert_eq!(map["ItemProcessor"]["ProcessorConfig"]["Mode"], "DISTRIBUTED");
            assert_eq!(map["MaxConcurrency"], concurrency, "{name}");
            assert_eq!(map["ToleratedFailurePercentage"], tolerated, "{name}");
            assert_eq!(map["Catch"][0]["Next"], "RolloutStopped");
            assert_eq!(map["Next"], next, "{name}");
            let states = &map["ItemProcessor"]["States"];
            let choice = &states[format!("{name}InPhase")]["Choices"][0];
            assert_eq!(choice["And"][1]["StringEquals"], phase);
            assert_eq!(choice["Next"], format!("{name}ApplyStack"));
            let apply = &states[format!("{name}ApplyStack")];
            assert_eq!(apply["Parameters"]["ProjectName"], "saas-tenant-provisioner-dev");
            assert_eq!(
                apply["Parameters"]["EnvironmentVariablesOverride"][1]["Value"],
                ROLLOUT_ACTION
            );
        }
        assert_eq!(states["Rest"]["End"], true);
    }
}
