//! The resource policies storage attaches: the data bucket's policy and the two gateway endpoint
//! policies of the tenant VPC.

use tenant_plugin_sdk::prelude::*;

/// The S3 actions that read, write or delete object data (as opposed to bucket configuration,
/// which the deployment must keep managing). `s3:ListBucket` is left out on purpose: it also
/// authorizes HeadBucket, which Terraform calls on every refresh of the bucket, and it reveals
/// keys, not contents.
pub const S3_DATA_ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:DeleteObject*",
    "s3:GetObject*",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutObject*",
    "s3:ReplicateObject",
    "s3:RestoreObject",
];

/// The ARNs of one bucket and of its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketArns {
    pub bucket: String,
    pub objects: String,
}

impl BucketArns {
    pub fn new(bucket_arn: String) -> Self {
        let objects = format!("{bucket_arn}/*");
        Self {
            bucket: bucket_arn,
            objects,
        }
    }

    fn both(&self) -> [&str; 2] {
        [&self.bucket, &self.objects]
    }
}

/// The data bucket's policy. It only denies; access is granted by identity policies.
///
/// - Requests without TLS are refused.
/// - Object data is refused to every principal not tagged `TenantId = tenant_id`: other tenants'
///   roles carry their own id and untagged principals carry none, so `StringNotEquals` (true when
///   the tag is absent) covers both. Two guards narrow the deny: requests made by an AWS service
///   principal itself (`aws:PrincipalIsAWSService`, e.g. S3 log delivery or CloudTrail; services
///   acting *for* a tenant role via forward access sessions are still that role and are checked),
///   and the named data administrators (`aws:PrincipalArn`), for the deployment role that empties
///   the bucket on destroy. Bucket configuration actions stay outside the deny so Terraform can
///   still manage and delete the bucket.
/// - Uploads that ask for another encryption or another key are refused; uploads that ask for
///   nothing get the bucket default (the tenant key), so the deny only bites on explicit headers.
pub fn bucket_policy(
    tenant_id: &str,
    bucket: &BucketArns,
    kms_key_arn: &str,
    account_id: &str,
    data_admin_role_names: &[String],
) -> String {
    let mut deny_other_principals = Statement::deny("DenyDataToOtherPrincipals")
        .principal(json!("*"))
        .actions(S3_DATA_ACTIONS)
        .resources(&bucket.both())
        .condition("StringNotEquals", "aws:PrincipalTag/TenantId", json!(tenant_id))
        .condition("BoolIfExists", "aws:PrincipalIsAWSService", json!("false"));
    if !data_admin_role_names.is_empty() {
        let admins: Vec<String> = data_admin_role_names
            .iter()
            .map(|name| format!("arn:aws:iam::{account_id}:role/{name}"))
            .collect();
        deny_other_principals =
            deny_other_principals.condition("ArnNotLike", "aws:PrincipalArn", json!(admins));
    }
    PolicyDocument::new()
        .statement(
            Statement::deny("DenyInsecureTransport")
                .principal(json!("*"))
                .actions(&["s3:*"])
                .resources(&bucket.both())
                .condition("Bool", "aws:SecureTransport", json!("false")),
        )
        .statement(deny_other_principals)
        .statement(
            Statement::deny("DenyOtherEncryption")
                .principal(json!("*"))
                .actions(&["s3:PutObject"])
                .resources(&[&bucket.objects])
                .condition(
                    "StringNotEquals",
                    "s3:x-amz-server-side-encryption",
                    json!("aws:kms"),
                )
                .condition("Null", "s3:x-amz-server-side-encryption", json!("false")),
        )
        .statement(
            Statement::deny("DenyOtherKmsKeys")
                .principal(json!("*"))
                .actions(&["s3:PutObject"])
                .resources(&[&bucket.objects])
                .condition(
                    "StringNotEquals",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    json!(kms_key_arn),
                )
                .condition(
                    "Null",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    json!("false"),
                ),
        )
        .render()
}

/// A gateway endpoint policy letting principals of the tenant's account, tagged with the tenant,
/// use `service` on `resources` only. A gateway endpoint has no principal of its own, hence the
/// `*` principal, bound by the conditions.
pub fn endpoint_policy(
    sid: &str,
    service: &str,
    resources: &[String],
    tenant_id: &str,
    account_id: &str,
) -> String {
    PolicyDocument::new()
        .statement(
            Statement::allow(sid)
                .principal(json!("*"))
                .actions(&[format!("{service}:*")])
                .resources(resources)
                .condition("StringEquals", "aws:PrincipalAccount", json!(account_id))
                .condition("StringEquals", "aws:PrincipalTag/TenantId", json!(tenant_id)),
        )
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(policy: &str) -> Vec<Value> {
        let document: Value = serde_json::from_str(policy).unwrap();
        document["Statement"].as_array().unwrap().clone()
    }

    #[test]
    fn the_tenant_deny_exempts_only_listed_admins() {
        let bucket = BucketArns::new("${aws_s3_bucket.data.arn}".into());
        let without = statements(&bucket_policy("acme-corp", &bucket, "k", "123", &[]));
        assert!(without[1]["Condition"].get("ArnNotLike").is_none());
        let with = statements(&bucket_policy(
            "acme-corp",
            &bucket,
            "k",
            "123",
            &["deployer".into()],
        ));
        assert_eq!(
            with[1]["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            json!(["arn:aws:iam::123:role/deployer"])
        );
        assert_eq!(
            with[1]["Condition"]["StringNotEquals"]["aws:PrincipalTag/TenantId"],
            "acme-corp"
        );
    }

    #[test]
    fn every_bucket_statement_denies() {
        let bucket = BucketArns::new("b".into());
        for statement in statements(&bucket_policy("acme-corp", &bucket, "k", "123", &[])) {
            assert_eq!(statement["Effect"], "Deny", "{statement}");
        }
    }
}
