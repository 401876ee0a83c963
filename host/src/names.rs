//! The AWS names the bundled plugins generate from a tenant id and the environment suffix, with
//! AWS's length limit and reserved prefixes and suffixes for each, so that a tenant id that
//! would produce an unusable name is rejected before any plugin runs instead of failing
//! `terraform apply`.
//!
//! Plugins do not declare their names in the contract, so this table is derived from the bundled
//! plugins' naming (`tenant_plugin_sdk::naming`); the end-to-end test
//! `generated_names_match_the_name_table` synthesizes the example and fails when a plugin
//! generates a name that the table does not list. Rows apply to loaded plugins of that name.

/// One name a plugin generates per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedName {
    /// The plugin that generates it.
    pub plugin: &'static str,
    /// The Terraform resource type, e.g. `aws_iam_role`.
    pub resource: &'static str,
    /// What AWS calls it, for messages.
    pub what: &'static str,
    /// The pattern, with `{id}` and `{suffix}`.
    pub pattern: &'static str,
    /// AWS's maximum length.
    pub limit: usize,
    /// Prefixes AWS reserves for this kind of name.
    pub reserved_prefixes: &'static [&'static str],
    /// Suffixes AWS reserves for this kind of name.
    pub reserved_suffixes: &'static [&'static str],
}

impl GeneratedName {
    /// The name for a tenant and suffix.
    pub fn render(&self, id: &str, suffix: &str) -> String {
        self.pattern.replace("{id}", id).replace("{suffix}", suffix)
    }

    /// The longest tenant id that fits with `suffix`.
    pub fn max_id_len(&self, suffix: &str) -> usize {
        self.limit.saturating_sub(self.render("", suffix).len())
    }
}

const S3_BUCKET_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const S3_BUCKET_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

const fn name(
    plugin: &'static str,
    resource: &'static str,
    what: &'static str,
    pattern: &'static str,
    limit: usize,
) -> GeneratedName {
    GeneratedName {
        plugin,
        resource,
        what,
        pattern,
        limit,
        reserved_prefixes: &[],
        reserved_suffixes: &[],
    }
}

/// Every per-tenant name of the bundled plugins.
pub const BUNDLED_NAMES: &[GeneratedName] = &[
    GeneratedName {
        reserved_prefixes: S3_BUCKET_PREFIXES,
        reserved_suffixes: S3_BUCKET_SUFFIXES,
        ..name(
            "storage",
            "aws_s3_bucket",
            "S3 bucket",
            "tenant-{id}-data-{suffix}",
            63,
        )
    },
    name(
        "storage",
        "aws_dynamodb_table",
        "DynamoDB table",
        "tenant-{id}-metadata-{suffix}",
        255,
    ),
    name(
        "iam",
        "aws_iam_role",
        "IAM role",
        "tenant-{id}-lambda-role-{suffix}",
        64,
    ),
    name(
        "iam",
        "aws_iam_role_policy",
        "IAM role policy",
        "tenant-{id}-lambda-policy-{suffix}",
        128,
    ),
    name(
        "iam",
        "aws_iam_policy",
        "IAM policy",
        "tenant-{id}-boundary-{suffix}",
        128,
    ),
    name(
        "compute",
        "aws_lambda_function",
        "Lambda function",
        "tenant-{id}-api-{suffix}",
        64,
    ),
    name(
        "compute",
        "aws_sqs_queue",
        "SQS queue",
        "tenant-{id}-api-dlq-{suffix}",
        80,
    ),
    name(
        "compute",
        "aws_iam_role_policy",
        "IAM role policy",
        "tenant-{id}-api-runtime-{suffix}",
        128,
    ),
    name(
        "logging",
        "aws_cloudwatch_log_group",
        "CloudWatch log group",
        "tenant-{id}-api-logs-{suffix}",
        512,
    ),
    name(
        "logging",
        "aws_cloudwatch_log_group",
        "CloudWatch log group",
        "tenant-{id}-flow-logs-{suffix}",
        512,
    ),
    name(
        "logging",
        "aws_cloudwatch_log_subscription_filter",
        "log subscription filter",
        "tenant-{id}-api-logs-to-central-{suffix}",
        512,
    ),
    name(
        "logging",
        "aws_iam_role",
        "IAM role",
        "tenant-{id}-flow-logs-role-{suffix}",
        64,
    ),
    name(
        "logging",
        "aws_iam_role_policy",
        "IAM role policy",
        "tenant-{id}-flow-logs-delivery-{suffix}",
        128,
    ),
    name(
        "logging",
        "aws_iam_policy",
        "IAM policy",
        "tenant-{id}-log-read-{suffix}",
        128,
    ),
    name(
        "events",
        "aws_cloudwatch_event_rule",
        "EventBridge rule",
        "tenant-{id}-events-{suffix}",
        64,
    ),
    name(
        "events",
        "aws_sqs_queue",
        "SQS queue",
        "tenant-{id}-events-dlq-{suffix}",
        80,
    ),
    GeneratedName {
        reserved_prefixes: &["alias/aws"],
        ..name(
            "crypto",
            "aws_kms_alias",
            "KMS alias",
            "alias/tenant-{id}-{suffix}",
            256,
        )
    },
    GeneratedName {
        reserved_prefixes: &["sg-"],
        ..name(
            "network",
            "aws_security_group",
            "security group",
            "tenant-{id}-lambda-sg-{suffix}",
            255,
        )
    },
];

