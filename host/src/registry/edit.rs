//! Edits of the configuration's text that keep everything else in it (comments, order, layout):
//! a tenant table appended, or one removed.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// Why the configuration's text could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The text is not TOML (the configuration's own parse reports where).
    #[error("the configuration is not valid TOML: {0}")]
    Syntax(#[from] toml_edit::TomlError),
    /// `tenants` is not an array of tables.
    #[error("the configuration's `tenants` is not a list of `[[tenants]]` tables")]
    TenantsShape,
    /// The tenant to remove is not configured.
    #[error("tenant `{0}` is not configured")]
    NotConfigured(String),
}

/// The text with a `[[tenants]]` table for `id` (and its explicit block) appended.
pub fn add_tenant(text: &str, id: &str, cidr_block: Option<&str>) -> Result<String, EditError> {
    let mut document: DocumentMut = text.parse()?;
    let mut table = Table::new();
    table["id"] = value(id);
    if let Some(block) = cidr_block {
        table["cidr-block"] = value(block);
    }
    match document
        .entry("tenants")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
    {
        Item::ArrayOfTables(tenants) => tenants.push(table),
        _ => return Err(EditError::TenantsShape),
    }
    Ok(document.to_string())
}

/// The text without the `[[tenants]]` table of `id`.
pub fn remove_tenant(text: &str, id: &str) -> Result<String, EditError> {
    let mut document: DocumentMut = text.parse()?;
    let Some(Item::ArrayOfTables(tenants)) = document.get_mut("tenants") else {
        return Err(EditError::TenantsShape);
    };
    let index = tenants
        .iter()
        .position(|t| t.get("id").and_then(Item::as_str) == Some(id))
        .ok_or_else(|| EditError::NotConfigured(id.to_owned()))?;
    tenants.remove(index);
    Ok(document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# the fleet\nregion = \"us-east-1\" # here\n\n[[tenants]]\nid = \"a\"\n\n[[tenants]]\nid = \"b\"\n\n[plugins.events]\nx = 1\n";

    #[test]
    fn adding_a_tenant_keeps_the_rest_of_the_text() {
        let text = add_tenant(CONFIG, "c", Some("10.9.0.0/16")).unwrap();
        assert!(
            text.starts_with("# the fleet\nregion = \"us-east-1\" # here\n"),
            "{text}"
        );
        let parsed: toml::Table = text.parse().unwrap();
        let ids: Vec<&str> = parsed["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(parsed["tenants"][2]["cidr-block"].as_str(), Some("10.9.0.0/16"));
        assert_eq!(parsed["plugins"]["events"]["x"].as_integer(), Some(1));
    }

    #[test]
    fn an_id_is_quoted_as_toml_whatever_it_holds() {
        let text = add_tenant(CONFIG, "c\"\n[evil]", None).unwrap();
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["tenants"][2]["id"].as_str(), Some("c\"\n[evil]"));
        assert!(!parsed.contains_key("evil"));
    }

    #[test]
    fn removing_a_tenant_drops_only_its_table() {
        let text = remove_tenant(CONFIG, "a").unwrap();
        assert!(text.contains("# the fleet"), "{text}");
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["tenants"].as_array().unwrap().len(), 1);
        assert_eq!(parsed["tenants"][0]["id"].as_str(), Some("b"));
        assert!(matches!(
            remove_tenant(CONFIG, "zz"),
            Err(EditError::NotConfigured(id)) if id == "zz"
        ));
    }
}
