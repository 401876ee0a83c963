//! What a loaded plugin declares that the configuration pass needs: its settings with their
//! schema and the physical names it creates. These are the host's own types, independent of the
//! contract version a plugin speaks, so that the configuration pass can be tested without any
//! WebAssembly: a test builds [`PluginDeclaration`]s natively.

use serde_json::Value;

/// The JSON type a setting's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    /// A string.
    String,
    /// A number without a fractional part.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array of strings.
    StringList,
    /// A table (JSON object).
    Object,
}

impl SettingType {
    /// The type in the words diagnostics use, e.g. `an integer`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Boolean => "a boolean",
            Self::StringList => "an array of strings",
            Self::Object => "a table",
        }
    }

    /// The type a 0.1 plugin's setting has: its default's JSON type.
    pub fn of_default(value: &Value) -> Result<Self, String> {
        Ok(match value {
            Value::String(_) => Self::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::Integer,
            Value::Number(_) => Self::Number,
            Value::Bool(_) => Self::Boolean,
            Value::Array(items) if items.iter().all(Value::is_string) => Self::StringList,
            Value::Array(_) => return Err("an array of non-strings, which no setting type describes".into()),
            Value::Object(_) => Self::Object,
            Value::Null => return Err("null".into()),
        })
    }
}

/// One setting a plugin accepts, with the schema configured values are checked against.
#[derive(Debug, Clone)]
pub struct SettingSchema {
    /// The key, kebab-case.
    pub name: String,
    /// One line: what it changes.
    pub description: String,
    /// The type every value must have.
    pub kind: SettingType,
    /// The default; `None` for a required setting.
    pub default: Option<Value>,
    /// Whether the configuration must give it fleet-wide.
    pub required: bool,
    /// Inclusive lower bound of a number.
    pub minimum: Option<f64>,
    /// Inclusive upper bound of a number.
    pub maximum: Option<f64>,
    /// Longest string (or list element), in characters.
    pub max_length: Option<u32>,
    /// If not empty, the only strings (or list elements) allowed.
    pub allowed: Vec<String>,
    /// What every string (or list element) must match as a whole.
    pub pattern: Option<regex::Regex>,
}

impl SettingSchema {
    /// A schema that only fixes the type, as a 0.1 plugin's default implies.
    pub fn typed(name: &str, kind: SettingType, default: Option<Value>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            kind,
            default,
            required: false,
            minimum: None,
            maximum: None,
            max_length: None,
            allowed: Vec::new(),
            pattern: None,
        }
    }

    /// Compiles a declared pattern so that it must match a whole value.
    pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| format!("pattern `{pattern}` is not a regular expression: {e}"))
    }

    /// Whether `value` has the setting's type.
    pub fn has_type(&self, value: &Value) -> bool {
        match self.kind {
            SettingType::String => value.is_string(),
            SettingType::Integer => value.is_i64() || value.is_u64(),
            SettingType::Number => value.is_number(),
            SettingType::Boolean => value.is_boolean(),
            SettingType::StringList => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            SettingType::Object => value.is_object(),
        }
    }

    /// What is wrong with `value` for this setting, in one sentence; `None` when it is valid.
    pub fn problem(&self, value: &Value) -> Option<String> {
        if !self.has_type(value) {
            return Some(format!("must be {}", self.kind.describe()));
        }
        if let Some(number) = value.as_f64() {
            if let Some(min) = self.minimum.filter(|min| number < *min) {
                return Some(format!("must be at least {min}, not {value}"));
            }
            if let Some(max) = self.maximum.filter(|max| number > *max) {
                return Some(format!("must be at most {max}, not {value}"));
            }
        }
        let texts: Vec<&str> = match value {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let what = if self.kind == SettingType::StringList {
            "each element"
        } else {
            "the value"
        };
        for text in texts {
            let length = text.chars().count();
            if let Some(max) = self.max_length.filter(|max| length > *max as usize) {
                return Some(format!(
                    "{what} must be at most {max} characters; `{text}` has {length}"
                ));
            }
            if !self.allowed.is_empty() && !self.allowed.iter().any(|a| a == text) {
                return Some(format!("`{text}` is not one of {}", quoted_list(&self.allowed)));
            }
            if let Some(pattern) = self.pattern.as_ref().filter(|p| !p.is_match(text)) {
                let shown = pattern.as_str().trim_start_matches("^(?:").trim_end_matches(")$");
                return Some(format!("`{text}` does not match the pattern `{shown}`"));
            }
        }
        None
    }
}

/// Which kind of stack a name is created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackKind {
    /// The central stack.
    Central,
    /// Every tenant stack.
    Tenant,
}

/// A physical name a plugin creates, as a template over `{id}` and `{suffix}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    /// The declaring plugin.
    pub plugin: String,
    /// The AWS resource kind and attribute, e.g. `aws_backup_vault.name`.
    pub resource_kind: String,
    /// The template, e.g. `tenant-{id}-backup-vault-{suffix}`.
    pub template: String,
    /// AWS's maximum length.
    pub max_length: u32,
    /// The kind of stack it is created in.
    pub stack: StackKind,
}

impl NamePattern {
    /// The name for a tenant id and suffix.
    pub fn render(&self, id: &str, suffix: &str) -> String {
        self.template.replace("{id}", id).replace("{suffix}", suffix)
    }

    /// The longest tenant id whose name fits with `suffix`; unbounded for names without `{id}`.
    pub fn max_id_len(&self, suffix: &str) -> Option<usize> {
        let uses = self.template.matches("{id}").count();
        (uses > 0).then(|| (self.max_length as usize).saturating_sub(self.render("", suffix).len()) / uses)
    }

