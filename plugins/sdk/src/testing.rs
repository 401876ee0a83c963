//! Golden-file assertions for plugin and host tests (native builds only).

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
    crate::StackContext {
        stack: crate::naming::tenant_stack_name(tenant_id, "dev"),
        tenant: Some(crate::Tenant {
            id: tenant_id.into(),
            cidr_block: cidr_block.into(),
        }),
        fleet: Vec::new(),
        environment_suffix: "dev".into(),
        region: "us-east-1".into(),
        settings: default_settings::<P>(),
        inputs: inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The central stack context for the three example tenants, suffix `dev`, region `us-east-1`.
pub fn central_context<P: crate::Plugin>(inputs: &[(&str, &str)]) -> crate::StackContext {
    let fleet = [
        ("acme-corp", "10.0.0.0/16"),
        ("tech-startup", "10.1.0.0/16"),
        ("retail-co", "10.2.0.0/16"),
    ];
    crate::StackContext {
        stack: crate::naming::central_stack_name("dev"),
        tenant: None,
        fleet: fleet
            .iter()
            .map(|(id, cidr)| crate::Tenant {
                id: (*id).into(),
                cidr_block: (*cidr).into(),
            })
            .collect(),
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
