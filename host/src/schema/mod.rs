//! Checks synthesized Terraform JSON against a provider schema.
//!
//! The composed stacks are only as good as the plugins that produced them, and `terraform plan`
//! is too late (and too slow) to learn that a plugin misspelt an attribute. This module loads
//! the schema that `terraform providers schema -json` prints (format_version 1.x) once, and
//! checks each `resource` / `data` body of a `cdk.tf.json` document against it, returning every
//! problem found as a [`SchemaProblem`] rather than stopping at the first.
//!
//! # What is checked
//!
//! For a body given to [`ProviderSchema::validate`]:
//! - the resource or data-source type exists in the schema;
//! - every key is a known attribute or nested block (unknown keys are reported);
//! - every required attribute is present and not `null`;
//! - computed-only attributes (neither required nor optional) are not set;
//! - every nested block with `min_items > 0` is present, and no block has more than `max_items`
//!   entries (`single`/`group` blocks at most one);
//! - a block is given as an object or an array of objects (a `map` block as an object of
//!   labelled objects); nested blocks are checked recursively with the same rules;
//! - attribute values have the JSON shape of their schema type: `string`, `number`, `bool`,
//!   `["list", T]`, `["set", T]`, `["map", T]`, `["object", {..}]` (unknown attributes and
//!   missing non-optional ones reported) and `["tuple", [..]]`, element by element.
//!   Attributes described with `nested_type` are checked like the equivalent object type.
//!
//! Two leniencies follow Terraform's own conversions:
//! - any string holding a `${...}` interpolation or `%{...}` directive is accepted for any type,
//!   because its value is only known at plan time;
//! - a literal string is accepted where a number is expected if it parses as a decimal number,
//!   and where a bool is expected if it is `"true"`, `"false"`, `"1"` or `"0"`; a number or
//!   bool is accepted where a string is expected. Terraform converts these silently, so
//!   flagging them would reject configurations that apply cleanly.
//!
//! [`undeclared_references`] checks a whole document: every `${aws_x.name}`, `${data.t.name}`,
//! `${var.x}`, `${local.x}` and `${module.x}` reference must name something declared in the same
//! document.
//!
//! # What is not checked
//!
//! - Meta-arguments at the top of a body (`depends_on`, `count`, `for_each`, `provider`,
//!   `lifecycle`, `provisioner`, `connection`, `timeouts`) and `"//"` comment keys at any depth
//!   are skipped, not validated. Where the schema itself declares one of these names at the top
//!   level (the AWS schema declares `timeouts` as a block on many types) it is validated like
//!   any other block; an undeclared `timeouts` is skipped rather than reported, because a
//!   schema derived from cdktf may leave it out for types that accept it. Below the top level
//!   these names are ordinary attributes.
//! - `dynamic` blocks are not understood: a `dynamic` key is reported as unknown, and a
//!   required block supplied only through `dynamic` is reported as missing.
//! - Values are not checked beyond their shape: no enums, ranges, regexes, ARNs or
//!   `ConflictsWith`/`ExactlyOneOf` rules (the schema JSON does not carry them), no duplicate
//!   detection in sets.
//! - References are resolved by name only: `aws_vpc.main.no_such_attr` passes if `aws_vpc.main`
//!   is declared. A resource reference is recognised only when its first name contains `_`
//!   (every resource type is `<provider>_<type>`), which keeps `for` variables and `dynamic`
//!   iterators from being mistaken for resources.
//! - The vendored AWS schema has every nested block as `list` and omits computed-only
//!   attributes, so setting such an attribute is reported as unknown rather than read-only.
//!
//! # Relation to `tfjson_check.py`
//!
//! Everything the shared Python checker reports is reported here too, with three deliberate
//! exceptions where the script is wrong: `$${...}` is Terraform's escape for a literal `${`,
//! so `"$${var.x}"` is not a reference; names inside quoted strings in an expression
//! (`replace(x, "aws_a.b", "")`) and attribute names after a `.` are not references. Beyond the
//! script, this module also reports value shapes, `max_items`, `null` required attributes,
//! unknown names below the top level that the script skips as meta-arguments (`count` inside a
//! nested block), unknown non-`aws_` types, and undeclared non-`aws_` resources and `module.x`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde_json::{Map, Value};

mod template;
mod validate;

pub use template::{
    BlockReferences, MAX_TEMPLATE_BYTES, MAX_TEMPLATE_DEPTH, TemplateError, TemplateProblem,
    check_references, undeclared_references,
};
use validate::{check_block, shape};

/// Top-level keys of a resource or data body that are not attributes. `timeouts` is a provider
/// block, but the vendored schema may omit it for types that accept it, so it is only checked
/// where the schema declares it; the same goes for any name here the schema declares.
const META_ARGUMENTS: &[&str] = &[
    "depends_on",
    "count",
    "for_each",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
    "timeouts",
];

