//! Golden-file assertions, stack contexts and composed stacks for plugin and host tests (native
//! builds only).

use crate::{
    ExchangedValue, Finding, Fragment, Plugin, PluginError, StackContext, StackDocument, StackKind, Tenant,
};
use serde_json::{Value, json};
use std::path::Path;

/// Compares `actual` (pretty-printed JSON) with the file at `path`. With `BLESS=1` in the
/// environment the file is (re)written instead, so reviewers see changes as diffs.
pub fn assert_golden_json(path: impl AsRef<Path>, actual: &serde_json::Value) {
    let path = path.as_ref();
    let rendered = format!(
        "{}\n",
        serde_json::to_string_pretty(actual).expect("JSON values serialize")
    );
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("golden file has a folder"))
            .expect("create golden folder");
        std::fs::write(path, &rendered).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {}: {e}; run the test with BLESS=1 to create it",
            path.display()
        )
    });
    if expected != rendered {
        panic!(
            "{} differs from the golden file.\n--- expected\n{expected}\n--- actual\n{rendered}\nRun with BLESS=1 to accept the new output.",
            path.display()
        );
    }
}

/// A tenant stack context for `tenant_id` with `cidr_block`, suffix `dev`, region `us-east-1`,
/// the plugin's default settings, and the text `inputs` (add list inputs with
/// [`StackContext::with_input`]).
pub fn tenant_context<P: Plugin>(
    tenant_id: &str,
    cidr_block: &str,
    inputs: &[(&str, &str)],
) -> StackContext<P::Settings> {
    let tenant = Tenant {
        id: tenant_id.into(),
        cidr_block: cidr_block.into(),
    };
    dev_context::<P>(
        crate::naming::tenant_stack_name(tenant_id, "dev"),
        Some(tenant),
        Vec::new(),
        inputs,
    )
}

/// The three example tenants: `acme-corp`, `tech-startup`, `retail-co` on 10.0, 10.1 and
/// 10.2.0.0/16.
pub fn example_fleet() -> Vec<Tenant> {
    [
        ("acme-corp", "10.0.0.0/16"),
        ("tech-startup", "10.1.0.0/16"),
        ("retail-co", "10.2.0.0/16"),
    ]
    .iter()
    .map(|(id, cidr)| Tenant {
        id: (*id).into(),
        cidr_block: (*cidr).into(),
    })
    .collect()
}

/// The central stack context for the [`example_fleet`], suffix `dev`, region `us-east-1`.
pub fn central_context<P: Plugin>(inputs: &[(&str, &str)]) -> StackContext<P::Settings> {
    dev_context::<P>(
        crate::naming::central_stack_name("dev"),
        None,
        example_fleet(),
        inputs,
    )
}

/// A context of suffix `dev` in region `us-east-1` with the plugin's default settings.
fn dev_context<P: Plugin>(
    stack: String,
    tenant: Option<Tenant>,
    fleet: Vec<Tenant>,
    inputs: &[(&str, &str)],
) -> StackContext<P::Settings> {
    StackContext {
        stack,
        tenant,
        fleet,
        environment_suffix: "dev".into(),
        region: "us-east-1".into(),
        settings: default_settings::<P>(),
        inputs: inputs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), ExchangedValue::Text((*value).to_owned())))
            .collect(),
        contributions: Vec::new(),
    }
}

/// The plugin's settings with their declared defaults, as the host would pass them without
/// configuration. Panics when the defaults do not parse: the schema and the struct disagree.
pub fn default_settings<P: Plugin>() -> P::Settings {
    settings_with::<P>(json!({})).unwrap_or_else(|e| panic!("the declared defaults do not parse: {e}"))
}

/// The keys the settings type `S` reads, as serde's derive lists them (renames applied), asked of
/// the derive itself: `S` is deserialized from a probe that records the field list serde passes
/// to `deserialize_struct`. `None` when `S` does not deserialize as a struct (a map, or a struct
/// with `#[serde(flatten)]`, which the derive reads as a map).
pub fn settings_keys<S: crate::SettingsSchema>() -> Option<&'static [&'static str]> {
    let mut probe = KeyProbe::default();
    let _ = S::deserialize(&mut probe);
    probe.keys
}

