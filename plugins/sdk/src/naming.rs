//! The fleet's naming convention and standard tags, in one place so every plugin agrees.

use crate::NamePattern;
use serde_json::{Map, Value};

/// `tenant-{id}-{kind}-{suffix}`: the name of every tenant resource, e.g.
/// `resource_name("acme-corp", "data", "dev")` is `tenant-acme-corp-data-dev`.
pub fn resource_name(tenant_id: &str, kind: &str, suffix: &str) -> String {
    format!("tenant-{tenant_id}-{kind}-{suffix}")
}

/// The id of a tenant whose id begins with `tenant_id` (`acme-corp` gives `acme-corp-other`).
/// Its resources are what a policy scoped with a wildcard after a tenant's name
/// (`tenant-acme-corp*`) would wrongly reach, so "must deny" access intents name them to prove
/// every scope is exact.
pub fn look_alike_tenant(tenant_id: &str) -> String {
    format!("{tenant_id}-other")
}

/// The name of a tenant's stack: `tenant-{id}-{suffix}`.
pub fn tenant_stack_name(tenant_id: &str, suffix: &str) -> String {
    format!("tenant-{tenant_id}-{suffix}")
}

/// The name of the central stack: `central-{suffix}`.
pub fn central_stack_name(suffix: &str) -> String {
    format!("central-{suffix}")
}

/// The attributes that give a resource of a given type its physical name in AWS, besides `name`
/// and `name_prefix`, which do for every type that has them. The bundled plugins' types need only
/// the first three; the rest are the common AWS types whose name attribute is called otherwise,
/// so that a third-party plugin's names are checked too (each checked against the AWS provider
/// schema 6.25.0).
pub const PHYSICAL_NAME_ATTRIBUTES: &[(&str, &str)] = &[
    ("aws_s3_bucket", "bucket"),
    ("aws_s3_bucket", "bucket_prefix"),
    ("aws_lambda_function", "function_name"),
    ("aws_lambda_layer_version", "layer_name"),
    ("aws_db_instance", "identifier"),
    ("aws_db_instance", "identifier_prefix"),
    ("aws_rds_cluster", "cluster_identifier"),
    ("aws_rds_cluster", "cluster_identifier_prefix"),
    ("aws_docdb_cluster", "cluster_identifier"),
    ("aws_docdb_cluster", "cluster_identifier_prefix"),
    ("aws_neptune_cluster", "cluster_identifier"),
    ("aws_neptune_cluster", "cluster_identifier_prefix"),
    ("aws_redshift_cluster", "cluster_identifier"),
    ("aws_elasticache_cluster", "cluster_id"),
    ("aws_elasticache_replication_group", "replication_group_id"),
    ("aws_opensearch_domain", "domain_name"),
    ("aws_elasticsearch_domain", "domain_name"),
    ("aws_cloudwatch_metric_alarm", "alarm_name"),
    ("aws_cloudwatch_composite_alarm", "alarm_name"),
    ("aws_cloudwatch_dashboard", "dashboard_name"),
    ("aws_msk_cluster", "cluster_name"),
    ("aws_msk_serverless_cluster", "cluster_name"),
    ("aws_mq_broker", "broker_name"),
    ("aws_dax_cluster", "cluster_name"),
    ("aws_keyspaces_table", "table_name"),
    ("aws_codecommit_repository", "repository_name"),
    ("aws_ecs_task_definition", "family"),
    ("aws_efs_file_system", "creation_token"),
];

/// Whether `attribute` of a resource of type `type_name` sets the resource's physical name:
/// `name` and `name_prefix` of any type, and [`PHYSICAL_NAME_ATTRIBUTES`].
pub fn is_physical_name(type_name: &str, attribute: &str) -> bool {
    matches!(attribute, "name" | "name_prefix") || PHYSICAL_NAME_ATTRIBUTES.contains(&(type_name, attribute))
}

/// The tenant API function (created by compute; its log group and events rule refer to it).
pub const API_FUNCTION: NamePattern = NamePattern::tenant(
    "aws_lambda_function.function_name",
    "tenant-{id}-api-{suffix}",
    64,
);

/// The tenant API function's execution role (created by iam; storage's and logging's access
/// intents name it as the principal bound to the tenant). IAM rejects role names longer than 64
/// characters.
pub const API_ROLE: NamePattern =
    NamePattern::tenant("aws_iam_role.name", "tenant-{id}-lambda-role-{suffix}", 64);

/// The dead-letter queue of the tenant API function (created by compute; iam's boundary admits
/// it by ARN).
pub const API_DEAD_LETTER_QUEUE: NamePattern =
    NamePattern::tenant("aws_sqs_queue.name", "tenant-{id}-api-dlq-{suffix}", 80);