/// Key cdktf uses for metadata comments; skipped at every depth.
const COMMENT_KEY: &str = "//";

/// Whether a body is a `resource` or a `data` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// A `resource` block.
    Resource,
    /// A `data` block.
    Data,
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockKind::Resource => "resource",
            BlockKind::Data => "data source",
        })
    }
}

/// What kind of mistake a [`SchemaProblem`] reports, for callers that group or filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The resource or data-source type is not in the schema.
    UnknownType,
    /// A key that is neither an attribute nor a block of the schema (or an object-type field).
    UnknownName,
    /// An attribute the provider computes; it cannot be set.
    ComputedOnly,
    /// A required attribute (or non-optional object-type field) is absent or `null`.
    MissingAttribute,
    /// A block with `min_items > 0` is absent or has too few entries.
    MissingBlock,
    /// A block has more entries than `max_items`.
    TooManyBlocks,
    /// A block is not an object or an array of objects (or the body is not an object).
    BlockShape,
    /// An attribute value has the wrong JSON shape for its schema type.
    WrongType,
}

/// One mismatch between a body and the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// Where in the body, e.g. `rule[0].filter.prefix` or `tags["Name"]`; empty for the body
    /// itself.
    pub path: String,
    /// What is wrong and, where it helps, what to do about it.
    pub message: String,
    /// The category of the problem.
    pub kind: ProblemKind,
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A provider schema file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("provider schema is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The `format_version` is missing or not 1.x.
    #[error(
        "provider schema has format_version {found}; only 1.x (from `terraform providers schema -json`) is supported"
    )]
    UnsupportedFormat {
        /// The value found, as JSON.
        found: String,
    },
    /// Part of the file does not have the expected shape.
    #[error("provider schema is malformed at {at}: {reason}")]
    Malformed {
        /// A JSON-pointer-like location, e.g. `provider_schemas/<addr>/resource_schemas/aws_vpc/block`.
        at: String,
        /// What was expected there.
        reason: String,
    },
    /// Two providers in the file define the same type, so a body could not be checked
    /// unambiguously.
    #[error(
        "{kind} type `{type_name}` is defined by both `{first}` and `{second}`; keep one provider per type in the schema file"
    )]
    DuplicateType {
        /// Resource or data source.
        kind: BlockKind,
        /// The type name.
        type_name: String,
        /// The provider address seen first.
        first: String,
        /// The provider address seen second.
        second: String,
    },
}

/// The resource and data-source schemas of every provider in one schema file.
///
/// Parsed once by [`ProviderSchema::from_json`]; queries are map look-ups.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    resources: HashMap<String, TypeEntry>,
    data_sources: HashMap<String, TypeEntry>,
}

#[derive(Debug, Clone)]
struct TypeEntry {
    provider: String,
    block: Block,
}

#[derive(Debug, Clone, Default)]
struct Block {
    attributes: BTreeMap<String, Attribute>,
    block_types: BTreeMap<String, NestedBlock>,
}

#[derive(Debug, Clone)]
struct Attribute {
    ty: AttrType,
    required: bool,
    optional: bool,
    computed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

#[derive(Debug, Clone)]
struct NestedBlock {
    nesting: Nesting,
    block: Block,
    min_items: u64,
    /// `None` when unlimited.
    max_items: Option<u64>,
}

#[derive(Debug, Clone)]
enum AttrType {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<AttrType>),
    Set(Box<AttrType>),
    Map(Box<AttrType>),
    Object {
        fields: BTreeMap<String, AttrType>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<AttrType>),
}

impl AttrType {
    fn describe(&self) -> String {
        match self {
            AttrType::String => "a string".into(),
            AttrType::Number => "a number".into(),
            AttrType::Bool => "a bool".into(),
            AttrType::Dynamic => "any value".into(),
            AttrType::List(_) => "a list (JSON array)".into(),
            AttrType::Set(_) => "a set (JSON array)".into(),
            AttrType::Map(_) => "a map (JSON object)".into(),
            AttrType::Object { .. } => "an object".into(),
            AttrType::Tuple(items) => format!("a tuple (JSON array of {})", items.len()),
        }
    }
}

