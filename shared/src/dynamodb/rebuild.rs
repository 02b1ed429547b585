//! Rebuilding a state item from its event items: after an upgrade that models more events or
//! fixes a merge rule, or to merge the events that were kept raw with `merge_error`.
//!
//! The merge rules do not depend on order, so folding every stored event into a fresh state
//! gives the item that live delivery would have. The write is guarded by the version like any
//! other, so events arriving meanwhile are never overwritten: the rebuild starts over.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Source};
use zcc_domain::ids::{EngagementId, UserId};
use zcc_domain::merge::State;
use zcc_domain::timestamp::Timestamp;

use super::attributes::Item;
use super::schema::{
    EVENT_SK_PREFIX, PK, SK, VERSION, agent_pk, engagement_pk, event_attr as attr,
    events_of_partition, partition,
};
use super::store::{
    DynamoStore, MAX_ATTEMPTS, backoff, s, unavailable, version_condition, version_of,
};
use crate::store::StoreError;

/// The state item to rebuild.
#[derive(Debug, Clone)]
pub enum RebuildTarget {
    Engagement(EngagementId),
    Agent(UserId),
}

/// What a rebuild found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rebuilt {
    pub pk: String,
    /// Event items folded into the state.
    pub events: usize,
    /// Of those, events that had been kept raw with `merge_error` and are merged now.
    pub previously_unmerged: usize,
    /// Attributes of the state item whose value the rebuild changes (or would, on a dry run).
    pub changed: Vec<String>,
    /// Whether the state item was written (not on a dry run, nor when nothing changed).
    pub written: bool,
}

impl DynamoStore {
    /// Folds every event item of `target` into a fresh state and, unless `dry_run`, writes
    /// it in place of the stored state item and clears the events' `merge_error`.
    pub async fn rebuild(
        &self,
        target: &RebuildTarget,
        dry_run: bool,
    ) -> Result<Rebuilt, StoreError> {
        match target {
            RebuildTarget::Engagement(id) => {
                self.rebuild_as::<EngagementState>(
                    &engagement_pk(id.as_str()),
                    id.as_str(),
                    dry_run,
                )
                .await
            }
            RebuildTarget::Agent(id) => {
                self.rebuild_as::<AgentState>(&agent_pk(id.as_str()), id.as_str(), dry_run)
                    .await
            }
        }
    }

    async fn rebuild_as<T: State>(
        &self,
        pk: &str,
        id: &str,
        dry_run: bool,
    ) -> Result<Rebuilt, StoreError> {
        let pk = pk.to_owned();
        for attempt in 1..=MAX_ATTEMPTS {
            let items = self.event_items(&pk).await?;
            let mut state = T::fresh(id);
            let mut unmerged = Vec::new();
            for item in &items {
                let event = stored_event(&pk, item)?;
                if state.has_seen(&event) {
                    continue;
                }
                state.apply(&event);
                if item.contains_key(attr::MERGE_ERROR) {
                    unmerged.push((item[PK].clone(), item[SK].clone()));
                }
            }
            let (current, _) = self.read(&pk).await?;
            let version = match &current {
                Some(item) => version_of(&pk, item)?,
                None => 0,
            };
            let rebuilt = self.state_item(&pk, &state, version + 1)?;
            let changed = changed_attributes(current.as_ref(), &rebuilt);
            let report = |written| Rebuilt {
                pk: pk.clone(),
                events: items.len(),
                previously_unmerged: unmerged.len(),
                changed: changed.clone(),
                written,
            };
            if dry_run || items.is_empty() || (changed.is_empty() && unmerged.is_empty()) {
                return Ok(report(false));
            }
            let (condition, values) = version_condition((version > 0).then_some(version));
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(rebuilt.clone()))
                .condition_expression(condition)
                .set_expression_attribute_values(values);
            match put.send().await {
                Ok(_) => {}
                Err(err) if err.code() == Some("ConditionalCheckFailedException") => {
                    // An event arrived while we folded: fold again with it.
                    backoff(attempt).await;
                    continue;
                }
                Err(err) if err.code() == Some("ValidationException") => {
                    return Err(StoreError::Refused(
                        err.message().unwrap_or("ValidationException").to_owned(),
                    ));
                }
                Err(err) => return Err(unavailable(err)),
            }
            self.cache.put(&pk, rebuilt, version + 1);
            for (pk, sk) in unmerged.iter().cloned() {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key(PK, pk)
                    .key(SK, sk)
                    .update_expression(format!("REMOVE {}", attr::MERGE_ERROR))
                    .condition_expression(format!("attribute_exists({PK})"))
                    .send()
                    .await
                    .map_err(unavailable)?;
            }
            return Ok(report(true));
        }
        Err(StoreError::Contended(MAX_ATTEMPTS))
    }

    /// Every event item of a partition (`ENGAGEMENT#<id>`, `AGENT#<id>`), oldest first,
    /// strongly consistent.
    pub async fn event_items(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(events_of_partition())
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":events", s(EVENT_SK_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
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
fn stored_event(pk: &str, item: &Item) -> Result<AuthenticEvent, StoreError> {
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

/// Top-level attributes that differ, the version aside; string sets compare as sets.
fn changed_attributes(current: Option<&Item>, rebuilt: &Item) -> Vec<String> {
    let empty = Item::new();
    let current = current.unwrap_or(&empty);
    let normal = |value: Option<&AttributeValue>| match value {
        Some(AttributeValue::Ss(items)) => {
            let mut sorted = items.clone();
            sorted.sort();
            Some(AttributeValue::Ss(sorted))
        }
        other => other.cloned(),
    };
    let mut names: Vec<&String> = current.keys().chain(rebuilt.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| name.as_str() != VERSION)
        .filter(|name| normal(current.get(*name)) != normal(rebuilt.get(*name)))
        .cloned()
        .collect()
}
