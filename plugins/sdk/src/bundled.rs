//! The values and extension points of the plugins bundled with tenant-host, declared once here so
//! that each bundled provider and every requirer (bundled or third-party) name them alike. A
//! third-party plugin requires any of them as it is: `.requires(&[bundled::KMS_KEY_ARN])` and
//! `context.input(&bundled::KMS_KEY_ARN)?`.

use crate::declarations::{ExtensionPoint, ValueDeclaration};
use crate::types::StackKind::{Central, Tenant};

/// `crypto`: the AWS account id (`data.aws_caller_identity.crypto`).
pub const ACCOUNT_ID: ValueDeclaration = ValueDeclaration::text(Tenant, "account-id", "The AWS account id.");
/// `crypto`: the ARN of the tenant's customer-managed KMS key.
pub const KMS_KEY_ARN: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "kms-key-arn",
    "The ARN of the tenant's customer-managed KMS key.",
);
/// `crypto`: the key id of the tenant's customer-managed KMS key.
pub const KMS_KEY_ID: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "kms-key-id",
    "The key id of the tenant's customer-managed KMS key.",
);

/// `network`: the tenant VPC's id.
pub const VPC_ID: ValueDeclaration = ValueDeclaration::text(Tenant, "vpc-id", "The tenant VPC's id.");
/// `network`: the tenant VPC's IPv4 block.
pub const VPC_CIDR_BLOCK: ValueDeclaration =
    ValueDeclaration::text(Tenant, "vpc-cidr-block", "The tenant VPC's IPv4 block.");
/// `network`: the ids of the private subnets, one per availability zone.
pub const PRIVATE_SUBNET_IDS: ValueDeclaration = ValueDeclaration::text_list(
    Tenant,
    "private-subnet-ids",
    "The ids of the tenant's private subnets, one per availability zone.",
);
/// `network`: the security group for the tenant's Lambda functions.
pub const LAMBDA_SECURITY_GROUP_ID: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "lambda-security-group-id",
    "The security group for the tenant's Lambda functions: no ingress, HTTPS egress to S3, DynamoDB and the VPC.",
);
/// `network`: the private subnets' route table.
pub const PRIVATE_ROUTE_TABLE_ID: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "private-route-table-id",
    "The private subnets' route table (local route and gateway endpoints only).",
);
/// `network`: the S3 gateway endpoint.
pub const S3_ENDPOINT_ID: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "s3-endpoint-id",
    "The S3 gateway endpoint; its policy is attached by the storage plugin.",
);
/// `network`: the DynamoDB gateway endpoint.
pub const DYNAMODB_ENDPOINT_ID: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "dynamodb-endpoint-id",
    "The DynamoDB gateway endpoint; its policy is attached by the storage plugin.",
);

/// `logging`: the tenant API function's log group name.
pub const LOG_GROUP_NAME: ValueDeclaration =
    ValueDeclaration::text(Tenant, "log-group-name", "The tenant API function's log group.");
/// `logging`: the tenant API function's log group ARN.
pub const LOG_GROUP_ARN: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "log-group-arn",
    "The tenant API function's log group ARN.",
);
/// `logging`: the central log group every tenant's events are forwarded to.
pub const CENTRAL_LOG_GROUP_NAME: ValueDeclaration = ValueDeclaration::text(
    Central,
    "central-log-group-name",
    "The log group every tenant's events are forwarded to.",
);
/// `logging`: the central log group's ARN.
pub const CENTRAL_LOG_GROUP_ARN: ValueDeclaration =
    ValueDeclaration::text(Central, "central-log-group-arn", "The central log group's ARN.");

/// `storage`: the tenant data bucket's name.
pub const BUCKET_NAME: ValueDeclaration =
    ValueDeclaration::text(Tenant, "bucket-name", "The tenant data bucket's name.");
/// `storage`: the tenant data bucket's ARN.
pub const BUCKET_ARN: ValueDeclaration =
    ValueDeclaration::text(Tenant, "bucket-arn", "The tenant data bucket's ARN.");
/// `storage`: the tenant metadata table's name.
pub const TABLE_NAME: ValueDeclaration =
    ValueDeclaration::text(Tenant, "table-name", "The tenant metadata table's name.");