impl ProviderSchema {
    /// Parses `terraform providers schema -json` output, merging the resource and data-source
    /// schemas of every provider in the file.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        let root: Value = serde_json::from_str(text)?;
        let root = as_object(&root, "(root)")?;
        match root.get("format_version") {
            Some(Value::String(v)) if v == "1" || v.starts_with("1.") => {}
            other => {
                return Err(SchemaError::UnsupportedFormat {
                    found: other.map_or_else(|| "(missing)".to_owned(), Value::to_string),
                });
            }
        }
        let providers = match root.get("provider_schemas") {
            Some(p) => as_object(p, "provider_schemas")?,
            None => {
                return Err(malformed("(root)", "missing `provider_schemas`"));
            }
        };
        let mut schema = ProviderSchema::default();
        for (address, provider) in providers {
            let at = format!("provider_schemas/{address}");
            let provider = as_object(provider, &at)?;
            for (key, kind) in [
                ("resource_schemas", BlockKind::Resource),
                ("data_source_schemas", BlockKind::Data),
            ] {
                let Some(types) = provider.get(key) else {
                    continue;
                };
                let at = format!("{at}/{key}");
                for (type_name, type_schema) in as_object(types, &at)? {
                    let at = format!("{at}/{type_name}");
                    let block_value = as_object(type_schema, &at)?
                        .get("block")
                        .ok_or_else(|| malformed(&at, "missing `block`"))?;
                    let block = parse_block(block_value, &format!("{at}/block"))?;
                    let table = match kind {
                        BlockKind::Resource => &mut schema.resources,
                        BlockKind::Data => &mut schema.data_sources,
                    };
                    if let Some(existing) = table.get(type_name) {
                        return Err(SchemaError::DuplicateType {
                            kind,
                            type_name: type_name.clone(),
                            first: existing.provider.clone(),
                            second: address.clone(),
                        });
                    }
                    table.insert(
                        type_name.clone(),
                        TypeEntry {
                            provider: address.clone(),
                            block,
                        },
                    );
                }
            }
        }
        Ok(schema)
    }

    /// Whether the schema has a resource type of this name.
    pub fn has_resource(&self, type_name: &str) -> bool {
        self.resources.contains_key(type_name)
    }

    /// Whether the schema has a data-source type of this name.
    pub fn has_data_source(&self, type_name: &str) -> bool {
        self.data_sources.contains_key(type_name)
    }

    /// Whether a type has a top-level attribute of this name, e.g. whether a resource type is
    /// taggable (has `tags`).
    pub fn has_attribute(&self, kind: BlockKind, type_name: &str, attribute: &str) -> bool {
        self.table(kind)
            .get(type_name)
            .is_some_and(|entry| entry.block.attributes.contains_key(attribute))
    }

    /// The provider address (e.g. `registry.terraform.io/hashicorp/aws`) defining a type.
    pub fn provider_of(&self, kind: BlockKind, type_name: &str) -> Option<&str> {
        self.table(kind)
            .get(type_name)
            .map(|entry| entry.provider.as_str())
    }

    /// Checks one `resource` or `data` body (the object under `resource.<type>.<name>`)
    /// against the schema of `type_name`. Returns every problem found, sorted by path (so the
    /// order does not depend on JSON key order); an empty vector means the body conforms.
    pub fn validate(&self, kind: BlockKind, type_name: &str, body: &Value) -> Vec<SchemaProblem> {
        let mut problems = Vec::new();
        let Some(entry) = self.table(kind).get(type_name) else {
            problems.push(SchemaProblem {
                path: String::new(),
                message: format!(
                    "unknown {kind} type `{type_name}`; check the spelling, or vendor the type into the provider schema"
                ),
                kind: ProblemKind::UnknownType,
            });
            return problems;
        };
        match body {
            Value::Object(fields) => check_block(&entry.block, fields, "", true, &mut problems),
            other => problems.push(SchemaProblem {
                path: String::new(),
                message: format!("the {kind} body must be a JSON object, not {}", shape(other)),
                kind: ProblemKind::BlockShape,
            }),
        }
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        problems
    }

    fn table(&self, kind: BlockKind) -> &HashMap<String, TypeEntry> {
        match kind {
            BlockKind::Resource => &self.resources,
            BlockKind::Data => &self.data_sources,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema parsing

fn malformed(at: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError::Malformed {
        at: at.to_owned(),
        reason: reason.into(),
    }
}

fn as_object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, SchemaError> {
    value
        .as_object()
        .ok_or_else(|| malformed(at, format!("expected an object, found {}", shape(value))))
}

fn flag(fields: &Map<String, Value>, key: &str, at: &str) -> Result<bool, SchemaError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(malformed(
            &format!("{at}/{key}"),
            format!("expected a bool, found {}", shape(other)),
        )),
    }
}

fn count(fields: &Map<String, Value>, key: &str, at: &str) -> Result<u64, SchemaError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_u64().ok_or_else(|| {
            malformed(
                &format!("{at}/{key}"),
                format!("expected a non-negative integer, found {v}"),
            )
        }),
    }
}

