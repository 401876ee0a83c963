//! The execution role's policy documents: trust, permissions and permissions boundary.
//!
//! The permissions policy grants what the API function needs; the boundary is the ceiling no
//! later attachment can raise (an `AdministratorAccess` attached by mistake still only reaches the
//! tenant's table, bucket, key and log group). Both are built from the same [`TenantResources`].

use tenant_plugin_sdk::prelude::*;

/// The tenant's resources the role works with, as Terraform references or ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantResources {
    pub tenant_id: String,
    pub account_id: String,
    pub region: String,
    pub table_arn: String,
    pub bucket_arn: String,
    pub kms_key_arn: String,
    pub log_group_arn: String,
    pub vpc_id: String,
    /// The API function's dead-letter queue, which the compute plugin creates under a name
    /// fixed by the SDK's naming.
    pub dead_letter_queue_arn: String,
}

/// Item-level DynamoDB actions. `Scan` is left out: it carries no `dynamodb:LeadingKeys`, and
/// `ForAllValues` conditions are true for an absent key, so a Scan would escape the partition
/// restriction.
const TABLE_ITEM_ACTIONS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
];
const KEY_ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];
const LOG_ACTIONS: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];
/// What Lambda needs to attach the function to the VPC through a network interface.
const NETWORK_INTERFACE_ACTIONS: &[&str] = &[
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
];
/// What the API function's runtime needs beyond data access: its dead-letter queue and X-Ray.
const DEAD_LETTER_ACTIONS: &[&str] = &["sqs:SendMessage"];
/// X-Ray supports no resource-level permissions: these need `Resource: "*"` and only write traces.
const TRACE_ACTIONS: &[&str] = &["xray:PutTelemetryRecords", "xray:PutTraceSegments"];
/// EC2 supports no resource-level permissions for these: they need `Resource: "*"`. They reveal
/// network metadata, no tenant data.
const NETWORK_DESCRIBE_ACTIONS: &[&str] = &[
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
];

impl TenantResources {
    fn table(&self) -> Vec<String> {
        vec![self.table_arn.clone(), format!("{}/index/*", self.table_arn)]
    }

    fn objects(&self) -> String {
        format!("{}/*", self.bucket_arn)
    }

    fn log_streams(&self) -> Vec<String> {
        vec![
            self.log_group_arn.clone(),
            format!("{}:log-stream:*", self.log_group_arn),
        ]
    }

    fn ec2_arn(&self, resource: &str) -> String {
        format!("arn:aws:ec2:{}:{}:{resource}", self.region, self.account_id)
    }

    /// Binds a statement to principals tagged with this tenant. The role carries the tag, so the
    /// condition holds for it and fails for any other principal the policy gets attached to.
    fn bound(&self, statement: Statement) -> Statement {
        statement.condition("StringEquals", "aws:PrincipalTag/TenantId", json!(self.tenant_id))
    }

    /// Network interface statements, shared by the grant and the ceiling. Lambda creates, moves
    /// and deletes interfaces only in subnets and security groups of the tenant VPC. `IfExists`
    /// because Lambda validates the role with a simulated request on `network-interface/*` that
    /// carries no `ec2:Vpc`; real requests carry it and must match.
    fn network_statements(&self) -> [Statement; 2] {
        [
            self.bound(
                Statement::allow("NetworkInterfacesInTenantVpc")
                    .actions(NETWORK_INTERFACE_ACTIONS)
                    .resources(&[
                        self.ec2_arn("network-interface/*"),
                        self.ec2_arn("subnet/*"),
                        self.ec2_arn("security-group/*"),
                    ])
                    .condition(
                        "ArnEqualsIfExists",
                        "ec2:Vpc",
                        json!(self.ec2_arn(&format!("vpc/{}", self.vpc_id))),
                    ),
            ),
            self.bound(
                Statement::allow("DescribeNetwork")
                    .actions(NETWORK_DESCRIBE_ACTIONS)
                    .resources(&["*"]),
            ),
        ]
    }
}

/// Lambda may assume the role, for functions of the tenant account only (confused deputy).
pub fn trust_policy(resources: &TenantResources) -> String {
    PolicyDocument::new()
        .statement(
            Statement::allow("LambdaAssumesRole")
                .principal(json!({"Service": "lambda.amazonaws.com"}))
                .actions(&["sts:AssumeRole"])
                .condition("StringEquals", "aws:SourceAccount", json!(resources.account_id)),
        )
        .render()
}

