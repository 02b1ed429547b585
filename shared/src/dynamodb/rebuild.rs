//! Rebuilding a state item from its event items: after an upgrade that models more events or
//! fixes a merge rule, or to merge the events that were kept raw with `merge_error`.
//!
//! The merge rules do not depend on order, so folding every stored event into a fresh state
//! gives the item that live delivery would have. The write is guarded by the version like any
//! other, so events arriving meanwhile are never overwritten: the rebuild starts over.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use tokio::task::JoinSet;
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::ids::{EngagementId, UserId};
use zcc_domain::merge::State;
use zcc_domain::timestamp::Timestamp;

use super::attributes::Item;
use super::event_item::{kept_unmerged, stored_event};
use super::schema::{
    AGENT_PK_PREFIX, DAY, DAY_INDEX, ENGAGEMENT_PK_PREFIX, EVENT_SK_PREFIX, PK, SK, STATE_SK,
    VERSION, agent_of_pk, agent_pk, engagement_of_pk, engagement_pk, event_attr as attr,
    events_of_partition, state_and_event_items,
};
use super::state_item::version_of;
use super::store::{DynamoStore, MAX_ATTEMPTS, backoff, s, unavailable, version_condition};
use crate::store::StoreError;

/// The state item to rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildTarget {
    Engagement(EngagementId),
    Agent(UserId),
}

impl RebuildTarget {
    /// The partition key: `ENGAGEMENT#<id>` or `AGENT#<id>`.
    pub fn pk(&self) -> String {
        match self {
            Self::Engagement(id) => engagement_pk(id.as_str()),
            Self::Agent(id) => agent_pk(id.as_str()),
        }
    }

    /// The target whose partition key this is; `None` for another kind of partition or a key
    /// with no valid id.
    pub fn from_pk(pk: &str) -> Option<Self> {
        if let Some(id) = engagement_of_pk(pk) {
            return EngagementId::parse(id).ok().map(Self::Engagement);
        }
        agent_of_pk(pk).and_then(|id| UserId::parse(id).ok().map(Self::Agent))
    }
}

/// Which partitions [`DynamoStore::rebuild_targets`] looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildScope {
    /// Every engagement and agent partition that holds a state item or an event item: a
    /// parallel Scan of the whole table.
    All,
    /// Engagements whose first event fell on this UTC day (`YYYY-MM-DD`) or since, from the
    /// day index, and every agent. An engagement without a state item (or one written without
    /// a `day`) is not in the index, so is not found this way: [`RebuildScope::All`] finds it.
    Since(String),
}

/// The partitions to rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildTargets {
    /// Agents first, then engagements, each in key order; every partition once.
    pub targets: Vec<RebuildTarget>,
    /// Partition keys with an engagement's or an agent's prefix but no valid id after it.
    pub unreadable: Vec<String>,
}

/// Scans and day queries read up to 1 MB a page: more than the Lambda-sized timeouts of
/// [`super::client`] allow for. Used only by the rebuild's enumeration.
fn enumeration_timeouts() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default().timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(60))
            .build(),
    )
}

