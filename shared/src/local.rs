//! An embedded DynamoDB (dynoxide) served over HTTP on loopback, and SDK clients for local
//! endpoints: the store of `zcc local` and of the tests. Not compiled into the Lambdas.

use std::net::SocketAddr;
use std::path::PathBuf;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where the embedded store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Memory,
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot open the embedded store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running embedded DynamoDB. Dropping it without [`LocalDynamo::stop`] aborts it.
pub struct LocalDynamo {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl LocalDynamo {
    pub async fn start(storage: &Storage, addr: SocketAddr) -> Result<Self, LocalError> {
        let database = match storage {
            Storage::Memory => dynoxide::Database::memory().map_err(|e| LocalError::Open {
                path: ":memory:".into(),
                reason: e.to_string(),
            })?,
            Storage::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| LocalError::Open {
                        path: dir.display().to_string(),
                        reason: e.to_string(),
                    })?;
                }
                dynoxide::Database::new(&path.to_string_lossy()).map_err(|e| LocalError::Open {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?
            }
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| LocalError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| LocalError::Bind { addr, source })?;
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = signal.await;
            };
            if let Err(e) = dynoxide::server::serve_with_shutdown(listener, database, stopped).await
            {
                tracing::error!(error = %e, "embedded DynamoDB stopped");
            }
        });
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub async fn memory() -> Result<Self, LocalError> {
        Self::start(&Storage::Memory, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self) -> Client {
        client_for(&self.endpoint())
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalDynamo {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An SDK client for a DynamoDB on `endpoint` that needs no AWS account (dynoxide, moto).
pub fn client_for(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zcc-local"))
        .build();
    Client::from_conf(config)
}

/// A Lambda function URL event (API Gateway payload 2.0), as AWS delivers it to the
/// function. With `base64`, the body is encoded as function URLs do for binary content.
pub fn function_url_event(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> serde_json::Value {
    use base64::Engine as _;
    let now = crate::timestamp::Timestamp::now();
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                serde_json::Value::String((*v).to_owned()),
            )
        })
        .collect();
    let body = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "zcclocal0000000000000000000000",
            "domainName": "zcclocal0000000000000000000000.lambda-url.us-east-1.on.aws",
            "domainPrefix": "zcclocal0000000000000000000000",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").and_then(|v| v.as_str()).unwrap_or("")
            },
            "requestId": format!("local-{}", now.unix_millis()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now.unix_millis()
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

/// A function URL event carrying `body` as Zoom sends a webhook: its headers, and the body
/// signed with `secret` at `timestamp_secs`.
pub fn signed_webhook_event(
    secret: &str,
    timestamp_secs: i64,
    body: &str,
    base64: bool,
) -> serde_json::Value {
    let token = crate::signature::SecretToken::new(secret).expect("a non-empty secret");
    let signature = crate::signature::sign(&token, timestamp_secs, body.as_bytes());
    function_url_event(
        "POST",
        "/",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("user-agent", "Zoom Marketplace/1.0a"),
            ("x-zm-request-timestamp", &timestamp_secs.to_string()),
            ("x-zm-signature", &signature),
        ],
        body.as_bytes(),
        base64,
    )
}

/// Parses a function URL event exactly as the Lambda runtime does.
pub fn lambda_request(event: &serde_json::Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("a well-formed function URL event")
}

/// Authentic events for tests, benchmarks and examples, made the only way there is: the
/// body is signed (or given a bearer token) and then verified.
pub mod authentic {
    use crate::event::AuthenticEvent;
    use crate::flow::FlowAuthorizer;
    use crate::signature::{SecretToken, SecretTokens, SignatureVerifier, sign};
    use crate::timestamp::Timestamp;

    const SECRET: &str = "zcc-local-test-secret";

    /// A webhook body as received now.
    pub fn webhook(body: &str) -> AuthenticEvent {
        let now = Timestamp::now();
        let token = SecretToken::new(SECRET).expect("non-empty");
        let verified =
            SignatureVerifier::new(SecretTokens::from_list(SECRET).expect("one token"), 300)
                .verify(
                    Some(&now.unix_seconds().to_string()),
                    Some(&sign(&token, now.unix_seconds(), body.as_bytes())),
                    body.as_bytes(),
                    now,
                )
                .expect("signed just now");
        AuthenticEvent::from_webhook(&verified, now).expect("a webhook envelope")
    }

    /// A Flow body as received now.
    pub fn flow(body: &str) -> AuthenticEvent {
        let post = FlowAuthorizer::new(&SecretTokens::from_list(SECRET).expect("one token"))
            .authorize(Some(&format!("Bearer {SECRET}")), body.as_bytes())
            .expect("the right token");
        AuthenticEvent::from_flow(&post, Timestamp::now()).expect("a Flow body")
    }
}
