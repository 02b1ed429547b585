//! The read side of the port: records and listings, decoded into the domain's types.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::ids::{EngagementId, UserId};
use zcc_domain::report::Row;
use zcc_domain::timestamp::Timestamp;

use super::attributes::{Item, from_item};
use super::schema::{
    AGENT_INDEX, DAY, DAY_INDEX, EVENT_SK_PREFIX, INDEX_SORT, PK, QUEUE_INDEX, SK, STATE_SK,
    VERSION, agent_pk, engagement_of_pk, engagement_pk, event_attr as attr, events_of_partition,
};
use super::store::{DynamoStore, s, unavailable};
use crate::store::{
    EngagementRecord, EngagementSummary, ListQuery, Listing, RecordReader, StoreError,
    TimelineEntry,
};

fn decode<T: DeserializeOwned>(pk: &str, item: &Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(from_item(item)))
        .map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))
}

impl DynamoStore {
    /// The state item under `pk`, eventually consistent (as the customer's systems read).
    async fn state_of<T: DeserializeOwned>(&self, pk: &str) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(STATE_SK))
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .as_ref()
            .map(|item| decode(pk, item))
            .transpose()
    }

    /// The timeline of a partition's events, oldest first, without their bodies.
    async fn timeline(&self, pk: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(events_of_partition())
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":events", s(EVENT_SK_PREFIX))
            .projection_expression("#o, #r, #e, #s, #i, #m")
            .expression_attribute_names("#o", attr::OCCURRED_AT)
            .expression_attribute_names("#r", attr::RECEIVED_AT)
            .expression_attribute_names("#e", attr::EVENT)
            .expression_attribute_names("#s", attr::SOURCE)
            .expression_attribute_names("#i", attr::EVENT_ID)
            .expression_attribute_names("#m", attr::MERGE_ERROR)
            .into_paginator()
            .items()
            .send();
        let mut timeline = Vec::new();
        while let Some(item) = pages.next().await {
            timeline.push(decode(pk, &item.map_err(unavailable)?)?);
        }
        Ok(timeline)
    }
}

/// BatchGetItem takes at most 100 keys.
const BATCH_GET: usize = 100;
/// BatchGetItem calls in flight at once when reading many state items (a month's report):
/// the store reads the next batch while this side decodes the last. DynamoDB allows far
/// more; beyond a few the embedded store gains nothing.
const BATCH_GETS_IN_FLIGHT: usize = 4;

/// The attributes of a state item that [`Row::of`] reads, and the item's version.
fn row_projection() -> (String, std::collections::HashMap<String, String>) {
    let names: std::collections::HashMap<String, String> = Row::STATE_FIELDS
        .iter()
        .chain([&VERSION])
        .enumerate()
        .map(|(n, field)| (format!("#a{n}"), (*field).to_owned()))
        .collect();
    let mut placeholders: Vec<&String> = names.keys().collect();
    placeholders.sort();
    let expression = placeholders
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    (expression, names)
}

/// One BatchGetItem of `keys` (at most [`BATCH_GET`]), unprocessed keys retried with backoff.
async fn batch_get(
    client: aws_sdk_dynamodb::Client,
    table: String,
    mut keys: Vec<Item>,
    projection: Option<(String, std::collections::HashMap<String, String>)>,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::with_capacity(keys.len());
    for attempt in 0..10u32 {
        if keys.is_empty() {
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
        }
        let mut request = KeysAndAttributes::builder().set_keys(Some(keys.clone()));
        if let Some((expression, names)) = &projection {
            request = request
                .projection_expression(expression)
                .set_expression_attribute_names(Some(names.clone()));
        }
        let request = request
            .build()
            .map_err(|e| StoreError::BadQuery(e.to_string()))?;
        let mut output = client
            .batch_get_item()
            .request_items(&table, request)
            .send()
            .await
            .map_err(unavailable)?;
        if let Some(found) = output.responses.as_mut().and_then(|r| r.remove(&table)) {
            items.extend(found);
        }
        keys = output
            .unprocessed_keys()
            .and_then(|u| u.get(&table))
            .map(|k| k.keys().to_vec())
            .unwrap_or_default();
    }
    if !keys.is_empty() {
        return Err(StoreError::Unavailable(format!(
            "{} state items were not read after 10 attempts (throttled?)",
            keys.len()
        )));
    }
    Ok(items)
}

