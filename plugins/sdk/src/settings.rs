//! Typed settings. A plugin declares its settings once, as a `serde` struct plus one
//! [`Setting`] per field in [`SettingsSchema::schema`]; the schema is what `describe` reports and
//! what the host validates the configuration against (with file, line and column), and the SDK
//! checks the same schema and parses the JSON into the struct before the plugin sees it.
//!
//! ```
//! use tenant_plugin_sdk::prelude::*;
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(crate = "tenant_plugin_sdk::serde", rename_all = "kebab-case", deny_unknown_fields)]
//! pub struct AuditSettings {
//!     pub retention_days: u64,
//! }
//!
//! impl SettingsSchema for AuditSettings {
//!     fn schema() -> Vec<Setting> {
//!         vec![Setting::integer("retention-days", "Days audit objects are kept.").default(365).range(1, 3650)]
//!     }
//! }
//!
//! let settings: AuditSettings = tenant_plugin_sdk::settings::parse(&json!({"retention-days": 30})).unwrap();
//! assert_eq!(settings.retention_days, 30);
//! assert!(tenant_plugin_sdk::settings::parse::<AuditSettings>(&json!({"retention-days": 0})).is_err());
//! ```

use crate::types::{PluginError, Tenant};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The JSON type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    /// A JSON string.
    String,
    /// A JSON number without a fractional part.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON array of strings.
    StringList,
    /// A JSON object; the plugin checks its contents in [`SettingsSchema::validate`].
    Object,
}

/// One setting's declaration: name, description, type, default and constraints. Build it with
/// the constructor of its type and the chained constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// kebab-case key.
    pub name: String,
    /// One line: what it changes.
    pub description: String,
    /// The JSON type of its values.
    pub kind: SettingType,
    /// The default, absent for a required setting.
    pub default_value: Option<Value>,
    /// The configuration must give a value.
    pub required: bool,
    /// Smallest allowed number, inclusive.
    pub minimum: Option<f64>,
    /// Largest allowed number, inclusive.
    pub maximum: Option<f64>,
    /// Longest allowed string (or list element), in characters.
    pub max_length: Option<u32>,
    /// If not empty, the only values a string (or every list element) may take.
    pub allowed: Vec<String>,
    /// A regular expression a string (or every list element) must match as a whole; checked by
    /// the host.
    pub pattern: Option<String>,
}

