//! Read access to composed stacks, for check functions: the stack and its blocks, and small
//! readers for Terraform JSON bodies and the references between blocks.
//!
//! Terraform JSON writes a nested block as a list of objects, but accepts a single object too;
//! a list of strings may likewise be a single string. The readers here accept both shapes, so
//! every check reads bodies the same way whichever plugin (or hand) wrote them.

use crate::{BlockKind, Tenant};
use serde_json::{Map, Value};
use std::cell::OnceCell;
use std::ops::Range;

/// A composed stack as the host will write it.
///
/// A received document is parsed when a check first reads it, and only as far as the check
/// reads: [`blocks`](Self::blocks), as the first read, parses it whole in one pass; reading
/// blocks by type ([`resources_of`](Self::resources_of), [`resource`](Self::resource),
/// [`blocks_where`](Self::blocks_where)) or the other sections parses those sections and only the
/// block types read. Most rules read a few types, and parsing a whole 29 KB stack was
/// nearly all the time such a plugin's `check-stack` took.
#[derive(Debug, Clone)]
pub struct StackDocument {
    /// The stack's name.
    pub stack: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// The JSON text as received; empty for a document made from a parsed value.
    text: String,
    parts: OnceCell<Parts>,
}

/// A document split into its block sections, by type, and the other sections.
#[derive(Debug, Clone, Default)]
struct Parts {
    /// By type, in the order of the text (the host writes keys sorted). A list, not a map: each
    /// kind of map is more code for every plugin to compile on a cold start.
    resources: Vec<(String, TypeBlocks)>,
    data: Vec<(String, TypeBlocks)>,
    /// Every other section (`output`, `provider`, `terraform`, ...), parsed.
    sections: Map<String, Value>,
}

/// The blocks of one type, by name: as received (where in the document's text) until first read.
#[derive(Debug, Clone)]
struct TypeBlocks {
    text_range: Option<Range<usize>>,
    parsed: OnceCell<Map<String, Value>>,
}

impl Parts {
    /// Splits `text`, a Terraform JSON document, into its sections: every section but `resource`
    /// and `data` parsed, and the blocks of each type kept as where their text is.
    fn split(text: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let mut parts = Parts::default();
        let mut scanner = Scanner { text, at: 0 };
        scanner.object(|scanner, section| {
            let types = match section.as_str() {
                "resource" => &mut parts.resources,
                "data" => &mut parts.data,
                _ => {
                    let value = serde_json::from_str(&text[scanner.value()?])?;
                    parts.sections.insert(section, value);
                    return Ok(());
                }
            };
            // A repeated key counts once, its last value, as when the document is parsed whole.
            types.clear();
            scanner.object(|scanner, type_name| {
                let blocks = TypeBlocks {
                    text_range: Some(scanner.value()?),
                    parsed: OnceCell::new(),
                };
                types.retain(|(earlier, _)| *earlier != type_name);
                types.push((type_name, blocks));
                Ok(())
            })
        })?;
        scanner.skip_whitespace();
        match scanner.at == text.len() {
            true => Ok(parts),
            false => Err(scanner.unexpected()),
        }
    }

    /// The parts of `document`, already parsed.
    fn of(document: Value) -> Self {
        let mut parts = Parts::default();
        let Value::Object(sections) = document else {
            return parts;
        };
        // One pass, inserting: `remove` and `collect` would each add their own map code, which
        // every plugin compiles on a cold start.
        for (section, value) in sections {
            let types = match section.as_str() {
                "resource" => &mut parts.resources,
                "data" => &mut parts.data,
                _ => {
                    parts.sections.insert(section, value);
                    continue;
                }
            };
            let Value::Object(by_type) = value else {
                continue;
            };
            for (type_name, blocks) in by_type {
                let blocks = match blocks {
                    Value::Object(blocks) => blocks,
                    _ => Map::new(),
                };
                let blocks = TypeBlocks {
                    text_range: None,
                    parsed: OnceCell::from(blocks),
                };
                types.push((type_name, blocks));
            }
        }
        parts
    }
}

