//! The raw event item (`sk = EVENT#<occurred ISO>#<event id>`): the one place it is written
//! and read back, whether as the event it holds (rebuild), a line of a timeline, or the key
//! a record's ledger settles with.

use aws_sdk_dynamodb::types::AttributeValue;
use zcc_domain::event::{AuthenticEvent, Source, Subject};
use zcc_domain::ids::EventId;
use zcc_domain::timestamp::Timestamp;

use super::attributes::Item;
use super::schema::{ENTITY, PK, SK, TTL_ATTRIBUTE, event_attr as attr, event_sk, partition};
use super::store::s;
use crate::store::StoreError;

/// The raw event item of `event` under `pk`, to expire `retention_days` after it arrived.
pub fn event_item(pk: &str, event: &AuthenticEvent, retention_days: Option<u32>) -> Item {
    let mut item = Item::from([
        (PK.into(), s(pk)),
        (
            SK.into(),
            s(event_sk(event.occurred_at(), event.event_id().as_str())),
        ),
        (ENTITY.into(), s("event")),
        (attr::EVENT_ID.into(), s(event.event_id().as_str())),
        (attr::EVENT.into(), s(event.name())),
        (attr::SOURCE.into(), s(event.source().as_str())),
        (attr::OCCURRED_AT.into(), s(event.occurred_at().to_iso())),
        (attr::RECEIVED_AT.into(), s(event.received_at().to_iso())),
        (attr::BODY.into(), s(event.body())),
    ]);
    match event.subject() {
        Subject::Engagement(id) => item.insert(attr::ENGAGEMENT_ID.into(), s(id.as_str())),
        Subject::Agent(id) => item.insert(attr::USER_ID.into(), s(id.as_str())),
        Subject::Unrouted => None,
    };
    if let Some(days) = retention_days {
        let expires = event.received_at().unix_seconds() + i64::from(days) * 86_400;
        item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
    }
    item
}

/// Whether the event item is kept raw, its merge refused (`zcc rebuild` merges it).
pub fn kept_unmerged(item: &Item) -> bool {
    item.contains_key(attr::MERGE_ERROR)
}

/// What [`raw_key`] reads of an event item.
pub(super) const RAW_KEY_PROJECTION: &str = "sk, #source, #error";

/// The key's 64 bits and the source of an event item (read with [`RAW_KEY_PROJECTION`]), as
/// a record's ledger settles with them; `None` for one kept unmerged.
pub(super) fn raw_key(pk: &str, item: &Item) -> Result<Option<(u64, Source)>, StoreError> {
    if kept_unmerged(item) {
        return Ok(None);
    }
    let id = match item.get(SK) {
        Some(AttributeValue::S(sk)) => sk.rsplit('#').next().unwrap_or_default(),
        _ => "",
    };
    let source = match item.get(attr::SOURCE) {
        Some(AttributeValue::S(source)) => Source::parse(source),
        _ => None,
    };
    match (EventId::parse(id), source) {
        (Ok(id), Some(source)) => Ok(Some((id.key_bits(), source))),
        _ => Err(StoreError::Corrupt(format!(
            "{pk}: an event item's sort key or `{}` cannot be read",
            attr::SOURCE
        ))),
    }
}

fn text<'a>(pk: &str, item: &'a Item, attribute: &str) -> Result<&'a str, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Corrupt(format!(
            "{pk}: an event item has no `{attribute}` string"
        ))),
    }
}

/// The event an event item holds, checked against the id it was stored under.
pub fn stored_event(pk: &str, item: &Item) -> Result<AuthenticEvent, StoreError> {
    let source = text(pk, item, attr::SOURCE)?;
    let source = Source::parse(source)
        .ok_or_else(|| StoreError::Corrupt(format!("{pk}: unknown event source `{source}`")))?;
    let received_at = Timestamp::parse(text(pk, item, attr::RECEIVED_AT)?)
        .map_err(|e| StoreError::Corrupt(format!("{pk}: received_at: {e}")))?;
    let event = AuthenticEvent::from_stored(source, text(pk, item, attr::BODY)?, received_at)
        .map_err(|e| StoreError::Corrupt(format!("{pk}: a stored body no longer parses: {e}")))?;
    let stored_id = text(pk, item, attr::EVENT_ID)?;
    if event.event_id().as_str() != stored_id
        || partition(event.subject(), event.occurred_at()) != pk
    {
        return Err(StoreError::Corrupt(format!(
            "{pk}: event {stored_id} does not belong here or its body was altered"
        )));
    }
    Ok(event)
}
