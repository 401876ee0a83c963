//! The central stack's part: the tenant event bus and the provisioning workflow a signup event
//! starts (EventBridge → Step Functions → CodeBuild → result event back on the bus).

use crate::delivery::{self, DeadLetterQueue, QUEUE_NAME_LIMIT, RULE_NAME_LIMIT, rule_delivery};
use crate::settings::{ConfigRepository, EventsSettings, Provisioner};
use crate::workflow::{self, DEPLOY_ROLE_VARIABLE, OFFBOARDING_DETAIL_TYPE, SIGNUP_DETAIL_TYPE};
use tenant_plugin_sdk::iam::{key_administration, logs_key_use};
use tenant_plugin_sdk::naming;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::encrypted_log_group;

/// IAM role names are at most 64 characters.
const ROLE_NAME_LIMIT: usize = 64;
/// The rule Step Functions creates in the account to learn when a `.sync` CodeBuild build ends.
const CODEBUILD_SYNC_RULE: &str = "StepFunctionsGetEventForCodeBuildStartBuildRule";

/// The event pattern of a tenant signup or offboarding request.
pub fn signup_pattern() -> Value {
    json!({"source": ["saas.tenant"], "detail-type": [SIGNUP_DETAIL_TYPE, OFFBOARDING_DETAIL_TYPE]})
}

/// Names of the central resources, derived from the environment suffix alone.
#[derive(Debug)]
struct Names {
    bus: String,
    signup_rule: String,
    signup_dlq: String,
    signup_role: String,
    state_machine: String,
    workflow_role: String,
    workflow_log_group: String,
    rollout_state_machine: String,
    rollout_role: String,
    rollout_log_group: String,
    project: String,
    project_role: String,
    project_log_group: String,
    key_alias: String,
    deployer_role: String,
}

impl Names {
    fn new(suffix: &str) -> Result<Self, PluginError> {
        let role = |name: String| delivery::within_limit(name, ROLE_NAME_LIMIT, "IAM role");
        let state_machine = format!("saas-tenant-provisioning-{suffix}");
        let project = format!("saas-tenant-provisioner-{suffix}");
        Ok(Self {
            bus: naming::EVENT_BUS.render_central(suffix),
            signup_rule: delivery::within_limit(
                format!("saas-tenant-signup-{suffix}"),
                RULE_NAME_LIMIT,
                "rule",
            )?,
            signup_dlq: delivery::within_limit(
                format!("saas-tenant-signup-dlq-{suffix}"),
                QUEUE_NAME_LIMIT,
                "queue",
            )?,
            signup_role: role(format!("saas-tenant-signup-invoker-{suffix}"))?,
            workflow_role: role(format!("saas-tenant-provisioning-workflow-{suffix}"))?,
            // The `/aws/vendedlogs/` prefix keeps Step Functions' log delivery from growing the
            // account's CloudWatch Logs resource policy with every log group.
            workflow_log_group: format!("/aws/vendedlogs/states/{state_machine}"),
            rollout_state_machine: format!("saas-tenant-rollout-{suffix}"),
            rollout_role: role(format!("saas-tenant-rollout-{suffix}"))?,
            rollout_log_group: format!("/aws/vendedlogs/states/saas-tenant-rollout-{suffix}"),
            project_role: role(project.clone())?,
            project_log_group: format!("/aws/codebuild/{project}"),
            key_alias: format!("alias/saas-tenant-events-{suffix}"),
            deployer_role: role(format!("saas-tenant-deployer-{suffix}"))?,
            state_machine,
            project,
        })
    }
}

