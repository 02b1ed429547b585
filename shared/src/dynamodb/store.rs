//! The DynamoDB adapter: an event item and its state item written in one transaction, the
//! state guarded by a version so concurrent writers merge in turn instead of overwriting.
//!
//! One round trip per event when it can: the state is merged into the item this process last
//! wrote or saw (the [`StateCache`]), or into nothing for an engagement's opening event, and
//! the version condition makes that guess safe. A wrong guess cancels the transaction, which
//! hands back the current item (`ReturnValuesOnConditionCheckFailure`), and the next attempt
//! merges into that; only with nothing to go on does the store read first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde_json::Value;
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Subject};
use zcc_domain::merge::State;

use super::attributes::{Item, from_item, to_item};
use super::cache::StateCache;
use super::schema::{
    ENTITY, PK, SETS, SK, STATE_SK, TTL_ATTRIBUTE, VERSION, create_only, event_attr as attr,
    event_sk, partition,
};
use crate::store::{EventStore, Receipt, Recorded, StoreError};

/// Attempts before a contended state item is given up on (and Zoom's retry takes over)...
pub(super) const MAX_ATTEMPTS: u32 = 32;
/// ...or time spent, whichever comes first: Zoom waits 3 s for an answer.
const TIME_BUDGET: Duration = Duration::from_millis(2500);

