//! Builders for what a plugin contributes to a stack.

use crate::declarations::ValueDeclaration;
use crate::intents::AccessIntent;
use crate::types::ExchangedValue;
use serde_json::{Map, Value, json};

/// Whether a block is a resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlockKind {
    /// A managed resource.
    Resource,
    /// A data source.
    Data,
}

/// One Terraform resource or data source.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Resource or data source.
    pub kind: BlockKind,
    /// Provider type, e.g. `aws_vpc`.
    pub type_name: String,
    /// Local name.
    pub name: String,
    /// The body in Terraform JSON syntax.
    pub body: Value,
}

/// One stack output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Output name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// One line of description.
    pub description: String,
    /// Hidden from listings.
    pub sensitive: bool,
}

/// A file written next to the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Relative path inside the stack folder.
    pub path: String,
    /// The file's bytes.
    pub contents: Vec<u8>,
}

/// A handle on a block added to a [`Fragment`], for building references to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    kind: BlockKind,
    type_name: String,
    name: String,
}

impl Reference {
    /// A handle on a block another plugin (or an earlier run) declares.
    pub fn new(kind: BlockKind, type_name: &str, name: &str) -> Self {
        Self {
            kind,
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    /// The block's address: `aws_vpc.tenant` or `data.aws_region.current`.
    pub fn address(&self) -> String {
        match self.kind {
            BlockKind::Resource => format!("{}.{}", self.type_name, self.name),
            BlockKind::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }

    /// A Terraform interpolation of one attribute: `${aws_vpc.tenant.id}`.
    pub fn attr(&self, attribute: &str) -> String {
        format!("${{{}.{attribute}}}", self.address())
    }
}

/// What a plugin contributes to one stack: blocks, outputs, provided values, assets and access
/// intents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fragment {
    /// Resources and data sources, in the order they were added.
    pub blocks: Vec<Block>,
    /// Stack outputs.
    pub outputs: Vec<Output>,
    /// Provided values, `(name, value)`.
    pub provides: Vec<(String, ExchangedValue)>,
    /// Files for the stack folder.
    pub assets: Vec<Asset>,
    /// Accesses that must or must not be possible in the composed stack.
    pub intents: Vec<AccessIntent>,
}

impl Fragment {
    /// Adds a resource and returns a handle for referring to it.
    pub fn resource(&mut self, type_name: &str, name: &str, body: Value) -> Reference {
        self.push(BlockKind::Resource, type_name, name, body)
    }

    /// Adds a data source and returns a handle for referring to it.
    pub fn data(&mut self, type_name: &str, name: &str, body: Value) -> Reference {
        self.push(BlockKind::Data, type_name, name, body)
    }

    fn push(&mut self, kind: BlockKind, type_name: &str, name: &str, body: Value) -> Reference {
        self.blocks.push(Block {
            kind,
            type_name: type_name.into(),
            name: name.into(),
            body,
        });
        Reference::new(kind, type_name, name)
    }

    /// Adds a stack output.
    pub fn output(&mut self, name: &str, value: Value, description: &str) {
        self.outputs.push(Output {
            name: name.into(),
            value,
            description: description.into(),
            sensitive: false,
        });
    }

    /// Provides a value declared in the plugin's `provides`: text, or a list of texts for a
    /// [`ValueKind::TextList`](crate::ValueKind::TextList) declaration.
    pub fn provide(&mut self, value: &ValueDeclaration, provided: impl Into<ExchangedValue>) {
        self.provides.push((value.name.to_owned(), provided.into()));
    }

    /// Declares an access that must (or must not) be possible in the composed stack.
    pub fn intent(&mut self, intent: AccessIntent) {
        self.intents.push(intent);
    }

    /// Adds a file at `path` inside the stack folder and returns the expression Terraform uses to
    /// reach it: `${path.module}/<path>`.
    pub fn asset(&mut self, path: &str, contents: Vec<u8>) -> String {
        self.assets.push(Asset {
            path: path.into(),
            contents,
        });
        format!("${{path.module}}/{path}")
    }

    /// The body of the block at `address` (`aws_vpc.tenant`, `data.aws_region.current`), if any.
    pub fn body(&self, address: &str) -> Option<&Value> {
        self.blocks
            .iter()
            .find(|block| Reference::new(block.kind, &block.type_name, &block.name).address() == address)
            .map(|block| &block.body)
    }

    /// The fragment as one JSON document in Terraform JSON layout (`resource`, `data`, `output`)
    /// plus `provides`, asset sizes and (when there are any) access intents: the form golden
    /// files hold.
    pub fn to_json(&self) -> Value {
        let mut resource = Map::new();
        let mut data = Map::new();
        for block in &self.blocks {
            let section = match block.kind {
                BlockKind::Resource => &mut resource,
                BlockKind::Data => &mut data,
            };
            let by_type = section
                .entry(block.type_name.clone())
                .or_insert_with(|| json!({}));
            by_type[&block.name] = block.body.clone();
        }
        let output: Map<String, Value> = self
            .outputs
            .iter()
            .map(|o| {
                (
                    o.name.clone(),
                    json!({"value": o.value, "description": o.description, "sensitive": o.sensitive}),
                )
            })
            .collect();
        let provides: Map<String, Value> = self
            .provides
            .iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect();
        let assets: Map<String, Value> = self
            .assets
            .iter()
            .map(|a| (a.path.clone(), json!(a.contents.len())))
            .collect();
        let mut document = json!({"resource": resource, "data": data, "output": output, "provides": provides, "assets": assets});
        if !self.intents.is_empty() {
            document["intents"] = self.intents.iter().map(AccessIntent::to_json).collect();
        }
        document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_interpolate_addresses() {
        let mut fragment = Fragment::default();
        let vpc = fragment.resource("aws_vpc", "tenant", json!({}));
        let region = fragment.data("aws_region", "current", json!({}));
        assert_eq!(vpc.attr("id"), "${aws_vpc.tenant.id}");
        assert_eq!(region.attr("name"), "${data.aws_region.current.name}");
        assert!(fragment.body("data.aws_region.current").is_some());
        assert!(fragment.body("aws_region.current").is_none());
    }

    #[test]
    fn assets_are_reached_from_the_module_path() {
        let mut fragment = Fragment::default();
        assert_eq!(
            fragment.asset("assets/api.zip", vec![1]),
            "${path.module}/assets/api.zip"
        );
    }
}
