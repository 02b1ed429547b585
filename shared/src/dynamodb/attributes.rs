//! JSON ⇄ DynamoDB attribute values, so state structs map to readable top-level attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

pub type Item = HashMap<String, AttributeValue>;

/// Converts a JSON object into an item. Nulls and empty collections are left out (DynamoDB
/// refuses empty sets, and absent reads back as the default); `sets` name the attributes
/// that are string sets rather than lists.
pub fn to_item(object: Map<String, Value>, sets: &[&str]) -> Item {
    object
        .into_iter()
        .filter_map(|(name, value)| {
            let attribute = match value {
                Value::Array(items) if sets.contains(&name.as_str()) => {
                    let strings: Vec<String> = items
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    (!strings.is_empty()).then_some(AttributeValue::Ss(strings))
                }
                other => to_attribute(other),
            }?;
            Some((name, attribute))
        })
        .collect()
}

fn to_attribute(value: Value) -> Option<AttributeValue> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) if fits_dynamodb(&n) => AttributeValue::N(n.to_string()),
        // Out of DynamoDB's number range: kept as text rather than refused.
        Value::Number(n) => AttributeValue::S(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(items) if items.is_empty() => return None,
        Value::Array(items) => AttributeValue::L(
            items
                .into_iter()
                .map(|v| to_attribute(v).unwrap_or(AttributeValue::Null(true)))
                .collect(),
        ),
        // DynamoDB refuses empty names; the raw event item still has the exact body. A map
        // left with no entries is absent, like an empty one (as `encode::item_of` has it).
        Value::Object(map) => {
            let map: HashMap<_, _> = map
                .into_iter()
                .filter(|(k, _)| !k.is_empty())
                .filter_map(|(k, v)| Some((k, to_attribute(v)?)))
                .collect();
            if map.is_empty() {
                return None;
            }
            AttributeValue::M(map)
        }
    })
}

/// DynamoDB numbers: magnitudes from 1e-130 to below 1e126, up to 38 digits (integers and
/// f64 text have at most 20 and 17).
pub(super) fn fits_dynamodb(n: &Number) -> bool {
    if n.is_i64() || n.is_u64() {
        return true;
    }
    n.as_f64()
        .is_some_and(|x| x == 0.0 || (1e-130..1e126).contains(&x.abs()))
}

/// Converts an item back into JSON; sets become arrays.
pub fn from_item(item: &Item) -> Map<String, Value> {
    item.iter()
        .map(|(k, v)| (k.clone(), from_attribute(v)))
        .collect()
}

pub fn from_attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(items.iter().map(|n| number(n)).collect()),
        AttributeValue::L(items) => Value::Array(items.iter().map(from_attribute).collect()),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), from_attribute(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn number(text: &str) -> Value {
    text.parse::<Number>()
        .map(Value::Number)
        .unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Converts an attribute value in DynamoDB's JSON (`{"S": "x"}`, `{"N": "1"}`, `{"M": {...}}`,
/// as DynamoDB Streams and Lambda deliver images) into plain JSON, like [`from_attribute`].
pub fn from_dynamodb_json(value: &Value) -> Value {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return Value::Null;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => Value::String(s.clone()),
        ("N", Value::String(n)) => number(n),
        ("BOOL", Value::Bool(b)) => Value::Bool(*b),
        ("SS", Value::Array(items)) => Value::Array(items.clone()),
        ("NS", Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|n| n.as_str().map(number).unwrap_or(Value::Null))
                .collect(),
        ),
        ("L", Value::Array(items)) => Value::Array(items.iter().map(from_dynamodb_json).collect()),
        ("M", Value::Object(map)) => Value::Object(from_dynamodb_image(map)),
        _ => Value::Null,
    }
}

/// A whole image (item) in DynamoDB's JSON, as plain JSON.
pub fn from_dynamodb_image(image: &Map<String, Value>) -> Map<String, Value> {
    image
        .iter()
        .map(|(k, v)| (k.clone(), from_dynamodb_json(v)))
        .collect()
}

/// An item in DynamoDB's JSON, as a stream delivers it (the inverse of [`from_dynamodb_image`]
/// for items this store writes): for tests and the local notifier.
pub fn to_dynamodb_json(item: &Item) -> Map<String, Value> {
    fn one(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(s) => serde_json::json!({"S": s}),
            AttributeValue::N(n) => serde_json::json!({"N": n}),
            AttributeValue::Bool(b) => serde_json::json!({"BOOL": b}),
            AttributeValue::Ss(items) => serde_json::json!({"SS": items}),
            AttributeValue::Ns(items) => serde_json::json!({"NS": items}),
            AttributeValue::L(items) => {
                serde_json::json!({"L": items.iter().map(one).collect::<Vec<_>>()})
            }
            AttributeValue::M(map) => serde_json::json!({"M": map
                .iter()
                .map(|(k, v)| (k.clone(), one(v)))
                .collect::<Map<String, Value>>()}),
            _ => serde_json::json!({"NULL": true}),
        }
    }
    item.iter().map(|(k, v)| (k.clone(), one(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_drops_what_dynamodb_refuses() {
        let value = json!({
            "s": "x", "n": 12, "f": 1.5, "b": true, "null": null, "empty": [], "map": {"k": [1, "a"]},
            "tags": ["b", "a"], "no_tags": []
        });
        let item = to_item(value.as_object().unwrap().clone(), &["tags", "no_tags"]);
        assert!(
            !item.contains_key("null")
                && !item.contains_key("empty")
                && !item.contains_key("no_tags")
        );
        assert_eq!(
            item["tags"],
            AttributeValue::Ss(vec!["b".into(), "a".into()])
        );
        assert_eq!(item["n"], AttributeValue::N("12".into()));
        let back = Value::Object(from_item(&item));
        assert_eq!(
            back,
            json!({"s":"x","n":12,"f":1.5,"b":true,"map":{"k":[1,"a"]},"tags":["b","a"]})
        );
    }

    /// Found by fuzzing: a map whose every entry is left out (a Flow variable named "", or
    /// null) was written as an empty map, where the store's `encode::item_of` leaves it out.
    #[test]
    fn a_map_left_with_no_entries_is_absent() {
        let value = json!({"flow_variables": {"": "x", "gone": null}, "m": {"": 1, "k": 2}});
        let item = to_item(value.as_object().unwrap().clone(), &[]);
        assert!(!item.contains_key("flow_variables"));
        assert_eq!(
            item["m"],
            AttributeValue::M(HashMap::from([("k".into(), AttributeValue::N("2".into()))]))
        );
    }

    #[test]
    fn dynamodb_json_reads_back_as_the_item_does() {
        let object = serde_json::json!({
            "s": "x", "n": 1.5, "b": true, "list": ["a", 2], "map": {"k": {"deep": [1]}},
            "sources": ["flow", "webhook"],
        });
        let item = to_item(object.as_object().unwrap().clone(), &["sources"]);
        let via_stream = from_dynamodb_image(&to_dynamodb_json(&item));
        assert_eq!(via_stream, from_item(&item));
        assert_eq!(Value::Object(via_stream), object);
    }
}