/// The central stack fragment.
pub fn fragment(context: &StackContext<EventsSettings>) -> Result<Fragment, PluginError> {
    let suffix = &context.environment_suffix;
    let region = &context.region;
    let delivery = context.settings.delivery();
    let provisioner = Provisioner::from_settings(&context.settings).map_err(|problems| {
        let messages: Vec<String> = problems.into_iter().map(|p| p.message).collect();
        PluginError::InvalidSettings(messages.join("; "))
    })?;
    let names = Names::new(suffix)?;
    let tags = |name: &str| standard_tags(None, suffix, name);

    let mut fragment = Fragment::default();
    let caller = fragment.data("aws_caller_identity", "events", json!({}));
    let account = caller.attr("account_id");
    let log_group_arn = |name: &str| naming::log_group_arn(region, &account, name);

    let bus = fragment.resource(
        "aws_cloudwatch_event_bus",
        "tenant_events",
        json!({
            "name": names.bus,
            "description": "Tenant lifecycle events (signup, provisioning results) and events routed to tenant APIs.",
            "tags": tags(&names.bus),
        }),
    );
    let signup_rule = fragment.resource(
        "aws_cloudwatch_event_rule",
        "tenant_signup",
        json!({
            "name": names.signup_rule,
            "description": "Starts the provisioning workflow for every tenant signup and offboarding.",
            "event_bus_name": bus.attr("name"),
            "event_pattern": signup_pattern().to_string(),
            "tags": tags(&names.signup_rule),
        }),
    );

    // Key policy ARNs are spelt out rather than referenced: the log groups use the key, so a
    // reference back to them would be a cycle.
    let key_policy = PolicyDocument::new()
        .statement(key_administration("EnableIamPolicies", &account))
        .statement(logs_key_use(
            "EncryptProvisioningLogs",
            region,
            &[
                log_group_arn(&names.workflow_log_group),
                log_group_arn(&names.rollout_log_group),
                log_group_arn(&names.project_log_group),
            ],
        ))
        .statement(
            Statement::allow("EncryptSignupDeadLetters")
                .principal(json!({"Service": "events.amazonaws.com"}))
                .actions(&["kms:GenerateDataKey", "kms:Decrypt"])
                .resources(&["*"])
                .condition("ArnEquals", "aws:SourceArn", json!(signup_rule.attr("arn"))),
        );
    let key = fragment.resource(
        "aws_kms_key",
        "events",
        json!({
            "description": format!("Encrypts the tenant provisioning workflow's queue, logs and build ({suffix})."),
            "enable_key_rotation": true,
            "deletion_window_in_days": 7,
            "policy": key_policy.render(),
            "tags": tags(&names.key_alias),
        }),
    );
    fragment.resource(
        "aws_kms_alias",
        "events",
        json!({"name": names.key_alias, "target_key_id": key.attr("key_id")}),
    );
    let log_group = |fragment: &mut Fragment, local_name: &str, name: &str| {
        fragment.resource(
            "aws_cloudwatch_log_group",
            local_name,
            encrypted_log_group(name, provisioner.log_retention_days, &key.attr("arn"), tags(name)),
        )
    };

    // CodeBuild: runs `tenant-host synth` and `terraform apply` for one tenant.
    let project_logs = log_group(&mut fragment, "provisioner", &names.project_log_group);
    let deploy_role_arn = provisioner
        .deploy_role_arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/{}", names.deployer_role));
    let state_bucket = provisioner
        .state_bucket_name
        .clone()
        .unwrap_or_else(|| format!("saas-tenant-tfstate-{account}-{suffix}"));
    let registry_url = provisioner
        .registry_url
        .clone()
        .unwrap_or_else(|| format!("s3://{state_bucket}/fleet-registry/{suffix}"));
    let mut project_policy = PolicyDocument::new()
        .statement(
            Statement::allow("WriteBuildLogs")
                .actions(&["logs:CreateLogStream", "logs:PutLogEvents"])
                .resources(&[format!("{}:*", project_logs.attr("arn"))]),
        )
        .statement(
            Statement::allow("UseProvisioningKey")
                .actions(&[
                    "kms:Decrypt",
                    "kms:Encrypt",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                    "kms:DescribeKey",
                ])
                .resources(&[key.attr("arn")]),
        )
        .statement(
            Statement::allow("ListTerraformState")
                .actions(&["s3:ListBucket"])
                .resources(&[format!("arn:aws:s3:::{state_bucket}")]),
        )
        .statement(
            // DeleteObject releases Terraform's S3 lock file.
            Statement::allow("ReadWriteTerraformState")
                .actions(&["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
                .resources(&[format!("arn:aws:s3:::{state_bucket}/*")]),
        )
        .statement(
            Statement::allow("AssumeDeployRoleForOneTenant")
                .actions(&["sts:AssumeRole", "sts:TagSession"])
                .resources(&[&deploy_role_arn])
                .condition("ForAllValues:StringEquals", "aws:TagKeys", json!(["TenantId"])),
        );
    if let Some(repository) = &provisioner.build_image.ecr_repository_arn {
        project_policy = project_policy
            .statement(
                Statement::allow("AuthenticateToEcr")
                    .actions(&["ecr:GetAuthorizationToken"])
                    .resources(&["*"]),
            )
            .statement(
                Statement::allow("PullBuildImage")
                    .actions(&[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchGetImage",
                    ])
                    .resources(&[repository]),
            );
    }
    let project_role = service_role(
        &mut fragment,
        "provisioner",
        &names.project_role,
        "codebuild.amazonaws.com",
        &account,
        project_policy,
        tags(&names.project_role),
    );
    if provisioner.deploy_role_arn.is_none() {
        deployer_role(
            &mut fragment,
            &DeployerScope {
                name: &names.deployer_role,
                launcher_arn: &project_role.attr("arn"),
                account: &account,
                region,
                suffix,
                bus: &names.bus,
                state_bucket: &state_bucket,
            },
            tags(&names.deployer_role),
        );
    }
    // A private ECR image is pulled with the build role; CodeBuild pulls the others itself.
    let image_pull_credentials = if provisioner.build_image.ecr_repository_arn.is_some() {
        "SERVICE_ROLE"
    } else {
        "CODEBUILD"
    };
    // What the job script reads (see plugins/events/job/provision.sh); the workflow adds the
    // tenant and the action per build.
    let environment: Vec<Value> = [
        ("ENVIRONMENT_SUFFIX", suffix.as_str()),
        ("REGISTRY_URL", registry_url.as_str()),
        ("EVENT_BUS_NAME", names.bus.as_str()),
        (DEPLOY_ROLE_VARIABLE, deploy_role_arn.as_str()),
        ("TERRAFORM_VERSION", provisioner.tools.terraform_version.as_str()),
        ("TERRAFORM_SHA256", provisioner.tools.terraform_sha256.as_str()),
        ("TOOL_BUNDLE_URL", provisioner.tools.bundle_url.as_str()),
        ("TOOL_BUNDLE_SHA256", provisioner.tools.bundle_sha256.as_str()),
    ]
    .iter()
    .map(|(name, value)| json!({"name": name, "type": "PLAINTEXT", "value": value}))
    .collect();
    let project = fragment.resource(
        "aws_codebuild_project",
        "provisioner",
        json!({
            "name": names.project,
            "description": "Synthesizes and applies one tenant's stack; started by the provisioning workflow with TENANT_ID set.",
            "service_role": project_role.attr("arn"),
            "build_timeout": provisioner.build_timeout_minutes,
            "encryption_key": key.attr("arn"),
            "artifacts": [{"type": "NO_ARTIFACTS"}],
            "environment": [{
                "compute_type": "BUILD_GENERAL1_SMALL",
                "type": "LINUX_CONTAINER",
                "image": provisioner.build_image.image,
                "image_pull_credentials_type": image_pull_credentials,
                "privileged_mode": false,
                "environment_variable": environment,
            }],
            "logs_config": [{
                "cloudwatch_logs": [{"status": "ENABLED", "group_name": project_logs.attr("name")}],
                "s3_logs": [{"status": "DISABLED"}],
            }],
            "source": [source_block(&provisioner.config_repository, workflow::buildspec())],
            "tags": tags(&names.project),
        }),
    );

    // Step Functions: runs the build, retries, and announces the result on the bus.
    let workflow_logs = log_group(&mut fragment, "provisioning_workflow", &names.workflow_log_group);
    let workflow_role = service_role(
        &mut fragment,
        "provisioning_workflow",
        &names.workflow_role,
        "states.amazonaws.com",
        &account,
        build_runner_policy(&project.attr("arn"), region, &account).statement(
            Statement::allow("AnnounceProvisioningResult")
                .actions(&["events:PutEvents"])
                .resources(&[bus.attr("arn")]),
        ),
        tags(&names.workflow_role),
    );
    let state_machine = fragment.resource(
        "aws_sfn_state_machine",
        "provisioning",
        json!({
            "name": names.state_machine,
            "type": "STANDARD",
            "role_arn": workflow_role.attr("arn"),
            "definition": workflow::definition(&names.project, &names.bus).to_string(),
            "logging_configuration": [{
                "log_destination": format!("{}:*", workflow_logs.attr("arn")),
                "include_execution_data": true,
                "level": "ALL",
            }],
            "tracing_configuration": [{"enabled": true}],
            "tags": tags(&names.state_machine),
        }),
    );

    // Step Functions: the fleet rollout, one Distributed Map per canary phase.
    let rollout_logs = log_group(&mut fragment, "rollout", &names.rollout_log_group);
    let rollout_arn = format!(
        "arn:aws:states:{region}:{account}:stateMachine:{}",
        names.rollout_state_machine
    );
    let rollout_role = service_role(
        &mut fragment,
        "rollout",
        &names.rollout_role,
        "states.amazonaws.com",
        &account,
        build_runner_policy(&project.attr("arn"), region, &account)
            .statement(
                // A Distributed Map runs its items as child executions of this state machine.
                Statement::allow("RunPhaseItems")
                    .actions(&["states:StartExecution"])
                    .resources(&[&rollout_arn]),
            )
            .statement(
                Statement::allow("WatchPhaseItems")
                    .actions(&["states:DescribeExecution", "states:StopExecution"])
                    .resources(&[format!(
                        "arn:aws:states:{region}:{account}:execution:{}/*",
                        names.rollout_state_machine
                    )]),
            )
            .statement(
                Statement::allow("ReadRolloutLists")
                    .actions(&["s3:GetObject"])
                    .resources(&[format!("arn:aws:s3:::{state_bucket}/rollouts/*")]),
            ),
        tags(&names.rollout_role),
    );
    let rollout = fragment.resource(
        "aws_sfn_state_machine",
        "rollout",
        json!({
            "name": names.rollout_state_machine,
            "type": "STANDARD",
            "role_arn": rollout_role.attr("arn"),
            "definition": crate::rollout::definition(&names.project, provisioner.rollout).to_string(),
            "logging_configuration": [{
                "log_destination": format!("{}:*", rollout_logs.attr("arn")),
                "include_execution_data": true,
                "level": "ERROR",
            }],
            "tracing_configuration": [{"enabled": true}],
            "tags": tags(&names.rollout_state_machine),
        }),
    );

    // EventBridge: a signup starts one execution with `{"tenant_id": ...}` as input.
    let signup_role = service_role(
        &mut fragment,
        "signup_invoker",
        &names.signup_role,
        "events.amazonaws.com",
        &account,
        PolicyDocument::new().statement(
            Statement::allow("StartProvisioning")
                .actions(&["states:StartExecution"])
                .resources(&[state_machine.attr("arn")]),
        ),
        tags(&names.signup_role),
    );
    let signup_dlq = DeadLetterQueue {
        local_name: "tenant_signup_dlq",
        name: &names.signup_dlq,
        kms_key: &key.attr("arn"),
        rule: &signup_rule,
        account_id: &account,
        tags: tags(&names.signup_dlq),
    }
    .add_to(&mut fragment);
    fragment.resource(
        "aws_cloudwatch_event_target",
        "tenant_signup",
        delivery::target_body(
            &signup_rule,
            &bus.attr("name"),
            "provisioning-workflow",
            &state_machine.attr("arn"),
            delivery,
            &signup_dlq,
            json!({
                "role_arn": signup_role.attr("arn"),
                "input_transformer": [{
                    "input_paths": {"tenant_id": "$.detail.tenant_id", "detail_type": "$.detail-type"},
                    // Unquoted placeholders: EventBridge quotes string values itself.
                    "input_template": "{\"tenant_id\": <tenant_id>, \"detail_type\": <detail_type>}",
                }],
            }),
        ),
    );

    fragment.intent(
        AccessIntent::allow(
            &signup_role.attr("arn"),
            "states:StartExecution",
            &state_machine.attr("arn"),
        )
        .because("a signup starts the provisioning workflow with the invoker role"),
    );
    fragment.intent(
        rule_delivery("kms:GenerateDataKey", &key.attr("arn"), &signup_rule.attr("arn"))
            .context("kms:EncryptionContext:aws:sqs:arn", &signup_dlq.attr("arn"))
            .because("EventBridge encrypts the signup rule's undeliverable events with the provisioning key"),
    );
    for group in [&project_logs, &workflow_logs, &rollout_logs] {
        fragment.intent(AccessIntent::log_group_encryption(
            region,
            &key.attr("arn"),
            &group.attr("arn"),
        ));
    }

    fragment.output(
        "event_bus_name",
        json!(bus.attr("name")),
        "The tenant event bus; signups are put here.",
    );
    fragment.output(
        "event_bus_arn",
        json!(bus.attr("arn")),
        "ARN of the tenant event bus.",
    );
    fragment.output(
        "rollout_state_machine_arn",
        json!(rollout.attr("arn")),
        "The fleet rollout: start it with {\"bucket\", \"key\"} of a `tenant-host plan-rollout --format json` list.",
    );
    fragment.output(
        "provisioning_state_machine_arn",
        json!(state_machine.attr("arn")),
        "The workflow that provisions a tenant on signup.",
    );
    Ok(fragment)
}

/// The build's source. The buildspec is always inline, also with a repository, so whoever can
/// push to the configuration repository cannot change what the build role runs.
fn source_block(repository: &ConfigRepository, buildspec: String) -> Value {
    match repository {
        ConfigRepository::BuildImage => json!({"type": "NO_SOURCE", "buildspec": buildspec}),
        ConfigRepository::Git {
            source_type,
            location,
        } => json!({
            "type": source_type,
            "location": location,
            "git_clone_depth": 1,
            "buildspec": buildspec,
        }),
    }
}

/// What a state machine that runs the provisioning project needs: start and watch its builds,
/// learn when they end, deliver its logs and traces.
fn build_runner_policy(project_arn: &str, region: &str, account: &str) -> PolicyDocument {
    PolicyDocument::new()
        .statement(
            Statement::allow("RunProvisioningBuild")
                .actions(&[
                    "codebuild:StartBuild",
                    "codebuild:StopBuild",
                    "codebuild:BatchGetBuilds",
                ])
                .resources(&[project_arn]),
        )
        .statement(
            // `startBuild.sync` learns of the build's end through this Step Functions-managed rule.
            Statement::allow("ManageCodeBuildCompletionRule")
                .actions(&["events:PutTargets", "events:PutRule", "events:DescribeRule"])
                .resources(&[format!(
                    "arn:aws:events:{region}:{account}:rule/{CODEBUILD_SYNC_RULE}"
                )]),
        )
        .statement(
            // Log delivery and X-Ray APIs have no resource-level permissions.
            Statement::allow("DeliverExecutionLogs")
                .actions(&[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ])
                .resources(&["*"]),
        )
        .statement(
            Statement::allow("WriteTraces")
                .actions(&[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ])
                .resources(&["*"]),
        )
}

/// What the deployer role is scoped by.
struct DeployerScope<'a> {
    name: &'a str,
    /// The provisioning build's role, the only principal the deployer trusts.
    launcher_arn: &'a str,
    account: &'a str,
    region: &'a str,
    suffix: &'a str,
    bus: &'a str,
    state_bucket: &'a str,
}

/// IAM's policy variable for the session's tenant, escaped so that Terraform keeps it literal.
const SESSION_TENANT: &str = "$${aws:PrincipalTag/TenantId}";

/// The role the provisioning job's terraform assumes for one tenant. It trusts only the build
/// role, and only for a session tagged with exactly one `TenantId` (`aws:RequestTag` and
/// `aws:TagKeys` on `sts:TagSession`); every permission is scoped by that session tag: names
/// `tenant-<TenantId>-*`, resources tagged `TenantId=<TenantId>` (and new ones only with that
/// tag), and the Terraform state objects of that tenant's stack.
fn deployer_role(fragment: &mut Fragment, scope: &DeployerScope<'_>, tags: Value) -> Reference {
    let DeployerScope {
        account,
        region,
        suffix,
        ..
    } = *scope;
    let tenant_name = format!("tenant-{SESSION_TENANT}-*");
    let trust = PolicyDocument::new()
        .statement(
            Statement::allow("AssumeFromProvisioningBuild")
                .principal(json!({"AWS": scope.launcher_arn}))
                .actions(&["sts:AssumeRole"])
                .condition("StringLike", "sts:RoleSessionName", json!("provision-*")),
        )
        .statement(
            Statement::allow("TagSessionWithOneTenant")
                .principal(json!({"AWS": scope.launcher_arn}))
                .actions(&["sts:TagSession"])
                .condition("ForAllValues:StringEquals", "aws:TagKeys", json!(["TenantId"]))
                .condition("StringLike", "aws:RequestTag/TenantId", json!("?*"))
                .condition("Null", "aws:RequestTag/TenantId", json!("false")),
        );
    let tagged_for_session = json!(SESSION_TENANT);
    let policy = PolicyDocument::new()
        .statement(
            Statement::allow("ManageTenantNamedResources")
                .actions(&["s3:*", "dynamodb:*", "lambda:*", "logs:*", "sqs:*"])
                .resources(&[
                    format!("arn:aws:s3:::{tenant_name}"),
                    format!("arn:aws:dynamodb:{region}:{account}:table/{tenant_name}"),
                    format!("arn:aws:lambda:{region}:{account}:function:{tenant_name}"),
                    format!("arn:aws:logs:{region}:{account}:log-group:{tenant_name}"),
                    format!("arn:aws:sqs:{region}:{account}:{tenant_name}"),
                ]),
        )
        .statement(
            // A tenant role gets permissions only under a tenant boundary, so the deployer
            // cannot mint a role with more rights than a tenant's.
            Statement::allow("GrantTenantRolesOnlyWithinATenantBoundary")
                .actions(&[
                    "iam:CreateRole",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                    "iam:AttachRolePolicy",
                ])
                .resources(&[format!("arn:aws:iam::{account}:role/{tenant_name}")])
                .condition(
                    "StringLike",
                    "iam:PermissionsBoundary",
                    json!(format!("arn:aws:iam::{account}:policy/{tenant_name}")),
                ),
        )
        .statement(
            Statement::allow("ManageTenantRolesAndPolicies")
                .actions(&[
                    "iam:DeleteRole",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:PassRole",
                    "iam:CreatePolicy",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicy",
                    "iam:DeletePolicyVersion",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:TagPolicy",
                ])
                .resources(&[
                    format!("arn:aws:iam::{account}:role/{tenant_name}"),
                    format!("arn:aws:iam::{account}:policy/{tenant_name}"),
                ]),
        )
        .statement(
            Statement::allow("ManageTenantRoutingRule")
                .actions(&["events:*"])
                .resources(&[format!(
                    "arn:aws:events:{region}:{account}:rule/{}/{tenant_name}",
                    scope.bus
                )]),
        )
        .statement(
            Statement::allow("CreateOnlyNetworkResourcesTaggedForTheTenant")
                .actions(&["ec2:Create*", "ec2:AllocateAddress"])
                .resources(&["*"])
                .condition(
                    "StringEquals",
                    "aws:RequestTag/TenantId",
                    tagged_for_session.clone(),
                ),
        )
        .statement(
            Statement::allow("ManageNetworkResourcesTaggedForTheTenant")
                .actions(&["ec2:*"])
                .resources(&["*"])
                .condition(
                    "StringEquals",
                    "aws:ResourceTag/TenantId",
                    tagged_for_session.clone(),
                ),
        )
        .statement(
            // kms:CreateKey has no resource to name: AWS takes only Resource "*" for it, so the
            // request tag is what scopes it.
            Statement::allow("CreateOnlyKeysTaggedForTheTenant")
                .actions(&["kms:CreateKey"])
                .resources(&["*"])
                .condition(
                    "StringEquals",
                    "aws:RequestTag/TenantId",
                    tagged_for_session.clone(),
                ),
        )
        .statement(
            Statement::allow("ManageKeysTaggedForTheTenant")
                .actions(&["kms:*"])
                .resources(&[format!("arn:aws:kms:{region}:{account}:key/*")])
                .condition("StringEquals", "aws:ResourceTag/TenantId", tagged_for_session),
        )
        .statement(
            Statement::allow("ManageTenantKeyAlias")
                .actions(&["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"])
                .resources(&[format!("arn:aws:kms:{region}:{account}:alias/{tenant_name}")]),
        )
        .statement(
            // Terraform refreshes what it manages; describing reveals no tenant data.
            Statement::allow("DescribeForPlanning")
                .actions(&[
                    "ec2:Describe*",
                    "kms:ListAliases",
                    "logs:DescribeLogGroups",
                    "lambda:GetAccountSettings",
                    "sts:GetCallerIdentity",
                ])
                .resources(&["*"]),
        )
        .statement(
            Statement::allow("ReadWriteTheTenantStackState")
                .actions(&["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
                .resources(&[
                    format!(
                        "arn:aws:s3:::{}/*tenant-{SESSION_TENANT}-{suffix}.tfstate",
                        scope.state_bucket
                    ),
                    format!(
                        "arn:aws:s3:::{}/*tenant-{SESSION_TENANT}-{suffix}.tfstate.tflock",
                        scope.state_bucket
                    ),
                ]),
        );
    let role = fragment.resource(
        "aws_iam_role",
        "deployer",
        json!({"name": scope.name, "assume_role_policy": trust.render(), "tags": tags}),
    );
    fragment.resource(
        "aws_iam_role_policy",
        "deployer",
        json!({"name": scope.name, "role": role.attr("name"), "policy": policy.render()}),
    );
    role
}

/// A role `service` may assume only on behalf of this account, with one inline policy.
fn service_role(
    fragment: &mut Fragment,
    local_name: &str,
    name: &str,
    service: &str,
    account: &str,
    policy: PolicyDocument,
    tags: Value,
) -> Reference {
    let trust = PolicyDocument::new().statement(
        Statement::allow("TrustServiceForThisAccount")
            .principal(json!({"Service": service}))
            .actions(&["sts:AssumeRole"])
            .condition("StringEquals", "aws:SourceAccount", json!(account)),
    );
    let role = fragment.resource(
        "aws_iam_role",
        local_name,
        json!({"name": name, "assume_role_policy": trust.render(), "tags": tags}),
    );
    fragment.resource(
        "aws_iam_role_policy",
        local_name,
        json!({"name": name, "role": role.attr("name"), "policy": policy.render()}),
    );
    role
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Events;
    use crate::settings::{BUILD_IMAGE, CONFIG_REPOSITORY, DEPLOY_ROLE_ARN};
    use std::collections::BTreeMap;
    use tenant_plugin_sdk::testing::{central_context, settings_with};

    fn policy_of(fragment: &Fragment, address: &str) -> Value {
        serde_json::from_str(fragment.body(address).unwrap()["policy"].as_str().unwrap()).unwrap()
    }

    fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap()
    }

    #[test]
    fn the_signup_target_starts_the_workflow_with_the_tenant_id() {
        let fragment = fragment(&central_context::<Events>(&[])).unwrap();
        let target = fragment
            .body("aws_cloudwatch_event_target.tenant_signup")
            .unwrap();
        assert_eq!(target["arn"], "${aws_sfn_state_machine.provisioning.arn}");
        assert_eq!(
            target["input_transformer"][0]["input_paths"]["tenant_id"],
            "$.detail.tenant_id"
        );
        let rule = fragment.body("aws_cloudwatch_event_rule.tenant_signup").unwrap();
        let pattern: Value = serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
        assert_eq!(
            pattern,
            json!({"source": ["saas.tenant"], "detail-type": ["Tenant Signup", "Tenant Offboarding"]})
        );
        assert_eq!(
            target["input_transformer"][0]["input_paths"]["detail_type"],
            "$.detail-type"
        );
        let definition: Value = serde_json::from_str(
            fragment.body("aws_sfn_state_machine.provisioning").unwrap()["definition"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            definition["States"]["ProvisionTenant"]["Parameters"]["ProjectName"],
            "saas-tenant-provisioner-dev"
        );
    }

    #[test]
    fn every_role_trusts_its_service_for_this_account_only() {
        let fragment = fragment(&central_context::<Events>(&[])).unwrap();
        let cases = [
            ("aws_iam_role.signup_invoker", "events.amazonaws.com"),
            ("aws_iam_role.provisioning_workflow", "states.amazonaws.com"),
            ("aws_iam_role.provisioner", "codebuild.amazonaws.com"),
        ];
        for (address, service) in cases {
            let trust: Value = serde_json::from_str(
                fragment.body(address).unwrap()["assume_role_policy"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            let statement = &trust["Statement"][0];
            assert_eq!(statement["Principal"]["Service"], service, "{address}");
            assert_eq!(
                statement["Condition"]["StringEquals"]["aws:SourceAccount"],
                "${data.aws_caller_identity.events.account_id}",
                "{address}"
            );
        }
    }

    #[test]
    fn the_deployer_trusts_only_the_build_for_one_tenant_and_reaches_only_its_resources() {
        let fragment = fragment(&central_context::<Events>(&[])).unwrap();
        let role = fragment.body("aws_iam_role.deployer").unwrap();
        assert_eq!(role["name"], "saas-tenant-deployer-dev");
        let trust: Value = serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
        for statement in trust["Statement"].as_array().unwrap() {
            assert_eq!(
                statement["Principal"],
                json!({"AWS": "${aws_iam_role.provisioner.arn}"})
            );
        }
        let tag = statement(&trust, "TagSessionWithOneTenant");
        assert_eq!(tag["Action"], "sts:TagSession");
        assert_eq!(
            tag["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
            json!(["TenantId"])
        );
        assert_eq!(tag["Condition"]["StringLike"]["aws:RequestTag/TenantId"], "?*");
        let policy = policy_of(&fragment, "aws_iam_role_policy.deployer");
        for statement in policy["Statement"].as_array().unwrap() {
            let sid = statement["Sid"].as_str().unwrap();
            let resources = tenant_plugin_sdk::iam::one_or_many(statement.get("Resource"));
            let scoped_by_name = resources
                .iter()
                .all(|r| r.contains("tenant-$${aws:PrincipalTag/TenantId}-"));
            let scoped_by_tag = statement["Condition"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
                .any(|entries| {
                    entries
                        .as_object()
                        .is_some_and(|e| e.values().any(|v| v == "$${aws:PrincipalTag/TenantId}"))
                });
            assert!(
                scoped_by_name || scoped_by_tag || sid == "DescribeForPlanning",
                "{sid} is not scoped to the session's tenant: {statement}"
            );
        }
        let state = statement(&policy, "ReadWriteTheTenantStackState");
        assert_eq!(
            state["Resource"][0],
            "arn:aws:s3:::saas-tenant-tfstate-${data.aws_caller_identity.events.account_id}-dev/*tenant-$${aws:PrincipalTag/TenantId}-dev.tfstate"
        );
        let describe = statement(&policy, "DescribeForPlanning");
        let actions = tenant_plugin_sdk::iam::one_or_many(describe.get("Action"));
        assert!(
            actions
                .iter()
                .all(|a| a.contains(":Describe") || a.contains(":List") || a.contains(":Get")),
            "{actions:?}"
        );
    }

    #[test]
    fn the_build_gets_the_registry_and_the_pinned_tools() {
        let mut context = central_context::<Events>(&[]);
        context.settings = settings_with::<Events>(json!({
            crate::settings::TERRAFORM_VERSION: "1.14.0",
            crate::settings::TERRAFORM_SHA256: "ab".repeat(32),
        }))
        .unwrap();
        let fragment = fragment(&context).unwrap();
        let project = fragment.body("aws_codebuild_project.provisioner").unwrap();
        let variables: BTreeMap<&str, &str> = project["environment"][0]["environment_variable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            variables["REGISTRY_URL"],
            "s3://saas-tenant-tfstate-${data.aws_caller_identity.events.account_id}-dev/fleet-registry/dev"
        );
        assert_eq!(variables["TERRAFORM_VERSION"], "1.14.0");
        assert_eq!(variables["TERRAFORM_SHA256"], "ab".repeat(32));
        assert_eq!(variables["ENVIRONMENT_SUFFIX"], "dev");
        assert_eq!(variables["EVENT_BUS_NAME"], "saas-tenant-events-dev");
        let bad =
            settings_with::<Events>(json!({crate::settings::TERRAFORM_SHA256: "not-a-checksum"})).unwrap();
        let problems = Provisioner::from_settings(&bad).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("terraform-sha256"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn roles_reach_only_their_own_resources() {
        let fragment = fragment(&central_context::<Events>(&[])).unwrap();
        let invoker = policy_of(&fragment, "aws_iam_role_policy.signup_invoker");
        assert_eq!(
            statement(&invoker, "StartProvisioning")["Resource"],
            "${aws_sfn_state_machine.provisioning.arn}"
        );
        let workflow = policy_of(&fragment, "aws_iam_role_policy.provisioning_workflow");
        assert_eq!(
            statement(&workflow, "RunProvisioningBuild")["Resource"],
            "${aws_codebuild_project.provisioner.arn}"
        );
        assert_eq!(
            statement(&workflow, "ManageCodeBuildCompletionRule")["Resource"],
            "arn:aws:events:us-east-1:${data.aws_caller_identity.events.account_id}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule"
        );
        assert_eq!(
            statement(&workflow, "AnnounceProvisioningResult")["Resource"],
            "${aws_cloudwatch_event_bus.tenant_events.arn}"
        );
        let provisioner = policy_of(&fragment, "aws_iam_role_policy.provisioner");
        let actions: Vec<&str> = provisioner["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match &s["Action"] {
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                one => vec![one.as_str().unwrap()],
            })
            .collect();
        assert!(
            actions.iter().all(|a| !a.contains('*') || a.starts_with("kms:")),
            "no wildcard rights: {actions:?}"
        );
        assert_eq!(
            statement(&provisioner, "AssumeDeployRoleForOneTenant")["Resource"],
            "arn:aws:iam::${data.aws_caller_identity.events.account_id}:role/saas-tenant-deployer-dev"
        );
    }

    #[test]
    fn settings_choose_the_deploy_role_and_the_source() {
        let mut context = central_context::<Events>(&[]);
        context.settings = settings_with::<Events>(json!({
            DEPLOY_ROLE_ARN: "arn:aws:iam::123456789012:role/platform-deployer",
            CONFIG_REPOSITORY: "https://github.com/acme/platform-config.git",
        }))
        .unwrap();
        let fragment = fragment(&context).unwrap();
        let provisioner = policy_of(&fragment, "aws_iam_role_policy.provisioner");
        assert_eq!(
            statement(&provisioner, "AssumeDeployRoleForOneTenant")["Resource"],
            "arn:aws:iam::123456789012:role/platform-deployer"
        );
        let project = fragment.body("aws_codebuild_project.provisioner").unwrap();
        let variables = project["environment"][0]["environment_variable"]
            .as_array()
            .unwrap();
        let deploy_role = variables
            .iter()
            .find(|v| v["name"] == DEPLOY_ROLE_VARIABLE)
            .unwrap();
        assert_eq!(
            deploy_role["value"],
            "arn:aws:iam::123456789012:role/platform-deployer"
        );
        assert!(
            fragment.body("aws_iam_role.deployer").is_none(),
            "a configured deploy role is the platform team's, not this stack's"
        );
        assert_eq!(project["source"][0]["type"], "GITHUB");
        assert_eq!(
            project["source"][0]["location"],
            "https://github.com/acme/platform-config.git"
        );
        assert!(
            project["source"][0]["buildspec"]
                .as_str()
                .unwrap()
                .contains("tenant-host synth")
        );
    }

    #[test]
    fn a_private_ecr_image_is_pulled_with_the_build_role() {
        let mut context = central_context::<Events>(&[]);
        context.settings = settings_with::<Events>(json!({
            BUILD_IMAGE: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tenant-host:1.4.0"
        }))
        .unwrap();
        let fragment = fragment(&context).unwrap();
        let project = fragment.body("aws_codebuild_project.provisioner").unwrap();
        assert_eq!(
            project["environment"][0]["image_pull_credentials_type"],
            "SERVICE_ROLE"
        );
        let provisioner = policy_of(&fragment, "aws_iam_role_policy.provisioner");
        assert_eq!(
            statement(&provisioner, "PullBuildImage")["Resource"],
            "arn:aws:ecr:us-east-1:123456789012:repository/tenant-host"
        );
    }

    #[test]
    fn default_source_is_none() {
        let fragment = fragment(&central_context::<Events>(&[])).unwrap();
        let project = fragment.body("aws_codebuild_project.provisioner").unwrap();
        assert_eq!(project["source"][0]["type"], "NO_SOURCE");
        assert!(project["source"][0].get("location").is_none());
    }
}
