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
use std::sync::OnceLock;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

mod template;
mod validate;

pub use template::{
    BlockReferences, MAX_TEMPLATE_BYTES, MAX_TEMPLATE_DEPTH, TemplateError, TemplateProblem,
    called_functions, check_references, undeclared_references,
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
    #[error("provider schema is not valid JSON of the expected shape: {0}")]
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
/// The file is indexed once, and each type's schema is parsed the first time the type is looked
/// up, so a run pays for the types it uses, not for all 2,200 of the AWS provider.
/// [`ProviderSchema::from_json`] (a `--schema` file) parses every type up front to report a
/// malformed file at once; [`ProviderSchema::embedded`] (tested to parse whole) stays lazy, and
/// inflates only the types it parses.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    resources: HashMap<String, TypeEntry>,
    data_sources: HashMap<String, TypeEntry>,
}

#[derive(Debug, Clone)]
struct TypeEntry {
    provider: String,
    source: TypeSource,
    /// The parsed block, once asked for; `None` if the schema is malformed.
    block: OnceLock<Option<Block>>,
}

/// Where a type's schema (`{"version": .., "block": {..}}`) is.
#[derive(Debug, Clone)]
enum TypeSource {
    /// In a schema file read whole, as it is there.
    Text(Box<RawValue>),
    /// In the embedded file, in the gzip member `member`, whose text holds the schema from byte
    /// `from` (see [`EMBEDDED_AWS`]).
    Member { member: &'static [u8], from: usize },
}

impl TypeEntry {
    fn block(&self) -> Option<&Block> {
        self.block.get_or_init(|| self.source.parse().ok()).as_ref()
    }
}

impl TypeSource {
    fn parse(&self) -> Result<Block, SchemaError> {
        match self {
            TypeSource::Text(raw) => parse_type_schema(raw.get(), ""),
            TypeSource::Member { member, from } => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(*member), &mut text)
                    .map_err(|e| malformed(EMBEDDED_AT, format!("cannot inflate a type's member: {e}")))?;
                let schema = text
                    .get(*from..)
                    .ok_or_else(|| malformed(EMBEDDED_AT, "a type's schema starts past its member's end"))?;
                parse_type_schema(schema, "")
            }
        }
    }
}

/// The AWS provider schema compiled into the host (see `host/schema/PROVENANCE.md`): a gzip
/// file that inflates to the schema's JSON byte for byte, written by
/// `scripts/refresh-aws-schema.sh` as one member per type, so that the host inflates only the
/// types a run uses. A member holds the text since the previous type and then the type's schema;
/// its gzip extra field (RFC 1952, section 2.3.1.1) has a subfield `TH` with the member's size and
/// the offset of the schema in the member's text (both u32, little-endian), then the label
/// `<kind> <provider> <type>`. The member after the last type has no label.
const EMBEDDED_AWS: &[u8] = include_bytes!("../../schema/aws-6.25.0.schema.json.gz");

/// Where errors in the embedded file are reported.
const EMBEDDED_AT: &str = "(embedded)";

