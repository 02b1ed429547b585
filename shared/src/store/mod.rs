//! The port through which authentic events reach storage and records are read back. It
//! names no database: the DynamoDB adapter is in [`crate::dynamodb`].

use std::future::Future;

use serde::{Deserialize, Serialize};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::ids::{EngagementId, UserId};
use zcc_domain::timestamp::Timestamp;

/// What happened to an event the store was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored raw and merged into its state item.
    Applied,
    /// Already stored: nothing changed.
    Duplicate,
    /// Stored raw, but DynamoDB refused the merged state (marked `merge_error` on the event).
    StoredUnmerged,
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "accepted",
            Self::Duplicate => "duplicate",
            Self::StoredUnmerged => "stored_unmerged",
        }
    }
}

/// What recording one event took: for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Receipt {
    pub outcome: Recorded,
    /// Write attempts, more than one when the state item was not as expected (another
    /// writer changed it, or this process had not seen its latest version).
    pub attempts: u32,
    /// Requests sent to DynamoDB: 1 when the state item was known, more after a read or a
    /// retry.
    pub requests: u32,
    /// Capacity units the store reported consuming, where it reports them (DynamoDB does).
    pub read_units: f64,
    pub write_units: f64,
}

impl Receipt {
    pub fn new(outcome: Recorded) -> Self {
        Self {
            outcome,
            attempts: 1,
            requests: 1,
            read_units: 0.0,
            write_units: 0.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The table's endpoint could not be reached at all (connection refused, a name that does
    /// not resolve, a timeout before any answer): the endpoint or the network is wrong, not
    /// the request.
    #[error("the table's endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the table could not be reached or refused the request: {0}")]
    Unavailable(String),
    #[error("gave up after {0} attempts lost to concurrent writers")]
    Contended(u32),
    #[error("a stored item cannot be read back: {0}")]
    Corrupt(String),
    #[error("DynamoDB refused the state item: {0}")]
    Refused(String),
    #[error("{0}")]
    BadQuery(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            // The functions answer both with the same 503 code: to Zoom (and the published
            // error contract) a store that cannot be reached is one that is unavailable.
            Self::Unreachable(_) | Self::Unavailable(_) => "storage_unavailable",
            Self::Contended(_) => "storage_contended",
            Self::Corrupt(_) => "storage_corrupt",
            Self::Refused(_) => "state_refused",
            Self::BadQuery(_) => "bad_query",
        }
    }
}

/// Stores each authentic event exactly once, atomically with its effect on state.
pub trait EventStore: Send + Sync {
    fn record(
        &self,
        event: &AuthenticEvent,
    ) -> impl Future<Output = Result<Receipt, StoreError>> + Send;
}

/// One stored event as a timeline shows it: what and when, never the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub event: String,
    pub source: String,
    pub event_id: String,
    /// Set when the event is kept raw because its merge was refused (`zcc rebuild` merges it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_error: Option<String>,
}

/// An engagement with its timeline, as `zcc get` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementRecord {
    pub state: EngagementState,
    pub timeline: Vec<TimelineEntry>,
}

/// An engagement in a listing: the attributes the indexes carry, enough for a list; the
/// whole record is one read away.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngagementSummary {
    pub engagement_id: String,
    pub first_event_at: Option<Timestamp>,
    pub day: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_user_id: Option<String>,
    pub agent_display_name: Option<String>,
    pub agent_email: Option<String>,
    pub consumer_number: Option<String>,
    pub started_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub disposition_name: Option<String>,
    pub talk_ms: Option<i64>,
    pub total_hold_ms: Option<i64>,
    pub transfer_count: Option<u32>,
}

/// Which engagements to list, by the time of their first event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Agent(String),
    Queue(String),
    /// A UTC day, `YYYY-MM-DD`.
    Day(String),
}

/// A listing with its optional time bounds (ISO-8601 or a day, inclusive) and a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub listing: Listing,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: usize,
}

/// Reads records back as the customer's systems do.
pub trait RecordReader: Send + Sync {
    fn engagement(
        &self,
        id: &EngagementId,
    ) -> impl Future<Output = Result<Option<EngagementRecord>, StoreError>> + Send;
    fn agent(
        &self,
        id: &UserId,
    ) -> impl Future<Output = Result<Option<AgentState>, StoreError>> + Send;
    fn list(
        &self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<EngagementSummary>, StoreError>> + Send;
    /// The status changes of an agent up to `to`, from its stored events: what reports
    /// count the time in each status from.
    fn agent_statuses(
        &self,
        id: &UserId,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<(Timestamp, String)>, StoreError>> + Send;
    /// The report rows of the engagements whose first event is in `[from, to]`, read day by
    /// day through the day index (never a scan), with `progress` told of each page.
    fn rows(
        &self,
        from: Timestamp,
        to: Timestamp,
        progress: &(dyn Fn(usize) + Sync),
    ) -> impl Future<Output = Result<Vec<zcc_domain::report::Row>, StoreError>> + Send;
}
