//! CloudWatch Embedded Metric Format: one JSON line on stdout per request, which Lambda's log
//! pipeline turns into metrics (namespace `ZccEvents`, dimension `Function`). No bodies, no
//! secrets: names and counts only.

use serde_json::{Map, Value, json};

use zcc_domain::timestamp::Timestamp;

pub const NAMESPACE: &str = "ZccEvents";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    EventsAccepted,
    Duplicates,
    SignatureFailures,
    Rejected,
    StoreErrors,
    ColdStarts,
    ChallengesAnswered,
    WriteUnits,
    LatencyMs,
    NotificationsPublished,
    NotificationsFailed,
    PoisonRecords,
    /// The signing secret could not be read from Secrets Manager.
    SecretErrors,
    /// reconcile: failed webhook deliveries replayed from Zoom's webhook logs.
    RecoveredEvents,
    /// reconcile: engagements no webhook told the table about, written from Zoom's API.
    BackfilledEngagements,
    /// reconcile: figures that differ from Zoom's (findings, not failures).
    FigureMismatches,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::EventsAccepted => "EventsAccepted",
            Self::Duplicates => "Duplicates",
            Self::SignatureFailures => "SignatureFailures",
            Self::Rejected => "Rejected",
            Self::StoreErrors => "StoreErrors",
            Self::ColdStarts => "ColdStarts",
            Self::ChallengesAnswered => "ChallengesAnswered",
            Self::WriteUnits => "WriteUnits",
            Self::LatencyMs => "LatencyMs",
            Self::NotificationsPublished => "NotificationsPublished",
            Self::NotificationsFailed => "NotificationsFailed",
            Self::PoisonRecords => "PoisonRecords",
            Self::SecretErrors => "SecretErrors",
            Self::RecoveredEvents => "RecoveredEvents",
            Self::BackfilledEngagements => "BackfilledEngagements",
            Self::FigureMismatches => "FigureMismatches",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Self::LatencyMs => "Milliseconds",
            Self::WriteUnits => "None",
            _ => "Count",
        }
    }
}

/// Where a function's metrics go: EMF on stdout in Lambda, nowhere locally and in tests.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    function: Option<&'static str>,
    stack: Option<String>,
}

impl Metrics {
    /// EMF for `function`, with a `Stack` dimension when `METRICS_STACK` is set.
    pub fn emf(function: &'static str, env: &impl crate::settings::Lookup) -> Self {
        Self {
            function: Some(function),
            stack: crate::settings::metrics_stack(env),
        }
    }

    pub fn off() -> Self {
        Self::default()
    }

    pub fn emit(&self, values: &[(Metric, f64)]) {
        if let Some(function) = self.function {
            let doc = document(function, self.stack.as_deref(), Timestamp::now(), values);
            println!("{doc}");
        }
    }
}

/// The EMF document for one set of values.
pub fn document(
    function: &str,
    stack: Option<&str>,
    at: Timestamp,
    values: &[(Metric, f64)],
) -> Value {
    let definitions: Vec<Value> = values
        .iter()
        .map(|(m, _)| json!({"Name": m.name(), "Unit": m.unit()}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.unix_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [if stack.is_some() { json!(["Stack", "Function"]) } else { json!(["Function"]) }],
                "Metrics": definitions,
            }],
        }),
    );
    root.insert("Function".into(), Value::String(function.to_owned()));
    if let Some(stack) = stack {
        root.insert("Stack".into(), Value::String(stack.to_owned()));
    }
    for (metric, value) in values {
        root.insert(metric.name().into(), json!(value));
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let doc = document(
            "zoom-webhook",
            None,
            Timestamp::from_unix_millis(1_700_000_000_000),
            &[(Metric::EventsAccepted, 1.0), (Metric::LatencyMs, 12.0)],
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "ZccEvents");
        assert_eq!(spec["Dimensions"], json!([["Function"]]));
        assert_eq!(
            spec["Metrics"][1],
            json!({"Name": "LatencyMs", "Unit": "Milliseconds"})
        );
        assert_eq!(doc["Function"], "zoom-webhook");
        assert_eq!(doc["EventsAccepted"], 1.0);
        let staged = document(
            "flow-events",
            Some("zcc-prod"),
            Timestamp::from_unix_millis(0),
            &[],
        );
        assert_eq!(
            staged["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack", "Function"]])
        );
        assert_eq!(staged["Stack"], "zcc-prod");
    }
}
