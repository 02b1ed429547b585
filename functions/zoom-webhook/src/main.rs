use lambda_http::{Error, service_fn};
use zcc_shared::config::ProcessEnv;
use zcc_shared::metrics::{Metric, Metrics};
use zcc_shared::store::dynamodb::DynamoStore;
use zoom_webhook::ZoomWebhook;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let store = DynamoStore::from_env(&ProcessEnv).await?;
    let metrics = Metrics::emf(zoom_webhook::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = ZoomWebhook::from_env(&ProcessEnv, store)?.with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