#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    retention_days: Option<u32>,
    /// Shared by clones: one per process, like the client.
    pub(super) cache: Arc<StateCache>,
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, retention_days: Option<u32>) -> Self {
        Self {
            client,
            table: table.into(),
            retention_days,
            cache: Arc::new(StateCache::default()),
        }
    }

    /// The same store with a state cache of `capacity` items; 0 reads before every write.
    pub fn with_cache_capacity(self, capacity: usize) -> Self {
        Self {
            cache: Arc::new(StateCache::new(capacity)),
            ..self
        }
    }

    /// The store the functions use: the table and retention from the environment, the client
    /// from the standard chain. Built once, at cold start.
    pub async fn from_env(
        env: &impl crate::edge::config::Lookup,
    ) -> Result<Self, crate::edge::config::ConfigError> {
        let table = crate::edge::config::table_name(env)?;
        let retention = crate::edge::config::retention_days(env)?;
        Ok(Self::new(super::client().await, table, retention))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn event_item(&self, pk: &str, event: &AuthenticEvent) -> Item {
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
        if let Some(days) = self.retention_days {
            let expires = event.received_at().unix_seconds() + i64::from(days) * 86_400;
            item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
        }
        item
    }

    /// A put that creates the item, or (with `expected`) replaces the version merged from;
    /// when its condition fails, `return_current` asks for the item as it is.
    fn put(&self, item: Item, expected: Option<u64>, return_current: bool) -> Put {
        let (condition, values) = version_condition(expected);
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure(
                return_current.then_some(ReturnValuesOnConditionCheckFailure::AllOld),
            )
            .build()
            .expect("table and item are set")
    }

    async fn put_unrouted(&self, event: &AuthenticEvent) -> Result<Receipt, StoreError> {
        let pk = partition(event.subject(), event.occurred_at());
        self.put_event_alone(self.event_item(&pk, event), Recorded::Applied)
            .await
    }

    /// Puts an event item with no state to merge into: `outcome` if it is new, `Duplicate`
    /// if it was stored before.
    async fn put_event_alone(&self, item: Item, outcome: Recorded) -> Result<Receipt, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(create_only())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Receipt {
                write_units: units(output.consumed_capacity()),
                ..Receipt::new(outcome)
            }),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => {
                Ok(Receipt::new(Recorded::Duplicate))
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    /// The state item under `pk` (`ENGAGEMENT#<id>`, `AGENT#<id>`) as stored now, strongly
    /// consistent, if there is one.
    pub async fn current_state(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        Ok(self.read(pk).await?.0)
    }

    /// The state item as stored now (strongly consistent), if there is one, and the read
    /// units it took.
    pub(super) async fn read(&self, pk: &str) -> Result<(Option<Item>, f64), StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(STATE_SK))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(unavailable)?;
        let read_units = units(output.consumed_capacity());
        Ok((output.item, read_units))
    }

    pub(super) fn state_item<T: State>(
        &self,
        pk: &str,
        state: &T,
        version: u64,
    ) -> Result<Item, StoreError> {
        let Value::Object(fields) =
            serde_json::to_value(state).map_err(|e| StoreError::Corrupt(e.to_string()))?
        else {
            return Err(StoreError::Corrupt("state is not an object".into()));
        };
        let mut item = to_item(fields, SETS);
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(STATE_SK));
        item.insert(ENTITY.into(), s(T::ENTITY));
        item.insert(VERSION.into(), AttributeValue::N(version.to_string()));
        Ok(item)
    }

    async fn merge<T: State>(
        &self,
        id: &str,
        event: &AuthenticEvent,
    ) -> Result<Receipt, StoreError> {
        let pk = partition(event.subject(), event.occurred_at());
        let deadline = Instant::now() + TIME_BUDGET;
        // Requests are counted as they are sent: a duplicate known from the cache takes none.
        let mut receipt = Receipt {
            requests: 0,
            ..Receipt::new(Recorded::Applied)
        };
        let mut basis = match self.cache.get(&pk) {
            Some((item, _)) => Basis::Known(Some(item)),
            None if T::usually_first(event) => Basis::Known(None),
            None => Basis::Unknown,
        };
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 && Instant::now() >= deadline {
                return Err(StoreError::Contended(attempt - 1));
            }
            receipt.attempts = attempt;
            let current = match basis {
                Basis::Known(item) => item,
                Basis::Unknown => {
                    receipt.requests += 1;
                    let (item, read_units) = self.read(&pk).await?;
                    receipt.read_units += read_units;
                    item
                }
            };
            let (mut state, version) = decode::<T>(&pk, id, current.as_ref())?;
            if state.has_seen(event) {
                return Ok(Receipt {
                    outcome: Recorded::Duplicate,
                    ..receipt
                });
            }
            state.apply(event);
            let merged = self.state_item(&pk, &state, version + 1)?;
            let state_put = self.put(merged.clone(), (version > 0).then_some(version), true);
            let event_put = self.put(self.event_item(&pk, event), None, false);
            receipt.requests += 1;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(event_put).build())
                .transact_items(TransactWriteItem::builder().put(state_put).build())
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await;
            match result {
                Ok(output) => {
                    receipt.write_units += output
                        .consumed_capacity()
                        .iter()
                        .map(|c| c.capacity_units().unwrap_or(0.0))
                        .sum::<f64>();
                    self.cache.put(&pk, merged, version + 1);
                    return Ok(receipt);
                }
                Err(err) => match classify(err) {
                    Cancelled::Duplicate => {
                        return Ok(Receipt {
                            outcome: Recorded::Duplicate,
                            ..receipt
                        });
                    }
                    Cancelled::Stale(now) => {
                        // The first miss is a guess that was wrong; more are writers racing.
                        if attempt > 1 {
                            backoff(attempt).await;
                        }
                        basis = match now {
                            Some(item) => Basis::Known(Some(item)),
                            None => Basis::Unknown,
                        };
                    }
                    Cancelled::Raced => {
                        backoff(attempt).await;
                        basis = Basis::Unknown;
                    }
                    Cancelled::Refused(reason) => {
                        self.cache.forget(&pk);
                        return self.keep_unmerged(&pk, event, &reason, receipt).await;
                    }
                    Cancelled::Failed(err) => {
                        self.cache.forget(&pk);
                        return Err(err);
                    }
                },
            }
        }
        Err(StoreError::Contended(MAX_ATTEMPTS))
    }

    /// DynamoDB refused the merged state (say it outgrew 400 KB): no retry will change that,
    /// so the event is kept raw, marked unmerged, rather than lost to Zoom's retries.
    async fn keep_unmerged(
        &self,
        pk: &str,
        event: &AuthenticEvent,
        reason: &str,
        receipt: Receipt,
    ) -> Result<Receipt, StoreError> {
        let mut item = self.event_item(pk, event);
        item.insert(
            attr::MERGE_ERROR.into(),
            s(reason.chars().take(300).collect::<String>()),
        );
        let kept = self.put_event_alone(item, Recorded::StoredUnmerged).await?;
        Ok(Receipt {
            outcome: kept.outcome,
            requests: receipt.requests + kept.requests,
            write_units: receipt.write_units + kept.write_units,
            ..receipt
        })
    }
}

