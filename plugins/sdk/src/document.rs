//! Read access to composed stacks, for check functions.

use crate::{BlockKind, Tenant};
use serde_json::Value;

/// A composed stack as the host will write it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDocument {
    /// The stack's name.
    pub stack: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// The whole `cdk.tf.json` document.
    pub document: Value,
}

/// One resource or data source of a [`StackDocument`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TerraformBlock<'a> {
    /// Resource or data source.
    pub kind: BlockKind,
    /// Provider type.
    pub type_name: &'a str,
    /// Local name.
    pub name: &'a str,
    /// Body.
    pub body: &'a Value,
}

impl TerraformBlock<'_> {
    /// The Terraform address, e.g. `aws_vpc.tenant`.
    pub fn address(&self) -> String {
        crate::Reference::new(self.kind, self.type_name, self.name).address()
    }
}

impl StackDocument {
    /// Every resource and data source, in the document's (sorted) order.
    pub fn blocks(&self) -> impl Iterator<Item = TerraformBlock<'_>> {
        [("resource", BlockKind::Resource), ("data", BlockKind::Data)]
            .into_iter()
            .flat_map(move |(section, kind)| {
                self.document
                    .get(section)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .flat_map(move |(type_name, by_name)| {
                        by_name
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(move |(name, body)| TerraformBlock {
                                kind,
                                type_name,
                                name,
                                body,
                            })
                    })
            })
    }

    /// The resources of one type.
    pub fn resources_of<'a>(&'a self, type_name: &'a str) -> impl Iterator<Item = TerraformBlock<'a>> {
        self.blocks()
            .filter(move |b| b.kind == BlockKind::Resource && b.type_name == type_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_resources_and_data_sources() {
        let doc = StackDocument {
            stack: "s".into(),
            tenant: None,
            document: json!({
                "resource": {"aws_vpc": {"a": {}, "b": {}}, "aws_subnet": {"c": {}}},
                "data": {"aws_region": {"current": {}}}
            }),
        };
        let addresses: Vec<_> = doc.blocks().map(|b| b.address()).collect();
        assert_eq!(
            addresses,
            [
                "aws_subnet.c",
                "aws_vpc.a",
                "aws_vpc.b",
                "data.aws_region.current"
            ]
        );
        assert_eq!(doc.resources_of("aws_vpc").count(), 2);
    }
}