impl DynamoStore {
    /// The engagement ids of one day whose first event is in `[from, to]`, by the day index.
    async fn ids_of_day(&self, day: &str, from: &str, to: &str) -> Result<Vec<String>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DAY_INDEX)
            .key_condition_expression(format!("#d = :d AND {INDEX_SORT} BETWEEN :from AND :to"))
            .expression_attribute_names("#d", DAY)
            .expression_attribute_values(":d", s(day))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .into_paginator()
            .items()
            .send();
        let mut ids = Vec::new();
        while let Some(item) = pages.next().await {
            if let Some(id) = engagement_of(&item.map_err(unavailable)?) {
                ids.push(id.to_owned());
            }
        }
        Ok(ids)
    }

    /// The state items of engagements `ids` (only the attributes of `projection`, if given),
    /// in no particular order: [`BATCH_GETS_IN_FLIGHT`] BatchGetItem calls at a time.
    async fn engagement_items(
        &self,
        ids: &[String],
        projection: Option<(String, std::collections::HashMap<String, String>)>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut batches = ids.chunks(BATCH_GET).map(|chunk| {
            chunk
                .iter()
                .map(|id| {
                    Item::from([
                        (PK.to_owned(), s(engagement_pk(id))),
                        (SK.to_owned(), s(STATE_SK)),
                    ])
                })
                .collect::<Vec<Item>>()
        });
        let mut items = Vec::with_capacity(ids.len());
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < BATCH_GETS_IN_FLIGHT {
                let Some(keys) = batches.next() else { break };
                running.spawn(batch_get(
                    self.client.clone(),
                    self.table.clone(),
                    keys,
                    projection.clone(),
                ));
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let found = done.map_err(|e| StoreError::Unavailable(format!("a read failed: {e}")))?;
            items.extend(found?);
        }
        Ok(items)
    }

    /// The state items of `ids`, as report rows: only the attributes a row is made of.
    async fn rows_of(&self, ids: &[String]) -> Result<Vec<Row>, StoreError> {
        self.engagement_items(ids, Some(row_projection()))
            .await?
            .iter()
            .map(|item| {
                let version = match item.get(VERSION) {
                    Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
                    _ => 0,
                };
                let state: EngagementState = decode("report row", item)?;
                Ok(Row::of(&state, version))
            })
            .collect()
    }
}

/// The engagement an index item (keys only) points to.
fn engagement_of(item: &Item) -> Option<&str> {
    match item.get(PK) {
        Some(AttributeValue::S(pk)) => engagement_of_pk(pk),
        _ => None,
    }
}

impl RecordReader for DynamoStore {
    async fn engagement(&self, id: &EngagementId) -> Result<Option<EngagementRecord>, StoreError> {
        let pk = engagement_pk(id.as_str());
        let Some(mut state) = self.state_of::<EngagementState>(&pk).await? else {
            return Ok(None);
        };
        // Engagement events carry no email; the agent's presence events do. Joined here, at
        // read time, so that it does not depend on which arrived first.
        if state.agent_email.is_none()
            && let Some(agent) = &state.agent_user_id
        {
            let agent: Option<AgentState> = self.state_of(&agent_pk(agent)).await?;
            state.agent_email = agent.and_then(|a| a.email);
        }
        let timeline = self.timeline(&pk).await?;
        Ok(Some(EngagementRecord { state, timeline }))
    }

