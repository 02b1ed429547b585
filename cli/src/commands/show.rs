//! How the reading commands show values to a person: `-` where there is none.

use zcc_domain::timestamp::Timestamp;

pub fn text<T: ToString>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}

pub fn time(value: &Option<Timestamp>) -> String {
    value.map(|t| t.to_iso()).unwrap_or_else(|| "-".into())
}

pub fn seconds(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
        .unwrap_or_else(|| "-".into())
}

/// A person or a queue: `name (id)`, whichever of the two is known.
pub fn who(id: &Option<String>, name: &Option<String>) -> String {
    match (name, id) {
        (None, None) => "-".to_owned(),
        (None, Some(id)) => id.clone(),
        (Some(name), None) => name.clone(),
        (Some(name), Some(id)) => format!("{name} ({id})"),
    }
}
