use lambda_http::{Error, service_fn};
use url_validation::UrlValidation;
use zcc_shared::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = UrlValidation::from_env(&ProcessEnv)?;
    lambda_http::run(service_fn(|request| app.handle(request))).await
}