/// What the API function may do.
pub fn permissions_policy(resources: &TenantResources) -> String {
    let [network, describe] = resources.network_statements();
    PolicyDocument::new()
        .statement(
            resources.bound(
                Statement::allow("TenantTableItems")
                    .actions(TABLE_ITEM_ACTIONS)
                    .resources(&resources.table())
                    // Only items whose partition key is the tenant id: the table's own isolation
                    // line, should the table ever hold more than one tenant.
                    .condition(
                        "ForAllValues:StringEquals",
                        "dynamodb:LeadingKeys",
                        json!([resources.tenant_id]),
                    ),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("TenantObjects")
                    .actions(&["s3:DeleteObject", "s3:GetObject", "s3:PutObject"])
                    .resources(&[resources.objects()]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("TenantBucketListing")
                    .actions(&["s3:ListBucket"])
                    .resources(&[&resources.bucket_arn]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("TenantKey")
                    .actions(KEY_ACTIONS)
                    .resources(&[&resources.kms_key_arn]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("TenantLogStreams")
                    .actions(LOG_ACTIONS)
                    .resources(&resources.log_streams()),
            ),
        )
        .statement(network)
        .statement(describe)
        .render()
}

/// The most the role can ever do, whatever else gets attached to it.
pub fn permissions_boundary(resources: &TenantResources) -> String {
    let [network, describe] = resources.network_statements();
    PolicyDocument::new()
        .statement(
            resources.bound(
                Statement::allow("CeilingTenantTable")
                    .actions(&["dynamodb:*"])
                    .resources(&resources.table())
                    .resources(&[format!("{}/stream/*", resources.table_arn)]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("CeilingTenantBucket")
                    .actions(&["s3:*"])
                    .resources(&[resources.bucket_arn.clone(), resources.objects()]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("CeilingTenantKey")
                    .actions(&[
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:Encrypt",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*",
                    ])
                    .resources(&[&resources.kms_key_arn]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("CeilingTenantLogs")
                    .actions(&["logs:*"])
                    .resources(&resources.log_streams()),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("CeilingDeadLetters")
                    .actions(DEAD_LETTER_ACTIONS)
                    .resources(&[&resources.dead_letter_queue_arn]),
            ),
        )
        .statement(
            resources.bound(
                Statement::allow("CeilingTraces")
                    .actions(TRACE_ACTIONS)
                    .resources(&["*"]),
            ),
        )
        .statement(network)
        .statement(describe)
        // Resources tagged for another tenant stay out of reach even if named by a later policy;
        // untagged resources (new network interfaces, log streams) are governed by the allows.
        .statement(
            Statement::deny("DenyOtherTenantsResources")
                .actions(&["*"])
                .resources(&["*"])
                .condition(
                    "StringNotEquals",
                    "aws:ResourceTag/TenantId",
                    json!(resources.tenant_id),
                )
                .condition("Null", "aws:ResourceTag/TenantId", json!("false")),
        )
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources() -> TenantResources {
        TenantResources {
            tenant_id: "acme-corp".into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            table_arn: "T".into(),
            bucket_arn: "B".into(),
            kms_key_arn: "K".into(),
            log_group_arn: "L".into(),
            vpc_id: "vpc-1".into(),
            dead_letter_queue_arn: "Q".into(),
        }
    }

    fn statements(policy: &str) -> Vec<Value> {
        serde_json::from_str::<Value>(policy).unwrap()["Statement"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn every_allow_is_bound_to_the_tenant_tag() {
        for policy in [
            permissions_policy(&resources()),
            permissions_boundary(&resources()),
        ] {
            for statement in statements(&policy).iter().filter(|s| s["Effect"] == "Allow") {
                assert_eq!(
                    statement["Condition"]["StringEquals"]["aws:PrincipalTag/TenantId"], "acme-corp",
                    "{statement}"
                );
            }
        }
    }

    #[test]
    fn only_network_descriptions_and_traces_use_every_resource() {
        for policy in [
            permissions_policy(&resources()),
            permissions_boundary(&resources()),
        ] {
            for statement in statements(&policy)
                .iter()
                .filter(|s| s["Effect"] == "Allow" && s["Resource"] == "*")
            {
                assert!(
                    statement["Sid"] == "DescribeNetwork" || statement["Sid"] == "CeilingTraces",
                    "{statement}"
                );
            }
        }
    }

    /// The compute plugin grants its function the dead-letter queue and X-Ray on the same role;
    /// a ceiling without them would make Lambda refuse the function.
    #[test]
    fn the_ceiling_admits_the_runtime_dead_letters_and_traces() {
        let boundary = statements(&permissions_boundary(&resources()));
        let sid = |sid: &str| boundary.iter().find(|s| s["Sid"] == sid).cloned().unwrap();
        assert_eq!(sid("CeilingDeadLetters")["Action"], "sqs:SendMessage");
        assert_eq!(sid("CeilingDeadLetters")["Resource"], "Q");
        assert_eq!(
            sid("CeilingTraces")["Action"],
            json!(["xray:PutTelemetryRecords", "xray:PutTraceSegments"])
        );
    }

    #[test]
    fn network_interfaces_stay_in_the_tenant_vpc() {
        let permissions = statements(&permissions_policy(&resources()));
        let network = permissions
            .iter()
            .find(|s| s["Sid"] == "NetworkInterfacesInTenantVpc")
            .unwrap();
        assert_eq!(
            network["Condition"]["ArnEqualsIfExists"]["ec2:Vpc"],
            "arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1"
        );
    }
}
