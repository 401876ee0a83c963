//! Small readers for Terraform JSON bodies, which write nested blocks as arrays of objects (or,
//! by hand, as a single object) and lists of strings as arrays (or a single string).

use serde_json::Value;

/// The nested blocks under `key`: the elements of an array, or the value itself if it is one
/// object.
pub fn nested_blocks<'a>(body: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    let value = body.get(key);
    let many = value.and_then(Value::as_array).into_iter().flatten();
    let one = value.filter(|v| v.is_object());
    many.chain(one)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_blocks_and_strings_in_either_shape() {
        let body = json!({"many": [{"a": 1}, {"a": 2}], "one": {"a": 3}, "list": ["x", "y"], "text": "z"});
        assert_eq!(nested_blocks(&body, "many").count(), 2);
        assert_eq!(nested_blocks(&body, "one").count(), 1);
        assert_eq!(nested_blocks(&body, "missing").count(), 0);
        assert_eq!(strings(&body, "list").collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(strings(&body, "text").collect::<Vec<_>>(), ["z"]);
        assert_eq!(string(&body, "text"), Some("z"));
        assert_eq!(string(&body, "list"), None);
    }
}
