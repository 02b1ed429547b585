//! The Lambda side of zcc-events, around the domain crate (`zcc-domain`, in `domain/`):
//!
//! - [`edge`]: what the handlers share at the HTTP edge: the pipeline every event takes
//!   (preflight, proof of origin, parse, store, answer), secrets, metrics;
//! - [`store`]: the port through which authentic events reach storage and records are read;
//! - [`dynamodb`]: its DynamoDB adapter: the table's schema, the item encoding, the state
//!   cache, the rebuild, and (feature `embedded`) the embedded DynamoDB of `zcc local`.
//!
//! - [`settings`]: every setting read from the environment, and its name;
//! - [`aws`]: the one place AWS clients are built.
//!
//! Imports run one way: edge → store (port) ← dynamodb (adapter); edge and dynamodb → aws →
//! settings; all of them → domain.

pub mod aws;
pub mod dynamodb;
pub mod edge;
pub mod settings;
pub mod store;
