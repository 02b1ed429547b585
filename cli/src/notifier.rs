//! The notifier on `zcc local`: the same code the notify function runs, fed by the embedded
//! store's stream, publishing to stdout (JSON lines) or POSTing to a URL as an EventBridge
//! API destination would.

use std::time::Duration;

use notify::{Entry, Notifier, PublishError, Publisher};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::stream::StreamReader;
use zcc_shared::store::StoreError;

/// Where `zcc local` delivers notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    /// One JSON line per notification on stdout, as EventBridge delivers the event.
    Stdout,
    /// A POST of the event to this URL, as an API destination sends it.
    Url(String),
    Off,
}

pub struct LocalPublisher {
    target: NotifyTarget,
    http: reqwest::Client,
}

impl LocalPublisher {
    pub fn new(target: NotifyTarget) -> Self {
        Self {
            target,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a client"),
        }
    }
}

impl Publisher for LocalPublisher {
    async fn publish(&self, entries: &[Entry]) -> Result<Vec<Option<String>>, PublishError> {
        let now = Timestamp::now().to_iso();
        let mut out = Vec::new();
        for entry in entries {
            let event = entry.as_event(&now);
            out.push(match &self.target {
                NotifyTarget::Stdout => {
                    use std::io::Write as _;
                    // A closed stdout (piped into `head`, say) must not stop the stack.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{event}")
                        .and_then(|()| out.flush())
                        .err()
                        .map(|e| format!("stdout: {e}"))
                }
                NotifyTarget::Url(url) => match self.http.post(url).json(&event).send().await {
                    Ok(r) if r.status().is_success() => None,
                    Ok(r) => Some(format!("{url} answered {}", r.status())),
                    Err(e) => Some(format!("{url}: {e}")),
                },
                NotifyTarget::Off => None,
            });
        }
        Ok(out)
    }
}

/// A DynamoDB Streams client for a local endpoint (no AWS account needed).
pub fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    zcc_shared::aws::local_dynamodb_streams(endpoint)
}

/// The running notifier. Dropping its stop sender ends it.
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Opens the table's stream now (so no change after this is missed) and follows it.
pub async fn start(
    endpoint: &str,
    table: &str,
    target: NotifyTarget,
    directory: DynamoStore,
) -> Result<Running, StoreError> {
    let mut reader = StreamReader::open(streams_client(endpoint), table, false).await?;
    let notifier = Notifier::new(LocalPublisher::new(target)).with_directory(directory);
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut pending: Vec<Value> = Vec::new();
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            match reader.poll().await {
                Ok(records) => pending.extend(records),
                Err(err) => {
                    eprintln!("zcc local: reading the table's stream: {err}");
                    continue;
                }
            }
            if pending.is_empty() {
                continue;
            }
            let outcome = notifier.process(&pending).await;
            let Some(failed) = outcome.failed_at else {
                pending.clear();
                continue;
            };
            let at = pending
                .iter()
                .position(|r| r["dynamodb"]["SequenceNumber"] == failed.as_str())
                .unwrap_or(0);
            if outcome.poison.is_some() {
                // Deployed, Lambda retries it and then parks it on the failure queue; here it
                // is reported and passed over.
                eprintln!(
                    "zcc local: a stream record could not be read and is skipped: {}",
                    outcome.reason.unwrap_or_default()
                );
                pending.drain(..=at);
            } else {
                eprintln!(
                    "zcc local: notifications not delivered, retrying: {}",
                    outcome.reason.unwrap_or_default()
                );
                pending.drain(..at);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    Ok(Running {
        stop: Some(stop),
        task: Some(task),
    })
}
