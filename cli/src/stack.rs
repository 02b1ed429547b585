//! The stack `zcc local` runs: the whole system on one machine. The embedded store serves the DynamoDB API,
//! and the three handlers (the same library code the Lambda binaries run) are served at the
//! paths `cargo lambda watch` uses, each request passed through a function-URL event.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use flow_events::FlowEvents;
use lambda_http::Body;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url_validation::UrlValidation;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::{EmbeddedDynamo, EmbeddedError, Storage};
use zcc_shared::dynamodb::schema;
use zcc_shared::edge::function_url::{function_url_event, lambda_request};
use zcc_shared::edge::http::error_response;
use zcc_shared::settings::{self, ConfigError, Lookup, ProcessEnv};
use zoom_webhook::{ZoomSignature, ZoomWebhook};

use flow_events::FlowToken;

use crate::notifier::{self, NotifyTarget};

/// The functions, by the names they are deployed and served under.
pub const FUNCTIONS: [&str; 3] = [
    zoom_webhook::FUNCTION,
    flow_events::FUNCTION,
    url_validation::FUNCTION,
];

/// Development defaults for the functions' environment, used (and printed) when unset.
pub const DEV_DEFAULTS: [(&str, &str); 3] = [
    (settings::TABLE_NAME, "zcc-events"),
    (settings::ZOOM_WEBHOOK_SECRET_TOKEN, "dev-webhook-secret"),
    (settings::FLOW_AUTH_TOKEN, "dev-flow-token"),
];

/// Function URLs accept up to 6 MB; the handlers refuse more than they can store.
const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// The functions' environment: the process's, with development defaults filled in.
pub struct DevEnv<L> {
    inner: L,
}

impl<L: Lookup> DevEnv<L> {
    pub fn new(inner: L) -> Self {
        Self { inner }
    }

    /// The variables that fell back to a development default, with the default.
    pub fn defaulted(&self) -> Vec<(&'static str, &'static str)> {
        DEV_DEFAULTS
            .into_iter()
            .filter(|(name, _)| self.inner.get(name).is_none())
            .collect()
    }
}

