//! The iam fragment of a tenant stack: the API function's execution role.

use crate::policies::{TenantResources, permissions_boundary, permissions_policy, trust_policy};
use tenant_plugin_sdk::bundled::{
    ACCOUNT_ID, BUCKET_ARN, KMS_KEY_ARN, LAMBDA_ROLE_ARN, LAMBDA_ROLE_NAME, LOG_GROUP_ARN, TABLE_ARN, VPC_ID,
};
use tenant_plugin_sdk::naming::{
    API_DEAD_LETTER_QUEUE, API_LOG_GROUP, API_ROLE, log_group_arn, look_alike_tenant,
};
use tenant_plugin_sdk::prelude::*;

/// The role's inline policy; IAM rejects policy names longer than 128 characters.
pub const ROLE_POLICY: NamePattern = NamePattern::tenant(
    "aws_iam_role_policy.name",
    "tenant-{id}-lambda-policy-{suffix}",
    128,
);
/// The role's permissions boundary.
pub const BOUNDARY: NamePattern =
    NamePattern::tenant("aws_iam_policy.name", "tenant-{id}-boundary-{suffix}", 128);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[API_ROLE, ROLE_POLICY, BOUNDARY];

/// The execution role, its inline permissions and its permissions boundary.
pub fn tenant_fragment(context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let suffix = &context.environment_suffix;
    let resources = TenantResources {
        tenant_id: tenant.id.clone(),
        account_id: context.input(&ACCOUNT_ID)?.to_owned(),
        region: context.region.clone(),
        table_arn: context.input(&TABLE_ARN)?.to_owned(),
        bucket_arn: context.input(&BUCKET_ARN)?.to_owned(),
        kms_key_arn: context.input(&KMS_KEY_ARN)?.to_owned(),
        log_group_arn: context.input(&LOG_GROUP_ARN)?.to_owned(),
        vpc_id: context.input(&VPC_ID)?.to_owned(),
        dead_letter_queue_arn: format!(
            "arn:aws:sqs:{}:{}:{}",
            context.region,
            context.input(&ACCOUNT_ID)?,
            API_DEAD_LETTER_QUEUE.render(&tenant.id, suffix)
        ),
    };
    let role_name = checked_name(&API_ROLE, &tenant.id, suffix)?;
    let policy_name = checked_name(&ROLE_POLICY, &tenant.id, suffix)?;
    let boundary_name = checked_name(&BOUNDARY, &tenant.id, suffix)?;
    let tags = |name: &str| standard_tags(Some(&tenant.id), suffix, name);
    let mut fragment = Fragment::default();

    let boundary = fragment.resource(
        "aws_iam_policy",
        "lambda_boundary",
        json!({
            "name": boundary_name,
            "description": format!("The most the execution role of tenant {} can ever be allowed.", tenant.id),
            "policy": permissions_boundary(&resources),
            "tags": tags(&boundary_name),
        }),
    );
    let role = fragment.resource(
        "aws_iam_role",
        "lambda_execution",
        json!({
            "name": role_name,
            "description": format!("Execution role of the API function of tenant {}.", tenant.id),
            "assume_role_policy": trust_policy(&resources),
            "permissions_boundary": boundary.attr("arn"),
            // Policies attached outside Terraform must not block `terraform destroy`.
            "force_detach_policies": true,
            "tags": tags(&role_name),
        }),
    );
    let policy = fragment.resource(
        "aws_iam_role_policy",
        "lambda_execution",
        json!({"name": policy_name, "role": role.attr("id"), "policy": permissions_policy(&resources)}),
    );

    confinement_intents(&mut fragment, &resources, suffix, &role.attr("arn"));

    // Lambda checks the role's VPC permissions when the function is created, so consumers must
    // wait for the policy, not just the role: reaching the role through the policy's `role`
    // attribute gives every consumer that dependency without a `depends_on` of its own.
    let role_name_after_policy = policy.attr("role");
    let role_arn_after_policy = format!(
        "arn:aws:iam::{}:role/{role_name_after_policy}",
        resources.account_id
    );
    fragment.output(
        "lambda_role_arn",
        json!(role_arn_after_policy),
        "The tenant API function's execution role.",
    );
    fragment.provide(&LAMBDA_ROLE_ARN, role_arn_after_policy);
    fragment.provide(&LAMBDA_ROLE_NAME, role_name_after_policy);
    Ok(fragment)
}