fn parse_block(value: &Value, at: &str) -> Result<Block, SchemaError> {
    let fields = as_object(value, at)?;
    let mut block = Block::default();
    if let Some(attrs) = fields.get("attributes") {
        let at = format!("{at}/attributes");
        for (name, attr) in as_object(attrs, &at)? {
            let at = format!("{at}/{name}");
            block.attributes.insert(name.clone(), parse_attribute(attr, &at)?);
        }
    }
    if let Some(blocks) = fields.get("block_types") {
        let at = format!("{at}/block_types");
        for (name, nested) in as_object(blocks, &at)? {
            let at = format!("{at}/{name}");
            block
                .block_types
                .insert(name.clone(), parse_nested_block(nested, &at)?);
        }
    }
    Ok(block)
}

fn parse_attribute(value: &Value, at: &str) -> Result<Attribute, SchemaError> {
    let fields = as_object(value, at)?;
    let ty = match (fields.get("type"), fields.get("nested_type")) {
        (Some(ty), _) => parse_type(ty, &format!("{at}/type"))?,
        (None, Some(nested)) => parse_nested_type(nested, &format!("{at}/nested_type"))?,
        (None, None) => {
            return Err(malformed(at, "attribute has neither `type` nor `nested_type`"));
        }
    };
    Ok(Attribute {
        ty,
        required: flag(fields, "required", at)?,
        optional: flag(fields, "optional", at)?,
        computed: flag(fields, "computed", at)?,
    })
}

/// A cty type in its JSON form: `"string"`, `["list", T]`, `["object", {..}, [optional..]]`.
fn parse_type(value: &Value, at: &str) -> Result<AttrType, SchemaError> {
    match value {
        Value::String(s) => match s.as_str() {
            "string" => Ok(AttrType::String),
            "number" => Ok(AttrType::Number),
            "bool" => Ok(AttrType::Bool),
            "dynamic" => Ok(AttrType::Dynamic),
            other => Err(malformed(at, format!("unknown primitive type `{other}`"))),
        },
        Value::Array(parts) => {
            let Some(Value::String(kind)) = parts.first() else {
                return Err(malformed(at, "a complex type must start with its kind"));
            };
            let arg = parts
                .get(1)
                .ok_or_else(|| malformed(at, format!("`{kind}` type without an argument")))?;
            let arg_at = format!("{at}/1");
            match kind.as_str() {
                "list" => Ok(AttrType::List(Box::new(parse_type(arg, &arg_at)?))),
                "set" => Ok(AttrType::Set(Box::new(parse_type(arg, &arg_at)?))),
                "map" => Ok(AttrType::Map(Box::new(parse_type(arg, &arg_at)?))),
                "object" => {
                    let mut fields = BTreeMap::new();
                    for (name, ty) in as_object(arg, &arg_at)? {
                        fields.insert(name.clone(), parse_type(ty, &format!("{arg_at}/{name}"))?);
                    }
                    let optional = match parts.get(2) {
                        None => BTreeSet::new(),
                        Some(Value::Array(names)) => names
                            .iter()
                            .map(|n| {
                                n.as_str().map(str::to_owned).ok_or_else(|| {
                                    malformed(&format!("{at}/2"), "optional names must be strings")
                                })
                            })
                            .collect::<Result<_, _>>()?,
                        Some(other) => {
                            return Err(malformed(
                                &format!("{at}/2"),
                                format!("expected an array of names, found {}", shape(other)),
                            ));
                        }
                    };
                    Ok(AttrType::Object { fields, optional })
                }
                "tuple" => {
                    let Value::Array(items) = arg else {
                        return Err(malformed(&arg_at, "tuple element types must be an array"));
                    };
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, t)| parse_type(t, &format!("{arg_at}/{i}")))
                        .collect::<Result<_, _>>()
                        .map(AttrType::Tuple)
                }
                other => Err(malformed(at, format!("unknown type kind `{other}`"))),
            }
        }
        other => Err(malformed(
            at,
            format!("expected a type string or array, found {}", shape(other)),
        )),
    }
}

/// A protocol-6 `nested_type` attribute, mapped onto the equivalent cty type.
fn parse_nested_type(value: &Value, at: &str) -> Result<AttrType, SchemaError> {
    let fields = as_object(value, at)?;
    let mut object_fields = BTreeMap::new();
    let mut optional = BTreeSet::new();
    if let Some(attrs) = fields.get("attributes") {
        let attrs_at = format!("{at}/attributes");
        for (name, attr) in as_object(attrs, &attrs_at)? {
            let attr = parse_attribute(attr, &format!("{attrs_at}/{name}"))?;
            if !attr.required {
                optional.insert(name.clone());
            }
            object_fields.insert(name.clone(), attr.ty);
        }
    }
    let object = AttrType::Object {
        fields: object_fields,
        optional,
    };
    match fields.get("nesting_mode").and_then(Value::as_str) {
        Some("single") => Ok(object),
        Some("list") => Ok(AttrType::List(Box::new(object))),
        Some("set") => Ok(AttrType::Set(Box::new(object))),
        Some("map") => Ok(AttrType::Map(Box::new(object))),
        other => Err(malformed(
            &format!("{at}/nesting_mode"),
            format!("unknown nesting mode {other:?}"),
        )),
    }
}