/// The UTC days from `first` to `today`, both included.
pub fn days_since(first: &str, today: Timestamp) -> Result<Vec<String>, StoreError> {
    let start = Timestamp::parse(&format!("{first}T00:00:00Z"))
        .ok()
        .filter(|t| t.day() == first)
        .ok_or_else(|| StoreError::BadQuery(format!("`{first}` is not a day (YYYY-MM-DD)")))?;
    let today = today.day();
    if first > today.as_str() {
        return Err(StoreError::BadQuery(format!(
            "{first} is after today ({today}, UTC)"
        )));
    }
    let mut days = Vec::new();
    let mut at = start;
    loop {
        let day = at.day();
        if day > today {
            return Ok(days);
        }
        days.push(day);
        at = at.saturating_add_millis(86_400_000);
    }
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
                if kept_unmerged(item) {
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
            self.cache
                .put(&pk, state, version + 1, super::cache::size_of(&rebuilt));
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

    /// The partitions to rebuild in `scope`, each once: by a Scan of `parallelism` segments
    /// (and, for [`RebuildScope::Since`], one Query of the day index per day, as many at a
    /// time) that reads keys only.
    pub async fn rebuild_targets(
        &self,
        scope: &RebuildScope,
        parallelism: u32,
    ) -> Result<RebuildTargets, StoreError> {
        let parallelism = parallelism.clamp(1, 1000);
        let pks = match scope {
            RebuildScope::All => self.scan_partitions(false, parallelism).await?,
            RebuildScope::Since(first) => {
                let days = days_since(first, Timestamp::now())?;
                let mut pks = self.scan_partitions(true, parallelism).await?;
                pks.extend(self.engagements_of_days(days, parallelism).await?);
                pks
            }
        };
        let mut found = RebuildTargets::default();
        for pk in pks {
            match RebuildTarget::from_pk(&pk) {
                Some(target) => found.targets.push(target),
                None => found.unreadable.push(pk),
            }
        }
        // Agents are few and quick: first, so the engagements' progress is the long part.
        found
            .targets
            .sort_by_key(|t| (matches!(t, RebuildTarget::Engagement(_)), t.pk()));
        Ok(found)
    }

    /// The keys of the engagement and agent partitions (only agents' if `agents_only`) that
    /// hold a state item or an event item: a Scan in `segments` parallel segments.
    async fn scan_partitions(
        &self,
        agents_only: bool,
        segments: u32,
    ) -> Result<BTreeSet<String>, StoreError> {
        let total = i32::try_from(segments).unwrap_or(1);
        let mut tasks = JoinSet::new();
        for segment in 0..total {
            let store = self.clone();
            tasks.spawn(async move { store.scan_segment(segment, total, agents_only).await });
        }
        let mut pks = BTreeSet::new();
        while let Some(joined) = tasks.join_next().await {
            let found = joined.map_err(|e| StoreError::Unavailable(format!("a scan: {e}")))??;
            pks.extend(found);
        }
        Ok(pks)
    }

    async fn scan_segment(
        &self,
        segment: i32,
        total: i32,
        agents_only: bool,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut pks = BTreeSet::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .scan()
                .table_name(&self.table)
                .segment(segment)
                .total_segments(total)
                .projection_expression("#pk")
                .filter_expression(state_and_event_items(agents_only))
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":agents", s(AGENT_PK_PREFIX))
                .expression_attribute_values(":state", s(STATE_SK))
                .expression_attribute_values(":events", s(EVENT_SK_PREFIX))
                .set_exclusive_start_key(start);
            if !agents_only {
                request =
                    request.expression_attribute_values(":engagements", s(ENGAGEMENT_PK_PREFIX));
            }
            let page = request
                .customize()
                .config_override(enumeration_timeouts())
                .send()
                .await
                .map_err(unavailable)?;
            pks.extend(page.items().iter().filter_map(|item| match item.get(PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            }));
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(pks),
            }
        }
    }

    /// The keys of the engagements of `days` (the day index), `parallel` days at a time.
    async fn engagements_of_days(
        &self,
        days: Vec<String>,
        parallel: u32,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut days = days.into_iter();
        let mut tasks = JoinSet::new();
        let mut pks = BTreeSet::new();
        loop {
            while tasks.len() < parallel as usize {
                let Some(day) = days.next() else { break };
                let store = self.clone();
                tasks.spawn(async move { store.engagements_of_day(&day).await });
            }
            let Some(joined) = tasks.join_next().await else {
                return Ok(pks);
            };
            pks.extend(joined.map_err(|e| StoreError::Unavailable(format!("a query: {e}")))??);
        }
    }

    async fn engagements_of_day(&self, day: &str) -> Result<Vec<String>, StoreError> {
        let mut pks = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DAY_INDEX)
                .key_condition_expression("#day = :day")
                .expression_attribute_names("#day", DAY)
                .expression_attribute_values(":day", s(day))
                .projection_expression("#pk")
                .expression_attribute_names("#pk", PK)
                .set_exclusive_start_key(start)
                .customize()
                .config_override(enumeration_timeouts())
                .send()
                .await
                .map_err(unavailable)?;
            pks.extend(page.items().iter().filter_map(|item| match item.get(PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            }));
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(pks),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_their_keys_go_both_ways() {
        for pk in [engagement_pk("e-1"), agent_pk("u-1")] {
            assert_eq!(RebuildTarget::from_pk(&pk).map(|t| t.pk()), Some(pk));
        }
        assert_eq!(RebuildTarget::from_pk("UNROUTED#2026-12-01"), None);
        assert_eq!(RebuildTarget::from_pk(&engagement_pk("")), None);
    }

    #[test]
    fn since_a_day_means_every_day_to_today() {
        let today = Timestamp::parse("2026-03-02T13:00:00Z").unwrap();
        assert_eq!(
            days_since("2026-02-27", today).unwrap(),
            ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
        );
        assert_eq!(days_since("2026-03-02", today).unwrap(), ["2026-03-02"]);
        for wrong in ["2026-03-03", "2026-3-1", "yesterday", "2026-02-30"] {
            let err = days_since(wrong, today).unwrap_err();
            assert_eq!(err.code(), "bad_query", "{wrong}: {err}");
        }
    }
}
