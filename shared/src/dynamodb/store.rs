//! The DynamoDB adapter. An event is two writes, each idempotent: its raw event item,
//! created if absent, then its state item, guarded by a version so concurrent writers merge
//! in turn instead of overwriting, and holding the keys of the events merged into it. A crash
//! between the two leaves the raw item stored and unmerged; Zoom's retry finds it stored,
//! does not find its key in the state, and merges it then: exactly once. Plain writes bill
//! half what a transaction does (docs/src/reference/performance.md, "What it costs per event").
//!
//! The state is merged into the item this process last wrote or saw (the [`StateCache`]), or
//! into nothing for an engagement's opening event, and the version condition makes that guess
//! safe. A wrong guess is refused with the current item
//! (`ReturnValuesOnConditionCheckFailure`), and the next attempt merges into that; only with
//! nothing to go on does the store read first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Source, Subject};
use zcc_domain::ledger::Stored;
use zcc_domain::merge::State;

use super::attributes::Item;
use super::cache::{StateCache, size_of};
use super::event_item::event_item;
use super::schema::{
    EVENT_SK_PREFIX, PK, SK, STATE_SK, VERSION, create_only, event_attr as attr, event_sk,
    partition,
};
use super::state_item::{decode_state, encode_state};
use crate::store::{EventStore, Receipt, Recorded, StoreError};