fn parse_nested_block(value: &Value, at: &str) -> Result<NestedBlock, SchemaError> {
    let fields = as_object(value, at)?;
    let nesting = match fields.get("nesting_mode").and_then(Value::as_str) {
        Some("single") => Nesting::Single,
        Some("group") => Nesting::Group,
        Some("list") => Nesting::List,
        Some("set") => Nesting::Set,
        Some("map") => Nesting::Map,
        other => {
            return Err(malformed(
                &format!("{at}/nesting_mode"),
                format!("unknown nesting mode {other:?}"),
            ));
        }
    };
    let block_value = fields
        .get("block")
        .ok_or_else(|| malformed(at, "missing `block`"))?;
    let max = count(fields, "max_items", at)?;
    Ok(NestedBlock {
        nesting,
        block: parse_block(block_value, &format!("{at}/block"))?,
        min_items: count(fields, "min_items", at)?,
        max_items: match nesting {
            Nesting::Single | Nesting::Group => Some(1),
            _ if max == 0 => None,
            _ => Some(max),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small schema exercising every rule: `test_thing` resource, `test_info` data source.
    const SCHEMA: &str = r#"{
      "format_version": "1.0",
      "provider_schemas": {
        "registry.terraform.io/example/test": {
          "provider": {"version": 0, "block": {}},
          "resource_schemas": {
            "test_thing": {"version": 0, "block": {
              "attributes": {
                "name":    {"type": "string", "required": true},
                "size":    {"type": "number", "optional": true},
                "enabled": {"type": "bool", "optional": true},
                "zones":   {"type": ["list", "string"], "optional": true},
                "ports":   {"type": ["set", "number"], "optional": true},
                "tags":    {"type": ["map", "string"], "optional": true},
                "owner":   {"type": ["object", {"id": "number", "email": "string"}, ["email"]], "optional": true},
                "pair":    {"type": ["tuple", ["string", "number"]], "optional": true},
                "extra":   {"type": "dynamic", "optional": true},
                "arn":     {"type": "string", "computed": true}
              },
              "block_types": {
                "rule": {"nesting_mode": "list", "min_items": 1, "block": {
                  "attributes": {"id": {"type": "string", "required": true}},
                  "block_types": {
                    "filter": {"nesting_mode": "list", "max_items": 1, "min_items": 0, "block": {
                      "attributes": {"prefix": {"type": "string", "optional": true},
                                     "count":  {"type": "number", "optional": true}},
                      "block_types": {
                        "tag": {"nesting_mode": "list", "min_items": 1, "block": {
                          "attributes": {"key": {"type": "string", "required": true}}
                        }}
                      }
                    }}
                  }
                }},
                "timeouts": {"nesting_mode": "single", "block": {
                  "attributes": {"create": {"type": "string", "optional": true}}
                }}
              }
            }}
          },
          "data_source_schemas": {
            "test_info": {"version": 0, "block": {
              "attributes": {"region": {"type": "string", "optional": true}}
            }}
          }
        }
      }
    }"#;

    fn schema() -> ProviderSchema {
        ProviderSchema::from_json(SCHEMA).expect("inline schema parses")
    }

    /// Every rule, one case each: (reason, kind, type, body, expected (path, kind) pairs).
    #[test]
    fn validate_cases() {
        use ProblemKind::*;
        let valid_rule = json!([{ "id": "r1" }]);
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, BlockKind, &str, Value, Vec<(&str, ProblemKind)>)> = vec![
            (
                "a minimal correct body has no problems",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule}),
                vec![],
            ),
            (
                "a fully populated correct body has no problems",
                BlockKind::Resource,
                "test_thing",
                json!({
                    "name": "a", "size": 3, "enabled": true, "zones": ["a", "b"], "ports": [80],
                    "tags": {"Name": "x"}, "owner": {"id": 1}, "pair": ["x", 2], "extra": {"any": [1]},
                    "rule": [{"id": "r", "filter": [{"prefix": "p/", "tag": [{"key": "k"}]}]}],
                    "timeouts": {"create": "5m"}
                }),
                vec![],
            ),
            (
                "an unknown resource type is one problem at the root",
                BlockKind::Resource,
                "test_nope",
                json!({}),
                vec![("", UnknownType)],
            ),
            (
                "a resource type is not a data source",
                BlockKind::Data,
                "test_thing",
                json!({}),
                vec![("", UnknownType)],
            ),
            (
                "a data source validates against its own schema",
                BlockKind::Data,
                "test_info",
                json!({"region": "eu-west-1", "depends_on": ["x"]}),
                vec![],
            ),
            (
                "the body itself must be an object",
                BlockKind::Data,
                "test_info",
                json!([]),
                vec![("", BlockShape)],
            ),
            (
                "an unknown attribute is reported where it is",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "colour": "red"}),
                vec![("colour", UnknownName)],
            ),
            (
                "meta-arguments and comments at the top level are not attributes",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "depends_on": [], "count": 2,
                       "for_each": "${var.m}", "provider": "aws.x", "lifecycle": {},
                       "provisioner": [], "connection": {}, "//": {"metadata": {}}}),
                vec![],
            ),
            (
                "a meta-argument name inside a nested block is an ordinary attribute",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r", "depends_on": [],
                       "filter": {"count": "many", "tag": {"key": "k"}}}]}),
                vec![
                    ("rule[0].depends_on", UnknownName),
                    ("rule[0].filter.count", WrongType),
                ],
            ),
            (
                "a computed-only attribute cannot be set",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "arn": "arn:x"}),
                vec![("arn", ComputedOnly)],
            ),
            (
                "a missing or null required attribute is reported",
                BlockKind::Resource,
                "test_thing",
                json!({"name": null, "rule": valid_rule}),
                vec![("name", MissingAttribute)],
            ),
            (
                "a missing required block is reported",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a"}),
                vec![("rule", MissingBlock)],
            ),
            (
                "an empty array does not satisfy min_items",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": []}),
                vec![("rule", MissingBlock)],
            ),
            (
                "string attributes reject arrays and objects",
                BlockKind::Resource,
                "test_thing",
                json!({"name": ["a"], "rule": [{"id": {"x": 1}}]}),
                vec![("name", WrongType), ("rule[0].id", WrongType)],
            ),
            (
                "string attributes accept numbers and bools, as Terraform converts them",
                BlockKind::Resource,
                "test_thing",
                json!({"name": 5, "rule": [{"id": true}]}),
                vec![],
            ),
            (
                "number attributes reject bools, arrays and non-numeric strings",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "size": "big", "ports": [true, "1e3", "-2.5", "inf"]}),
                vec![
                    ("ports[0]", WrongType),
                    ("ports[3]", WrongType),
                    ("size", WrongType),
                ],
            ),
            (
                "bool attributes reject numbers and other strings but accept \"true\"",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "enabled": 1}),
                vec![("enabled", WrongType)],
            ),
            (
                "bool attributes accept the strings Terraform converts",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "enabled": "false"}),
                vec![],
            ),
            (
                "bool attributes reject \"yes\"",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "enabled": "yes"}),
                vec![("enabled", WrongType)],
            ),
            (
                "list attributes reject a bare string and check their elements",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "zones": "a,b", "ports": [1, [2]]}),
                vec![("ports[1]", WrongType), ("zones", WrongType)],
            ),
            (
                "map attributes reject arrays and check their values",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r", "filter": {"tag": {"key": "k"}}}],
                       "tags": [{"Name": "x"}]}),
                vec![("tags", WrongType)],
            ),
            (
                "map values are checked under a quoted key",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "tags": {"a.b": {"nested": 1}}}),
                vec![("tags[\"a.b\"]", WrongType)],
            ),
            (
                "object attributes check fields, unknown fields and non-optional fields",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "owner": {"email": "e", "team": "t"}}),
                vec![("owner.id", MissingAttribute), ("owner.team", UnknownName)],
            ),
            (
                "tuple attributes need the right length and element types",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "pair": ["x"], "zones": ["${var.z}", 1]}),
                vec![("pair", WrongType)],
            ),
            (
                "an interpolation is accepted for any attribute type",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "size": "${var.size}", "enabled": "${var.on}",
                       "zones": "${aws_subnet.a[*].availability_zone}", "tags": "${merge(local.t, {})}",
                       "owner": "${local.owner}", "pair": "%{if var.x}a%{endif}"}),
                vec![],
            ),
            (
                "an escaped $${ is a literal, not an interpolation",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "size": "$${var.size}"}),
                vec![("size", WrongType)],
            ),
            (
                "a block may be a single object instead of an array",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": {"id": "r", "filter": {"tag": {"key": "k"}}}}),
                vec![],
            ),
            (
                "a block must be an object or an array of objects",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": "r1"}),
                vec![("rule", BlockShape)],
            ),
            (
                "every element of a block array must be an object",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r"}, "r2"]}),
                vec![("rule[1]", BlockShape)],
            ),
            (
                "max_items is enforced",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r", "filter": [{"tag": {"key": "k"}}, {"tag": {"key": "k"}}]}]}),
                vec![("rule[0].filter", TooManyBlocks)],
            ),
            (
                "a single-nested block takes at most one object",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "timeouts": [{}, {}]}),
                vec![("timeouts", TooManyBlocks)],
            ),
            (
                "timeouts is validated as the schema's block, not skipped",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": valid_rule, "timeouts": {"destroy": "1m"}}),
                vec![("timeouts.destroy", UnknownName)],
            ),
            (
                "timeouts on a type whose schema lacks that block is skipped as a meta-argument",
                BlockKind::Data,
                "test_info",
                json!({"timeouts": {"read": "1m"}}),
                vec![],
            ),
            (
                "nested blocks are checked recursively, with indexed paths",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r"}, {"filter": [{"prefix": 7, "tag": [{"key": "k", "value": "v"}]}]}]}),
                vec![
                    ("rule[1].filter[0].tag[0].value", UnknownName),
                    ("rule[1].id", MissingAttribute),
                ],
            ),
            (
                "a required block deep inside is reported at its path",
                BlockKind::Resource,
                "test_thing",
                json!({"name": "a", "rule": [{"id": "r", "filter": {"prefix": "p"}}]}),
                vec![("rule[0].filter.tag", MissingBlock)],
            ),
        ];
        let schema = schema();
        let mut failures = Vec::new();
        for (reason, kind, type_name, body, expected) in cases {
            let got: Vec<(String, ProblemKind)> = schema
                .validate(kind, type_name, &body)
                .into_iter()
                .map(|p| (p.path, p.kind))
                .collect();
            let expected: Vec<(String, ProblemKind)> =
                expected.into_iter().map(|(p, k)| (p.to_owned(), k)).collect();
            if got != expected {
                failures.push(format!("{reason}:\n  got      {got:?}\n  expected {expected:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn problems_read_as_path_and_message() {
        let problems = schema().validate(
            BlockKind::Resource,
            "test_thing",
            &json!({"name": "a", "rule": [{"id": "r"}], "size": "big"}),
        );
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["size: expected a number, found the string \"big\""]
        );
        let unknown = schema().validate(BlockKind::Data, "test_nope", &json!({}));
        assert_eq!(
            unknown[0].to_string(),
            "unknown data source type `test_nope`; check the spelling, or vendor the type into the provider schema"
        );
    }

    #[test]
    fn lookups_and_provider_merge() {
        let two = r#"{"format_version": "1.0", "provider_schemas": {
            "a/b/one": {"resource_schemas": {"one_x": {"block": {}}}},
            "a/b/two": {"resource_schemas": {"two_x": {"block": {}}},
                        "data_source_schemas": {"two_d": {"block": {}}}}}}"#;
        let s = ProviderSchema::from_json(two).unwrap();
        assert!(s.has_resource("one_x") && s.has_resource("two_x"));
        assert!(s.has_data_source("two_d") && !s.has_data_source("two_x"));
        assert!(!s.has_resource("two_d"));
        assert_eq!(s.provider_of(BlockKind::Resource, "two_x"), Some("a/b/two"));
    }

    #[test]
    fn malformed_schemas_are_errors_with_context() {
        let cases: &[(&str, &str, &str)] = &[
            ("not JSON", "{", "not valid JSON"),
            (
                "wrong format version",
                r#"{"format_version": "0.2", "provider_schemas": {}}"#,
                "format_version \"0.2\"",
            ),
            (
                "missing provider_schemas",
                r#"{"format_version": "1.0"}"#,
                "missing `provider_schemas`",
            ),
            (
                "type without a block",
                r#"{"format_version": "1.0", "provider_schemas": {"p": {"resource_schemas": {"t_x": {}}}}}"#,
                "at provider_schemas/p/resource_schemas/t_x: missing `block`",
            ),
            (
                "unknown attribute type, with the attribute's path",
                r#"{"format_version": "1.0", "provider_schemas": {"p": {"resource_schemas": {"t_x": {"block": {"attributes": {"a": {"type": "float"}}}}}}}}"#,
                "t_x/block/attributes/a/type: unknown primitive type `float`",
            ),
            (
                "unknown nesting mode",
                r#"{"format_version": "1.0", "provider_schemas": {"p": {"resource_schemas": {"t_x": {"block": {"block_types": {"b": {"nesting_mode": "tree", "block": {}}}}}}}}}"#,
                "block_types/b/nesting_mode: unknown nesting mode Some(\"tree\")",
            ),
            (
                "a type defined by two providers",
                r#"{"format_version": "1.0", "provider_schemas": {"p1": {"resource_schemas": {"t_x": {"block": {}}}}, "p2": {"resource_schemas": {"t_x": {"block": {}}}}}}"#,
                "resource type `t_x` is defined by both `p1` and `p2`",
            ),
        ];
        for (reason, text, needle) in cases {
            let err = ProviderSchema::from_json(text).expect_err(reason).to_string();
            assert!(err.contains(needle), "case: {reason}: `{err}` lacks `{needle}`");
        }
    }

    #[test]
    fn nested_type_attributes_check_like_objects() {
        let text = r#"{"format_version": "1.0", "provider_schemas": {"p": {"resource_schemas": {"t_x": {"block": {
            "attributes": {"rules": {"nested_type": {"nesting_mode": "list", "attributes": {
                "port": {"type": "number", "required": true}, "note": {"type": "string", "optional": true}}},
                "optional": true}}}}}}}}"#;
        let s = ProviderSchema::from_json(text).unwrap();
        let got: Vec<_> = s
            .validate(
                BlockKind::Resource,
                "t_x",
                &json!({"rules": [{"port": 1}, {"note": "n"}, {"port": "x"}]}),
            )
            .into_iter()
            .map(|p| (p.path, p.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("rules[1].port".to_owned(), ProblemKind::MissingAttribute),
                ("rules[2].port".to_owned(), ProblemKind::WrongType)
            ]
        );
    }

    /// The vendored AWS subset (what the project's tests read) parses and checks real bodies.
    #[test]
    fn vendored_aws_subset_validates_vpc() {
        let aws = ProviderSchema::from_json(include_str!(
            "../../../tests/fixtures/aws-provider-schema/aws-6.25.0.subset.json"
        ))
        .expect("vendored subset parses");
        assert!(aws.has_resource("aws_vpc") && aws.has_resource("aws_s3_bucket_lifecycle_configuration"));
        assert!(aws.has_data_source("aws_iam_policy_document") && !aws.has_resource("aws_region"));

        let good = json!({
            "cidr_block": "10.20.0.0/16",
            "enable_dns_hostnames": true,
            "enable_dns_support": "${var.dns}",
            "tags": {"Name": "tenant-a", "Tenant": "a"},
            "lifecycle": {"prevent_destroy": true},
            "//": {"metadata": {"path": "tenant-a/network/vpc"}}
        });
        assert_eq!(aws.validate(BlockKind::Resource, "aws_vpc", &good), []);

        let bad = json!({
            "cidr_block": ["10.20.0.0/16"],
            "enable_dns_hostnames": "yes",
            "ipv4_netmask_length": "sixteen",
            "tags": ["tenant-a"],
            "cidr": "10.0.0.0/8"
        });
        let got: Vec<(String, ProblemKind)> = aws
            .validate(BlockKind::Resource, "aws_vpc", &bad)
            .into_iter()
            .map(|p| (p.path, p.kind))
            .collect();
        let expected = [
            ("cidr", ProblemKind::UnknownName),
            ("cidr_block", ProblemKind::WrongType),
            ("enable_dns_hostnames", ProblemKind::WrongType),
            ("ipv4_netmask_length", ProblemKind::WrongType),
            ("tags", ProblemKind::WrongType),
        ];
        assert_eq!(
            got,
            expected.map(|(p, k)| (p.to_owned(), k)),
            "wrong aws_vpc body"
        );

        let lifecycle = json!({"bucket": "${aws_s3_bucket.b.id}",
            "rule": [{"id": "expire", "filter": {"prefix": "logs/"},
                      "expiration": {"days": "thirty"}}]});
        let got: Vec<String> = aws
            .validate(
                BlockKind::Resource,
                "aws_s3_bucket_lifecycle_configuration",
                &lifecycle,
            )
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            got,
            ["rule[0].expiration.days", "rule[0].status"],
            "nested rule problems"
        );

        let environment =
            json!({"compute_type": "BUILD_GENERAL1_SMALL", "image": "i", "type": "LINUX_CONTAINER"});
        let codebuild = json!({"name": "b", "service_role": "${aws_iam_role.r.arn}",
            "artifacts": {"type": "NO_ARTIFACTS"}, "environment": [environment.clone(), environment]});
        let got: Vec<(String, ProblemKind)> = aws
            .validate(BlockKind::Resource, "aws_codebuild_project", &codebuild)
            .into_iter()
            .map(|p| (p.path, p.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("environment".to_owned(), ProblemKind::TooManyBlocks),
                ("source".to_owned(), ProblemKind::MissingBlock)
            ],
            "max_items 1 and a required block"
        );
    }
}
