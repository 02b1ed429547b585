// The notifier's future nests the EventBridge and DynamoDB SDK futures deeply enough to pass
// the default layout depth.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use notify::Notifier;
use notify::eventbridge::EventBridge;
use serde_json::Value;
use zcc_shared::aws;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::settings::{ProcessEnv, event_bus_name, table_name};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let bus = event_bus_name(&ProcessEnv)?;
    let table = table_name(&ProcessEnv)?;
    let metrics = Metrics::emf(notify::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    // One configuration for both clients, from Lambda's environment alone: nothing is
    // connected or read until the first batch (zcc_shared::aws::lambda_sdk_config).
    let config = aws::lambda_sdk_config();
    // The table is read only for agents' emails, which engagement events lack.
    let directory = DynamoStore::new(aws::dynamodb(&config), table, None);
    let events = EventBridge::new(aws::eventbridge(&config), bus);
    let notifier = Notifier::new(events)
        .with_metrics(metrics)
        .with_directory(directory);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(notifier.handle(event.payload).await)
    }))
    .await
}