/// Attempts before a contended state item is given up on (and Zoom's retry takes over)...
pub(super) const MAX_ATTEMPTS: u32 = 32;
/// ...or time spent, whichever comes first: Zoom waits 3 s for an answer. The budget bounds
/// every request an event makes ([`within`]), not only the attempts: the SDK's timeouts
/// bound each request alone (2 s with its retries), and an event may make three.
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

    /// The store the functions use: the table and retention from the environment (a missing
    /// `TABLE_NAME` is reported at start), the client from Lambda's environment alone
    /// ([`crate::aws::lambda_sdk_config`]): nothing is connected or read until the first event is
    /// stored.
    pub fn from_env(
        env: &impl crate::settings::Lookup,
    ) -> Result<Self, crate::settings::ConfigError> {
        let table = crate::settings::table_name(env)?;
        let retention = crate::settings::retention_days(env)?;
        Ok(Self::new(
            crate::aws::dynamodb(&crate::aws::lambda_sdk_config()),
            table,
            retention,
        ))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn event_item(&self, pk: &str, event: &AuthenticEvent) -> Item {
        event_item(pk, event, self.retention_days)
    }

    async fn put_unrouted(&self, event: &AuthenticEvent) -> Result<Receipt, StoreError> {
        let pk = partition(event.subject(), event.occurred_at());
        let mut receipt = Receipt {
            requests: 0,
            ..Receipt::new(Recorded::Applied)
        };
        if self.put_raw(&pk, event, &mut receipt).await? != Raw::Created {
            receipt.outcome = Recorded::Duplicate;
        }
        Ok(receipt)
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

    /// The raw event items stored under `pk`, not those kept unmerged, as the ledger
    /// settles with them: each event id's 64-bit key and its source. Strongly consistent:
    /// a raw item is always written before its merge.
    async fn raw_keys(
        &self,
        pk: &str,
        receipt: &mut Receipt,
    ) -> Result<Vec<(u64, Source)>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :events)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#source", attr::SOURCE)
                .expression_attribute_names("#error", attr::MERGE_ERROR)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":events", s(EVENT_SK_PREFIX))
                .projection_expression(super::event_item::RAW_KEY_PROJECTION)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(unavailable)?;
            receipt.read_units += units(output.consumed_capacity());
            for item in output.items() {
                if let Some(key) = super::event_item::raw_key(pk, item)? {
                    keys.push(key);
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
            receipt.requests += 1;
        }
    }

    pub(super) fn state_item<T: State>(
        &self,
        pk: &str,
        state: &T,
        version: u64,
    ) -> Result<Item, StoreError> {
        encode_state(pk, state, version)
    }

    /// Writes an event's raw item unless it is stored already: the first of an event's two
    /// writes. `Ok(true)` when this call stored it.
    pub async fn store_raw(&self, event: &AuthenticEvent) -> Result<bool, StoreError> {
        let pk = partition(event.subject(), event.occurred_at());
        let mut receipt = Receipt::new(Recorded::Applied);
        Ok(self.put_raw(&pk, event, &mut receipt).await? == Raw::Created)
    }

    async fn put_raw(
        &self,
        pk: &str,
        event: &AuthenticEvent,
        receipt: &mut Receipt,
    ) -> Result<Raw, StoreError> {
        receipt.requests += 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.event_item(pk, event)))
            .condition_expression(create_only())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(output) => {
                receipt.write_units += units(output.consumed_capacity());
                Ok(Raw::Created)
            }
            Err(SdkError::ServiceError(service)) => match service.err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    // DynamoDB bills a refused conditional write too, but its error does not
                    // say how much: at least one unit.
                    receipt.write_units += 1.0;
                    let kept_unmerged = failed
                        .item()
                        .is_some_and(|item| item.contains_key(attr::MERGE_ERROR));
                    Ok(if kept_unmerged {
                        Raw::KeptUnmerged
                    } else {
                        Raw::Existed
                    })
                }
                _ => Err(unavailable(SdkError::ServiceError(service))),
            },
            Err(err) => Err(unavailable(err)),
        }
    }

    /// An event in two writes, each idempotent, so that a crash between them loses nothing and
    /// applies nothing twice: the raw event item first (created if absent), then the state
    /// item, guarded by its version, which keeps the keys of the events merged into it. A
    /// retry whose raw item exists is merged unless the state knows its key.
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
        let mut basis = match self.cache.take::<T>(&pk) {
            Some((state, version, bytes)) => Basis::Decoded(state, version, bytes),
            None if T::usually_first(event) => Basis::Item(None),
            None => Basis::Unknown,
        };
        let mut raw = None;
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 && Instant::now() >= deadline {
                return Err(StoreError::Contended(attempt - 1));
            }
            receipt.attempts = attempt;
            let (mut state, mut version, mut bytes) = match basis {
                Basis::Decoded(state, version, bytes) => (state, version, bytes),
                Basis::Item(item) => decoded::<T>(&pk, id, item.as_ref())?,
                Basis::Unknown => {
                    receipt.requests += 1;
                    let (item, read_units) = within(deadline, self.read(&pk)).await??;
                    receipt.read_units += read_units;
                    decoded::<T>(&pk, id, item.as_ref())?
                }
            };
            if state.has_seen(event) {
                self.cache.put(&pk, state, version, bytes);
                return Ok(Receipt {
                    outcome: Recorded::Duplicate,
                    ..receipt
                });
            }
            let found = match raw {
                Some(known) => known,
                None => {
                    let put = self.put_raw(&pk, event, &mut receipt);
                    *raw.insert(within(deadline, put).await??)
                }
            };
            // Stored before: merged unless the state says its merge never landed (a crash or
            // a timeout between the two writes). One DynamoDB refused is not tried again.
            let merged = match found {
                Raw::Created => false,
                Raw::KeptUnmerged => true,
                Raw::Existed => match state.stored_verdict(event) {
                    Stored::Merged => true,
                    Stored::NotMerged => false,
                    Stored::Unknown => {
                        // An old event stored again: the state as it is now and the raw
                        // items settle it (a guess from the cache could be behind).
                        receipt.requests += 1;
                        let (item, read_units) = within(deadline, self.read(&pk)).await??;
                        receipt.read_units += read_units;
                        (state, version, bytes) = decoded::<T>(&pk, id, item.as_ref())?;
                        let raw = within(deadline, self.raw_keys(&pk, &mut receipt)).await??;
                        if state.has_seen(event) {
                            true
                        } else {
                            // Several raw items unmerged at once, others in flight: answered
                            // 503, and Zoom's retry settles it once they have landed.
                            state
                                .settle(event, &raw)
                                .ok_or(StoreError::Contended(attempt))?
                        }
                    }
                },
            };
            if merged {
                self.cache.put(&pk, state, version, bytes);
                return Ok(Receipt {
                    outcome: Recorded::Duplicate,
                    ..receipt
                });
            }
            state.apply(event);
            let merged = self.state_item(&pk, &state, version + 1)?;
            let merged_bytes = size_of(&merged);
            let (condition, values) = version_condition((version > 0).then_some(version));
            receipt.requests += 1;
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(merged))
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send();
            let result = match within(deadline, put).await {
                Ok(result) => result,
                Err(out_of_time) => {
                    // Abandoned in flight, it may land yet: what this process knows of the
                    // item may be stale (the version condition keeps that safe either way).
                    self.cache.forget(&pk);
                    return Err(out_of_time);
                }
            };
            match result {
                Ok(output) => {
                    receipt.write_units += units(output.consumed_capacity());
                    self.cache.put(&pk, state, version + 1, merged_bytes);
                    return Ok(receipt);
                }
                Err(err) => match classify(err) {
                    Refusal::Stale(now) => {
                        // The first miss is a guess that was wrong; more are writers racing.
                        // Billed, like any refused write: at least one unit.
                        receipt.write_units += 1.0;
                        if attempt > 1 {
                            backoff(attempt).await;
                        }
                        basis = Basis::Item(now);
                    }
                    Refusal::Invalid(reason) => {
                        self.cache.forget(&pk);
                        let kept = self.keep_unmerged(&pk, event, &reason, receipt);
                        return within(deadline, kept).await?;
                    }
                    Refusal::Failed(err) => {
                        self.cache.forget(&pk);
                        return Err(err);
                    }
                },
            }
        }
        Err(StoreError::Contended(MAX_ATTEMPTS))
    }

    /// DynamoDB refused the merged state (say it outgrew 400 KB): no retry will change that,
    /// so the raw event item, stored already, is marked unmerged rather than lost to Zoom's
    /// retries.
    async fn keep_unmerged(
        &self,
        pk: &str,
        event: &AuthenticEvent,
        reason: &str,
        mut receipt: Receipt,
    ) -> Result<Receipt, StoreError> {
        receipt.requests += 1;
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(
                SK,
                s(event_sk(event.occurred_at(), event.event_id().as_str())),
            )
            .update_expression("SET #error = :reason")
            .expression_attribute_names("#error", attr::MERGE_ERROR)
            .expression_attribute_values(":reason", s(reason.chars().take(300).collect::<String>()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(unavailable)?;
        receipt.write_units += units(output.consumed_capacity());
        Ok(Receipt {
            outcome: Recorded::StoredUnmerged,
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

/// What the first write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Created,
    /// Stored before, merged or not.
    Existed,
    /// Stored before and marked: DynamoDB refused its merge.
    KeptUnmerged,
}

/// What the next write attempt merges into.
enum Basis<T> {
    /// The state as this process last wrote or saw it, its version and its item's size.
    Decoded(T, u64, usize),
    /// The state item as handed back (`None`: there is none yet).
    Item(Option<Item>),
    /// Nothing to go on: read the item first.
    Unknown,
}

/// [`decode_state`], and the size of the item decoded.
fn decoded<T: State>(
    pk: &str,
    id: &str,
    item: Option<&Item>,
) -> Result<(T, u64, usize), StoreError> {
    let (state, version) = decode_state::<T>(pk, id, item)?;
    Ok((state, version, item.map_or(0, size_of)))
}

fn units(capacity: Option<&ConsumedCapacity>) -> f64 {
    capacity.and_then(|c| c.capacity_units()).unwrap_or(0.0)
}

/// Why the state write did not land.
enum Refusal {
    /// The state item is not at the version merged from; here it is as it is now (`None`:
    /// there is none).
    Stale(Option<Item>),
    /// DynamoDB refused the state item as invalid: retrying cannot help.
    Invalid(String),
    Failed(StoreError),
}

fn classify(err: SdkError<PutItemError>) -> Refusal {
    if let SdkError::ServiceError(service) = &err {
        match service.err() {
            PutItemError::ConditionalCheckFailedException(failed) => {
                return Refusal::Stale(failed.item().cloned());
            }
            other if other.code() == Some("ValidationException") => {
                return Refusal::Invalid(
                    other.message().unwrap_or("ValidationException").to_owned(),
                );
            }
            _ => {}
        }
    }
    Refusal::Failed(unavailable(err))
}

/// Runs one request of an event within the event's time budget, which ends at `deadline`. A
/// request the budget cannot wait for is abandoned, as the SDK abandons one past its own
/// timeouts (a write may land or not: each of the two is idempotent, and a retry finds out
/// which); once the budget is spent, none is sent.
async fn within<T>(
    deadline: Instant,
    request: impl std::future::Future<Output = T>,
) -> Result<T, StoreError> {
    let out_of_time = || {
        StoreError::Unavailable(format!(
            "no answer within the {} ms an event may take",
            TIME_BUDGET.as_millis()
        ))
    };
    if Instant::now() >= deadline {
        return Err(out_of_time());
    }
    tokio::time::timeout_at(deadline.into(), request)
        .await
        .map_err(|_| out_of_time())
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
        SdkError::TimeoutError(_) => return StoreError::Unreachable("timed out".to_owned()),
        SdkError::DispatchFailure(_) => {
            return StoreError::Unreachable("could not connect".to_owned());
        }
        other => format!("{other:?}").chars().take(200).collect(),
    };
    StoreError::Unavailable(detail)
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
