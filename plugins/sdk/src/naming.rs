//! The fleet's naming convention and standard tags, in one place so every plugin agrees.

use serde_json::{Map, Value};

/// `tenant-{id}-{kind}-{suffix}`: the name of every tenant resource, e.g.
/// `resource_name("acme-corp", "data", "dev")` is `tenant-acme-corp-data-dev`.
pub fn resource_name(tenant_id: &str, kind: &str, suffix: &str) -> String {
    format!("tenant-{tenant_id}-{kind}-{suffix}")
}

/// The name of a tenant's stack: `tenant-{id}-{suffix}`.
pub fn tenant_stack_name(tenant_id: &str, suffix: &str) -> String {
    format!("tenant-{tenant_id}-{suffix}")
}

/// The name of the central stack: `central-{suffix}`.
pub fn central_stack_name(suffix: &str) -> String {
    format!("central-{suffix}")
}

/// The tenant API function: `tenant-{id}-api-{suffix}`.
pub fn api_function_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "api", suffix)
}

/// The dead-letter queue of the tenant API function: `tenant-{id}-api-dlq-{suffix}`.
pub fn api_dead_letter_queue_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "api-dlq", suffix)
}

/// The log group the tenant API function writes to: `tenant-{id}-api-logs-{suffix}`.
pub fn api_log_group_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "api-logs", suffix)
}

/// The log group receiving the tenant VPC's flow logs: `tenant-{id}-flow-logs-{suffix}`.
pub fn flow_log_group_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "flow-logs", suffix)
}

/// The central log group every tenant's events are forwarded to: `/aws/saas/central-logs-{suffix}`.
pub fn central_log_group_name(suffix: &str) -> String {
    format!("/aws/saas/central-logs-{suffix}")
}

/// The central Lambda that forwards tenant log events into the central log group.
pub fn central_log_forwarder_name(suffix: &str) -> String {
    format!("saas-central-log-forwarder-{suffix}")
}

/// The central EventBridge bus carrying tenant lifecycle and routing events.
pub fn event_bus_name(suffix: &str) -> String {
    format!("saas-tenant-events-{suffix}")
}

/// The rule on the central bus routing a tenant's platform events to its API function:
/// `tenant-{id}-events-{suffix}`.
pub fn tenant_events_rule_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "events", suffix)
}

/// The queue the tenant's events rule dead-letters into: `tenant-{id}-events-dlq-{suffix}`. It is
/// encrypted with the tenant key, whose policy names it.
pub fn tenant_events_dlq_name(tenant_id: &str, suffix: &str) -> String {
    resource_name(tenant_id, "events-dlq", suffix)
}

/// The ARN of the log group `name` in `region` of `account_id` (an id or a reference to one):
/// `arn:aws:logs:{region}:{account}:log-group:{name}`. Key policies spell log groups out this way
/// because the groups, encrypted with the key, cannot be referenced from its policy.
pub fn log_group_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account_id}:log-group:{name}")
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
            tenant_events_rule_name("acme-corp", "dev"),
            "tenant-acme-corp-events-dev"
        );
        assert_eq!(
            tenant_events_dlq_name("acme-corp", "dev"),
            "tenant-acme-corp-events-dlq-dev"
        );
        assert_eq!(
            log_group_arn("us-east-1", "123456789012", "/aws/lambda/f"),
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
        );
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