    async fn rows(
        &self,
        from: Timestamp,
        to: Timestamp,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Row>, StoreError> {
        if to < from {
            return Err(StoreError::BadQuery(format!(
                "the range ends ({}) before it starts ({})",
                to.to_iso(),
                from.to_iso()
            )));
        }
        let (from_iso, to_iso) = (from.to_iso(), to.to_iso());
        let mut rows = Vec::new();
        let mut day = from;
        loop {
            let ids = self.ids_of_day(&day.day(), &from_iso, &to_iso).await?;
            for chunk in ids.chunks(BATCH_GET * BATCH_GETS_IN_FLIGHT * 8) {
                rows.extend(self.rows_of(chunk).await?);
                progress(rows.len());
            }
            if day.day() == to.day() {
                break;
            }
            day = day.saturating_add_millis(86_400_000);
        }
        Ok(rows)
    }

    async fn agent_statuses(
        &self,
        id: &UserId,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, String)>, StoreError> {
        let pk = agent_pk(id.as_str());
        let mut changes = Vec::new();
        for item in self.event_items(&pk).await? {
            let event = super::event_item::stored_event(&pk, &item)?;
            if event.occurred_at() > to {
                continue;
            }
            if let Some(status) = zcc_domain::report::status_after(&event) {
                changes.push((event.occurred_at(), status));
            }
        }
        Ok(changes)
    }

    async fn agent(&self, id: &UserId) -> Result<Option<AgentState>, StoreError> {
        self.state_of(&agent_pk(id.as_str())).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<EngagementSummary>, StoreError> {
        let (index, attribute, value) = match &query.listing {
            Listing::Agent(v) => (AGENT_INDEX, "agent_user_id", v),
            Listing::Queue(v) => (QUEUE_INDEX, "queue_id", v),
            Listing::Day(v) => (DAY_INDEX, "day", v),
        };
        let mut condition = "#k = :k".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#k", attribute)
            .expression_attribute_values(":k", AttributeValue::S(value.clone()));
        // A bare day as the upper bound means the whole of that day.
        let to = query.to.as_deref().map(|t| {
            if t.len() == 10 {
                format!("{t}T23:59:59.999Z")
            } else {
                t.to_owned()
            }
        });
        match (query.from.as_deref(), to) {
            (Some(f), Some(t)) => {
                condition.push_str(&format!(" AND {INDEX_SORT} BETWEEN :from AND :to"));
                request = request
                    .expression_attribute_values(":from", s(f))
                    .expression_attribute_values(":to", s(t));
            }
            (Some(f), None) => {
                condition.push_str(&format!(" AND {INDEX_SORT} >= :from"));
                request = request.expression_attribute_values(":from", s(f));
            }
            (None, Some(t)) => {
                condition.push_str(&format!(" AND {INDEX_SORT} <= :to"));
                request = request.expression_attribute_values(":to", s(t));
            }
            (None, None) => {}
        }
        let mut pages = request
            .key_condition_expression(condition)
            .into_paginator()
            .items()
            .send();
        // The indexes carry keys only: the listing is read from the state items they point to.
        let mut ids = Vec::new();
        while ids.len() < query.limit {
            let Some(item) = pages.next().await else {
                break;
            };
            if let Some(id) = engagement_of(&item.map_err(unavailable)?) {
                ids.push(id.to_owned());
            }
        }
        let mut summaries = self
            .engagement_items(&ids, None)
            .await?
            .iter()
            .map(|item| decode::<EngagementSummary>(index, item))
            .collect::<Result<Vec<_>, _>>()?;
        // In the index's order: by first event, then id, as the query returned them.
        let order: std::collections::HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| (id.as_str(), n))
            .collect();
        summaries.sort_by_key(|s| order.get(s.engagement_id.as_str()).copied());
        Ok(summaries)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::EngagementSummary;
    use zcc_domain::engagement::EngagementState;

    /// A listing is read from the state items: every field it shows is one of theirs.
    #[test]
    fn a_summary_shows_fields_of_the_state() {
        let names = |value: serde_json::Value| -> Vec<String> {
            value.as_object().unwrap().keys().cloned().collect()
        };
        let state = names(serde_json::to_value(EngagementState::new("e")).unwrap());
        for field in names(serde_json::to_value(EngagementSummary::default()).unwrap()) {
            assert!(state.contains(&field), "{field} is not a state attribute");
        }
    }
}
