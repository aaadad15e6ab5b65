//! Turning serde_yaml_ng's errors into Cairn's: a position, and the trail named as well as
//! numbered, the way validation errors name it.

use serde_yaml_ng::Value;

use super::error::Problem;
use crate::invalid::item_label;

/// The lists whose items are named in messages, with the key that holds an item's name.
const NAMED_LISTS: [(&str, &str); 2] = [("trails", "Name"), ("metricFilters", "filterName")];

pub(crate) fn problem(error: &serde_yaml_ng::Error, text: &str) -> Problem {
    let location = error.location();
    let mut message = error.to_string();
    if let Some(location) = &location {
        // The position leads the message; say it once.
        let at = format!(" at line {} column {}", location.line(), location.column());
        message = message.replacen(&at, "", 1);
    }
    Problem::Yaml {
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        message: name_item(message, text),
    }
}

/// `trails[1].EventSelectors[0]: …` becomes `trails[1] (audit): EventSelectors[0]: …`.
fn name_item(message: String, text: &str) -> String {
    for (list, name_key) in NAMED_LISTS {
        let Some(rest) = message
            .strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('['))
        else {
            continue;
        };
        let Some((index, rest)) = rest.split_once(']') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let name = item_name(text, list, index, name_key).unwrap_or_default();
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let separator = if rest.starts_with(':') { "" } else { ": " };
        return format!("{}{separator}{rest}", item_label(list, index, &name));
    }
    message
}

/// The item's name, read leniently: the document failed strict parsing, but its names may
/// still be readable.
fn item_name(text: &str, list: &str, index: usize, key: &str) -> Option<String> {
    let document: Value = serde_yaml_ng::from_str(text).ok()?;
    document
        .get(list)?
        .get(index)?
        .get(key)?
        .as_str()
        .map(str::to_owned)
}