/// A deserializer that only records the fields a struct asks for; see [`settings_keys`].
#[derive(Default)]
struct KeyProbe {
    keys: Option<&'static [&'static str]>,
}

/// What [`KeyProbe`] answers every request with: it holds no data.
#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the key probe holds no data")
    }
}

impl std::error::Error for Probed {}

impl serde::de::Error for Probed {
    fn custom<T: std::fmt::Display>(_message: T) -> Self {
        Self
    }
}

impl<'de> serde::Deserializer<'de> for &mut KeyProbe {
    type Error = Probed;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Probed> {
        self.keys = Some(fields);
        Err(Probed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The plugin's default settings overlaid with `overrides` (a JSON object), checked and parsed as
/// the SDK does before each call: how tests try configured and invalid values.
pub fn settings_with<P: Plugin>(overrides: Value) -> Result<P::Settings, PluginError> {
    let mut settings = crate::settings::defaults::<P::Settings>();
    if let (Some(settings), Some(overrides)) = (settings.as_object_mut(), overrides.as_object()) {
        settings.extend(overrides.clone());
    }
    crate::settings::parse(&settings)
}

/// `count` CIDR blocks from /8 to /28 inside 10.0.0.0/8, spread by a fixed pseudo-random sequence
/// so that many nest and some repeat: the cases fleet-scale block lookups are checked against.
pub fn scattered_blocks(count: usize) -> Vec<crate::cidr::Ipv4Block> {
    let mut seed: u32 = 7;
    (0..count)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let prefix = 8 + (seed >> 8) % 21;
            let address = 0x0a00_0000 | (seed.rotate_left(13) & 0x00ff_ffff);
            let network = address & (u32::MAX << (32 - prefix));
            crate::cidr::Ipv4Block::new(std::net::Ipv4Addr::from(network), prefix as u8)
                .expect("the host bits are cleared")
        })
        .collect()
}

/// The composed stack of `tenant_id` with `cidr_block`, suffix `dev`, holding `document`: what a
/// plugin's `check_stack` receives for that tenant.
pub fn tenant_stack(tenant_id: &str, cidr_block: &str, document: Value) -> StackDocument {
    let tenant = Tenant {
        id: tenant_id.into(),
        cidr_block: cidr_block.into(),
    };
    received(
        &crate::naming::tenant_stack_name(tenant_id, "dev"),
        Some(tenant),
        &document,
    )
}

/// `document` as a plugin receives it from the host: as JSON text, whose blocks are parsed when
/// a check first reads them.
pub fn received(stack: &str, tenant: Option<Tenant>, document: &Value) -> StackDocument {
    StackDocument::received(stack, tenant, crate::json_text(document))
}

/// `document` with one edit at the JSON pointer `pointer`: `Some(value)` sets it, `None` removes
/// it. Rule tests use it to break one thing of a complying stack at a time.
///
/// Panics when the pointer's parent does not exist (or, for a removal, is not an object).
pub fn edited(mut document: Value, pointer: &str, edit: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let parent = document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} exists"));
    match edit {
        Some(value) => parent[key] = value,
        None => {
            parent.as_object_mut().expect("parent is an object").remove(key);
        }
    }
    document
}

/// Asserts that `first` and `second`, two syntheses of the same stack, carry one byte-identical
/// package, stored under `{asset_folder}/{sha256}.zip`, and that the Lambda function at
/// `function_address` is pinned to it by `filename` and `source_code_hash`.
pub fn assert_reproducible_package(
    first: &Fragment,
    second: &Fragment,
    asset_folder: &str,
    function_address: &str,
) {
    let [asset] = first.assets.as_slice() else {
        panic!("one asset expected")
    };
    assert_eq!(
        first.assets, second.assets,
        "two syntheses give byte-identical packages"
    );
    assert_eq!(
        asset.path,
        format!(
            "{asset_folder}/{}.zip",
            crate::package::sha256_hex(&asset.contents)
        )
    );
    let function = first.body(function_address).unwrap();
    assert_eq!(
        function["source_code_hash"],
        crate::package::sha256_base64(&asset.contents)
    );
    assert_eq!(function["filename"], format!("${{path.module}}/{}", asset.path));
}

