//! `zcc reconcile` against the Zoom API stand-in (shared/testkit/src/zoom_api.rs) and a real
//! dynoxide through the SDK: recover, backfill, cross-check, Zoom's limits and faults, and
//! the merge rules of Zoom's facts as properties.

mod faults;
mod properties;
mod runs;
mod shapes;
mod support;
