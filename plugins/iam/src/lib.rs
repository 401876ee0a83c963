//! # tenant-plugin-iam
//!
//! Contributes each tenant's Lambda execution role and guards every policy of the fleet.
//!
//! **What it adds to a tenant stack**
//! - `aws_iam_role.lambda_execution` (`tenant-{id}-lambda-role-{suffix}`, tagged `TenantId`),
//!   assumable by `lambda.amazonaws.com` for the tenant's own account only (`aws:SourceAccount`).
//! - `aws_iam_role_policy.lambda_execution` (`tenant-{id}-lambda-policy-{suffix}`): item actions on
//!   the tenant table limited to the tenant's partition (`dynamodb:LeadingKeys`), object read/write/
//!   delete and listing on the tenant bucket, use of the tenant key, writing to the API log group,
//!   and the network-interface permissions Lambda needs inside the tenant VPC. Every statement also
//!   requires `aws:PrincipalTag/TenantId` = the tenant, which the role carries: copied or attached
//!   to another principal, the policy grants nothing.
//! - `aws_iam_policy.lambda_boundary` (`tenant-{id}-boundary-{suffix}`), the role's permissions
//!   boundary: the ceiling of what the role can ever do (the tenant's table, bucket, key, log group
//!   and VPC networking), whatever gets attached later, and a deny on any resource tagged for
//!   another tenant. See [`policies`].
//!
//! It provides `lambda-role-arn` and `lambda-role-name` and outputs `lambda_role_arn`; both are
//! reached through the inline policy so that the function is created only once its VPC
//! permissions exist.
//!
//! **Rules** over every composed stack, whichever plugin emitted the policy: identity policies
//! grant data actions only on named resources and (tenant stacks) only to principals tagged with
//! the tenant; tenant stacks name nothing of another tenant; roles trust only services bound to a
//! source account or ARN; resource policies never allow `*` without a condition.

mod document;
mod policies;
mod rules;
mod synth;

use tenant_plugin_sdk::bundled::{
    ACCOUNT_ID, BUCKET_ARN, KMS_KEY_ARN, LAMBDA_ROLE_ARN, LAMBDA_ROLE_NAME, LOG_GROUP_ARN, TABLE_ARN, VPC_ID,
};
use tenant_plugin_sdk::prelude::*;

/// The iam plugin.
#[derive(Debug)]
pub struct IamPlugin;

impl Plugin for IamPlugin {
    type Settings = NoSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "iam",
            env!("CARGO_PKG_VERSION"),
            "Each tenant's Lambda execution role, limited to the tenant's own data by policy, principal tag and permissions boundary.",
        )
        .requires(&[ACCOUNT_ID, KMS_KEY_ARN, TABLE_ARN, BUCKET_ARN, LOG_GROUP_ARN, VPC_ID])
        .provides(&[LAMBDA_ROLE_ARN, LAMBDA_ROLE_NAME])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_tenant(context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &NoSettings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }
}

export_plugin!(IamPlugin);

tenant_plugin_sdk::conformance_tests!(
    IamPlugin,
    golden = "tests/golden",
    tenant = synth::tests::acme_context
);
