use lambda_http::{Error, service_fn};
use url_validation::{FUNCTION, UrlValidation};
use zcc_shared::edge::config::ProcessEnv;
use zcc_shared::edge::metrics::{Metric, Metrics};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let metrics = Metrics::emf(FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = UrlValidation::from_env(&ProcessEnv)?.with_metrics(metrics);
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