/// `storage`: the tenant metadata table's ARN.
pub const TABLE_ARN: ValueDeclaration =
    ValueDeclaration::text(Tenant, "table-arn", "The tenant metadata table's ARN.");

/// `iam`: the tenant API function's execution role ARN.
pub const LAMBDA_ROLE_ARN: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "lambda-role-arn",
    "The tenant API function's execution role ARN, available once its policy is attached.",
);
/// `iam`: the tenant API function's execution role name.
pub const LAMBDA_ROLE_NAME: ValueDeclaration = ValueDeclaration::text(
    Tenant,
    "lambda-role-name",
    "The tenant API function's execution role name, available once its policy is attached.",
);

/// `compute`: the tenant API function's name.
pub const FUNCTION_NAME: ValueDeclaration =
    ValueDeclaration::text(Tenant, "function-name", "The tenant API function's name.");
/// `compute`: the tenant API function's ARN.
pub const FUNCTION_ARN: ValueDeclaration =
    ValueDeclaration::text(Tenant, "function-arn", "The tenant API function's ARN.");

/// `crypto` accepts IAM policy statements for the tenant key. A contribution's body is one
/// statement (a JSON object) with a `Sid` that starts with the contributor's name, `Effect`
/// `Allow`, a `Principal` that is an AWS service (`{"Service": "backup.amazonaws.com"}`) or an
/// ARN of this stack (`{"AWS": "${aws_iam_role.backup.arn}"}`), `kms:` actions without `*` and
/// without key administration, `Resource` `"*"` (the key itself), and a `Condition`: a statement
/// for the whole world is refused. crypto appends accepted statements to the key policy, and its
/// rules still judge the result.
pub const TENANT_KEY_POLICY: ExtensionPoint = ExtensionPoint {
    name: "tenant-key-policy",
    stack: Tenant,
    description: "One IAM policy statement (JSON object) for the tenant KMS key: Sid prefixed with the contributor's name, Effect Allow, an AWS service or a ${...} role ARN of this stack as Principal, kms: use actions (no wildcards, no administration), Resource \"*\", and a Condition.",
};

/// Every value above, for listings (the plugin-authoring guide is checked against it).
pub const VALUES: &[ValueDeclaration] = &[
    ACCOUNT_ID,
    KMS_KEY_ARN,
    KMS_KEY_ID,
    VPC_ID,
    VPC_CIDR_BLOCK,
    PRIVATE_SUBNET_IDS,
    LAMBDA_SECURITY_GROUP_ID,
    PRIVATE_ROUTE_TABLE_ID,
    S3_ENDPOINT_ID,
    DYNAMODB_ENDPOINT_ID,
    LOG_GROUP_NAME,
    LOG_GROUP_ARN,
    CENTRAL_LOG_GROUP_NAME,
    CENTRAL_LOG_GROUP_ARN,
    BUCKET_NAME,
    BUCKET_ARN,
    TABLE_NAME,
    TABLE_ARN,
    LAMBDA_ROLE_ARN,
    LAMBDA_ROLE_NAME,
    FUNCTION_NAME,
    FUNCTION_ARN,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declarations::ValueKind;
    use crate::types::StackKind;

    /// The plugin-authoring guide lists every value with its stack and type, as declared here.
    #[test]
    fn the_authoring_guide_lists_every_value_as_declared() {
        let guide = include_str!("../../../docs/plugin-authoring.md");
        for value in VALUES {
            let stack = match value.stack {
                StackKind::Central => "central",
                StackKind::Tenant => "tenant",
            };
            let kind = match value.kind {
                ValueKind::Text => "text",
                ValueKind::TextList => "text list",
            };
            let row = guide
                .lines()
                .find(|line| line.starts_with(&format!("| `{}` |", value.name)))
                .unwrap_or_else(|| panic!("the guide lists no `{}`", value.name));
            assert!(
                row.contains(&format!("| {stack} | {kind} |")),
                "the guide's row for `{}` says another stack or type: {row}",
                value.name
            );
        }
        let rows = guide
            .lines()
            .filter(|line| line.starts_with("| `") && line.contains("| text"))
            .count();
        assert_eq!(
            rows,
            VALUES.len(),
            "the guide lists a value the SDK does not declare"
        );
    }
}
