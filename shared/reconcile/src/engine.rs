//! The run: fetch and check everything first (webhook logs, the engagement list, the details
//! of engagements the table lacks), then write (recovered events, backfilled engagements),
//! then compare. A malformed answer anywhere stops the run before its first write.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity};
use serde::Serialize;
use serde_json::Value;
use zcc_domain::challenge::is_challenge;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Subject};
use zcc_domain::signature::FetchedWebhook;
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::ZoomApiEngagement;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::{attributes, schema};
use zcc_shared::store::{EventStore, Recorded, StoreError};

use crate::check::{Mismatch, compare};
use crate::progress::Progress;
use crate::zoom::types::{Engagement, EngagementsPage, WebhookLogsPage, query_time};
use crate::zoom::{Answer, RateLabel, ZoomClient, from_value};
use crate::{ReconcileError, ZoomCredentials};

const DAY_MS: i64 = 86_400_000;
/// Zoom keeps webhook logs 7 days; a minute less, so that the range is still inside when
/// Zoom checks it.
const LOGS_KEPT_MS: i64 = 7 * DAY_MS - 60_000;
/// Restarts of one slice whose page token Zoom no longer accepts (it expires after 15 min).
const SLICE_RESTARTS: u32 = 2;

const LOGS_ENDPOINT: &str = "GET /marketplace/apps/{appId}/webhook_logs";
const LIST_ENDPOINT: &str = "GET /contact_center/engagements";
const DETAIL_ENDPOINT: &str = "GET /contact_center/engagements/{engagementId}";

/// The time range to reconcile, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Window {
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self, ReconcileError> {
        if to < from {
            return Err(ReconcileError::Usage(format!(
                "--to ({}) is before --from ({})",
                to.to_iso(),
                from.to_iso()
            )));
        }
        Ok(Self { from, to })
    }

    /// Each a day (`YYYY-MM-DD`: from its start, to its end) or an ISO-8601 time, as
    /// `zcc report` takes them.
    pub fn parse(from: &str, to: &str) -> Result<Self, ReconcileError> {
        let instant = |text: &str, end_of_day: bool| {
            let iso = match (text.len() == 10, end_of_day) {
                (true, false) => format!("{text}T00:00:00.000Z"),
                (true, true) => format!("{text}T23:59:59.999Z"),
                (false, _) => text.to_owned(),
            };
            Timestamp::parse(&iso).map_err(|e| {
                ReconcileError::Usage(format!(
                    "`{text}` is neither a day (YYYY-MM-DD) nor an ISO-8601 time: {e}"
                ))
            })
        };
        Self::new(instant(from, false)?, instant(to, true)?)
    }

    /// Consecutive slices of at most a day, in whole seconds (Zoom's query precision), each
    /// inclusive.
    fn slices(&self) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        let end = self.to.unix_seconds() * 1000;
        let mut start = self.from.unix_seconds() * 1000;
        while start <= end {
            let slice_end = (start + DAY_MS - 1000).min(end);
            out.push((
                Timestamp::from_unix_millis(start),
                Timestamp::from_unix_millis(slice_end),
            ));
            start = slice_end + 1000;
        }
        out
    }
}

