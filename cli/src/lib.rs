//! The `zcc` tool: run zcc-events locally, and (as the operator's companion) talk to it.

pub mod local;
