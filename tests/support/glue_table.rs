//! The Athena table template.yaml creates (CloudTrailLogsTable), read as CloudFormation would
//! create it for given parameters: its intrinsic functions worked out, and its partition
//! projection expanded as Athena expands it, so tests compare it with what deliver writes and
//! read the delivered files through its columns.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use serde_yaml_ng::Value;
use serde_yaml_ng::value::TaggedValue;

use crate::repo_file;

/// The resource the table is.
const TABLE: &str = "CloudTrailLogsTable";

/// The account CloudFormation's `AWS::AccountId` stands for in these tests.
pub const STACK_ACCOUNT: &str = "111122223333";

/// template.yaml deployed with its defaults and `parameters`.
pub struct Stack {
    template: Value,
    parameters: BTreeMap<String, Json>,
}

impl Stack {
    pub fn new(parameters: &[(&str, &str)]) -> Self {
        let text = std::fs::read_to_string(repo_file("template.yaml")).expect("template.yaml");
        let template: Value = serde_yaml_ng::from_str(&text).expect("template.yaml is YAML");
        let mut values = BTreeMap::new();
        for (name, declared) in template["Parameters"]
            .as_mapping()
            .expect("Parameters")
            .iter()
        {
            let name = name.as_str().expect("parameter name");
            let given = parameters
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value).to_owned());
            let Some(text) = given.or_else(|| scalar_text(&declared["Default"])) else {
                continue;
            };
            let value = if declared["Type"].as_str() == Some("CommaDelimitedList") {
                Json::Array(text.split(',').map(|s| Json::from(s.trim())).collect())
            } else {
                Json::String(text)
            };
            values.insert(name.to_owned(), value);
        }
        for (name, _) in parameters {
            assert!(
                values.contains_key(*name),
                "template.yaml has no parameter {name}"
            );
        }
        Stack {
            template,
            parameters: values,
        }
    }

    /// The table's TableInput with every intrinsic function worked out.
    pub fn table(&self) -> GlueTable {
        let resource = &self.template["Resources"][TABLE];
        assert_eq!(resource["Type"].as_str(), Some("AWS::Glue::Table"));
        let properties = self
            .resolve(&resource["Properties"])
            .expect("the table's properties");
        GlueTable {
            input: properties["TableInput"].clone(),
        }
    }

    /// A template value as CloudFormation makes it: `None` for `!Ref AWS::NoValue`.
    fn resolve(&self, value: &Value) -> Option<Json> {
        Some(match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(_) | Value::String(_) => Json::String(scalar_text(value)?),
            Value::Sequence(items) => {
                Json::Array(items.iter().filter_map(|item| self.resolve(item)).collect())
            }
            Value::Mapping(entries) => Json::Object(
                entries
                    .iter()
                    .filter_map(|(key, value)| {
                        Some((key.as_str()?.to_owned(), self.resolve(value)?))
                    })
                    .collect::<Map<_, _>>(),
            ),
            Value::Tagged(tagged) => return self.intrinsic(tagged),
        })
    }

    fn intrinsic(&self, tagged: &TaggedValue) -> Option<Json> {
        let tag = tagged.tag.to_string();
        let argument = &tagged.value;
        match tag.as_str() {
            "!Ref" => self.reference(argument.as_str().expect("!Ref NAME")),
            "!If" => {
                let parts = argument.as_sequence().expect("!If [condition, a, b]");
                let condition = parts[0].as_str().expect("a condition name");
                self.resolve(&parts[if self.condition(condition) { 1 } else { 2 }])
            }
            "!Sub" => Some(Json::String(self.substitute(argument))),
            "!Join" => {
                let parts = argument.as_sequence().expect("!Join [separator, list]");
                let separator = parts[0].as_str().expect("separator");
                let items = self.resolve(&parts[1]).expect("a list");
                let items: Vec<&str> = items
                    .as_array()
                    .expect("a list")
                    .iter()
                    .map(|item| item.as_str().expect("a string"))
                    .collect();
                Some(Json::String(items.join(separator)))
            }
            other => panic!("template_table: unexpected intrinsic {other}"),
        }
    }

    fn reference(&self, name: &str) -> Option<Json> {
        match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => return Some(Json::from(STACK_ACCOUNT)),
            _ => {}
        }
        if let Some(value) = self.parameters.get(name) {
            return Some(value.clone());
        }
        // A resource's Ref: its name, for the kinds the table refers to.
        let resource = &self.template["Resources"][name];
        let name_property = match resource["Type"].as_str() {
            Some("AWS::S3::Bucket") => &resource["Properties"]["BucketName"],
            Some("AWS::Glue::Database") => &resource["Properties"]["DatabaseInput"]["Name"],
            other => panic!("no Ref for {name} ({other:?})"),
        };
        self.resolve(name_property)
    }

    fn condition(&self, name: &str) -> bool {
        let condition = &self.template["Conditions"][name];
        assert!(!condition.is_null(), "no condition {name}");
        self.truth(condition)
    }

    fn truth(&self, value: &Value) -> bool {
        let Value::Tagged(tagged) = value else {
            panic!("a condition function, not {value:?}");
        };
        let arguments = tagged.value.as_sequence();
        match tagged.tag.to_string().as_str() {
            "!Not" => !self.truth(&arguments.expect("!Not [c]")[0]),
            "!Equals" => {
                let pair = arguments.expect("!Equals [a, b]");
                self.resolve(&pair[0]) == self.resolve(&pair[1])
            }
            "!And" => arguments.expect("!And").iter().all(|c| self.truth(c)),
            "!Or" => arguments.expect("!Or").iter().any(|c| self.truth(c)),
            "!Condition" => self.condition(tagged.value.as_str().expect("a condition name")),
            other => panic!("unexpected condition function {other}"),
        }
    }

    /// `!Sub text` or `!Sub [text, {name: value}]`: `${name}` is the variable, a parameter or
    /// a resource's Ref; `${!text}` is `${text}` itself.
    fn substitute(&self, argument: &Value) -> String {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Sequence(parts) => (
                parts[0].as_str().expect("!Sub text"),
                Some(parts[1].as_mapping().expect("!Sub variables")),
            ),
            other => panic!("unexpected !Sub {other:?}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed ${…}") + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else {
                let value = match variables.and_then(|v| v.get(name)) {
                    Some(value) => self.resolve(value),
                    None => self.reference(name),
                };
                out.push_str(value.as_ref().and_then(Json::as_str).expect("a string"));
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The table as Glue holds it.
pub struct GlueTable {
    input: Json,
}

impl GlueTable {
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.input["Parameters"][name].as_str()
    }

    /// StorageDescriptor.Location.
    pub fn location(&self) -> &str {
        self.input["StorageDescriptor"]["Location"]
            .as_str()
            .expect("Location")
    }

    /// (name, Hive type) of every column, in order.
    pub fn columns(&self) -> Vec<(String, String)> {
        self.input["StorageDescriptor"]["Columns"]
            .as_array()
            .expect("Columns")
            .iter()
            .map(|column| {
                (
                    column["Name"].as_str().expect("Name").to_owned(),
                    column["Type"].as_str().expect("Type").to_owned(),
                )
            })
            .collect()
    }

    /// StorageDescriptor's SerdeInfo.SerializationLibrary and InputFormat.
    pub fn serde_and_input_format(&self) -> (&str, &str) {
        let storage = &self.input["StorageDescriptor"];
        (
            storage["SerdeInfo"]["SerializationLibrary"]
                .as_str()
                .expect("SerializationLibrary"),
            storage["InputFormat"].as_str().expect("InputFormat"),
        )
    }

    pub fn partition_keys(&self) -> Vec<String> {
        self.input["PartitionKeys"]
            .as_array()
            .expect("PartitionKeys")
            .iter()
            .map(|key| key["Name"].as_str().expect("Name").to_owned())
            .collect()
    }

    /// storage.location.template with each partition key's `${key}` replaced by `value(key)`.
    pub fn location_template_with(&self, value: impl Fn(&str) -> String) -> String {
        let mut location = self
            .parameter("storage.location.template")
            .expect("storage.location.template")
            .to_owned();
        for key in self.partition_keys() {
            let placeholder = format!("${{{key}}}");
            assert!(
                location.contains(&placeholder),
                "{location} lacks {placeholder}"
            );
            location = location.replace(&placeholder, &value(&key));
        }
        assert!(!location.contains("${"), "{location}");
        location
    }

    /// The folder Athena reads for one partition, as partition projection expands it: an
    /// enum key's value must be one of its values, an injected key's is any, a date key's is
    /// `date` in its format (Java's DateTimeFormatter letters yyyy, MM and dd) within its range.
    pub fn partition_location(&self, values: &BTreeMap<&str, &str>, date: time::Date) -> String {
        assert_eq!(self.parameter("projection.enabled"), Some("true"));
        self.location_template_with(|key| {
            let projection =
                |property: &str| self.parameter(&format!("projection.{key}.{property}"));
            match projection("type") {
                Some("enum") => {
                    let value = values[key];
                    let allowed = projection("values").expect("enum values");
                    assert!(
                        allowed.split(',').any(|v| v == value),
                        "{key} {value} is not among the projected values {allowed}"
                    );
                    value.to_owned()
                }
                Some("injected") => values[key].to_owned(),
                Some("date") => {
                    let format = projection("format").expect("date format");
                    let (start, end) = projection("range")
                        .expect("date range")
                        .split_once(',')
                        .expect("start,end");
                    assert_eq!(end, "NOW");
                    assert_eq!(projection("interval"), Some("1"));
                    assert_eq!(projection("interval.unit"), Some("DAYS"));
                    let text = format
                        .replace("yyyy", &format!("{:04}", date.year()))
                        .replace("MM", &format!("{:02}", u8::from(date.month())))
                        .replace("dd", &format!("{:02}", date.day()));
                    assert!(start <= text.as_str(), "{text} is before the range {start}");
                    text
                }
                other => panic!("partition key {key}: unexpected projection type {other:?}"),
            }
        })
    }
}
