//! The per-stack pipeline: each stack is synthesized, checked, handed to its [`StackSink`] and
//! dropped, one stack per worker at a time. What outlives it is its [`StackRecord`]: what the
//! fleet checks, the manifest and the reports need. So memory grows with the fleet only by the
//! records, never by the documents (except when a 0.1 plugin's fleet check asks for every
//! document: contract 0.1 has no summaries).

use crate::compose::ComposedStack;
use crate::findings::Finding;
use crate::guardrails::{FleetFacts, FleetLookup};
use crate::output::StackSink;
use crate::plugin::{LoadedPlugin, Runtime, api};
use crate::progress::{Phase, Progress};
use crate::schema::ProviderSchema;
use crate::synth::{SynthError, parallel_try_map, synthesize_stack, wire_tenant};
use crate::tenants::{Fleet, Tenant};
use std::collections::{BTreeMap, BTreeSet};
use tenant_access::model::StackModel;
use tenant_access::texts::Texts;
use tenant_plugin_sdk::naming::{central_stack_name, tenant_stack_name};

/// What is kept of a stack once it is synthesized, checked and handed to the sink.
#[derive(Debug)]
pub struct StackRecord {
    /// The stack's name.
    pub name: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// How many managed resources it declares.
    pub resources: usize,
    /// What the loaded plugins' fleet checks need of it.
    pub summary: api::StackSummary,
    /// What the host's fleet guardrails need of it, until the fleet checks take it.
    pub facts: FleetFacts,
    /// What the access model needs of it, until the fleet checks take it.
    pub access: StackModel,
    /// Which plugin emitted each role, by address, for blaming access findings.
    pub role_origins: BTreeMap<String, String>,
    /// The document, only while a 0.1 plugin's fleet check wants every document.
    pub document: Option<api::StackDocument>,
}

/// Everything one stack's worker needs, shared by all workers.
#[derive(Debug)]
pub struct Pipeline<'a> {
    /// The runtime plugins run in.
    pub runtime: &'a Runtime,
    /// The plugins, in dependency order.
    pub plugins: &'a [LoadedPlugin],
    /// The validated fleet.
    pub fleet: &'a Fleet,
    /// The provider schema.
    pub schema: &'a ProviderSchema,
    /// Every stack's digest, by name.
    pub digests: &'a BTreeMap<String, String>,
    /// Where each checked stack goes.
    pub sink: &'a dyn StackSink,
}

impl Pipeline<'_> {
    /// Runs every stack through the pipeline, central first, then tenants in configuration
    /// order; returns their records and per-stack findings in that order.
    pub fn run(&self, progress: &dyn Progress) -> Result<(Vec<StackRecord>, Vec<Finding>), SynthError> {
        let fleet = self.fleet;
        let mut specs: Vec<(String, Option<&Tenant>)> = vec![(central_stack_name(&fleet.suffix), None)];
        specs.extend(
            fleet
                .tenants
                .iter()
                .map(|t| (tenant_stack_name(&t.id, &fleet.suffix), Some(t))),
        );
        // What any plugin's fleet check needs is summarized once per stack, right after composing.
        let fleet_needs: BTreeSet<&str> = self
            .plugins
            .iter()
            .flat_map(|p| p.info.fleet_needs.iter().map(String::as_str))
            .collect();
        let keep_documents = self.plugins.iter().any(LoadedPlugin::wants_documents);
        let lookup = FleetLookup::new(fleet);
        let texts = Texts::default();
        progress.begin(Phase::Stacks, specs.len());
        let done = parallel_try_map(self.runtime, &specs, "stacks", |(name, tenant)| {
            let stack = synthesize_stack(self.runtime, self.plugins, fleet, name, *tenant, &fleet_needs)?;
            let record = self.check_and_hand_over(stack, &lookup, &texts, keep_documents);
            progress.step();
            record
        })?;
        let mut findings = Vec::new();
        let records = done
            .into_iter()
            .map(|(record, found)| {
                findings.extend(found);
                record
            })
            .collect();
        Ok((records, findings))
    }

    fn check_and_hand_over(
        &self,
        stack: ComposedStack,
        lookup: &FleetLookup<'_>,
        texts: &Texts,
        keep_document: bool,
    ) -> Result<(StackRecord, Vec<Finding>), SynthError> {
        let document = api::StackDocument {
            stack: stack.name.clone(),
            tenant: stack.tenant.as_ref().map(wire_tenant),
            document: tenant_plugin_sdk::json_text(&stack.document),
        };
        let findings =
            crate::check::check_stack(self.runtime, self.plugins, lookup, self.schema, &stack, &document)?;
        let digest = self.digests.get(&stack.name).map_or("", String::as_str);
        self.sink.accept(&stack, digest)?;
        let record = StackRecord {
            resources: crate::guardrails::resources(&stack.document).count(),
            facts: FleetFacts::of(&stack),
            access: crate::access::stack_model(&stack, texts),
            role_origins: stack
                .origins
                .iter()
                .filter(|(address, _)| address.starts_with("aws_iam_role."))
                .map(|(address, plugin)| (address.clone(), plugin.clone()))
                .collect(),
            document: keep_document.then_some(document),
            name: stack.name,
            tenant: stack.tenant,
            summary: stack.summary,
        };
        Ok((record, findings))
    }
}
