//! The publisher the deployed notifier uses: PutEvents on one EventBridge bus.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::{Entry, PublishError, Publisher};

pub struct EventBridge {
    client: Client,
    bus: String,
}

impl EventBridge {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

impl Publisher for EventBridge {
    async fn publish(&self, entries: &[Entry]) -> Result<Vec<Option<String>>, PublishError> {
        let request = entries.iter().fold(self.client.put_events(), |r, e| {
            r.entries(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(e.source)
                    .detail_type(e.detail_type)
                    .detail(&e.detail)
                    .build(),
            )
        });
        let output = request
            .send()
            .await
            .map_err(|e| PublishError(format!("{e:?}").chars().take(200).collect()))?;
        Ok(output
            .entries()
            .iter()
            .map(|r| {
                r.error_code()
                    .map(|code| format!("{code}: {}", r.error_message().unwrap_or("")))
            })
            .collect())
    }
}