impl TypeBlocks {
    /// The blocks, parsed from `document` (the text they were received in) when first read.
    fn by_name(&self, document: &StackDocument) -> &Map<String, Value> {
        self.parsed.get_or_init(|| match &self.text_range {
            Some(range) => match document.parse(|text| Ok(serde_json::from_str(&text[range.clone()])?)) {
                Value::Object(blocks) => blocks,
                // Like a type whose value is not an object in a parsed document: no blocks.
                _ => Map::new(),
            },
            None => Map::new(),
        })
    }
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
    /// The stack `stack` of `tenant` (`None` for the central stack) holding `document`, a whole
    /// `cdk.tf.json` document.
    pub fn new(stack: impl Into<String>, tenant: Option<Tenant>, document: Value) -> Self {
        Self {
            stack: stack.into(),
            tenant,
            text: String::new(),
            parts: OnceCell::from(Parts::of(document)),
        }
    }

    /// The stack `stack` of `tenant` from the JSON text of its document, parsed when first read.
    ///
    /// The host always sends a JSON object whose `resource` and `data` sections are objects.
    /// Should `text` be anything else, reading it panics, and the host reports the call as failed.
    pub fn received(stack: impl Into<String>, tenant: Option<Tenant>, text: String) -> Self {
        Self {
            stack: stack.into(),
            tenant,
            text,
            parts: OnceCell::new(),
        }
    }

    /// Every resource and data source, in the document's order (the host writes keys sorted).
    pub fn blocks(&self) -> impl Iterator<Item = TerraformBlock<'_>> {
        // Parsing the whole text in one pass is cheaper than splitting it by type and then
        // parsing every type.
        let parts = self.parts.get_or_init(|| {
            Parts::of(self.parse(|text| {
                let document: Value = serde_json::from_str(text)?;
                let sections = document.as_object().ok_or("not an object")?;
                match ["resource", "data"]
                    .into_iter()
                    .find(|s| sections.get(*s).is_some_and(|v| !v.is_object()))
                {
                    Some(section) => Err(format!("section `{section}` is not an object").into()),
                    None => Ok(document),
                }
            }))
        });
        self.blocks_of(parts, |_, _| true)
    }

    /// The blocks whose kind and type pass `wanted`, in the document's order. Only their types
    /// are parsed.
    pub fn blocks_where<'a>(
        &'a self,
        wanted: impl Fn(BlockKind, &str) -> bool + Copy + 'a,
    ) -> impl Iterator<Item = TerraformBlock<'a>> {
        self.blocks_of(self.sectioned(), wanted)
    }

    fn blocks_of<'a>(
        &'a self,
        parts: &'a Parts,
        wanted: impl Fn(BlockKind, &str) -> bool + Copy + 'a,
    ) -> impl Iterator<Item = TerraformBlock<'a>> {
        [
            (&parts.resources, BlockKind::Resource),
            (&parts.data, BlockKind::Data),
        ]
        .into_iter()
        .flat_map(move |(types, kind)| {
            types
                .iter()
                .filter(move |(type_name, _)| wanted(kind, type_name))
                .flat_map(move |(type_name, blocks)| {
                    blocks
                        .by_name(self)
                        .iter()
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
        self.blocks_where(move |kind, candidate| kind == BlockKind::Resource && candidate == type_name)
    }

    /// The resources of any of `type_names`, in the document's order.
    pub fn resources_of_types<'a>(
        &'a self,
        type_names: &'a [&'a str],
    ) -> impl Iterator<Item = TerraformBlock<'a>> {
        self.blocks_where(move |kind, type_name| {
            kind == BlockKind::Resource && type_names.contains(&type_name)
        })
    }

    /// The resource `type_name.name`, if the stack declares it.
    pub fn resource(&self, type_name: &str, name: &str) -> Option<TerraformBlock<'_>> {
        let (type_name, blocks) = self
            .sectioned()
            .resources
            .iter()
            .find(|(candidate, _)| candidate == type_name)?;
        let (name, body) = blocks.by_name(self).get_key_value(name)?;
        Some(TerraformBlock {
            kind: BlockKind::Resource,
            type_name,
            name,
            body,
        })
    }

    /// A section other than `resource` and `data`, e.g. `output`.
    pub fn section(&self, name: &str) -> Option<&Value> {
        self.sectioned().sections.get(name)
    }

    /// Every section other than `resource` and `data`, by name.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.sectioned()
            .sections
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// The whole document (an empty `resource` or `data` section left out).
    pub fn to_value(&self) -> Value {
        let parts = self.sectioned();
        let mut document = parts.sections.clone();
        for (section, types) in [("resource", &parts.resources), ("data", &parts.data)] {
            if !types.is_empty() {
                let types = types
                    .iter()
                    .map(|(type_name, blocks)| {
                        (type_name.clone(), Value::Object(blocks.by_name(self).clone()))
                    })
                    .collect();
                document.insert(section.into(), Value::Object(types));
            }
        }
        Value::Object(document)
    }

    /// The document split into sections, each block type kept as text until read.
    fn sectioned(&self) -> &Parts {
        self.parts.get_or_init(|| self.parse(Parts::split))
    }

    fn parse<T>(&self, parse: impl FnOnce(&str) -> Result<T, Box<dyn std::error::Error>>) -> T {
        parse(&self.text).unwrap_or_else(|e| {
            panic!(
                "the host sent stack `{}` as a document that is not Terraform JSON: {e}",
                self.stack
            )
        })
    }
}

