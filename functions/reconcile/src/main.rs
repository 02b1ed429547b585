use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use reconcile::Reconcile;
use serde_json::Value;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::settings::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // The store and the secret's reader once, at cold start; nothing is read or connected
    // until the first run (the secret on first use, as the webhook functions read theirs).
    let metrics = Metrics::emf(reconcile::FUNCTION, &ProcessEnv);
    metrics.emit(&[(Metric::ColdStarts, 1.0)]);
    let app = Reconcile::from_env(&ProcessEnv)?.with_metrics(metrics);
    tracing::info!(credentials = %app.describe(), "reconcile ready");
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        app.handle(event.payload, Timestamp::now())
            .await
            .map_err(|err| {
                // Says what failed and what to do, never a credential: Lambda retries the run and
                // counts it in Errors.
                tracing::error!(error = %err, "reconcile failed");
                Error::from(err)
            })
    }))
    .await
}
