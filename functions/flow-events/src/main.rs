use flow_events::{FlowEvents, FlowToken};
use lambda_http::{Error, service_fn};
use zcc_shared::edge::config::ProcessEnv;
use zcc_shared::edge::metrics::{Metric, Metrics};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    // The SDK from Lambda's environment alone: nothing is connected or read until the first
    // event is stored (zcc_shared::dynamodb::lambda_sdk_config).
    let store = zcc_shared::dynamodb::lambda_store(&ProcessEnv)?;
    let metrics = Metrics::emf(flow_events::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = FlowEvents::new(FlowToken::from_env(&ProcessEnv)?, store).with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