/// The log group the tenant API function writes to (created by logging; crypto's key policy
/// admits it by ARN).
pub const API_LOG_GROUP: NamePattern = NamePattern::tenant(
    "aws_cloudwatch_log_group.name",
    "tenant-{id}-api-logs-{suffix}",
    512,
);

/// The log group receiving the tenant VPC's flow logs (created by logging; crypto's key policy
/// admits it by ARN).
pub const FLOW_LOG_GROUP: NamePattern = NamePattern::tenant(
    "aws_cloudwatch_log_group.name",
    "tenant-{id}-flow-logs-{suffix}",
    512,
);

/// The central log group every tenant's events are forwarded to.
pub const CENTRAL_LOG_GROUP: NamePattern = NamePattern::central(
    "aws_cloudwatch_log_group.name",
    "/aws/saas/central-logs-{suffix}",
    512,
);

/// The central Lambda that forwards tenant log events into the central log group (tenant stacks
/// find it by this name).
pub const CENTRAL_LOG_FORWARDER: NamePattern = NamePattern::central(
    "aws_lambda_function.function_name",
    "saas-central-log-forwarder-{suffix}",
    64,
);

/// The central EventBridge bus carrying tenant lifecycle and routing events (tenant stacks find
/// it by this name).
pub const EVENT_BUS: NamePattern = NamePattern::central(
    "aws_cloudwatch_event_bus.name",
    "saas-tenant-events-{suffix}",
    256,
);

/// The rule on the central bus routing a tenant's platform events to its API function.
pub const TENANT_EVENTS_RULE: NamePattern = NamePattern::tenant(
    "aws_cloudwatch_event_rule.name",
    "tenant-{id}-events-{suffix}",
    64,
);

/// The queue the tenant's events rule dead-letters into. It is encrypted with the tenant key,
/// whose policy names it.
pub const TENANT_EVENTS_DLQ: NamePattern =
    NamePattern::tenant("aws_sqs_queue.name", "tenant-{id}-events-dlq-{suffix}", 80);

/// The ARN of the log group `name` in `region` of `account_id` (an id or a reference to one):
/// `arn:aws:logs:{region}:{account}:log-group:{name}`. Key policies spell log groups out this way
/// because the groups, encrypted with the key, cannot be referenced from its policy.
pub fn log_group_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account_id}:log-group:{name}")
}

/// The ARN of the role `name` of `account_id` (an id or a reference to one).
pub fn role_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{name}")
}

/// The tags every taggable resource carries: `TenantId` (for tenant resources), `Environment` and
/// `ManagedBy = CDKTF`, plus `Name`.
pub fn standard_tags(tenant_id: Option<&str>, suffix: &str, name: &str) -> Value {
    let mut tags = Map::new();
    tags.insert("Environment".into(), Value::String(suffix.into()));
    tags.insert("ManagedBy".into(), Value::String("CDKTF".into()));
    tags.insert("Name".into(), Value::String(name.into()));
    if let Some(id) = tenant_id {
        tags.insert("TenantId".into(), Value::String(id.into()));
    }
    Value::Object(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        assert_eq!(
            resource_name("acme-corp", "vpc", "dev"),
            "tenant-acme-corp-vpc-dev"
        );
        assert_eq!(tenant_stack_name("retail-co", "pr7"), "tenant-retail-co-pr7");
        assert_eq!(central_stack_name("dev"), "central-dev");
        assert_eq!(
            TENANT_EVENTS_RULE.render("acme-corp", "dev"),
            "tenant-acme-corp-events-dev"
        );
        assert_eq!(EVENT_BUS.render_central("dev"), "saas-tenant-events-dev");
        assert_eq!(
            log_group_arn("us-east-1", "123456789012", "/aws/lambda/f"),
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
        );
    }

    #[test]
    fn physical_names_are_known_by_type() {
        assert!(is_physical_name("aws_sqs_queue", "name"));
        assert!(is_physical_name("aws_iam_role", "name_prefix"));
        assert!(is_physical_name("aws_s3_bucket", "bucket"));
        assert!(is_physical_name("aws_db_instance", "identifier"));
        assert!(
            !is_physical_name("aws_s3_bucket_policy", "bucket"),
            "a reference to the bucket"
        );
        assert!(!is_physical_name("aws_lambda_permission", "function_name"));
    }

    #[test]
    fn tenant_tags_carry_the_tenant() {
        let tags = standard_tags(Some("acme-corp"), "dev", "tenant-acme-corp-vpc-dev");
        assert_eq!(tags["TenantId"], "acme-corp");
        assert_eq!(tags["Environment"], "dev");
        assert_eq!(tags["ManagedBy"], "CDKTF");
        assert!(standard_tags(None, "dev", "x").get("TenantId").is_none());
    }
}
