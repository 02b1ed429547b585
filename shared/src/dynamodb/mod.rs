//! The store's DynamoDB adapter: the table's [`schema`] (the one place its names are
//! written), the items' homes ([`state_item`], [`event_item`]: each kind written and read
//! back in one place), the item encoding ([`attributes`]), the per-process [`cache`] of state items,
//! the writer ([`store`]), the [`rebuild`] of records from their events, the readers
//! ([`read`]) and, for `zcc local` and the tests, the [`embedded`] DynamoDB.

pub mod attributes;
pub mod cache;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod encode;
pub mod event_item;
pub mod read;
pub mod rebuild;
pub mod schema;
pub mod state_item;
pub mod store;
pub mod stream;

pub use rebuild::{RebuildTarget, Rebuilt};
pub use store::DynamoStore;