    /// Whether `name` is this pattern rendered with some tenant id (`[a-z0-9-]+`) and `suffix`.
    pub fn matches(&self, name: &str, suffix: &str) -> bool {
        let mut expression = String::from("^");
        let with_suffix = self.template.replace("{suffix}", suffix);
        for (index, literal) in with_suffix.split("{id}").enumerate() {
            if index > 0 {
                expression.push_str("[a-z0-9-]+");
            }
            expression.push_str(&regex::escape(literal));
        }
        expression.push('$');
        regex::Regex::new(&expression).is_ok_and(|r| r.is_match(name))
    }

    /// What is wrong with the template itself: an unknown placeholder, or `{id}` in a central name.
    pub fn problem(&self) -> Option<String> {
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map(|c| open + c);
            let Some(close) = close else {
                return Some(format!("name template `{}` has an unclosed `{{`", self.template));
            };
            let placeholder = &rest[open..=close];
            if placeholder != "{id}" && placeholder != "{suffix}" {
                return Some(format!(
                    "name template `{}` uses `{placeholder}`; only `{{id}}` and `{{suffix}}` exist",
                    self.template
                ));
            }
            rest = &rest[close + 1..];
        }
        if self.stack == StackKind::Central && self.template.contains("{id}") {
            return Some(format!(
                "central name template `{}` cannot use `{{id}}`",
                self.template
            ));
        }
        if self.template.is_empty() || self.resource_kind.is_empty() {
            return Some("a name pattern needs a resource kind and a template".into());
        }
        None
    }
}

/// What a loaded plugin declares, as far as the configuration is concerned.
#[derive(Debug, Clone)]
pub struct PluginDeclaration {
    /// Its name, the key of its settings tables.
    pub name: String,
    /// Its settings with their schema.
    pub settings: Vec<SettingSchema>,
    /// The names it creates.
    pub name_patterns: Vec<NamePattern>,
}

impl PluginDeclaration {
    /// The declared defaults, as the JSON object a plugin is given before configuration.
    pub fn defaults(&self) -> serde_json::Map<String, Value> {
        self.settings
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.default.clone()?)))
            .collect()
    }
}

/// `a`, `b` or `c`, each in backticks.
pub fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(kind: SettingType) -> SettingSchema {
        SettingSchema::typed("s", kind, None)
    }

    #[test]
    fn values_are_checked_against_type_range_length_enum_and_pattern() {
        let days = SettingSchema {
            minimum: Some(1.0),
            maximum: Some(35.0),
            ..schema(SettingType::Integer)
        };
        assert_eq!(days.problem(&json!(7)), None);
        assert_eq!(days.problem(&json!(0)).unwrap(), "must be at least 1, not 0");
        assert_eq!(days.problem(&json!(36)).unwrap(), "must be at most 35, not 36");
        assert_eq!(days.problem(&json!(1.5)).unwrap(), "must be an integer");
        assert_eq!(days.problem(&json!("7")).unwrap(), "must be an integer");
        let tier = SettingSchema {
            allowed: vec!["standard".into(), "intelligent".into()],
            max_length: Some(11),
            ..schema(SettingType::String)
        };
        assert_eq!(tier.problem(&json!("standard")), None);
        assert_eq!(
            tier.problem(&json!("glacier")).unwrap(),
            "`glacier` is not one of `standard`, `intelligent`"
        );
        let cidrs = SettingSchema {
            pattern: Some(SettingSchema::compile_pattern("[0-9./]+").unwrap()),
            ..schema(SettingType::StringList)
        };
        assert_eq!(cidrs.problem(&json!(["10.0.0.0/8"])), None);
        assert_eq!(
            cidrs.problem(&json!(["10.0.0.0/8", "ten"])).unwrap(),
            "`ten` does not match the pattern `[0-9./]+`"
        );
        assert_eq!(cidrs.problem(&json!([1])).unwrap(), "must be an array of strings");
        assert_eq!(schema(SettingType::Number).problem(&json!(2)), None);
    }

    #[test]
    fn a_legacy_default_gives_the_type() {
        assert_eq!(SettingType::of_default(&json!(30)), Ok(SettingType::Integer));
        assert_eq!(SettingType::of_default(&json!(0.5)), Ok(SettingType::Number));
        assert_eq!(
            SettingType::of_default(&json!(["a"])),
            Ok(SettingType::StringList)
        );
        assert_eq!(SettingType::of_default(&json!({})), Ok(SettingType::Object));
        assert!(SettingType::of_default(&json!([1])).is_err());
    }

    #[test]
    fn name_patterns_budget_and_match() {
        let vault = NamePattern {
            plugin: "backup".into(),
            resource_kind: "aws_backup_vault.name".into(),
            template: "tenant-{id}-backup-vault-with-a-long-name-{suffix}".into(),
            max_length: 50,
            stack: StackKind::Tenant,
        };
        // 41 characters without the id and with suffix `dev`: ids of up to 9 characters fit.
        assert_eq!(vault.max_id_len("dev"), Some(9));
        assert_eq!(vault.render(&"a".repeat(9), "dev").len(), 50);
        assert!(vault.matches("tenant-acme-backup-vault-with-a-long-name-dev", "dev"));
        assert!(!vault.matches("tenant-acme-backup-vault-dev", "dev"));
        assert_eq!(vault.problem(), None);
        let central = NamePattern {
            template: "central-{id}-{suffix}".into(),
            stack: StackKind::Central,
            ..vault.clone()
        };
        assert!(central.problem().unwrap().contains("cannot use `{id}`"));
        let unknown = NamePattern {
            template: "tenant-{tenant}".into(),
            ..vault
        };
        assert!(unknown.problem().unwrap().contains("`{tenant}`"));
    }
}
