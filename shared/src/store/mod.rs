//! The port through which authentic events reach storage, and its DynamoDB adapter.

pub mod attributes;
pub mod cache;
pub mod dynamodb;
pub mod table;

use std::future::Future;

use crate::event::AuthenticEvent;

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
    #[error("the table could not be reached or refused the request: {0}")]
    Unavailable(String),
    #[error("gave up after {0} attempts lost to concurrent writers")]
    Contended(u32),
    #[error("a stored item cannot be read back: {0}")]
    Corrupt(String),
    #[error("DynamoDB refused the state item: {0}")]
    Refused(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "storage_unavailable",
            Self::Contended(_) => "storage_contended",
            Self::Corrupt(_) => "storage_corrupt",
            Self::Refused(_) => "state_refused",
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
