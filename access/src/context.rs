//! The request context: condition keys and their values, looked up case-insensitively.

use std::collections::BTreeMap;

/// Condition keys of one request. Key names compare case-insensitively
/// ([condition keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html));
/// values keep their case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Lower-cased key → (key as first spelled, values).
    keys: BTreeMap<String, (String, Vec<String>)>,
    /// Lower-cased key prefixes whose values the caller chooses freely when not given.
    caller_chosen: Vec<String>,
}

impl Context {
    /// Sets a key (replacing earlier values).
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.keys
            .insert(key.to_ascii_lowercase(), (key.to_owned(), values));
    }

    /// Sets a key unless the request already carries it.
    pub fn set_default(&mut self, key: &str, values: Vec<String>) {
        self.keys
            .entry(key.to_ascii_lowercase())
            .or_insert_with(|| (key.to_owned(), values));
    }

    /// The values of a key; `None` when the request does not carry it.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys
            .get(&key.to_ascii_lowercase())
            .map(|(_, values)| values.as_slice())
    }

    /// Every key as spelled with its values, in case-insensitive key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys
            .values()
            .map(|(key, values)| (key.as_str(), values.as_slice()))
    }

    /// Declares keys (by prefix) whose values the caller picks: when the request does not give
    /// one, a condition on them may hold or not, so it is [`crate::Tri::Unknown`].
    pub fn caller_chosen(&mut self, prefixes: &[String]) {
        self.caller_chosen
            .extend(prefixes.iter().map(|prefix| prefix.to_ascii_lowercase()));
    }

    /// Whether `key` is absent and chosen by the caller.
    pub fn is_free(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        !self.keys.contains_key(&key) && self.caller_chosen.iter().any(|prefix| key.starts_with(prefix))
    }

    /// The value of a single-valued key, as a policy variable needs it.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([value]) => Some(value),
            _ => None,
        }
    }
}
