//! The scheduled reconcile: EventBridge Scheduler invokes it with a window (`hourly`,
//! `yesterday`, or `from`/`to`); it reads the Zoom Server-to-Server OAuth app's credentials
//! from one Secrets Manager secret and runs `zcc_reconcile` over the window: recover the app's
//! failed webhook deliveries, backfill the engagements the table lacks, cross-check the
//! figures. Anything recovered or backfilled means webhooks are being lost: the metrics say
//! so, and the template's alarm tells the operator.

pub mod window;

use lambda_runtime::tracing;
use serde_json::Value;
use zcc_domain::timestamp::Timestamp;
use zcc_reconcile::{Options, ReconcileError, ReconcileReport, Reconciler, ZoomCredentials};
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::edge::secrets::{Secret, SecretError};
use zcc_shared::settings::{ConfigError, Lookup};

pub use window::{Input, WindowError};

pub const FUNCTION: &str = "reconcile";

pub use zcc_shared::settings::{ZOOM_API_SECRET_ARN, ZOOM_API_URL, ZOOM_OAUTH_URL};

/// A run that could not be done: returned to Lambda as the invocation's error, so that Lambda
/// retries it and counts it in the function's `Errors` metric (the template's alarm).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error(
        "{0}; check the secret named by {ZOOM_API_SECRET_ARN} and this function's permission to read it"
    )]
    Secret(#[from] SecretError),
    #[error(
        "{0} (the secret named by {ZOOM_API_SECRET_ARN} must hold the Zoom app's credentials as JSON: put them with aws secretsmanager put-secret-value)"
    )]
    Credentials(ReconcileError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
}

/// Where the Zoom app's credentials come from.
enum Credentials {
    /// The secret's text, read on the first run and again after `SECRET_REFRESH_SECS`, so that
    /// a put-secret-value is taken up without a redeploy. Parsed on each run (an hourly
    /// parse of a few bytes), so that a bad secret fails with the key it lacks.
    Secret(Box<Secret<String>>),
    /// From `ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID`, ... as `zcc reconcile` reads them: for runs
    /// outside AWS (the tests, a local bootstrap). Never set in the template.
    Fixed(Box<ZoomCredentials>),
}

/// The function: the store and the credentials' source, built once per cold start.
pub struct Reconcile {
    store: DynamoStore,
    credentials: Credentials,
    api_url: Option<String>,
    oauth_url: Option<String>,
    metrics: Metrics,
}

impl Reconcile {
    /// Credentials from the JSON in `secret` (a secret's text).
    pub fn with_secret(store: DynamoStore, secret: Secret<String>) -> Self {
        Self {
            store,
            credentials: Credentials::Secret(Box::new(secret)),
            api_url: None,
            oauth_url: None,
            metrics: Metrics::off(),
        }
    }

    /// Credentials given as they are.
    pub fn with_credentials(store: DynamoStore, credentials: ZoomCredentials) -> Self {
        Self {
            credentials: Credentials::Fixed(Box::new(credentials)),
            ..Self::with_secret(store, Secret::fixed(String::new()))
        }
    }

    /// Zoom's endpoints for credentials read from a secret (default: Zoom's own).
    pub fn with_endpoints(self, api_url: Option<String>, oauth_url: Option<String>) -> Self {
        Self {
            api_url,
            oauth_url,
            ..self
        }
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The function as Lambda runs it: the table from `TABLE_NAME`, the credentials from the
    /// secret `ZOOM_API_SECRET_ARN` names (read on the first run: a cold start touches no
    /// network), or, without it, from the `ZOOM_*` variables.
    pub fn from_env(env: &impl Lookup) -> Result<Self, StartError> {
        let store = DynamoStore::from_env(env)?;
        let api_url = env.get(ZOOM_API_URL);
        let oauth_url = env.get(ZOOM_OAUTH_URL);
        let reconcile = if env.get(ZOOM_API_SECRET_ARN).is_some() {
            // The fallback variable is never reached: the ARN is set.
            let secret = Secret::from_env(env, ZOOM_API_SECRET_ARN, ZOOM_API_SECRET_ARN, |text| {
                Ok(text.to_owned())
            })?;
            Self::with_secret(store, secret)
        } else {
            Self::with_credentials(
                store,
                ZoomCredentials::from_env().map_err(StartError::Credentials)?,
            )
        };
        Ok(reconcile.with_endpoints(api_url, oauth_url))
    }

    /// Where the credentials come from, for the log line at start (never their value).
    pub fn describe(&self) -> String {
        match &self.credentials {
            Credentials::Secret(secret) => secret.describe(),
            Credentials::Fixed(_) => "the environment".to_owned(),
        }
    }

    /// One invocation: the window from `payload` at `now`, then the run. The report, as JSON,
    /// is the answer (for a run by hand) and the log line.
    pub async fn handle(&self, payload: Value, now: Timestamp) -> Result<Value, RunError> {
        let input = Input::parse(payload)?;
        let window = input.window(now)?;
        let credentials = self.credentials().await?;
        let options = Options {
            dry_run: input.dry_run,
            progress: false,
        };
        let report = Reconciler::new(credentials, self.store.clone())
            .run(window, options)
            .await?;
        self.publish(&report);
        Ok(serde_json::to_value(&report).unwrap_or(Value::Null))
    }

    async fn credentials(&self) -> Result<ZoomCredentials, RunError> {
        match &self.credentials {
            Credentials::Fixed(credentials) => Ok((**credentials).clone()),
            Credentials::Secret(secret) => {
                let text = secret.get().await?;
                ZoomCredentials::from_secret_json(
                    &text,
                    self.api_url.clone(),
                    self.oauth_url.clone(),
                )
                .map_err(RunError::Credentials)
            }
        }
    }

    /// The metrics and the log line. A dry run's counts are what it would have done: they
    /// are logged, but emit no metric, so that trying the function by hand never sets off the
    /// alarm.
    fn publish(&self, report: &ReconcileReport) {
        if !report.dry_run {
            self.metrics.emit(&[
                (Metric::RecoveredEvents, report.recovered_events as f64),
                (
                    Metric::BackfilledEngagements,
                    report.backfilled_engagements as f64,
                ),
                (Metric::FigureMismatches, report.mismatches.len() as f64),
            ]);
        }
        let json = serde_json::to_string(report).unwrap_or_default();
        tracing::info!(
            checked = report.checked,
            matched = report.matched,
            recovered_events = report.recovered_events,
            backfilled_engagements = report.backfilled_engagements,
            mismatches = report.mismatches.len(),
            dry_run = report.dry_run,
            report = %json,
            "reconcile finished"
        );
    }
}

/// What stops the function at start (reported by Lambda as an init error).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "{0} (set {ZOOM_API_SECRET_ARN} to the secret holding the Zoom app's credentials, or the ZOOM_* variables)"
    )]
    Credentials(ReconcileError),
}
