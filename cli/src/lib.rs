//! The `zcc` tool: run zcc-events locally, and (as the operator's companion) send events and
//! read engagements, against the local stack or AWS.
//!
//! - [`commands`]: one module per command, each with its arguments and its `run`;
//! - [`stack`]: the stack `zcc local` runs (the embedded store, the three functions, and
//!   the [`notifier`] on the table's stream);
//! - [`catalog`]: the built-in bodies `zcc send --example` sends.

pub mod catalog;
pub mod commands;
pub mod notifier;
pub mod stack;