impl From<zcc_domain::time_range::TimeRange> for Window {
    fn from(range: zcc_domain::time_range::TimeRange) -> Self {
        Self {
            from: range.from,
            to: range.to,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Fetch and compare, write nothing; the counts say what a real run would do.
    pub dry_run: bool,
    /// A progress bar on stderr, when it is a terminal.
    pub progress: bool,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReconcileReport {
    pub from: String,
    pub to: String,
    /// Engagements both sides have, compared.
    pub checked: u64,
    /// Of those, the ones whose every figure matched.
    pub matched: u64,
    /// Events from failed deliveries merged now (a dry run: not yet in their record).
    pub recovered_events: u64,
    /// Engagements written from Zoom's facts (a dry run: that would be).
    pub backfilled_engagements: u64,
    /// The records the recovered events belong to (`engagement <id>`, `agent <id>`), and the
    /// engagements backfilled: what an operator answering the lost-webhooks alarm looks at.
    pub recovered_records: BTreeSet<String>,
    pub backfilled_ids: BTreeSet<String>,
    pub mismatches: Vec<Mismatch>,
    /// What was skipped and why, and anything an operator should know.
    pub notes: Vec<String>,
    pub dry_run: bool,
    /// Failed delivery attempts in Zoom's webhook logs for the window.
    pub failed_deliveries: u64,
    /// Distinct bodies among them replayed (duplicates included).
    pub replayed_events: u64,
    /// Replayed events the table had merged already.
    pub duplicate_events: u64,
    /// Engagements Zoom listed for the window.
    pub listed_engagements: u64,
    /// Engagements Zoom had no details for yet (skipped, not written).
    pub skipped_engagements: u64,
    /// Requests sent to Zoom (OAuth included, retries included), and retries among them.
    pub requests: u64,
    pub retries: u64,
    pub read_units: f64,
    pub write_units: f64,
    pub elapsed_ms: u64,
}

pub struct Reconciler {
    zoom: ZoomClient,
    store: DynamoStore,
}

/// One page of a paged list: its items and the token of the next.
type Page<T> = (Vec<T>, Option<String>);

impl Reconciler {
    pub fn new(credentials: ZoomCredentials, store: DynamoStore) -> Self {
        Self::with_client(ZoomClient::new(credentials), store)
    }

    /// With a client paced or retrying otherwise (tests, the bench).
    pub fn with_client(zoom: ZoomClient, store: DynamoStore) -> Self {
        Self { zoom, store }
    }

    pub fn zoom(&self) -> &ZoomClient {
        &self.zoom
    }

    pub async fn run(
        &self,
        window: Window,
        options: Options,
    ) -> Result<ReconcileReport, ReconcileError> {
        let started = Instant::now();
        let requests_before = self.zoom.requests();
        let retries_before = self.zoom.retries();
        let mut report = ReconcileReport {
            from: window.from.to_iso(),
            to: window.to.to_iso(),
            dry_run: options.dry_run,
            ..ReconcileReport::default()
        };

        // 1. Fetch and check everything. Nothing is written before all of it is in hand.
        let recovered = self.fetch_failed_deliveries(window, &mut report).await?;
        let listed = self.fetch_engagements(window, &mut report).await?;
        let mut ids: BTreeSet<String> = listed.keys().cloned().collect();
        ids.extend(recovered.iter().filter_map(engagement_of));
        // Eventually consistent (half the read units): an engagement written a moment ago and
        // not seen yet is written again from Zoom's facts, which its webhooks outrank.
        let before = self.states(&ids, false, &mut report).await?;
        let recovering: BTreeSet<String> = recovered.iter().filter_map(engagement_of).collect();
        let missing: Vec<&String> = listed
            .keys()
            .filter(|id| !before.contains_key(*id) && !recovering.contains(*id))
            .collect();
        let facts = self
            .fetch_details(&missing, &listed, options, &mut report)
            .await?;

        // 2. Write: recovered events first (they are Zoom's own words), then the backfill.
        if options.dry_run {
            for event in &recovered {
                let seen = engagement_of(event)
                    .and_then(|id| before.get(&id))
                    .is_some_and(|state| state.has_seen(event));
                if seen {
                    report.duplicate_events += 1;
                } else {
                    report.recovered_events += 1;
                    report.recovered_records.insert(record_of(event));
                }
            }
            report.backfilled_engagements = facts.len() as u64;
            report.backfilled_ids = facts.iter().map(|f| f.engagement_id.clone()).collect();
            report.notes.push(format!(
                "dry run: would replay {} failed deliveries ({} not yet merged) and write {} engagements from Zoom's facts; nothing was written",
                recovered.len(),
                report.recovered_events,
                facts.len()
            ));
        } else {
            self.write(&recovered, &facts, options, &mut report).await?;
        }

        // 3. Compare, against the table as it is now: what this run wrote is read again.
        let mut after = before;
        if !options.dry_run {
            let mut written: BTreeSet<String> =
                facts.iter().map(|f| f.engagement_id.clone()).collect();
            written.extend(recovered.iter().filter_map(engagement_of));
            written.retain(|id| listed.contains_key(id));
            after.extend(self.states(&written, true, &mut report).await?);
        }
        for (id, row) in &listed {
            let Some(ours) = after.get(id) else { continue };
            let theirs = row
                .facts(None, &self.zoom.credentials().account_id)
                .map_err(|reason| ReconcileError::NotDocumentedJson {
                    endpoint: LIST_ENDPOINT.into(),
                    reason,
                })?;
            let found = compare(ours, &theirs);
            report.checked += 1;
            if found.is_empty() {
                report.matched += 1;
            }
            report.mismatches.extend(found);
        }
        report.requests = self.zoom.requests() - requests_before;
        report.retries = self.zoom.retries() - retries_before;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Every failed delivery in the window Zoom still keeps, as the events their bodies
    /// are, each distinct body once.
    async fn fetch_failed_deliveries(
        &self,
        window: Window,
        report: &mut ReconcileReport,
    ) -> Result<Vec<AuthenticEvent>, ReconcileError> {
        let Some(app_id) = self.zoom.credentials().app_id.clone() else {
            report.notes.push(
                "recover skipped: ZOOM_APP_ID is not set (the Marketplace app whose webhook logs to read)"
                    .into(),
            );
            return Ok(Vec::new());
        };
        let now = Timestamp::now();
        let kept_from = Timestamp::from_unix_millis(now.unix_millis() - LOGS_KEPT_MS);
        let from = window.from.max(kept_from);
        let to = window.to.min(now);
        if to < from {
            report.notes.push(
                "recover skipped: Zoom keeps webhook logs 7 days, and the window is older".into(),
            );
            return Ok(Vec::new());
        }
        if window.from < kept_from {
            report.notes.push(format!(
                "recover covers {} to {} only: Zoom keeps webhook logs 7 days",
                from.to_iso(),
                to.to_iso()
            ));
        }
        let path = format!("/marketplace/apps/{app_id}/webhook_logs");
        let mut seen = BTreeSet::new();
        let mut events = Vec::new();
        let received_at = Timestamp::now();
        for (slice_from, slice_to) in Window::new(from, to)?.slices() {
            let query = vec![
                ("from", query_time(slice_from)),
                ("to", query_time(slice_to)),
                ("type", "2".to_owned()),
                ("page_size", "300".to_owned()),
            ];
            let fetched = self
                .pages(
                    LOGS_ENDPOINT,
                    &path,
                    &query,
                    RateLabel::Medium,
                    report,
                    |v| {
                        let page: WebhookLogsPage = from_value(LOGS_ENDPOINT, v)?;
                        Ok((page.webhook_logs, page.next_page_token))
                    },
                )
                .await;
            let logs = match fetched {
                Ok(logs) => logs,
                // Zoom refused to show the logs (a scope the app lacks, another app's id):
                // nothing to recover, but the backfill and the check need no logs. Answers that
                // are not the documented JSON, and Zoom giving up, still stop the run.
                Err(err @ ReconcileError::Zoom { .. }) => {
                    report.notes.push(format!("recover skipped: {err}"));
                    return Ok(Vec::new());
                }
                Err(err) => return Err(err),
            };
            for log in logs {
                report.failed_deliveries += 1;
                let Some(body) = log.request_body.filter(|b| !b.trim().is_empty()) else {
                    continue;
                };
                let fetched = FetchedWebhook::fetched_from_zoom_api(body.into_bytes());
                // The same path as a live webhook after its signature check.
                match AuthenticEvent::from_fetched_webhook(&fetched, received_at) {
                    Ok(event) if is_challenge(event.name()) => {}
                    Ok(event) => {
                        if seen.insert(event.event_id().clone()) {
                            events.push(event);
                        }
                    }
                    Err(err) => report.notes.push(format!(
                        "a failed delivery of {} at {} is not an event body ({err}): not replayed, as the endpoint refused it",
                        log.event.as_deref().unwrap_or("an unnamed event"),
                        log.date_time.as_deref().unwrap_or("an unknown time"),
                    )),
                }
            }
        }
        Ok(events)
    }

    /// Zoom's engagements of the window, by id.
    async fn fetch_engagements(
        &self,
        window: Window,
        report: &mut ReconcileReport,
    ) -> Result<BTreeMap<String, Engagement>, ReconcileError> {
        let mut listed = BTreeMap::new();
        for (slice_from, slice_to) in window.slices() {
            let query = vec![
                ("from", query_time(slice_from)),
                ("to", query_time(slice_to)),
                ("timezone", "UTC".to_owned()),
                ("page_size", "100".to_owned()),
            ];
            let rows = self
                .pages(
                    LIST_ENDPOINT,
                    "/contact_center/engagements",
                    &query,
                    RateLabel::Medium,
                    report,
                    |v| {
                        let page: EngagementsPage = from_value(LIST_ENDPOINT, v)?;
                        Ok((page.engagements, page.next_page_token))
                    },
                )
                .await?;
            for row in rows {
                let invalid = |reason: String| ReconcileError::NotDocumentedJson {
                    endpoint: LIST_ENDPOINT.into(),
                    reason,
                };
                let Some(id) = row.engagement_id.clone().filter(|id| !id.is_empty()) else {
                    return Err(invalid("an engagement without engagement_id".into()));
                };
                row.start().map_err(invalid)?;
                row.end().map_err(invalid)?;
                listed.insert(id, row);
            }
        }
        report.listed_engagements = listed.len() as u64;
        Ok(listed)
    }

    /// The details of the engagements the table lacks, as facts to write.
    async fn fetch_details(
        &self,
        missing: &[&String],
        listed: &BTreeMap<String, Engagement>,
        options: Options,
        report: &mut ReconcileReport,
    ) -> Result<Vec<ZoomApiEngagement>, ReconcileError> {
        let mut facts = Vec::with_capacity(missing.len());
        let mut progress = Progress::new(options.progress, "details", missing.len());
        for (n, id) in missing.iter().enumerate() {
            progress.tick(n);
            let path = format!("/contact_center/engagements/{}", encode_segment(id));
            let answer = self
                .zoom
                .get(DETAIL_ENDPOINT, &path, &[], RateLabel::Light)
                .await?;
            let detail: Engagement = match answer {
                Answer::Json(value) => from_value(DETAIL_ENDPOINT, value)?,
                Answer::Refused {
                    status: 404,
                    code: Some(2901),
                    ..
                } => {
                    report.skipped_engagements += 1;
                    report.notes.push(format!(
                        "engagement {id}: Zoom lists it but has no detail yet (2901); not written, a later run will"
                    ));
                    continue;
                }
                Answer::Refused {
                    status,
                    code,
                    message,
                } => {
                    return Err(ReconcileError::Zoom {
                        endpoint: DETAIL_ENDPOINT.into(),
                        status,
                        code,
                        message,
                    });
                }
            };
            if detail.is_empty() {
                report.skipped_engagements += 1;
                report.notes.push(format!(
                    "engagement {id}: Zoom's detail is empty (it may still be saving an engagement that just ended); not written, a later run will"
                ));
                continue;
            }
            if detail.engagement_id.as_deref() != Some(id.as_str()) {
                return Err(ReconcileError::NotDocumentedJson {
                    endpoint: DETAIL_ENDPOINT.into(),
                    reason: format!("asked for {id}, got another engagement"),
                });
            }
            let fact = detail
                .facts(listed.get(*id), &self.zoom.credentials().account_id)
                .map_err(|reason| ReconcileError::NotDocumentedJson {
                    endpoint: DETAIL_ENDPOINT.into(),
                    reason,
                })?;
            facts.push(fact);
        }
        progress.tick(missing.len());
        Ok(facts)
    }

    async fn write(
        &self,
        recovered: &[AuthenticEvent],
        facts: &[ZoomApiEngagement],
        options: Options,
        report: &mut ReconcileReport,
    ) -> Result<(), ReconcileError> {
        for event in recovered {
            let receipt = self.store.record(event).await?;
            report.write_units += receipt.write_units;
            report.read_units += receipt.read_units;
            report.replayed_events += 1;
            if receipt.outcome != Recorded::Duplicate {
                report.recovered_records.insert(record_of(event));
            }
            match receipt.outcome {
                Recorded::Applied => report.recovered_events += 1,
                Recorded::Duplicate => report.duplicate_events += 1,
                Recorded::StoredUnmerged => {
                    report.recovered_events += 1;
                    report.notes.push(format!(
                        "event {} was stored but DynamoDB refused its merge: `zcc rebuild` merges it",
                        event.event_id()
                    ));
                }
            }
        }
        let mut progress = Progress::new(options.progress, "backfill", facts.len());
        let received_at = Timestamp::now();
        for (n, fact) in facts.iter().enumerate() {
            progress.tick(n);
            let event = AuthenticEvent::from_zoom_api(fact, received_at);
            let receipt = self.store.record(&event).await?;
            report.write_units += receipt.write_units;
            report.read_units += receipt.read_units;
            if receipt.outcome != Recorded::Duplicate {
                report.backfilled_engagements += 1;
                report.backfilled_ids.insert(fact.engagement_id.clone());
            }
        }
        progress.tick(facts.len());
        Ok(())
    }

    /// All pages of one slice. A refusal of a page token (Zoom's expire after 15 minutes)
    /// restarts the slice from its first page.
    async fn pages<T>(
        &self,
        endpoint: &str,
        path: &str,
        query: &[(&str, String)],
        label: RateLabel,
        report: &mut ReconcileReport,
        page_of: impl Fn(Value) -> Result<Page<T>, ReconcileError>,
    ) -> Result<Vec<T>, ReconcileError> {
        let mut restarts = 0;
        'slice: loop {
            let mut items = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut q = query.to_vec();
                if let Some(token) = &token {
                    q.push(("next_page_token", token.clone()));
                }
                match self.zoom.get(endpoint, path, &q, label).await? {
                    Answer::Json(value) => {
                        let (page, next) = page_of(value)?;
                        items.extend(page);
                        match next.filter(|t| !t.is_empty()) {
                            Some(next) => token = Some(next),
                            None => return Ok(items),
                        }
                    }
                    Answer::Refused { status, code, .. }
                        if token.is_some() && restarts < SLICE_RESTARTS =>
                    {
                        restarts += 1;
                        report.notes.push(format!(
                            "{endpoint}: Zoom refused a page token ({status}{}), the slice was read again from its start",
                            code.map(|c| format!(", code {c}")).unwrap_or_default()
                        ));
                        continue 'slice;
                    }
                    Answer::Refused {
                        status,
                        code,
                        message,
                    } => {
                        return Err(ReconcileError::Zoom {
                            endpoint: endpoint.into(),
                            status,
                            code,
                            message,
                        });
                    }
                }
            }
        }
    }

    /// The engagement records of `ids` as stored now, a hundred keys a request.
    async fn states(
        &self,
        ids: &BTreeSet<String>,
        consistent: bool,
        report: &mut ReconcileReport,
    ) -> Result<HashMap<String, EngagementState>, ReconcileError> {
        let mut out = HashMap::new();
        let ids: Vec<&String> = ids.iter().collect();
        for chunk in ids.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| {
                    HashMap::from([
                        (
                            schema::PK.to_owned(),
                            AttributeValue::S(schema::engagement_pk(id)),
                        ),
                        (
                            schema::SK.to_owned(),
                            AttributeValue::S(schema::STATE_SK.to_owned()),
                        ),
                    ])
                })
                .collect::<Vec<_>>();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(consistent)
                    .build()
                    .map_err(|e| StoreError::BadQuery(e.to_string()))?,
            );
            while let Some(request) = pending.take() {
                let output = self
                    .store
                    .client()
                    .batch_get_item()
                    .request_items(self.store.table(), request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                report.read_units += output
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum::<f64>();
                for item in output
                    .responses()
                    .and_then(|r| r.get(self.store.table()))
                    .into_iter()
                    .flatten()
                {
                    let value = Value::Object(attributes::from_item(item));
                    let state: EngagementState = serde_json::from_value(value)
                        .map_err(|e| StoreError::Corrupt(format!("an engagement record: {e}")))?;
                    out.insert(state.engagement_id.clone(), state);
                }
                pending = output
                    .unprocessed_keys()
                    .and_then(|u| u.get(self.store.table()))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
            }
        }
        Ok(out)
    }
}

