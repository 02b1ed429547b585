//! `zcc examples`: the built-in bodies `zcc send --example` sends, and where each goes.

use serde_json::{Value, json};

use crate::catalog;

/// Each example's name and the function that receives it.
pub fn listed() -> Vec<(&'static str, &'static str)> {
    catalog::all()
        .map(|e| (e.name, e.target.function()))
        .collect()
}

pub fn as_json(listed: &[(&str, &str)]) -> Value {
    Value::Array(
        listed
            .iter()
            .map(|(name, function)| json!({"name": name, "function": function}))
            .collect(),
    )
}

pub fn render(listed: &[(&str, &str)]) -> String {
    listed
        .iter()
        .map(|(name, function)| format!("{name:<42} {function}\n"))
        .collect()
}