impl<L: Lookup> Lookup for DevEnv<L> {
    fn get(&self, name: &str) -> Option<String> {
        self.inner.get(name).or_else(|| {
            DEV_DEFAULTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }
}

#[derive(Debug, Clone)]
pub struct StackOptions {
    pub addr: SocketAddr,
    pub dynamodb_addr: SocketAddr,
    pub storage: Storage,
    /// Where the notifier delivers what the table's stream reports.
    pub notify: NotifyTarget,
}

impl StackOptions {
    /// Everything on ephemeral loopback ports, in memory: for tests.
    pub fn ephemeral() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dynamodb_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage: Storage::Memory,
            notify: NotifyTarget::Off,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] EmbeddedError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the table: {0}")]
    Table(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

struct Functions {
    zoom_webhook: ZoomWebhook<DynamoStore>,
    flow_events: FlowEvents<DynamoStore>,
    url_validation: UrlValidation,
}

/// The running system. Dropping it stops the servers too (their shutdown signal closes).
pub struct Stack {
    http_addr: SocketAddr,
    table: String,
    dynamo: EmbeddedDynamo,
    notifier: Option<notifier::Running>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Stack {
    pub async fn start(options: &StackOptions, env: &impl Lookup) -> Result<Self, StartError> {
        let dynamo = EmbeddedDynamo::start(&options.storage, options.dynamodb_addr).await?;
        let table_name = settings::table_name(env)?;
        schema::create(&dynamo.client(), &table_name)
            .await
            .map_err(|e| StartError::Table(e.to_string()))?;
        let store = DynamoStore::new(dynamo.client(), &table_name, settings::retention_days(env)?);
        // Follow the stream before serving, so that no change is missed.
        let notifier = match &options.notify {
            NotifyTarget::Off => None,
            target => {
                match notifier::start(
                    &dynamo.endpoint(),
                    &table_name,
                    target.clone(),
                    store.clone(),
                )
                .await
                {
                    Ok(running) => Some(running),
                    Err(err) => {
                        eprintln!(
                            "zcc local: no notifications: {err} (a data directory from before \
                         notifications has a table without a stream: start with --memory or \
                         a new --data-dir)"
                        );
                        None
                    }
                }
            }
        };
        let functions = Arc::new(Functions {
            zoom_webhook: ZoomWebhook::new(ZoomSignature::from_env(env)?, store.clone()),
            flow_events: FlowEvents::new(FlowToken::from_env(env)?, store),
            url_validation: url_validation::from_env(env)?,
        });
        let router = Router::new()
            .route("/lambda-url/{function}", any(invoke))
            .route("/lambda-url/{function}/", any(invoke))
            .route("/lambda-url/{function}/{*rest}", any(invoke))
            .fallback(not_found)
            .with_state(functions);
        let listener =
            TcpListener::bind(options.addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: options.addr,
                    source,
                })?;
        let http_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: options.addr,
            source,
        })?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(error = %e, "local HTTP server stopped");
            }
        });
        Ok(Self {
            http_addr,
            table: table_name,
            dynamo,
            notifier,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn url(&self, function: &str) -> String {
        format!("http://{}/lambda-url/{function}/", self.http_addr)
    }

    pub fn dynamodb_endpoint(&self) -> String {
        self.dynamo.endpoint()
    }

    pub fn dynamodb_client(&self) -> aws_sdk_dynamodb::Client {
        self.dynamo.client()
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The one line printed when everything is up.
    pub fn ready_line(&self, storage: &Storage) -> String {
        let data = match storage {
            Storage::Memory => "in memory".to_owned(),
            Storage::File(path) => path.display().to_string(),
        };
        format!(
            "zcc local ready: webhooks {} | flow {} | challenge {} | DynamoDB {} (table {}, data {})",
            self.url(zoom_webhook::FUNCTION),
            self.url(flow_events::FUNCTION),
            self.url(url_validation::FUNCTION),
            self.dynamodb_endpoint(),
            self.table,
            data
        )
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(notifier) = self.notifier.take() {
            notifier.stop().await;
        }
        self.dynamo.stop().await;
    }
}

async fn invoke(
    State(functions): State<Arc<Functions>>,
    Path(params): Path<Vec<(String, String)>>,
    method: Method,
    headers: HeaderMap,
    body: AxumBody,
) -> Response {
    let function = params
        .iter()
        .find(|(k, _)| k == "function")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !FUNCTIONS.contains(&function) {
        return to_axum(unknown_function(function));
    }
    let Ok(bytes) = to_bytes(body, MAX_REQUEST_BYTES).await else {
        return to_axum(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the body is larger than a function URL accepts (6 MB)",
        ));
    };
    let request = lambda_request(&as_function_url_event(&method, &headers, &bytes));
    let response = match function {
        zoom_webhook::FUNCTION => functions.zoom_webhook.respond(&request, now()).await,
        flow_events::FUNCTION => functions.flow_events.respond(&request, now()).await,
        _ => functions.url_validation.respond(&request, now()).await,
    };
    to_axum(response)
}

fn now() -> zcc_domain::timestamp::Timestamp {
    zcc_domain::timestamp::Timestamp::now()
}

/// What a function URL would hand the function: text bodies as they are, anything else
/// base64-encoded (so both paths of the handlers run locally too).
fn as_function_url_event(method: &Method, headers: &HeaderMap, body: &[u8]) -> serde_json::Value {
    let mut joined: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match joined.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => joined.push((name.as_str().to_owned(), value)),
        }
    }
    let textual = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/") || ct.contains("json"));
    let base64 = !textual || std::str::from_utf8(body).is_err();
    let pairs: Vec<(&str, &str)> = joined
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    function_url_event(method.as_str(), "/", &pairs, body, base64)
}

fn unknown_function(name: &str) -> lambda_http::Response<Body> {
    error_response(
        StatusCode::NOT_FOUND,
        "unknown_function",
        format!(
            "no function `{name}` here; the functions are {}",
            FUNCTIONS.join(", ")
        ),
    )
}

async fn not_found() -> Response {
    to_axum(error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "POST to /lambda-url/<function>/, where <function> is one of {}",
            FUNCTIONS.join(", ")
        ),
    ))
}

fn to_axum(response: lambda_http::Response<Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, AxumBody::from(bytes))
}

/// The process environment with development defaults.
pub fn process_env() -> DevEnv<ProcessEnv> {
    DevEnv::new(ProcessEnv)
}
