//! The HTTP edge the three functions share: the [`pipeline`] every event takes, the JSON
//! answers ([`http`]), the secrets requests are checked against ([`secrets`]), the metrics
//! ([`metrics`]) and, for
//! `zcc local` (feature `embedded`), the [`function_url`] events Lambda would deliver.

#[cfg(feature = "embedded")]
pub mod function_url;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod secrets;
