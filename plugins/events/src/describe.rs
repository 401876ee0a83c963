//! What the plugin declares to the host: values it needs, rules and settings.

use crate::{rules, settings};
use tenant_plugin_sdk::prelude::*;

/// The plugin's self-description.
pub fn plugin_info() -> PluginInfo {
    let info = PluginInfo::new(
        "events",
        env!("CARGO_PKG_VERSION"),
        "Tenant event bus and signup-driven provisioning workflow (central); per-tenant event routing to the tenant API (tenant stacks).",
    )
    .requires(StackKind::Tenant, "function-arn", "The tenant API function the tenant's events are delivered to.")
    .requires(StackKind::Tenant, "function-name", "The tenant API function, for the permission letting EventBridge invoke it.")
    .requires(StackKind::Tenant, "kms-key-arn", "The tenant CMK encrypting the routing rule's dead-letter queue.")
    .requires(StackKind::Tenant, "account-id", "The tenant account, binding the dead-letter queue policy and the invoke permission to it.");
    settings::declare(rules::declare(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_four_error_rules_and_provides_nothing() {
        let info = plugin_info();
        let ids: Vec<(&str, Severity)> = info.rules.iter().map(|r| (r.id.as_str(), r.severity)).collect();
        assert_eq!(
            ids,
            [
                (rules::RULE_HAS_DLQ, Severity::Error),
                (rules::LAMBDA_PERMISSION_BOUND, Severity::Error),
                (rules::TENANT_RULE_SCOPED, Severity::Error),
                (rules::QUEUES_ENCRYPTED, Severity::Error),
            ]
        );
        assert!(info.provides.is_empty());
        assert!(info.requires.iter().all(|value| value.stack == StackKind::Tenant));
    }
}
