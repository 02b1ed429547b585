//! The notifier: each change of a state item on the table's stream becomes notifications
//! (`Engagement Answered`, `Agent Status Changed`, ...) published in order, with partial batch
//! responses so that a failure retries from the record that failed, never loses the batch.

pub mod eventbridge;

use std::future::Future;
use std::time::Duration;

use lambda_runtime::tracing;
use serde_json::{Value, json};
use zcc_domain::notifications::{Notification, SOURCE};
use zcc_shared::dynamodb::stream::{BadChange, Change};
use zcc_shared::edge::metrics::{Metric, Metrics};

pub const FUNCTION: &str = "notify";

/// EventBridge takes at most ten entries per PutEvents.
pub const MAX_ENTRIES: usize = 10;
/// Attempts at an entry the publisher refused, before its record is handed back to Lambda.
const ATTEMPTS: u32 = 3;

/// One notification as an EventBridge entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub source: &'static str,
    pub detail_type: &'static str,
    /// The detail, as JSON text.
    pub detail: String,
    /// The notification's stable id (also inside the detail).
    pub id: String,
}

impl Entry {
    pub fn of(notification: &Notification) -> Self {
        Self {
            source: SOURCE,
            detail_type: notification.detail_type.as_str(),
            detail: notification.detail.to_string(),
            id: notification.id.clone(),
        }
    }