/// Asserts that `fragment`, synthesized for a stack of `kind`, provides exactly the values plugin
/// `P` declares for that kind of stack, each in its declared shape, in any order.
pub fn assert_provides_declared<P: Plugin>(fragment: &Fragment, kind: StackKind) {
    let mut provided: Vec<(&str, crate::ValueKind)> = fragment
        .provides
        .iter()
        .map(|(name, value)| (name.as_str(), value.kind()))
        .collect();
    let mut declared: Vec<(&str, crate::ValueKind)> = P::describe()
        .provides
        .iter()
        .filter(|value| value.stack == kind)
        .map(|value| (value.name, value.kind))
        .collect();
    provided.sort_unstable_by_key(|(name, _)| *name);
    declared.sort_unstable_by_key(|(name, _)| *name);
    assert_eq!(
        provided, declared,
        "provided values (left) differ from the declared ones (right)"
    );
}

/// The Terraform JSON document of `fragments` composed in order: their `resource`, `data` and
/// `output` sections merged, as the host composes a stack (without its provider and backend).
/// Panics when two fragments declare the same address or output, which the host refuses.
pub fn compose(fragments: &[&Fragment]) -> Value {
    let mut document = json!({"resource": {}, "data": {}, "output": {}});
    for fragment in fragments {
        let json = fragment.to_json();
        for section in ["resource", "data"] {
            for (type_name, blocks) in json[section].as_object().into_iter().flatten() {
                let by_type = document[section]
                    .as_object_mut()
                    .expect("sections are objects")
                    .entry(type_name.clone())
                    .or_insert_with(|| json!({}));
                for (name, body) in blocks.as_object().into_iter().flatten() {
                    assert!(
                        by_type.get(name).is_none(),
                        "{section} {type_name}.{name} is emitted twice"
                    );
                    by_type[name] = body.clone();
                }
            }
        }
        for (name, output) in json["output"].as_object().into_iter().flatten() {
            assert!(
                document["output"].get(name).is_none(),
                "output {name} is emitted twice"
            );
            document["output"][name] = output.clone();
        }
    }
    document
}

/// Runs several plugins' pure functions over one tenant stack in order, as the host would: each
/// plugin receives the values earlier plugins provided and the contributions made to its
/// extension points, and the rules of any of them can be run over the composed stack. A plugin's
/// tests use it to see its fragment beside the bundled plugins' fragments without the host.
///
/// ```ignore
/// let mut stack = TenantStack::new("acme-corp", "10.0.0.0/16");
/// stack.synthesize::<Crypto>()?;
/// stack.synthesize::<Audit>()?;
/// assert!(stack.check::<Crypto>()?.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct TenantStack {
    tenant: Tenant,
    provided: Vec<(String, ExchangedValue)>,
    contributions: Vec<crate::ReceivedContribution>,
    fragments: Vec<(String, Fragment)>,
}

impl TenantStack {
    /// An empty stack of tenant `tenant_id` on `cidr_block`, suffix `dev`.
    pub fn new(tenant_id: &str, cidr_block: &str) -> Self {
        Self {
            tenant: Tenant {
                id: tenant_id.into(),
                cidr_block: cidr_block.into(),
            },
            provided: Vec::new(),
            contributions: Vec::new(),
            fragments: Vec::new(),
        }
    }

    fn context<P: Plugin>(&self, settings: P::Settings) -> StackContext<P::Settings> {
        let info = P::describe();
        let mut context = tenant_context::<P>(&self.tenant.id, &self.tenant.cidr_block, &[]);
        context.settings = settings;
        context.inputs = self
            .provided
            .iter()
            .filter(|(name, _)| info.requires.iter().any(|value| value.name == name))
            .cloned()
            .collect();
        context.contributions = self
            .contributions
            .iter()
            .filter(|received| info.accepts.iter().any(|point| point.name == received.point))
            .cloned()
            .collect();
        context
    }

    /// Runs `P`'s `contribute` with its default settings; the contributions reach the owners of
    /// the extension points when they synthesize afterwards.
    pub fn contribute<P: Plugin>(&mut self) -> Result<(), PluginError> {
        let contributor = P::describe().name;
        let contributions = P::contribute(&self.context::<P>(default_settings::<P>()))?;
        self.contributions
            .extend(contributions.into_iter().map(|c| crate::ReceivedContribution {
                contributor: contributor.clone(),
                point: c.point,
                body: c.body,
            }));
        Ok(())
    }

