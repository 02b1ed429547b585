use lambda_http::{Error, service_fn};
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::settings::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let metrics = Metrics::emf(url_validation::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = url_validation::from_env(&ProcessEnv)?.with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