/// The condition for a write that creates its item (`None`) or replaces the version it was
/// merged from, and the values the condition names.
pub(super) fn version_condition(expected: Option<u64>) -> (String, Option<Item>) {
    match expected {
        None => (create_only(), None),
        Some(version) => (
            format!("{VERSION} = :expected"),
            Some(Item::from([(
                ":expected".to_owned(),
                AttributeValue::N(version.to_string()),
            )])),
        ),
    }
}

/// What the next write attempt merges into.
enum Basis {
    /// The state item as last written or seen (`None`: there is none yet).
    Known(Option<Item>),
    /// Nothing to go on: read the item first.
    Unknown,
}

/// The state and version an item holds; no item is a fresh state at version 0.
fn decode<T: State>(pk: &str, id: &str, item: Option<&Item>) -> Result<(T, u64), StoreError> {
    let Some(item) = item else {
        return Ok((T::fresh(id), 0));
    };
    let version = version_of(pk, item)?;
    let state = serde_json::from_value(Value::Object(from_item(item)))
        .map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))?;
    Ok((state, version))
}

pub(super) fn version_of(pk: &str, item: &Item) -> Result<u64, StoreError> {
    match item.get(VERSION) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| corrupt(pk, VERSION)),
        _ => Err(corrupt(pk, VERSION)),
    }
}

fn units(capacity: Option<&ConsumedCapacity>) -> f64 {
    capacity.and_then(|c| c.capacity_units()).unwrap_or(0.0)
}

enum Cancelled {
    /// The event item exists: this event was stored (and merged) before.
    Duplicate,
    /// The state item is not at the version merged from; here it is as it is now, when
    /// DynamoDB handed it back.
    Stale(Option<Item>),
    /// Another transaction on the same items was in flight: wait, read and retry.
    Raced,
    /// DynamoDB refused the state item as invalid: retrying cannot help.
    Refused(String),
    Failed(StoreError),
}

fn classify(err: SdkError<TransactWriteItemsError>) -> Cancelled {
    let reasons = match &err {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancel) => {
                Some(cancel.cancellation_reasons().to_vec())
            }
            TransactWriteItemsError::TransactionInProgressException(_) => return Cancelled::Raced,
            other if other.code() == Some("ValidationException") => {
                return Cancelled::Refused(
                    other.message().unwrap_or("ValidationException").to_owned(),
                );
            }
            _ => None,
        },
        _ => None,
    };
    let Some(reasons) = reasons else {
        return Cancelled::Failed(unavailable(err));
    };
    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
    match (code(0), code(1)) {
        ("ConditionalCheckFailed", _) => Cancelled::Duplicate,
        (_, "ValidationError") => Cancelled::Refused(
            reasons
                .get(1)
                .and_then(|r| r.message())
                .unwrap_or("ValidationError")
                .to_owned(),
        ),
        (_, "ConditionalCheckFailed") => {
            Cancelled::Stale(reasons.get(1).and_then(|r| r.item()).cloned())
        }
        ("TransactionConflict", _) | (_, "TransactionConflict") => Cancelled::Raced,
        _ => Cancelled::Failed(unavailable(err)),
    }
}

/// Jittered exponential backoff: racing writers of one engagement spread out.
pub(super) async fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let ceiling_ms = 2u64 << attempt.min(6);
    let jitter_ms = u64::from(nanos) % ceiling_ms.max(1);
    tokio::time::sleep(Duration::from_millis(1 + jitter_ms)).await;
}

pub(super) fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: SdkError<E>,
) -> StoreError {
    let detail = match &err {
        SdkError::ServiceError(service) => format!(
            "{}: {}",
            service.err().code().unwrap_or("service error"),
            service.err().message().unwrap_or("")
        ),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => "could not connect".to_owned(),
        other => format!("{other:?}").chars().take(200).collect(),
    };
    StoreError::Unavailable(detail)
}

pub(super) fn corrupt(pk: &str, attribute: &str) -> StoreError {
    StoreError::Corrupt(format!("{pk}: `{attribute}` is missing or not a number"))
}

impl EventStore for DynamoStore {
    async fn record(&self, event: &AuthenticEvent) -> Result<Receipt, StoreError> {
        match event.subject() {
            Subject::Engagement(id) => self.merge::<EngagementState>(id.as_str(), event).await,
            Subject::Agent(id) => self.merge::<AgentState>(id.as_str(), event).await,
            Subject::Unrouted => self.put_unrouted(event).await,
        }
    }
}