    /// The event as EventBridge delivers it to a rule's target (an SQS message, an API
    /// destination's body): for the local publishers.
    pub fn as_event(&self, time: &str) -> Value {
        json!({
            "version": "0",
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": "000000000000",
            "time": time,
            "region": "local",
            "resources": [],
            "detail": serde_json::from_str::<Value>(&self.detail).unwrap_or(Value::Null),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the notifications could not be published: {0}")]
pub struct PublishError(pub String);

/// Where notifications go: EventBridge when deployed; stdout or a URL on `zcc local`.
pub trait Publisher: Send + Sync {
    /// Publishes up to [`MAX_ENTRIES`] entries. Per entry, `None` when it was accepted and
    /// `Some(reason)` when not (EventBridge refuses entries one by one); `Err` when none was.
    fn publish(
        &self,
        entries: &[Entry],
    ) -> impl Future<Output = Result<Vec<Option<String>>, PublishError>> + Send;
}

/// Who the agents are, for what engagement events lack: Zoom's engagement events carry no
/// email, its presence events do, and the agent's record keeps it.
pub trait AgentDirectory: Send + Sync {
    fn email(&self, user_id: &str) -> impl Future<Output = Option<String>> + Send;
}

/// No directory: notifications carry the email only when the Flow scripts sent it.
impl AgentDirectory for () {
    async fn email(&self, _: &str) -> Option<String> {
        None
    }
}

impl AgentDirectory for zcc_shared::dynamodb::DynamoStore {
    async fn email(&self, user_id: &str) -> Option<String> {
        use zcc_shared::store::RecordReader;
        let id = zcc_domain::ids::UserId::parse(user_id).ok()?;
        match self.agent(&id).await {
            Ok(agent) => agent?.email,
            Err(err) => {
                tracing::warn!(error = %err, "agent record not read; the notification goes without the email");
                None
            }
        }
    }
}

/// What handling a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub published: usize,
    /// The sequence number to hand back to Lambda: it retries from there (this record and
    /// everything after it), so the changes of one item keep their order.
    pub failed_at: Option<String>,
    pub poison: Option<BadChange>,
    pub reason: Option<String>,
}

impl Outcome {
    /// Lambda's partial batch response.
    pub fn response(&self) -> Value {
        let failures: Vec<Value> = self
            .failed_at
            .iter()
            .map(|seq| json!({"itemIdentifier": seq}))
            .collect();
        json!({ "batchItemFailures": failures })
    }
}

pub struct Notifier<P, D = ()> {
    publisher: P,
    directory: D,
    metrics: Metrics,
    backoff: Duration,
}

impl<P: Publisher> Notifier<P> {
    pub fn new(publisher: P) -> Self {
        Self {
            publisher,
            directory: (),
            metrics: Metrics::off(),
            backoff: Duration::from_millis(100),
        }
    }
}

impl<P: Publisher, D: AgentDirectory> Notifier<P, D> {
    /// The same notifier, filling in agents' emails from `directory`.
    pub fn with_directory<E: AgentDirectory>(self, directory: E) -> Notifier<P, E> {
        Notifier {
            publisher: self.publisher,
            directory,
            metrics: self.metrics,
            backoff: self.backoff,
        }
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The pause before retrying refused entries (doubled each attempt).
    pub fn with_backoff(self, backoff: Duration) -> Self {
        Self { backoff, ..self }
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// The Lambda entry point: a DynamoDB stream event in, a partial batch response out.
    pub async fn handle(&self, mut event: Value) -> Value {
        // Taken, not cloned: a batch of 100 state images is megabytes once parsed.
        let records = match event.get_mut("Records").map(Value::take) {
            Some(Value::Array(records)) => records,
            _ => Vec::new(),
        };
        drop(event);
        self.process(&records).await.response()
    }

    /// Publishes what the records report, in order. Stops at the first record that cannot be
    /// read or whose notifications cannot be published, and names it.
    pub async fn process(&self, records: &[Value]) -> Outcome {
        let mut outcome = Outcome::default();
        let mut emails: std::collections::HashMap<String, Option<String>> = Default::default();
        // (sequence number of the record, entry), in stream order.
        let mut pending: Vec<(String, Entry)> = Vec::new();
        for record in records {
            let notes = Change::from_lambda_record(record).and_then(|c| c.notifications());
            match notes {
                Ok(mut notes) => {
                    let seq = record["dynamodb"]["SequenceNumber"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    for note in &mut notes {
                        self.fill_email(note, &mut emails).await;
                    }
                    pending.extend(notes.iter().map(|n| (seq.clone(), Entry::of(n))));
                }
                Err(bad) => {
                    // A record that cannot be read will never be: Lambda retries it (with
                    // bisection) and then parks it on the failure queue.
                    tracing::error!(sequence_number = %bad.sequence_number, reason = %bad.reason, "poison stream record");
                    self.metrics.emit(&[(Metric::PoisonRecords, 1.0)]);
                    outcome.failed_at = Some(bad.sequence_number.clone());
                    outcome.reason = Some(bad.reason.clone());
                    outcome.poison = Some(bad);
                    break;
                }
            }
        }
        for chunk in pending.chunks(MAX_ENTRIES) {
            match self.publish_with_retries(chunk).await {
                Ok(()) => outcome.published += chunk.len(),
                Err((index, reason)) => {
                    outcome.published += index;
                    // Earlier failures (a poison record) come later in the stream than this.
                    outcome.failed_at = Some(chunk[index].0.clone());
                    outcome.reason = Some(reason);
                    outcome.poison = None;
                    break;
                }
            }
        }
        let failed = usize::from(outcome.failed_at.is_some() && outcome.poison.is_none());
        self.metrics.emit(&[
            (Metric::NotificationsPublished, outcome.published as f64),
            (Metric::NotificationsFailed, failed as f64),
        ]);
        outcome
    }

    /// An engagement's notification names its agent by id; the agent's record knows the email.
    async fn fill_email(
        &self,
        note: &mut Notification,
        known: &mut std::collections::HashMap<String, Option<String>>,
    ) {
        let Some(engagement) = note.detail.get_mut("engagement") else {
            return;
        };
        if !engagement["agent_email"].is_null() {
            return;
        }
        let Some(agent) = engagement["agent_user_id"].as_str().map(str::to_owned) else {
            return;
        };
        if !known.contains_key(&agent) {
            let email = self.directory.email(&agent).await;
            known.insert(agent.clone(), email);
        }
        if let Some(email) = known[&agent].clone() {
            engagement["agent_email"] = Value::from(email);
        }
    }

    /// Publishes a chunk, retrying refused entries; on giving up, the index of the first
    /// entry still refused, and why.
    async fn publish_with_retries(&self, chunk: &[(String, Entry)]) -> Result<(), (usize, String)> {
        // Indexes into `chunk` still to publish.
        let mut left: Vec<usize> = (0..chunk.len()).collect();
        let mut pause = self.backoff;
        let mut last_reason = String::new();
        for attempt in 1..=ATTEMPTS {
            let entries: Vec<Entry> = left.iter().map(|i| chunk[*i].1.clone()).collect();
            match self.publisher.publish(&entries).await {
                Ok(results) => {
                    let refused: Vec<(usize, String)> = left
                        .iter()
                        .zip(results.iter().chain(std::iter::repeat(&Some(
                            "no answer for this entry".to_owned(),
                        ))))
                        .filter_map(|(i, r)| r.clone().map(|reason| (*i, reason)))
                        .collect();
                    if refused.is_empty() {
                        return Ok(());
                    }
                    last_reason = refused[0].1.clone();
                    left = refused.into_iter().map(|(i, _)| i).collect();
                }
                Err(err) => last_reason = err.to_string(),
            }
            tracing::warn!(attempt, refused = left.len(), reason = %last_reason, "publishing notifications");
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        tracing::error!(refused = left.len(), reason = %last_reason, "notifications not published; the record goes back to the stream");
        Err((left[0], last_reason))
    }
}
