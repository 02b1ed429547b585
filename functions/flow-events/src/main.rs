use flow_events::FlowEvents;
use lambda_http::{Error, service_fn};
use zcc_shared::config::ProcessEnv;
use zcc_shared::metrics::{Metric, Metrics};
use zcc_shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let store = DynamoStore::from_env(&ProcessEnv).await?;
    let metrics = Metrics::emf(flow_events::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = FlowEvents::from_env(&ProcessEnv, store)?.with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