/// What reports call the embedded schema.
pub const EMBEDDED_LABEL: &str = "embedded (hashicorp/aws 6.25.0)";

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
    /// schemas of every provider in the file; every type is parsed, so any malformed part is an
    /// error here.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        let schema = Self::index(text)?;
        for (key, table) in [
            ("resource_schemas", &schema.resources),
            ("data_source_schemas", &schema.data_sources),
        ] {
            for (type_name, entry) in table {
                let at = format!("provider_schemas/{}/{key}/{type_name}", entry.provider);
                let TypeSource::Text(raw) = &entry.source else {
                    unreachable!("a schema file's types are its text")
                };
                let block = parse_type_schema(raw.get(), &at)?;
                entry
                    .block
                    .set(Some(block))
                    .expect("a fresh index has parsed nothing yet");
            }
        }
        Ok(schema)
    }

    /// The AWS provider schema compiled into the host, indexed from its members' headers; each
    /// type is inflated and parsed when first used.
    pub fn embedded() -> Result<Self, SchemaError> {
        Self::from_members(EMBEDDED_AWS)
    }

    /// Indexes a file of one gzip member per type (the layout of [`EMBEDDED_AWS`]) without
    /// inflating any of it.
    fn from_members(mut file: &'static [u8]) -> Result<Self, SchemaError> {
        let mut schema = ProviderSchema::default();
        while !file.is_empty() {
            let (member, from, label) = labelled_member(file)?;
            file = &file[member.len()..];
            if label.is_empty() {
                continue;
            }
            let mut parts = label.split(' ');
            let (Some(key), Some(provider), Some(type_name), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(malformed(
                    EMBEDDED_AT,
                    format!("a member's label `{label}` is not `<kind> <provider> <type>`"),
                ));
            };
            let kind = match key {
                "resource_schemas" => BlockKind::Resource,
                "data_source_schemas" => BlockKind::Data,
                _ => {
                    return Err(malformed(
                        EMBEDDED_AT,
                        format!("a member's label `{label}` names no kind of type"),
                    ));
                }
            };
            schema.insert(
                kind,
                provider,
                type_name.to_owned(),
                TypeSource::Member { member, from },
            )?;
        }
        Ok(schema)
    }

    /// Finds every type of every provider in one pass over the text, keeping each type's schema
    /// as raw JSON.
    fn index(text: &str) -> Result<Self, SchemaError> {
        /// The parts of `terraform providers schema -json` output the index needs; the rest
        /// (provider configuration, functions, comments) is skipped.
        #[derive(serde::Deserialize)]
        struct File {
            format_version: Option<Value>,
            provider_schemas: Option<BTreeMap<String, Provider>>,
        }
        #[derive(serde::Deserialize)]
        struct Provider {
            #[serde(default)]
            resource_schemas: BTreeMap<String, Box<RawValue>>,
            #[serde(default)]
            data_source_schemas: BTreeMap<String, Box<RawValue>>,
        }
        let file: File = serde_json::from_str(text)?;
        match file.format_version {
            Some(Value::String(v)) if v == "1" || v.starts_with("1.") => {}
            other => {
                return Err(SchemaError::UnsupportedFormat {
                    found: other.map_or_else(|| "(missing)".to_owned(), |v| v.to_string()),
                });
            }
        }
        let Some(providers) = file.provider_schemas else {
            return Err(malformed("(root)", "missing `provider_schemas`"));
        };
        let mut schema = ProviderSchema::default();
        for (address, provider) in providers {
            for (kind, types) in [
                (BlockKind::Resource, provider.resource_schemas),
                (BlockKind::Data, provider.data_source_schemas),
            ] {
                for (type_name, raw) in types {
                    schema.insert(kind, &address, type_name, TypeSource::Text(raw))?;
                }
            }
        }
        Ok(schema)
    }

    /// Adds a type; a type two providers define is an error.
    fn insert(
        &mut self,
        kind: BlockKind,
        provider: &str,
        type_name: String,
        source: TypeSource,
    ) -> Result<(), SchemaError> {
        let table = match kind {
            BlockKind::Resource => &mut self.resources,
            BlockKind::Data => &mut self.data_sources,
        };
        if let Some(existing) = table.get(&type_name) {
            return Err(SchemaError::DuplicateType {
                kind,
                type_name,
                first: existing.provider.clone(),
                second: provider.to_owned(),
            });
        }
        table.insert(
            type_name,
            TypeEntry {
                provider: provider.to_owned(),
                source,
                block: OnceLock::new(),
            },
        );
        Ok(())
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
            .and_then(TypeEntry::block)
            .is_some_and(|block| block.attributes.contains_key(attribute))
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
        let Some(block) = entry.block() else {
            problems.push(SchemaProblem {
                path: String::new(),
                message: format!("the provider schema's entry for {kind} type `{type_name}` is malformed"),
                kind: ProblemKind::UnknownType,
            });
            return problems;
        };
        match body {
            Value::Object(fields) => check_block(block, fields, "", true, &mut problems),
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

/// The first gzip member of `file`, split off by its header alone: the member, the offset of the
/// type's schema in its text, and its label (see [`EMBEDDED_AWS`]).
fn labelled_member(file: &'static [u8]) -> Result<(&'static [u8], usize, &'static str), SchemaError> {
    /// The header's flags: only FEXTRA, as the refresh script writes it.
    const FEXTRA: u8 = 0x04;
    let cut_short = || malformed(EMBEDDED_AT, "a gzip member is cut short");
    let header = file.get(..12).ok_or_else(cut_short)?;
    if header[..4] != [0x1f, 0x8b, 8, FEXTRA] {
        return Err(malformed(
            EMBEDDED_AT,
            "not a gzip member with a type's label in its extra field; write the file with scripts/refresh-aws-schema.sh",
        ));
    }
    let extra_length = usize::from(u16::from_le_bytes([header[10], header[11]]));
    let mut extra = file.get(12..12 + extra_length).ok_or_else(cut_short)?;
    while let [first, second, low, high, rest @ ..] = extra {
        let length = usize::from(u16::from_le_bytes([*low, *high]));
        let data = rest.get(..length).ok_or_else(cut_short)?;
        if [*first, *second] == *b"TH" {
            let (Some(size), Some(from), Some(label)) = (data.get(..4), data.get(4..8), data.get(8..)) else {
                return Err(cut_short());
            };
            let size = u32::from_le_bytes(size.try_into().expect("four bytes")) as usize;
            let from = u32::from_le_bytes(from.try_into().expect("four bytes")) as usize;
            // Header, extra field, then at least the 8-byte trailer: a smaller size is corrupt
            // (and 0 would never move on to the next member).
            if size < 12 + extra_length + 8 {
                return Err(malformed(
                    EMBEDDED_AT,
                    format!("a member's recorded size {size} is smaller than its header"),
                ));
            }
            let label = std::str::from_utf8(label)
                .map_err(|_| malformed(EMBEDDED_AT, "a member's label is not UTF-8"))?;
            return Ok((file.get(..size).ok_or_else(cut_short)?, from, label));
        }
        extra = &rest[length..];
    }
    Err(malformed(EMBEDDED_AT, "a gzip member has no `TH` subfield"))
}

/// The block of one type's schema (`{"block": {..}}`).
fn parse_type_schema(raw: &str, at: &str) -> Result<Block, SchemaError> {
    let value: Value = serde_json::from_str(raw)?;
    let block_value = as_object(&value, at)?
        .get("block")
        .ok_or_else(|| malformed(at, "missing `block`"))?;
    parse_block(block_value, &format!("{at}/block"))
}

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

    /// Every type of the embedded AWS schema parses (so the lazy parse never fails), and the
    /// index knows the types a third-party plugin may need.
    #[test]
    fn the_embedded_aws_schema_parses_whole() {
        let aws = ProviderSchema::embedded().expect("the embedded schema loads");
        assert!(aws.resources.len() > 1_500 && aws.data_sources.len() > 600);
        let broken: Vec<&String> = aws
            .resources
            .iter()
            .chain(&aws.data_sources)
            .filter(|(_, entry)| entry.block().is_none())
            .map(|(name, _)| name)
            .collect();
        assert!(broken.is_empty(), "unparsable types: {broken:?}");
        assert!(aws.has_resource("aws_backup_vault") && aws.has_resource("aws_backup_plan"));
    }

    /// The embedded file inflates to the vendored schema byte for byte (the sha256 that
    /// `host/schema/PROVENANCE.md` records), and its members index exactly the types of that
    /// text, each member's schema being the type's text there.
    #[test]
    fn the_embedded_members_are_the_vendored_schema() {
        use sha2::Digest as _;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(EMBEDDED_AWS), &mut text)
            .expect("the embedded file inflates");
        let digest: String = sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(
            digest,
            "5016f60fc1dd6779f366b1e8db132f33bab67379ed30a366b0587747af331e32"
        );

        let whole = ProviderSchema::index(&text).expect("the inflated text indexes");
        let members = ProviderSchema::embedded().expect("the members index");
        for (whole_table, member_table) in [
            (&whole.resources, &members.resources),
            (&whole.data_sources, &members.data_sources),
        ] {
            assert_eq!(
                whole_table.keys().collect::<BTreeSet<_>>(),
                member_table.keys().collect::<BTreeSet<_>>()
            );
            for (type_name, entry) in whole_table {
                let (TypeSource::Text(raw), TypeSource::Member { member, from }) =
                    (&entry.source, &member_table[type_name].source)
                else {
                    panic!("{type_name}: sources of the wrong kind");
                };
                let mut member_text = String::new();
                std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(*member), &mut member_text)
                    .expect("a member inflates");
                assert_eq!(&member_text[*from..], raw.get(), "{type_name}");
                assert_eq!(member_table[type_name].provider, entry.provider, "{type_name}");
            }
        }
    }

    /// A file not written by the refresh script, or a member cut short, is refused with where
    /// and why, not indexed as an empty schema.
    #[test]
    fn member_files_that_are_not_labelled_are_refused() {
        let plain: &'static [u8] = {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut encoder, b"{}").expect("in memory");
            encoder.finish().expect("in memory").leak()
        };
        let first = labelled_member(EMBEDDED_AWS)
            .expect("the embedded file has members")
            .0;
        let cut: &'static [u8] = &first[..first.len() - 1];
        let mut zero_size = first.to_vec();
        zero_size[16..20].copy_from_slice(&0u32.to_le_bytes());
        let zero_size: &'static [u8] = zero_size.leak();
        for (file, reason) in [
            (plain, "scripts/refresh-aws-schema.sh"),
            (cut, "cut short"),
            (&first[..20], "cut short"),
            (zero_size, "smaller than its header"),
        ] {
            let error = ProviderSchema::from_members(file)
                .expect_err("refused")
                .to_string();
            assert!(error.contains("(embedded)") && error.contains(reason), "{error}");
        }
    }

    /// The embedded AWS schema checks real bodies.
    #[test]
    fn embedded_aws_schema_validates_real_bodies() {
        let aws = ProviderSchema::embedded().expect("the embedded schema loads");
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
