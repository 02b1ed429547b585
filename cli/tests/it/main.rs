//! The cli's integration tests, one binary (each test binary links the AWS SDK and dynoxide:
//! one link instead of one per file). Each module is one subject; `helpers` is what they share.
//!
//! Some need tools from outside Rust and skip as scripts/test describes: `page` a headless
//! Chromium (`ZCC_SKIP_BROWSER=1`), `analytics` DuckDB in .venv (`ZCC_SKIP_DUCKDB=1`).

mod analytics;
mod commands;
mod helpers;
mod page;
mod reconcile;
mod report;
mod safe_text;
mod zcc_local;