    /// Runs `P`'s `synthesize_tenant` with its default settings.
    pub fn synthesize<P: Plugin>(&mut self) -> Result<&Fragment, PluginError> {
        self.synthesize_with::<P>(default_settings::<P>())
    }

    /// Runs `P`'s `synthesize_tenant` with `settings`; a missing input is the usual error.
    pub fn synthesize_with<P: Plugin>(&mut self, settings: P::Settings) -> Result<&Fragment, PluginError> {
        let fragment = P::synthesize_tenant(&self.context::<P>(settings))?;
        self.provided.extend(fragment.provides.iter().cloned());
        self.fragments.push((P::describe().name, fragment));
        Ok(&self.fragments.last().expect("just pushed").1)
    }

    /// Each plugin's fragment with the plugin's name, in the order they were synthesized: where a
    /// test finds the access intents each plugin declared.
    pub fn fragments(&self) -> &[(String, Fragment)] {
        &self.fragments
    }

    /// The composed stack as a check receives it.
    pub fn document(&self) -> StackDocument {
        let fragments: Vec<&Fragment> = self.fragments.iter().map(|(_, fragment)| fragment).collect();
        tenant_stack(&self.tenant.id, &self.tenant.cidr_block, compose(&fragments))
    }

    /// `P`'s `check_stack` findings over the composed stack, with its default settings.
    pub fn check<P: Plugin>(&self) -> Result<Vec<Finding>, PluginError> {
        P::check_stack(&self.document(), &default_settings::<P>())
    }
}

/// The checks behind [`conformance_tests!`](crate::conformance_tests), one function per test.
pub mod conformance {
    use super::*;

    fn golden_path(folder: &str, stack: &StackContext<impl Sized>) -> std::path::PathBuf {
        let file = match &stack.tenant {
            Some(tenant) => format!("tenant-{}.json", tenant.id),
            None => "central.json".to_owned(),
        };
        Path::new(folder).join(file)
    }

    fn fragment<P: Plugin>(context: &StackContext<P::Settings>) -> Fragment {
        let result = match context.tenant {
            Some(_) => P::synthesize_tenant(context),
            None => P::synthesize_central(context),
        };
        result.unwrap_or_else(|e| panic!("{} does not synthesize: {e}", context.stack))
    }

    /// The fragment of `context` matches its golden file in `folder` (`tenant-<id>.json` or
    /// `central.json`); a plugin that adds nothing to a stack has no golden file for it.
    pub fn golden<P: Plugin>(folder: &str, context: &StackContext<P::Settings>) {
        let fragment = fragment::<P>(context);
        let path = golden_path(folder, context);
        if fragment == Fragment::default() {
            assert!(
                !path.exists(),
                "{} adds nothing, but {} exists",
                context.stack,
                path.display()
            );
        } else {
            assert_golden_json(&path, &fragment.to_json());
        }
    }

    /// The fragment of `context` provides exactly the declared values of its kind of stack.
    pub fn provides_declared<P: Plugin>(context: &StackContext<P::Settings>) {
        let kind = if context.tenant.is_some() {
            StackKind::Tenant
        } else {
            StackKind::Central
        };
        assert_provides_declared::<P>(&fragment::<P>(context), kind);
    }

    /// Every finding of the plugin's checks over its own fragments (as stacks and as a fleet)
    /// cites a rule the plugin declares.
    pub fn own_rules_only<P: Plugin>(
        tenant: &StackContext<P::Settings>,
        central: &StackContext<P::Settings>,
    ) {
        let info = P::describe();
        let stacks: Vec<StackDocument> = [tenant, central]
            .into_iter()
            .map(|context| {
                received(
                    &context.stack,
                    context.tenant.clone(),
                    &compose(&[&fragment::<P>(context)]),
                )
            })
            .collect();
        let mut findings = Vec::new();
        for stack in &stacks {
            findings.extend(P::check_stack(stack, &tenant.settings).expect("check_stack runs"));
        }
        findings.extend(P::check_fleet(&stacks, &tenant.settings).expect("check_fleet runs"));
        for finding in findings {
            assert!(
                info.declares_rule(&finding.rule_id),
                "finding of undeclared rule `{}`: {finding:?}",
                finding.rule_id
            );
        }
    }

