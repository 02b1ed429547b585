use flow_events::{FlowEvents, FlowToken};
use lambda_http::{Error, service_fn};
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::settings::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let store = DynamoStore::from_env(&ProcessEnv)?;
    let metrics = Metrics::emf(flow_events::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = FlowEvents::new(FlowToken::from_env(&ProcessEnv)?, store).with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