impl Setting {
    fn new(kind: SettingType, name: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            kind,
            default_value: None,
            required: false,
            minimum: None,
            maximum: None,
            max_length: None,
            allowed: Vec::new(),
            pattern: None,
        }
    }

    /// A string setting.
    pub fn string(name: &str, description: &str) -> Self {
        Self::new(SettingType::String, name, description)
    }

    /// An integer setting.
    pub fn integer(name: &str, description: &str) -> Self {
        Self::new(SettingType::Integer, name, description)
    }

    /// A number setting.
    pub fn number(name: &str, description: &str) -> Self {
        Self::new(SettingType::Number, name, description)
    }

    /// A boolean setting.
    pub fn boolean(name: &str, description: &str) -> Self {
        Self::new(SettingType::Boolean, name, description)
    }

    /// A setting that is a list of strings.
    pub fn string_list(name: &str, description: &str) -> Self {
        Self::new(SettingType::StringList, name, description)
    }

    /// A setting that is a JSON object.
    pub fn object(name: &str, description: &str) -> Self {
        Self::new(SettingType::Object, name, description)
    }

    /// Its default.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default_value = Some(value.into());
        self
    }

    /// The configuration must give a value (there is no default).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The inclusive range of a number or integer.
    pub fn range(mut self, minimum: impl Into<f64>, maximum: impl Into<f64>) -> Self {
        self.minimum = Some(minimum.into());
        self.maximum = Some(maximum.into());
        self
    }

    /// The inclusive lower bound of a number or integer.
    pub fn minimum(mut self, minimum: impl Into<f64>) -> Self {
        self.minimum = Some(minimum.into());
        self
    }

    /// The longest string (or list element), in characters.
    pub fn max_length(mut self, max_length: u32) -> Self {
        self.max_length = Some(max_length);
        self
    }

    /// The only values a string (or every list element) may take.
    pub fn allowed(mut self, values: &[&str]) -> Self {
        self.allowed = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// A regular expression (Rust `regex` syntax) a string (or every list element) must match as
    /// a whole.
    pub fn pattern(mut self, pattern: &str) -> Self {
        self.pattern = Some(pattern.to_owned());
        self
    }

    /// Checks one value against this declaration's type, range, length and allowed values (the
    /// host also checks the pattern). The error says what would be accepted.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let name = &self.name;
        let type_matches = match self.kind {
            SettingType::String => value.is_string(),
            SettingType::Integer => value.is_i64() || value.is_u64(),
            SettingType::Number => value.is_number(),
            SettingType::Boolean => value.is_boolean(),
            SettingType::StringList => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            SettingType::Object => value.is_object(),
        };
        if !type_matches {
            return Err(format!(
                "setting `{name}` must be {}, not {value}",
                self.kind.described()
            ));
        }
        if let Some(number) = value.as_f64() {
            let below = self.minimum.is_some_and(|minimum| number < minimum);
            let above = self.maximum.is_some_and(|maximum| number > maximum);
            if below || above {
                return Err(format!(
                    "setting `{name}` is {value}; it must be {}",
                    self.range_described()
                ));
            }
        }
        let texts: Vec<&str> = match value {
            Value::String(text) => vec![text],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for text in texts {
            if let Some(max_length) = self.max_length
                && text.chars().count() > max_length as usize
            {
                return Err(format!(
                    "setting `{name}`: `{text}` is longer than {max_length} characters"
                ));
            }
            if !self.allowed.is_empty() && !self.allowed.iter().any(|allowed| allowed == text) {
                return Err(format!(
                    "setting `{name}`: `{text}` is not one of {}",
                    self.allowed.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn range_described(&self) -> String {
        match (self.minimum, self.maximum) {
            (Some(minimum), Some(maximum)) => format!("from {minimum} to {maximum}"),
            (Some(minimum), None) => format!("at least {minimum}"),
            (None, Some(maximum)) => format!("at most {maximum}"),
            (None, None) => "a number".to_owned(),
        }
    }
}

impl SettingType {
    fn described(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Boolean => "true or false",
            Self::StringList => "a list of strings",
            Self::Object => "an object",
        }
    }
}

/// A problem [`SettingsSchema::validate`] found: the setting (or `cidr-block`, the tenant's
/// address block) it is about, and what is wrong. The host reports it at that key's position in
/// the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The setting's name, or `cidr-block`.
    pub key: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl SettingProblem {
    /// A problem with `key`.
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// The declaration of a plugin's settings type: one [`Setting`] per field, and the checks a
/// per-field schema cannot express.
pub trait SettingsSchema: DeserializeOwned {
    /// One declaration per setting, in the order `describe` lists them. The names must be the
    /// struct's (kebab-case) field names; every plugin's conformance tests check that they are,
    /// both ways, and that the defaults parse.
    fn schema() -> Vec<Setting>;

    /// Cross-field checks, and checks against the tenant (`None` for the fleet-wide settings).
    /// Runs in the host's configuration pass, before any stack is synthesized, so a problem is
    /// reported with its position.
    fn validate(&self, _tenant: Option<&Tenant>) -> Vec<SettingProblem> {
        Vec::new()
    }
}

/// The settings of a plugin that has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

impl SettingsSchema for NoSettings {
    fn schema() -> Vec<Setting> {
        Vec::new()
    }
}

/// The declared defaults of `S` as the JSON object the host would pass without configuration.
pub fn defaults<S: SettingsSchema>() -> Value {
    Value::Object(
        S::schema()
            .into_iter()
            .filter_map(|setting| Some((setting.name, setting.default_value?)))
            .collect(),
    )
}

/// Checks `settings` (a JSON object) against the schema of `S` and parses it into `S`. What the
/// SDK does once per call before handing the plugin its settings.
pub fn parse<S: SettingsSchema>(settings: &Value) -> Result<S, PluginError> {
    let object = settings
        .as_object()
        .ok_or_else(|| PluginError::InvalidSettings(format!("settings must be an object, not {settings}")))?;
    for setting in S::schema() {
        match object.get(&setting.name) {
            Some(value) => setting.check(value).map_err(PluginError::InvalidSettings)?,
            None if setting.required => {
                return Err(PluginError::InvalidSettings(format!(
                    "setting `{}` is required",
                    setting.name
                )));
            }
            None => {}
        }
    }
    serde_json::from_value(settings.clone()).map_err(|e| PluginError::InvalidSettings(e.to_string()))
}

/// What `validate-settings` reports for `settings`: the schema and parse problems, each with the
/// setting it is about, or else the plugin's own [`SettingsSchema::validate`] problems.
pub fn problems<S: SettingsSchema>(settings: &Value, tenant: Option<&Tenant>) -> Vec<SettingProblem> {
    let schema = S::schema();
    let schema_problems: Vec<SettingProblem> = schema
        .iter()
        .filter_map(|setting| {
            let value = settings.get(&setting.name)?;
            setting
                .check(value)
                .err()
                .map(|message| SettingProblem::new(&setting.name, message))
        })
        .collect();
    if !schema_problems.is_empty() {
        return schema_problems;
    }
    match parse::<S>(settings) {
        Ok(parsed) => parsed.validate(tenant),
        Err(error) => vec![culprit::<S>(&schema, settings, error)],
    }
}

/// The setting whose value `S` cannot parse (found by putting back one default at a time), so the
/// host can point at it; the first declared setting when no single one is to blame.
fn culprit<S: SettingsSchema>(schema: &[Setting], settings: &Value, error: PluginError) -> SettingProblem {
    let blamed = schema.iter().find(|setting| {
        let (Some(default), Some(mut repaired)) = (&setting.default_value, settings.as_object().cloned())
        else {
            return false;
        };
        repaired.insert(setting.name.clone(), default.clone());
        parse::<S>(&Value::Object(repaired)).is_ok()
    });
    let key = blamed
        .or(schema.first())
        .map_or("", |setting| setting.name.as_str());
    SettingProblem::new(key, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Example {
        days: u64,
        zones: Vec<String>,
    }

    impl SettingsSchema for Example {
        fn schema() -> Vec<Setting> {
            vec![
                Setting::integer("days", "Days.").default(7).range(7, 30),
                Setting::string_list("zones", "Zones.")
                    .default(json!(["a", "b"]))
                    .allowed(&["a", "b", "c"]),
            ]
        }
    }

    #[test]
    fn defaults_parse() {
        let parsed: Example = parse(&defaults::<Example>()).unwrap();
        assert_eq!((parsed.days, parsed.zones.len()), (7, 2));
    }

    #[test]
    fn values_outside_the_schema_are_refused_naming_the_setting() {
        let cases = [
            (json!({"days": 6, "zones": []}), "days", "below the range"),
            (json!({"days": 31, "zones": []}), "days", "above the range"),
            (json!({"days": "7", "zones": []}), "days", "text for a number"),
            (
                json!({"days": 7.5, "zones": []}),
                "days",
                "a fraction for an integer",
            ),
            (
                json!({"days": 7, "zones": ["d"]}),
                "zones",
                "an element not allowed",
            ),
            (json!({"days": 7, "zones": "a"}), "zones", "text for a list"),
            (
                json!({"days": 7, "zones": [], "extra": 1}),
                "extra",
                "an undeclared setting",
            ),
            (json!({"zones": []}), "days", "a missing setting"),
        ];
        for (settings, named, reason) in cases {
            let error = parse::<Example>(&settings).expect_err(reason).to_string();
            assert!(error.contains(named), "{reason}: {error}");
        }
    }

    #[test]
    fn problems_name_the_setting_that_does_not_parse() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        struct Letters {
            letters: [char; 2],
        }
        impl SettingsSchema for Letters {
            fn schema() -> Vec<Setting> {
                vec![Setting::string_list("letters", "Two letters.").default(json!(["a", "b"]))]
            }
            fn validate(&self, _tenant: Option<&Tenant>) -> Vec<SettingProblem> {
                if self.letters[0] == self.letters[1] {
                    vec![SettingProblem::new("letters", "the letters must differ")]
                } else {
                    Vec::new()
                }
            }
        }
        assert_eq!(problems::<Letters>(&json!({"letters": ["a", "b"]}), None), []);
        assert_eq!(
            problems::<Letters>(&json!({"letters": ["ab", "b"]}), None)[0].key,
            "letters"
        );
        assert_eq!(
            problems::<Letters>(&json!({"letters": ["a", "a"]}), None),
            [SettingProblem::new("letters", "the letters must differ")]
        );
    }

    #[test]
    fn no_settings_accepts_only_an_empty_object() {
        assert!(parse::<NoSettings>(&json!({})).is_ok());
        assert!(parse::<NoSettings>(&json!({"x": 1})).is_err());
    }
}
