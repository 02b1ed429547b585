//! The `zcc` tool: run zcc-events locally, and (as the operator's companion) send events and
//! read engagements, against the local stack or AWS.

pub mod catalog;
pub mod commands;
pub mod local;