impl PartialEq for StackDocument {
    fn eq(&self, other: &Self) -> bool {
        self.stack == other.stack && self.tenant == other.tenant && self.to_value() == other.to_value()
    }
}

/// Finds where the values of a JSON text are without parsing them: the part of a JSON parser a
/// lazy document needs, and much less code than serde's (each plugin compiles it on a cold start).
/// What it skips is parsed, and so checked, when read.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl Scanner<'_> {
    /// Calls `entry` with each key of the object at the cursor, the cursor on the key's value,
    /// which `entry` must consume.
    fn object(
        &mut self,
        mut entry: impl FnMut(&mut Self, String) -> Result<(), Box<dyn std::error::Error>>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.expect(b'{')?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            let key = serde_json::from_str(&self.text[self.string()?])?;
            self.expect(b':')?;
            entry(self, key)?;
            match self.next_significant() {
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Skips the value at the cursor and gives where its text is.
    fn value(&mut self) -> Result<Range<usize>, Box<dyn std::error::Error>> {
        self.skip_whitespace();
        let start = self.at;
        match self.peek() {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'{' | b'[') => {
                let bytes = self.text.as_bytes();
                let mut depth = 0_usize;
                loop {
                    // Only quotes, brackets and braces matter here; `position` runs over the
                    // rest without a bounds check per byte.
                    let skipped = bytes[self.at..].iter().position(|b| STRUCTURAL[usize::from(*b)]);
                    self.at += skipped.ok_or_else(|| self.unexpected())?;
                    match bytes[self.at] {
                        b'"' => {
                            self.at = end_of_string(bytes, self.at).ok_or_else(|| self.unexpected())?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        _ => depth -= 1,
                    }
                    self.at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the end of the member (the range may
                // take trailing whitespace along, which parsing ignores).
                let bytes = &self.text.as_bytes()[self.at..];
                self.at += bytes
                    .iter()
                    .position(|b| matches!(b, b',' | b'}'))
                    .unwrap_or(bytes.len());
                if self.at == start {
                    return Err(self.unexpected());
                }
            }
        }
        Ok(start..self.at)
    }

    /// Skips the string at the cursor, quotes included, and gives where its text is.
    fn string(&mut self) -> Result<Range<usize>, Box<dyn std::error::Error>> {
        self.skip_whitespace();
        let start = self.at;
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        self.at = end_of_string(self.text.as_bytes(), start).ok_or_else(|| self.unexpected())?;
        Ok(start..self.at)
    }

    fn expect(&mut self, byte: u8) -> Result<(), Box<dyn std::error::Error>> {
        self.skip_whitespace();
        match self.next_significant() {
            Some(found) if found == byte => Ok(()),
            _ => Err(self.unexpected()),
        }
    }

    fn skip_whitespace(&mut self) {
        while self
            .peek()
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next_significant(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn unexpected(&self) -> Box<dyn std::error::Error> {
        format!("unexpected text at byte {}", self.at).into()
    }
}

/// The bytes that open or close a value inside an object or array: `"`, `{`, `[`, `}`, `]`.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut at = 0;
    while at < 5 {
        table[b"\"{[}]"[at] as usize] = true;
        at += 1;
    }
    table
};

/// Where the string starting at `bytes[start]` (its opening quote) ends: one past its closing
/// quote. Byte by byte: the strings of a stack are mostly policies, JSON in a string, whose escapes
/// come every few bytes, too often for a word-at-a-time search to pay.
fn end_of_string(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    loop {
        at += bytes.get(at..)?.iter().position(|b| matches!(b, b'"' | b'\\'))?;
        match bytes[at] {
            b'"' => return Some(at + 1),
            // An escape: the next character is never the closing quote.
            _ => at += 2,
        }
    }
}

/// The nested blocks under `key`: the elements of an array, or the value itself if it is one
/// object. Anything else (missing, a string, a number) gives none.
pub fn nested_blocks<'a>(body: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    let value = body.get(key);
    let many = value.and_then(Value::as_array).into_iter().flatten();
    let one = value.filter(|v| v.is_object());
    many.chain(one)
}

/// The first nested block under `key`, for block types that occur once (`vpc_config`,
/// `dead_letter_config`): the first element of an array, or the value itself if it is one object.
pub fn nested_block<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    nested_blocks(body, key).next()
}

/// The strings under `key`: the string elements of an array, or the value itself if it is a
/// string.
pub fn strings<'a>(body: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    let value = body.get(key);
    let many = value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let one = value.and_then(Value::as_str);
    many.chain(one)
}

/// The string attribute `key`, if present.
pub fn string<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Whether `value` is exactly an interpolation of one attribute of the block at `address`, e.g.
/// `${aws_s3_bucket.data.id}` for `aws_s3_bucket.data`. Text around the interpolation, the block
/// without an attribute, or a block whose name merely starts with the same letters do not count.
pub fn is_reference_to(value: &str, address: &str) -> bool {
    value
        .strip_prefix("${")
        .and_then(|inner| inner.strip_suffix('}'))
        .and_then(|inner| inner.strip_prefix(address))
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|attribute| {
            !attribute.is_empty() && attribute.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The `(type, name)` of the AWS resource a whole-string interpolation of one of its attributes
/// refers to: `${aws_sqs_queue.api_dlq.arn}` gives `("aws_sqs_queue", "api_dlq")`. Data sources,
/// text around the interpolation and references without an attribute give `None`.
pub fn referenced_resource(value: &str) -> Option<(&str, &str)> {
    let expression = value.strip_prefix("${")?.strip_suffix('}')?;
    let mut parts = expression.split('.');
    let (type_name, name, _attribute) = (parts.next()?, parts.next()?, parts.next()?);
    (type_name.starts_with("aws_") && parts.next().is_none()).then_some((type_name, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_resources_and_data_sources() {
        let doc = StackDocument::new(
            "s",
            None,
            json!({
                "resource": {"aws_vpc": {"a": {}, "b": {}}, "aws_subnet": {"c": {}}},
                "data": {"aws_region": {"current": {}}}
            }),
        );
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
        assert_eq!(doc.resources_of_types(&["aws_vpc", "aws_subnet"]).count(), 3);
    }

    fn sample() -> Value {
        json!({
            "resource": {"aws_vpc": {"a": {"cidr_block": "10.0.0.0/16"}, "b": {}}, "aws_subnet": {"c": {}}},
            "data": {"aws_region": {"current": {}}},
            "output": {"vpc": {"value": "${aws_vpc.a.id}"}},
            "terraform": {"required_providers": {}}
        })
    }

    fn received(document: &Value) -> StackDocument {
        StackDocument::received("s", None, document.to_string())
    }

    #[test]
    fn a_received_document_reads_as_the_parsed_one() {
        let (parsed, received) = (StackDocument::new("s", None, sample()), received(&sample()));
        let addresses = |doc: &StackDocument| {
            doc.blocks()
                .map(|b| (b.address(), b.body.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(addresses(&received), addresses(&parsed));
        assert_eq!(received.section("output"), Some(&sample()["output"]));
        assert_eq!(
            received.sections().map(|(name, _)| name).collect::<Vec<_>>(),
            ["output", "terraform"]
        );
        assert_eq!(received.to_value(), sample());
        assert_eq!(parsed.to_value(), sample());
        assert_eq!(received, parsed);
        let vpc = received.resource("aws_vpc", "a").unwrap();
        assert_eq!(
            (vpc.address().as_str(), vpc.body["cidr_block"].as_str()),
            ("aws_vpc.a", Some("10.0.0.0/16"))
        );
        assert!(received.resource("aws_vpc", "z").is_none());
        assert!(
            received.resource("aws_region", "current").is_none(),
            "a data source is not a resource"
        );
    }

    #[test]
    fn a_received_document_parses_only_the_types_read() {
        let doc = received(&sample());
        let parsed = |doc: &StackDocument| {
            let parts = doc.parts.get().expect("split");
            parts
                .resources
                .iter()
                .chain(&parts.data)
                .filter(|(_, blocks)| blocks.parsed.get().is_some())
                .map(|(type_name, _)| type_name.clone())
                .collect::<Vec<_>>()
        };
        assert!(doc.parts.get().is_none(), "nothing is parsed before it is read");
        assert_eq!(doc.resources_of("aws_subnet").count(), 1);
        assert_eq!(parsed(&doc), ["aws_subnet"]);
        assert_eq!(doc.resources_of_types(&["aws_vpc", "aws_route"]).count(), 2);
        assert_eq!(parsed(&doc), ["aws_subnet", "aws_vpc"]);
        assert_eq!(doc.blocks().count(), 4);
        assert_eq!(parsed(&doc), ["aws_subnet", "aws_vpc", "aws_region"]);
    }

    #[test]
    fn reading_every_block_first_parses_the_document_in_one_pass() {
        let doc = received(&sample());
        assert_eq!(doc.blocks().count(), 4);
        let parts = doc.parts.get().expect("parsed");
        assert!(
            parts
                .resources
                .iter()
                .chain(&parts.data)
                .all(|(_, blocks)| blocks.text_range.is_none())
        );
        assert_eq!(doc.resources_of("aws_vpc").count(), 2);
        assert_eq!(doc.to_value(), sample());
    }

    #[test]
    fn a_document_that_is_not_terraform_json_panics_when_read() {
        type Read = fn(&StackDocument) -> usize;
        let every_block: Read = |doc| doc.blocks().count();
        let vpcs: Read = |doc| doc.resources_of("aws_vpc").count();
        let subnets: Read = |doc| doc.resources_of("aws_subnet").count();
        let sections: Read = |doc| doc.sections().count();
        // (text, the reads that find it broken, the reads that do not get that far)
        let cases: [(&str, Vec<Read>, Vec<Read>); 6] = [
            ("[]", vec![every_block, vpcs, sections], vec![]),
            (r#"{"resource": 5}"#, vec![every_block, vpcs, sections], vec![]),
            (r#"{"output": {}"#, vec![every_block, vpcs, sections], vec![]),
            (
                r#"{"output": {"a": "b"}} x"#,
                vec![every_block, vpcs, sections],
                vec![],
            ),
            (
                r#"{"output": {"a": "\"}}"#,
                vec![every_block, vpcs, sections],
                vec![],
            ),
            // What is not read is not parsed: another type's broken blocks go unnoticed.
            (
                r#"{"resource": {"aws_vpc": {"a": }, "aws_subnet": {}}}"#,
                vec![every_block, vpcs],
                vec![subnets, sections],
            ),
        ];
        for (text, broken, unread) in cases {
            for read in broken {
                let doc = StackDocument::received("tenant-a-dev", None, text.into());
                let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&doc))) else {
                    panic!("a read of {text} did not panic");
                };
                let message = panic.downcast_ref::<String>().expect("a formatted message");
                let expected = "the host sent stack `tenant-a-dev` as a document that is not Terraform JSON";
                assert!(message.starts_with(expected), "{message}");
            }
            for read in unread {
                read(&StackDocument::received("tenant-a-dev", None, text.into()));
            }
        }
    }

    #[test]
    fn the_scanner_finds_values_around_strings_escapes_and_nesting() {
        let document = json!({
            "resource": {
                "aws_iam_role_policy": {"p": {"policy": "{\"Statement\": [{\"Resource\": \"arn:*}]\\\\\"}]}"}},
                "aws_vpc": {"a": {"tags": {"x": [1, 2.5e3, true, null, "]"]}}},
                "weird\"type": {"b": {}},
                "aws_scalar": -7.5e-1
            },
            "output": {"o": {"value": "}{"}},
            "version": 2
        });
        for text in [
            document.to_string(),
            serde_json::to_string_pretty(&document).unwrap(),
        ] {
            let doc = StackDocument::received("s", None, text);
            assert_eq!(
                doc.resources_of("aws_vpc").next().unwrap().body,
                &document["resource"]["aws_vpc"]["a"]
            );
            assert_eq!(doc.resources_of("aws_scalar").count(), 0);
            assert_eq!(doc.section("version"), Some(&json!(2)));
            assert_eq!(
                doc.resource("weird\"type", "b").map(|b| b.address()),
                Some("weird\"type.b".into())
            );
            assert_eq!(doc.section("output"), Some(&document["output"]));
            assert_eq!(doc.to_value(), without_blocks(&document, "aws_scalar"));
        }
    }

    #[test]
    fn typed_reads_and_whole_reads_agree_on_spacing_and_repeated_keys() {
        let texts = [
            "{ \"resource\" : { } , \"output\" : { } }",
            "{\n\t\"data\": {\r\n},\"resource\":{}}",
            r#"{"resource": {"aws_vpc": {"a": {}}, "aws_vpc": {"b": {}}}}"#,
            r#"{"resource": {"aws_vpc": {"a": {}}}, "resource": {"aws_vpc": {"b": {}}}}"#,
        ];
        for text in texts {
            let typed = StackDocument::received("s", None, text.into());
            let names: Vec<_> = typed.resources_of("aws_vpc").map(|b| b.name.to_owned()).collect();
            let sections = typed.sections().count();
            let whole = StackDocument::received("s", None, text.into());
            let every: Vec<_> = whole.blocks().map(|b| b.name.to_owned()).collect();
            assert_eq!(names, every, "{text}");
            assert_eq!(sections, whole.sections().count(), "{text}");
            assert_eq!(typed.to_value(), whole.to_value(), "{text}");
        }
        let repeated = StackDocument::received("s", None, texts[2].into());
        assert!(repeated.resource("aws_vpc", "b").is_some() && repeated.resource("aws_vpc", "a").is_none());
    }

    /// `document` with the type `type_name` holding no blocks, as a type whose value is not an
    /// object reads.
    fn without_blocks(document: &Value, type_name: &str) -> Value {
        let mut document = document.clone();
        document["resource"][type_name] = json!({});
        document
    }

    #[test]
    fn a_type_whose_blocks_are_not_an_object_holds_none() {
        let document = json!({"resource": {"aws_vpc": [1, 2], "aws_subnet": {"c": {}}}});
        for doc in [
            received(&document),
            StackDocument::new("s", None, document.clone()),
        ] {
            assert_eq!(
                doc.blocks().map(|b| b.address()).collect::<Vec<_>>(),
                ["aws_subnet.c"]
            );
        }
    }

    #[test]
    fn reads_blocks_and_strings_in_either_shape() {
        let body = json!({"many": [{"a": 1}, {"a": 2}], "one": {"a": 3}, "list": ["x", "y"], "text": "z", "empty": []});
        assert_eq!(nested_blocks(&body, "many").count(), 2);
        assert_eq!(nested_blocks(&body, "one").count(), 1);
        assert_eq!(nested_blocks(&body, "text").count(), 0);
        assert_eq!(nested_blocks(&body, "missing").count(), 0);
        assert_eq!(nested_block(&body, "many"), Some(&json!({"a": 1})));
        assert_eq!(nested_block(&body, "one"), Some(&json!({"a": 3})));
        assert_eq!(nested_block(&body, "empty"), None);
        assert_eq!(nested_block(&body, "text"), None);
        assert_eq!(strings(&body, "list").collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(strings(&body, "text").collect::<Vec<_>>(), ["z"]);
        assert_eq!(strings(&body, "one").count(), 0);
        assert_eq!(string(&body, "text"), Some("z"));
        assert_eq!(string(&body, "list"), None);
    }

    #[test]
    fn recognises_references_to_one_block() {
        let cases = [
            ("${aws_s3_bucket.data.id}", true, "an attribute of the block"),
            (
                "${aws_s3_bucket.data2.id}",
                false,
                "a block whose name extends this one",
            ),
            (
                "${aws_s3_bucket.data}",
                false,
                "the block itself without attribute",
            ),
            ("${aws_s3_bucket.data.arn}/*", false, "text around the reference"),
            ("tenant-acme-corp-data-dev", false, "a literal name"),
        ];
        for (value, expected, reason) in cases {
            assert_eq!(is_reference_to(value, "aws_s3_bucket.data"), expected, "{reason}");
        }
    }

    #[test]
    fn parses_whole_string_resource_references_only() {
        let cases = [
            (
                "${aws_sqs_queue.api_dlq.arn}",
                Some(("aws_sqs_queue", "api_dlq")),
                "an attribute reference",
            ),
            ("${data.aws_kms_key.x.arn}", None, "a data source"),
            ("arn:aws:sqs:us-east-1:1:q", None, "a literal ARN"),
            ("${aws_sqs_queue.api_dlq}", None, "no attribute"),
            (
                "prefix-${aws_sqs_queue.q.arn}",
                None,
                "an interpolation inside text",
            ),
        ];
        for (value, expected, reason) in cases {
            assert_eq!(referenced_resource(value), expected, "{reason}");
        }
    }
}
