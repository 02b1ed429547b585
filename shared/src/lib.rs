//! The Lambda side of zcc-events, around the domain crate (`zcc-domain`, in `domain/`):
//!
//! - [`edge`]: what the handlers share at the HTTP edge: the pipeline every event takes
//!   (preflight, proof of origin, parse, store, answer), the environment, metrics;
//! - [`store`]: the port through which authentic events reach storage and records are read;
//! - [`dynamodb`]: its DynamoDB adapter: the table's schema, the item encoding, the state
//!   cache, the rebuild, and (feature `embedded`) the embedded DynamoDB of `zcc local`.
//!
//! Imports run one way: edge → store (port) ← dynamodb (adapter), all of them → domain.

pub mod dynamodb;
pub mod edge;
pub mod store;