/// The role cannot act outside its tenant: it reaches no data of a tenant whose id begins with
/// this one's (whose names a wildcard after the tenant's name would match), cannot widen its own
/// permissions, and no other account can assume it.
fn confinement_intents(fragment: &mut Fragment, resources: &TenantResources, suffix: &str, role_arn: &str) {
    let other = look_alike_tenant(&resources.tenant_id);
    let (region, account) = (resources.region.as_str(), resources.account_id.as_str());
    let foreign = [
        (
            "s3:GetObject",
            format!("arn:aws:s3:::{}/*", resource_name(&other, "data", suffix)),
        ),
        (
            "dynamodb:GetItem",
            format!(
                "arn:aws:dynamodb:{region}:{account}:table/{}",
                resource_name(&other, "metadata", suffix)
            ),
        ),
        (
            "logs:PutLogEvents",
            format!(
                "{}:log-stream:any",
                log_group_arn(region, account, &API_LOG_GROUP.render(&other, suffix))
            ),
        ),
        (
            "sqs:SendMessage",
            format!(
                "arn:aws:sqs:{region}:{account}:{}",
                API_DEAD_LETTER_QUEUE.render(&other, suffix)
            ),
        ),
    ];
    for (action, resource) in foreign {
        fragment.intent(
            AccessIntent::deny(role_arn, action, &resource)
                .because("the tenant's role reaches no other tenant's data, however alike their names"),
        );
    }
    fragment.intent(
        AccessIntent::deny(role_arn, "iam:PutRolePolicy", role_arn)
            .because("the role cannot widen its own permissions beyond its boundary"),
    );
    fragment.intent(
        AccessIntent::deny("account:other", "sts:AssumeRole", role_arn)
            .because("only Lambda, for this account, assumes the tenant's role"),
    );
}

fn checked_name(pattern: &NamePattern, tenant_id: &str, suffix: &str) -> Result<String, PluginError> {
    let name = pattern.render(tenant_id, suffix);
    if name.len() > pattern.max_length as usize {
        return Err(PluginError::InvalidContext(format!(
            "IAM name `{name}` is longer than {} characters; shorten the tenant id or suffix",
            pattern.max_length
        )));
    }
    Ok(name)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::IamPlugin;
    use tenant_plugin_sdk::testing::tenant_context;

    pub(crate) const INPUTS: &[(&str, &str)] = &[
        ("account-id", "${data.aws_caller_identity.crypto.account_id}"),
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("table-arn", "${aws_dynamodb_table.metadata.arn}"),
        ("bucket-arn", "${aws_s3_bucket.data.arn}"),
        ("log-group-arn", "${aws_cloudwatch_log_group.api.arn}"),
        ("vpc-id", "${aws_vpc.tenant.id}"),
    ];

    /// The acme-corp context with what crypto, network, storage and logging provide.
    pub(crate) fn acme_context() -> StackContext<NoSettings> {
        tenant_context::<IamPlugin>("acme-corp", "10.0.0.0/16", INPUTS)
    }

    #[test]
    fn refuses_contexts_it_cannot_name_or_wire() {
        let long_id = "a".repeat(50);
        let cases: &[(&str, StackContext<NoSettings>)] = &[
            (
                "the role name would exceed 64 characters",
                tenant_context::<IamPlugin>(&long_id, "10.0.0.0/16", INPUTS),
            ),
            (
                "the VPC is missing",
                tenant_context::<IamPlugin>("acme-corp", "10.0.0.0/16", &INPUTS[..5]),
            ),
        ];
        for (reason, context) in cases {
            assert!(
                matches!(tenant_fragment(context), Err(PluginError::InvalidContext(_))),
                "{reason}"
            );
        }
    }
}
