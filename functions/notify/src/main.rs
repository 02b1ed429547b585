// The notifier's future nests the EventBridge and DynamoDB SDK futures deeply enough to pass
// the default layout depth.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use notify::Notifier;
use notify::eventbridge::EventBridge;
use serde_json::Value;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::edge::config::{ProcessEnv, event_bus_name, table_name};
use zcc_shared::edge::metrics::{Metric, Metrics};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let bus = event_bus_name(&ProcessEnv)?;
    let table = table_name(&ProcessEnv)?;
    let metrics = Metrics::emf(notify::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    // One configuration load at cold start for both clients.
    let config = zcc_shared::dynamodb::sdk_config().await;
    // The table is read only for agents' emails, which engagement events lack.
    let directory = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table, None);
    let events = EventBridge::new(aws_sdk_eventbridge::Client::new(&config), bus);
    let notifier = Notifier::new(events)
        .with_metrics(metrics)
        .with_directory(directory);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(notifier.handle(event.payload).await)
    }))
    .await
}