/// A generated name that AWS would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// Longer than AWS allows.
    TooLong {
        /// The row of the table.
        name: GeneratedName,
        /// The generated name.
        text: String,
    },
    /// Starts or ends with what AWS reserves.
    Reserved {
        /// The row of the table.
        name: GeneratedName,
        /// The generated name.
        text: String,
        /// The reserved prefix or suffix.
        affix: &'static str,
    },
}

/// Every problem of the names `table` generates for `id` with `suffix`, longest overflow first.
pub fn check_names(
    table: &[GeneratedName],
    id: &str,
    suffix: &str,
    enabled: impl Fn(&str) -> bool,
) -> Vec<NameProblem> {
    let mut too_long = Vec::new();
    let mut reserved = Vec::new();
    for name in table.iter().filter(|n| enabled(n.plugin)) {
        let text = name.render(id, suffix);
        if text.len() > name.limit {
            too_long.push(NameProblem::TooLong { name: *name, text });
            continue;
        }
        let affix = name
            .reserved_prefixes
            .iter()
            .find(|p| text.starts_with(**p))
            .or_else(|| name.reserved_suffixes.iter().find(|s| text.ends_with(**s)));
        if let Some(affix) = affix {
            reserved.push(NameProblem::Reserved {
                name: *name,
                text,
                affix,
            });
        }
    }
    too_long.sort_by_key(|p| match p {
        NameProblem::TooLong { name, text } => std::cmp::Reverse(text.len() - name.limit),
        NameProblem::Reserved { .. } => std::cmp::Reverse(0),
    });
    too_long.extend(reserved);
    too_long
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_budget_is_the_flow_logs_role() {
        let tightest = BUNDLED_NAMES.iter().min_by_key(|n| n.max_id_len("dev")).unwrap();
        assert_eq!(tightest.pattern, "tenant-{id}-flow-logs-role-{suffix}");
        assert_eq!(tightest.max_id_len("dev"), 38);
    }

    #[test]
    fn an_id_at_the_budget_fits_and_one_more_character_overflows() {
        let id = "a".repeat(38);
        assert!(check_names(BUNDLED_NAMES, &id, "dev", |_| true).is_empty());
        let problems = check_names(BUNDLED_NAMES, &format!("{id}b"), "dev", |_| true);
        let NameProblem::TooLong { name, text } = &problems[0] else {
            panic!("{problems:?}")
        };
        assert_eq!((name.what, text.len()), ("IAM role", 65));
        assert!(
            check_names(BUNDLED_NAMES, &format!("{id}b"), "dev", |p| p != "logging").is_empty(),
            "rows of plugins that are not loaded do not apply"
        );
    }

    #[test]
    fn reserved_prefixes_and_suffixes_are_found() {
        let bare = |pattern, prefixes, suffixes| GeneratedName {
            reserved_prefixes: prefixes,
            reserved_suffixes: suffixes,
            ..name("p", "aws_s3_bucket", "S3 bucket", pattern, 63)
        };
        let cases: [(GeneratedName, &str, &str, Option<&str>, &str); 5] = [
            (
                bare("{id}-{suffix}", S3_BUCKET_PREFIXES, S3_BUCKET_SUFFIXES),
                "xn--a",
                "dev",
                Some("xn--"),
                "punycode prefix",
            ),
            (
                bare("{id}-{suffix}", S3_BUCKET_PREFIXES, S3_BUCKET_SUFFIXES),
                "sthree-a",
                "dev",
                Some("sthree-"),
                "sthree prefix",
            ),
            (
                bare("{id}-{suffix}", S3_BUCKET_PREFIXES, S3_BUCKET_SUFFIXES),
                "a",
                "s3alias",
                Some("-s3alias"),
                "access point alias suffix",
            ),
            (
                bare("{id}-{suffix}", &["sg-"], &[]),
                "sg-a",
                "dev",
                Some("sg-"),
                "security group prefix",
            ),
            (
                bare("alias/{id}-{suffix}", &["alias/aws"], &[]),
                "aws-a",
                "dev",
                Some("alias/aws"),
                "KMS alias prefix",
            ),
        ];
        for (row, id, suffix, expected, reason) in cases {
            let problems = check_names(&[row], id, suffix, |_| true);
            let found = problems.iter().find_map(|p| match p {
                NameProblem::Reserved { affix, .. } => Some(*affix),
                NameProblem::TooLong { .. } => None,
            });
            assert_eq!(found, expected, "{reason}");
        }
    }
}
