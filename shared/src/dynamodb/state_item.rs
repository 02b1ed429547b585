//! The state item (`sk = STATE`) of an engagement or an agent: the one place it is written
//! and read back.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zcc_domain::merge::State;

use super::attributes::{Item, from_item};
use super::encode::item_of;
use super::schema::{ENTITY, PK, SETS, SK, STATE_SK, VERSION};
use super::store::s;
use crate::store::StoreError;

/// The state item of `state` at `version`, under `pk`: its fields as top-level attributes.
pub fn encode_state<T: State>(pk: &str, state: &T, version: u64) -> Result<Item, StoreError> {
    let mut item = item_of(state, SETS).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(STATE_SK));
    item.insert(ENTITY.into(), s(T::ENTITY));
    item.insert(VERSION.into(), AttributeValue::N(version.to_string()));
    Ok(item)
}

/// The state and version an item holds ([`encode_state`] undone); no item is a fresh state
/// at version 0.
pub fn decode_state<T: State>(
    pk: &str,
    id: &str,
    item: Option<&Item>,
) -> Result<(T, u64), StoreError> {
    let Some(item) = item else {
        return Ok((T::fresh(id), 0));
    };
    let version = version_of(pk, item)?;
    let state = serde_json::from_value(Value::Object(from_item(item)))
        .map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))?;
    Ok((state, version))
}

pub fn version_of(pk: &str, item: &Item) -> Result<u64, StoreError> {
    match item.get(VERSION) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| corrupt(pk, VERSION)),
        _ => Err(corrupt(pk, VERSION)),
    }
}

/// A state item (or an index's copy of one) read as any view of it the port reads: the
/// whole record, a listing's summary, a report's row.
pub fn decode<T: DeserializeOwned>(pk: &str, item: &Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(from_item(item)))
        .map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))
}

fn corrupt(pk: &str, attribute: &str) -> StoreError {
    StoreError::Corrupt(format!("{pk}: `{attribute}` is missing or not a number"))
}
