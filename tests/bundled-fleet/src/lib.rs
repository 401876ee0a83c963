//! The example fleet (the SDK's three example tenants and the central stack) composed natively
//! from the bundled plugins' pure functions, in the host's provider order, with the access
//! intents each plugin declared; judged by `tenant-access` as the host judges them.
//!
//! A plugin's intent often depends on other plugins' resources (compute's role reads storage's
//! bucket through iam's grants, crypto's key and storage's endpoint policy), so the intents are
//! proven here, over the whole fleet, in milliseconds and without WebAssembly. The host's
//! end-to-end tests prove the same through the loaded components.

use serde_json::Value;
use tenant_access::fleet::{Fleet, FleetOptions, StackInput};
use tenant_access::intent::{Expectation, Intent, IntentOutcome};
use tenant_plugin_compute::Compute;
use tenant_plugin_crypto::Crypto;
use tenant_plugin_events::Events;
use tenant_plugin_iam::IamPlugin;
use tenant_plugin_logging::Logging;
use tenant_plugin_network::Network;
use tenant_plugin_sdk::naming::{central_stack_name, tenant_stack_name};
use tenant_plugin_sdk::testing::{TenantStack, central_context, compose, example_fleet};
use tenant_plugin_sdk::{AccessExpectation, AccessIntent, Fragment, Plugin};
use tenant_plugin_storage::StoragePlugin;

/// One composed stack and the intents its plugins declared in it.
#[derive(Debug, Clone)]
pub struct ComposedStack {
    /// The stack's name, `central-dev` or `tenant-<id>-dev`.
    pub name: String,
    /// The tenant, for tenant stacks.
    pub tenant: Option<String>,
    /// The composed Terraform JSON.
    pub document: Value,
    /// Every declared intent, in the model's terms, naming its plugin and this stack.
    pub intents: Vec<Intent>,
}

/// The example fleet: the central stack, then one stack per example tenant.
pub fn example_stacks() -> Vec<ComposedStack> {
    let mut stacks = vec![central_stack()];
    for tenant in example_fleet() {
        let mut stack = TenantStack::new(&tenant.id, &tenant.cidr_block);
        let synthesized = [
            stack.synthesize::<Crypto>().map(drop),
            stack.synthesize::<Network>().map(drop),
            stack.synthesize::<Logging>().map(drop),
            stack.synthesize::<StoragePlugin>().map(drop),
            stack.synthesize::<IamPlugin>().map(drop),
            stack.synthesize::<Compute>().map(drop),
            stack.synthesize::<Events>().map(drop),
        ];
        for result in synthesized {
            result.unwrap_or_else(|e| panic!("the tenant stack of {} synthesizes: {e}", tenant.id));
        }
        let name = tenant_stack_name(&tenant.id, "dev");
        let fragments: Vec<&Fragment> = stack.fragments().iter().map(|(_, fragment)| fragment).collect();
        stacks.push(ComposedStack {
            intents: declared(&name, stack.fragments()),
            document: compose(&fragments),
            name,
            tenant: Some(tenant.id),
        });
    }
    stacks
}

/// The central stack: logging's aggregation path and events' bus and workflows.
fn central_stack() -> ComposedStack {
    fn central<P: Plugin>() -> (String, Fragment) {
        let fragment = P::synthesize_central(&central_context::<P>(&[]))
            .unwrap_or_else(|e| panic!("the central stack synthesizes: {e}"));
        (P::describe().name, fragment)
    }
    let fragments = [central::<Logging>(), central::<Events>()];
    let name = central_stack_name("dev");
    ComposedStack {
        intents: declared(&name, &fragments),
        document: compose(&fragments.iter().map(|(_, f)| f).collect::<Vec<_>>()),
        tenant: None,
        name,
    }
}

/// The intents `fragments` declare in `stack`, as the host reads them from contract 0.2.
fn declared(stack: &str, fragments: &[(String, Fragment)]) -> Vec<Intent> {
    fragments
        .iter()
        .flat_map(|(plugin, fragment)| fragment.intents.iter().map(move |intent| (plugin, intent)))
        .map(|(plugin, intent): (&String, &AccessIntent)| Intent {
            plugin: plugin.as_str().into(),
            stack: stack.into(),
            principal: intent.principal.as_str().into(),
            action: intent.action.as_str().into(),
            resource: intent.resource.as_str().into(),
            expect: match intent.expect {
                AccessExpectation::Allow => Expectation::Allow,
                AccessExpectation::Deny => Expectation::Deny,
            },
            context: intent
                .context
                .iter()
                .map(|(key, value)| (key.as_str().into(), value.as_str().into()))
                .collect(),
            because: intent.because.as_str().into(),
        })
        .collect()
}

/// The fleet model of `stacks` (deployer: the model's default `terraform-deployer`).
pub fn fleet(stacks: &[ComposedStack]) -> Fleet {
    Fleet::from_stacks(&inputs(stacks), &FleetOptions::default())
}

/// `stacks` as the fleet model reads them.
pub fn inputs(stacks: &[ComposedStack]) -> Vec<StackInput<'_>> {
    stacks
        .iter()
        .map(|stack| StackInput {
            name: &stack.name,
            tenant: stack.tenant.as_deref(),
            document: &stack.document,
        })
        .collect()
}

/// Every intent the plugins declared in `stacks`.
pub fn declared_intents(stacks: &[ComposedStack]) -> Vec<Intent> {
    stacks.iter().flat_map(|stack| stack.intents.clone()).collect()
}

/// Every declared intent of `stacks` with its verdict.
pub fn judge(stacks: &[ComposedStack]) -> Vec<IntentOutcome> {
    fleet(stacks).check_intents(&inputs(stacks), &declared_intents(stacks))
}