    /// The physical names in the fragment of `context` (every attribute that
    /// [`is_physical_name`](crate::naming::is_physical_name) says names its resource) are exactly
    /// the renderings of the plugin's name patterns for that kind of stack, at the declared
    /// resource kinds. A name built from a template (`${...}`) fails: the host budgets names from
    /// the declared patterns alone, so every name must be one of them, literally.
    pub fn name_patterns_match<P: Plugin>(context: &StackContext<P::Settings>) {
        let kind = if context.tenant.is_some() {
            StackKind::Tenant
        } else {
            StackKind::Central
        };
        let tenant_id = context.tenant.as_ref().map_or("", |tenant| tenant.id.as_str());
        let mut declared: Vec<(String, String)> = P::describe()
            .name_patterns
            .iter()
            .filter(|pattern| pattern.stack == kind)
            .map(|pattern| {
                let name = pattern.render(tenant_id, &context.environment_suffix);
                assert!(
                    name.len() <= pattern.max_length as usize,
                    "{} `{name}` is longer than {}",
                    pattern.resource_kind,
                    pattern.max_length
                );
                (pattern.resource_kind.to_owned(), name)
            })
            .collect();
        let mut created: Vec<(String, String)> = Vec::new();
        for block in fragment::<P>(context).blocks {
            if block.kind != crate::BlockKind::Resource {
                continue;
            }
            let attributes = block.body.as_object().into_iter().flatten();
            for (attribute, value) in attributes {
                if !crate::naming::is_physical_name(&block.type_name, attribute) {
                    continue;
                }
                let name = value.as_str().unwrap_or_else(|| {
                    panic!(
                        "{}.{} sets `{attribute}` to {value}, not a string",
                        block.type_name, block.name
                    )
                });
                assert!(
                    !name.contains("${"),
                    "{}.{} builds its physical name `{attribute}` from the template `{name}`; write the rendering of a declared name pattern instead",
                    block.type_name,
                    block.name
                );
                created.push((format!("{}.{attribute}", block.type_name), name.to_owned()));
            }
        }
        declared.sort();
        declared.dedup();
        created.sort();
        created.dedup();
        assert_eq!(
            created, declared,
            "names created (left) differ from the declared name patterns (right)"
        );
    }

    /// The settings schema and the settings type name the same keys: every declared setting is
    /// a field of the type and every field a declared setting, so a name written differently in
    /// the two places fails here rather than in a user's configuration.
    pub fn settings_keys_match_fields<P: Plugin>() {
        use crate::SettingsSchema;
        let keys = settings_keys::<P::Settings>().unwrap_or_else(|| {
            panic!("the settings type does not deserialize as a plain struct (no `flatten`), so its keys cannot be checked")
        });
        let mut fields: Vec<&str> = keys.to_vec();
        fields.sort_unstable();
        let mut declared: Vec<String> = P::Settings::schema().into_iter().map(|s| s.name).collect();
        declared.sort_unstable();
        assert_eq!(
            fields, declared,
            "the settings type's fields (left) differ from the declared settings (right)"
        );
    }

    /// The declared defaults parse into the settings type, and every setting has a default or is
    /// required.
    pub fn settings_schema_parses<P: Plugin>() {
        use crate::SettingsSchema;
        for setting in P::Settings::schema() {
            assert!(
                setting.default_value.is_some() != setting.required,
                "setting `{}` needs either a default or `required`, not both",
                setting.name
            );
            if let Some(default) = &setting.default_value {
                setting
                    .check(default)
                    .unwrap_or_else(|e| panic!("the default breaks its own schema: {e}"));
            }
        }
        let _ = default_settings::<P>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NamePattern, NoSettings, PluginInfo, Rule, ValueDeclaration};

    const A: ValueDeclaration = ValueDeclaration::text(StackKind::Tenant, "a", "A.");
    const B: ValueDeclaration = ValueDeclaration::text_list(StackKind::Tenant, "b", "B.");
    const NEEDS_A: Rule = Rule::error("p.needs-a", "The stack has output a.");

    struct Provider;

