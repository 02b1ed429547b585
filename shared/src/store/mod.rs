//! The port through which authentic events reach storage, and its DynamoDB adapter.

pub mod attributes;
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
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "accepted",
            Self::Duplicate => "duplicate",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the table could not be reached or refused the request: {0}")]
    Unavailable(String),
    #[error("gave up after {0} attempts lost to concurrent writers")]
    Contended(u32),
    #[error("a stored state item cannot be read back: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "storage_unavailable",
            Self::Contended(_) => "storage_contended",
            Self::Corrupt(_) => "storage_corrupt",
        }
    }
}

/// Stores each authentic event exactly once, atomically with its effect on state.
pub trait EventStore: Send + Sync {
    fn record(
        &self,
        event: &AuthenticEvent,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
}
