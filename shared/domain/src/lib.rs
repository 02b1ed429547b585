//! The domain of zcc-events. It knows nothing of Lambda or DynamoDB, so it builds and tests
//! without the AWS SDK.
//!
//! - What arrives, and the proof of its origin: [`signature`] (Zoom's `x-zm-signature`),
//!   [`challenge`] (the URL-validation answer), [`zoom`] (the webhook envelope and event
//!   names), [`flow`] (the Flow scripts' JSON and bearer token), [`event`] (one authentic event).
//! - The records merged from it: [`merge`] (order-independent rules and the contract a
//!   record fulfils), [`engagement`], [`agent`].
//! - Values: [`ids`], [`timestamp`], [`time_range`]; [`published`]: Zoom's bodies in their
//!   published shapes (the fixtures, and `zcc send --example`); [`samples`]: builders of
//!   realistic calls.

pub mod agent;
pub mod challenge;
pub mod engagement;
pub mod event;
pub mod flow;
pub mod ids;
pub mod ledger;
pub mod merge;
pub mod notifications;
pub mod published;
pub mod report;
pub mod samples;
pub mod signature;
pub mod time_range;
pub mod timestamp;
pub mod zoom;
