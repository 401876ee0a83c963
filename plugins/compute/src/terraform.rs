//! Resolving references between the blocks of a composed stack; nested blocks and references are
//! read with the SDK's `document` readers.

use tenant_plugin_sdk::document::referenced_resource;
use tenant_plugin_sdk::prelude::*;

/// The body of the resource `value` refers to, if the stack declares it.
pub fn resolve<'a>(stack: &'a StackDocument, value: &str) -> Option<(&'a str, &'a Value)> {
    let (type_name, name) = referenced_resource(value)?;
    stack
        .resource(type_name, name)
        .map(|block| (block.type_name, block.body))
}

/// Whether `value` refers to a KMS key (or an alias of one) that this stack declares.
pub fn is_key_of_stack(stack: &StackDocument, value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|value| resolve(stack, value))
        .is_some_and(|(type_name, _)| matches!(type_name, "aws_kms_key" | "aws_kms_alias"))
}