    impl Plugin for Provider {
        type Settings = NoSettings;

        fn describe() -> PluginInfo {
            PluginInfo::new("p", "0.1.0", "Provides two values.").provides(&[B, A])
        }

        fn synthesize_tenant(_context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
            let mut fragment = Fragment::default();
            fragment.provide(&A, "${aws_vpc.a.id}");
            fragment.provide(&B, vec!["x".to_owned()]);
            fragment.resource("aws_vpc", "a", json!({}));
            Ok(fragment)
        }
    }

    struct Requirer;

    impl Plugin for Requirer {
        type Settings = NoSettings;

        fn describe() -> PluginInfo {
            PluginInfo::new("r", "0.1.0", "Requires a.")
                .requires(&[A])
                .rules(&[NEEDS_A])
        }

        fn synthesize_tenant(context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
            let mut fragment = Fragment::default();
            fragment.output("a", json!(context.input(&A)?), "A.");
            Ok(fragment)
        }

        fn check_stack(stack: &StackDocument, _settings: &NoSettings) -> Result<Vec<Finding>, PluginError> {
            Ok(match stack.section("output").and_then(|output| output.get("a")) {
                Some(_) => Vec::new(),
                None => vec![NEEDS_A.finding("", "no output a", "Load r.")],
            })
        }
    }

    fn providing(values: &[(&ValueDeclaration, ExchangedValue)]) -> Fragment {
        let mut fragment = Fragment::default();
        for (declaration, value) in values {
            fragment.provide(declaration, value.clone());
        }
        fragment
    }

    #[test]
    fn provided_values_are_compared_in_any_order() {
        let list = ExchangedValue::TextList(Vec::new());
        let text = ExchangedValue::Text(String::new());
        assert_provides_declared::<Provider>(&providing(&[(&A, text), (&B, list)]), StackKind::Tenant);
    }

    #[test]
    #[should_panic]
    fn a_value_of_the_wrong_shape_is_refused() {
        let text = ExchangedValue::Text(String::new());
        assert_provides_declared::<Provider>(
            &providing(&[(&A, text.clone()), (&B, text)]),
            StackKind::Tenant,
        );
    }

    #[test]
    fn a_stack_runs_plugins_in_order_feeding_provided_values() {
        let mut stack = TenantStack::new("acme-corp", "10.0.0.0/16");
        stack.synthesize::<Provider>().unwrap();
        stack.synthesize::<Requirer>().unwrap();
        let document = stack.document().to_value();
        assert_eq!(document["output"]["a"]["value"], "${aws_vpc.a.id}");
        assert!(document["resource"]["aws_vpc"]["a"].is_object());
        assert_eq!(stack.check::<Requirer>().unwrap(), []);
    }

    #[test]
    fn a_requirer_without_its_provider_fails_naming_the_input() {
        let error = TenantStack::new("acme-corp", "10.0.0.0/16")
            .synthesize::<Requirer>()
            .unwrap_err();
        assert!(error.to_string().contains("`a`"), "{error}");
    }

    #[test]
    #[should_panic(expected = "emitted twice")]
    fn composing_one_address_twice_is_refused() {
        let fragment =
            Provider::synthesize_tenant(&tenant_context::<Provider>("a", "10.0.0.0/16", &[])).unwrap();
        compose(&[&fragment, &fragment]);
    }

    const DATABASE: NamePattern =
        NamePattern::tenant("aws_db_instance.identifier", "tenant-{id}-db-{suffix}", 63);

    /// The identifier [`Database`] gives its database, by variant: the declared pattern's
    /// rendering, an undeclared name, and a name built from a template.
    const DATABASE_IDENTIFIERS: [&str; 3] = [
        "tenant-acme-corp-db-dev",
        "tenant-acme-corp-database-dev",
        "tenant-${var.tenant}-db-dev",
    ];

    /// Declares [`DATABASE`] and creates a database named `DATABASE_IDENTIFIERS[VARIANT]`.
    struct Database<const VARIANT: usize>;

    impl<const VARIANT: usize> Plugin for Database<VARIANT> {
        type Settings = NoSettings;

        fn describe() -> PluginInfo {
            PluginInfo::new("db", "0.1.0", "A database.").names(&[DATABASE])
        }

