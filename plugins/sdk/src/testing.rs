//! Golden-file assertions, stack contexts and composed stacks for plugin and host tests (native
//! builds only).

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
/// the plugin's declared setting defaults, and `inputs`.
pub fn tenant_context<P: crate::Plugin>(
    tenant_id: &str,
    cidr_block: &str,
    inputs: &[(&str, &str)],
) -> crate::StackContext {
    let tenant = crate::Tenant {
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

/// The central stack context for the three example tenants, suffix `dev`, region `us-east-1`.
pub fn central_context<P: crate::Plugin>(inputs: &[(&str, &str)]) -> crate::StackContext {
    let fleet = [
        ("acme-corp", "10.0.0.0/16"),
        ("tech-startup", "10.1.0.0/16"),
        ("retail-co", "10.2.0.0/16"),
    ];
    let fleet = fleet
        .iter()
        .map(|(id, cidr)| crate::Tenant {
            id: (*id).into(),
            cidr_block: (*cidr).into(),
        })
        .collect();
    dev_context::<P>(crate::naming::central_stack_name("dev"), None, fleet, inputs)
}

/// A context of suffix `dev` in region `us-east-1` with the plugin's default settings.
fn dev_context<P: crate::Plugin>(
    stack: String,
    tenant: Option<crate::Tenant>,
    fleet: Vec<crate::Tenant>,
    inputs: &[(&str, &str)],
) -> crate::StackContext {
    crate::StackContext {
        stack,
        tenant,
        fleet,
        environment_suffix: "dev".into(),
        region: "us-east-1".into(),
        settings: default_settings::<P>(),
        inputs: inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The plugin's declared settings with their defaults, as the host would pass them.
pub fn default_settings<P: crate::Plugin>() -> serde_json::Value {
    serde_json::Value::Object(
        P::describe()
            .settings
            .into_iter()
            .map(|s| (s.name, s.default_value))
            .collect(),
    )
}

/// The composed stack of `tenant_id` with `cidr_block`, suffix `dev`, holding `document`: what a
/// plugin's `check_stack` receives for that tenant.
pub fn tenant_stack(tenant_id: &str, cidr_block: &str, document: serde_json::Value) -> crate::StackDocument {
    crate::StackDocument {
        stack: crate::naming::tenant_stack_name(tenant_id, "dev"),
        tenant: Some(crate::Tenant {
            id: tenant_id.into(),
            cidr_block: cidr_block.into(),
        }),
        document,
    }
}

/// `document` with one edit at the JSON pointer `pointer`: `Some(value)` sets it, `None` removes
/// it. Rule tests use it to break one thing of a complying stack at a time.
///
/// Panics when the pointer's parent does not exist (or, for a removal, is not an object).
pub fn edited(
    mut document: serde_json::Value,
    pointer: &str,
    edit: Option<serde_json::Value>,
) -> serde_json::Value {
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
    first: &crate::Fragment,
    second: &crate::Fragment,
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

/// Asserts that `fragment` provides exactly the values plugin `P` declares in its `provides`,
/// in any order.
pub fn assert_provides_declared<P: crate::Plugin>(fragment: &crate::Fragment) {
    let mut provided: Vec<&str> = fragment.provides.iter().map(|(name, _)| name.as_str()).collect();
    let mut declared: Vec<String> = P::describe().provides.into_iter().map(|d| d.name).collect();
    provided.sort_unstable();
    declared.sort_unstable();
    assert_eq!(provided, declared);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fragment;
    use serde_json::json;

    struct Provider;

    impl crate::Plugin for Provider {
        fn describe() -> crate::PluginInfo {
            crate::PluginInfo::new("p", "0.1.0", "Provides two values.")
                .provides(crate::StackKind::Tenant, "b", "B.")
                .provides(crate::StackKind::Tenant, "a", "A.")
        }
    }

    fn providing(names: &[&str]) -> Fragment {
        let mut fragment = Fragment::default();
        for name in names {
            fragment.provide(name, "value");
        }
        fragment
    }

    #[test]
    fn provided_values_are_compared_in_any_order() {
        assert_provides_declared::<Provider>(&providing(&["a", "b"]));
    }

    #[test]
    #[should_panic]
    fn an_undeclared_value_is_refused() {
        assert_provides_declared::<Provider>(&providing(&["a", "c"]));
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
