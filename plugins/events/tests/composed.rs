//! Every bundled plugin, run natively in the host's order over one tenant stack with the SDK's
//! `TenantStack` harness: the values flow from provider to requirer, and no plugin's rule finds
//! an error in the composed stack. What the end-to-end tests prove through the host, this proves
//! without building a component, and it is the example of testing against the bundled plugins.

use tenant_plugin_compute::Compute;
use tenant_plugin_crypto::Crypto;
use tenant_plugin_events::Events;
use tenant_plugin_iam::IamPlugin;
use tenant_plugin_logging::Logging;
use tenant_plugin_network::Network;
use tenant_plugin_sdk::testing::TenantStack;
use tenant_plugin_sdk::{Finding, PluginError, Severity};
use tenant_plugin_storage::StoragePlugin;

fn errors(findings: Result<Vec<Finding>, PluginError>) -> Vec<Finding> {
    findings
        .expect("the check runs")
        .into_iter()
        .filter(|finding| finding.severity == Severity::Error)
        .collect()
}

#[test]
fn the_bundled_plugins_compose_without_errors() {
    let mut stack = TenantStack::new("acme-corp", "10.0.0.0/16");
    stack.synthesize::<Crypto>().unwrap();
    stack.synthesize::<Network>().unwrap();
    stack.synthesize::<Logging>().unwrap();
    stack.synthesize::<StoragePlugin>().unwrap();
    stack.synthesize::<IamPlugin>().unwrap();
    stack.synthesize::<Compute>().unwrap();
    stack.synthesize::<Events>().unwrap();
    let document = stack.document().to_value();
    assert_eq!(
        document["resource"]["aws_lambda_function"]["api"]["vpc_config"][0]["subnet_ids"],
        serde_json::json!(["${aws_subnet.private_a.id}", "${aws_subnet.private_b.id}"]),
        "network's subnet list reaches compute as a list"
    );
    let findings = [
        ("crypto", errors(stack.check::<Crypto>())),
        ("network", errors(stack.check::<Network>())),
        ("logging", errors(stack.check::<Logging>())),
        ("storage", errors(stack.check::<StoragePlugin>())),
        ("iam", errors(stack.check::<IamPlugin>())),
        ("compute", errors(stack.check::<Compute>())),
        ("events", errors(stack.check::<Events>())),
    ];
    for (plugin, errors) in findings {
        assert!(errors.is_empty(), "{plugin}: {errors:#?}");
    }
}

#[test]
fn a_plugin_run_before_its_providers_names_the_missing_value() {
    let mut stack = TenantStack::new("acme-corp", "10.0.0.0/16");
    stack.synthesize::<Crypto>().unwrap();
    let error = stack.synthesize::<Compute>().unwrap_err();
    assert!(error.to_string().contains("was not provided"), "{error}");
}