        fn synthesize_tenant(_context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
            let mut fragment = Fragment::default();
            let identifier = DATABASE_IDENTIFIERS[VARIANT];
            fragment.resource("aws_db_instance", "db", json!({ "identifier": identifier }));
            Ok(fragment)
        }
    }

    fn check_database_names<const VARIANT: usize>() {
        let context = tenant_context::<Database<VARIANT>>("acme-corp", "10.0.0.0/16", &[]);
        conformance::name_patterns_match::<Database<VARIANT>>(&context);
    }

    #[test]
    fn a_declared_name_under_another_attribute_than_name_conforms() {
        check_database_names::<0>();
    }

    #[test]
    #[should_panic(expected = "names created (left) differ from the declared name patterns")]
    fn an_undeclared_physical_name_fails_conformance() {
        check_database_names::<1>();
    }

    #[test]
    #[should_panic(expected = "builds its physical name `identifier` from the template")]
    fn a_templated_physical_name_fails_conformance() {
        check_database_names::<2>();
    }

    /// Declares `retention-days` but reads `retention-day`: a typo in one of the two places.
    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct MisspelledSettings {
        #[serde(default)]
        retention_day: u64,
    }

    impl crate::SettingsSchema for MisspelledSettings {
        fn schema() -> Vec<crate::Setting> {
            vec![crate::Setting::integer("retention-days", "Days.").default(30)]
        }
    }

    struct Misspelled;

    impl Plugin for Misspelled {
        type Settings = MisspelledSettings;

        fn describe() -> PluginInfo {
            PluginInfo::new("m", "0.1.0", "Misspells a setting.")
        }
    }

    #[test]
    fn settings_keys_come_from_the_derive() {
        assert_eq!(
            settings_keys::<MisspelledSettings>(),
            Some(&["retention-day"][..])
        );
        assert_eq!(settings_keys::<NoSettings>(), Some(&[][..]));
        conformance::settings_keys_match_fields::<Provider>();
    }

    #[test]
    #[should_panic(expected = "the settings type's fields (left) differ from the declared settings (right)")]
    fn a_setting_named_differently_in_the_type_and_the_schema_fails() {
        // Neither `deny_unknown_fields` nor a missing default would have caught this one.
        conformance::settings_keys_match_fields::<Misspelled>();
    }

    #[test]
    fn tenant_stacks_are_named_by_the_convention() {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", json!({}));
        assert_eq!(stack.stack, "tenant-acme-corp-dev");
        assert_eq!(stack.tenant.unwrap().cidr_block, "10.0.0.0/16");
    }

    #[test]
    fn edits_set_and_remove_one_value() {
        let document = json!({"resource": {"aws_vpc": {"a": {"cidr_block": "x", "tags": {}}}}});
        assert_eq!(
            edited(
                document.clone(),
                "/resource/aws_vpc/a/cidr_block",
                Some(json!("y"))
            )["resource"]["aws_vpc"]["a"]["cidr_block"],
            "y"
        );
        let removed = edited(document, "/resource/aws_vpc/a/tags", None);
        assert_eq!(removed["resource"]["aws_vpc"]["a"], json!({"cidr_block": "x"}));
    }

    #[test]
    fn a_pinned_package_is_reproducible() {
        let synthesize = || {
            let mut fragment = Fragment::default();
            let contents = b"package".to_vec();
            let hash = crate::package::sha256_base64(&contents);
            let path = format!("assets/f/{}.zip", crate::package::sha256_hex(&contents));
            let filename = fragment.asset(&path, contents);
            fragment.resource(
                "aws_lambda_function",
                "f",
                json!({"filename": filename, "source_code_hash": hash}),
            );
            fragment
        };
        assert_reproducible_package(&synthesize(), &synthesize(), "assets/f", "aws_lambda_function.f");
    }

    #[test]
    #[should_panic(expected = "byte-identical")]
    fn differing_packages_are_refused() {
        let package = |contents: &[u8]| {
            let mut fragment = Fragment::default();
            fragment.asset("assets/f/x.zip", contents.to_vec());
            fragment
        };
        assert_reproducible_package(
            &package(b"a"),
            &package(b"b"),
            "assets/f",
            "aws_lambda_function.f",
        );
    }
}