/// The record an event belongs to, as the report names it.
fn record_of(event: &AuthenticEvent) -> String {
    match event.subject() {
        Subject::Engagement(id) => format!("engagement {}", id.as_str()),
        Subject::Agent(id) => format!("agent {}", id.as_str()),
        Subject::Unrouted => format!("unrouted event {}", event.event_id()),
    }
}

fn engagement_of(event: &AuthenticEvent) -> Option<String> {
    match event.subject() {
        Subject::Engagement(id) => Some(id.as_str().to_owned()),
        _ => None,
    }
}

/// An id as one path segment: Zoom's ids are base64url, but nothing else may break the path.
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_at_most_a_day_and_cover_the_window() {
        let w = Window::parse("2026-12-01", "2026-12-03").unwrap();
        let slices = w.slices();
        assert_eq!(slices.len(), 3);
        assert_eq!(query_time(slices[0].0), "2026-12-01T00:00:00Z");
        assert_eq!(query_time(slices[0].1), "2026-12-01T23:59:59Z");
        assert_eq!(query_time(slices[2].1), "2026-12-03T23:59:59Z");
        let w = Window::parse("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z").unwrap();
        assert_eq!(w.slices().len(), 1);
        assert!(Window::parse("2026-12-02", "2026-12-01").is_err());
        assert!(Window::parse("yesterday", "2026-12-01").is_err());
        assert_eq!(encode_segment("a/b"), "a%2Fb");
    }
}
