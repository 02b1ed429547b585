//! A stand-in for the Lambda Runtime API on loopback, so tests can run the shipped bootstrap
//! binaries as Lambda runs them: the binary polls for the next invocation, handles it, and
//! posts the response, which the test reads back.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, oneshot};

#[derive(Default)]
struct Shared {
    pending: Mutex<VecDeque<(String, String)>>,
    responses: Mutex<Vec<(String, String)>>,
    errors: Mutex<Vec<String>>,
    arrived: Notify,
    answered: Notify,
}

/// The Runtime API serving queued invocation events one by one.
pub struct FakeRuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeRuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await;
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(shutdown),
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation and waits (up to `timeout`) for the function's response body.
    pub async fn invoke(
        &self,
        event: &serde_json::Value,
        timeout: std::time::Duration,
    ) -> Result<serde_json::Value, String> {
        let id = format!(
            "req-{}",
            zcc_domain::timestamp::Timestamp::now().unix_millis()
        );
        let id = format!("{id}-{}", self.shared.responses.lock().unwrap().len());
        self.shared
            .pending
            .lock()
            .unwrap()
            .push_back((id.clone(), event.to_string()));
        self.shared.arrived.notify_waiters();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let answered = self.shared.answered.notified();
            if let Some((_, body)) = self
                .shared
                .responses
                .lock()
                .unwrap()
                .iter()
                .find(|(i, _)| *i == id)
            {
                return serde_json::from_str(body).map_err(|e| e.to_string());
            }
            if let Some(error) = self.shared.errors.lock().unwrap().first() {
                return Err(error.clone());
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return Err("the function did not answer in time".into());
            }
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    loop {
        let arrived = shared.arrived.notified();
        if let Some((id, body)) = shared.pending.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = zcc_domain::timestamp::Timestamp::now().unix_millis() + 3_000;
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:zcc-test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000;Sampled=0"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, body).into_response();
        }
        arrived.await;
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    shared
        .responses
        .lock()
        .unwrap()
        .push((id, String::from_utf8_lossy(&body).into_owned()));
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    shared.errors.lock().unwrap().push(format!(
        "invocation {id} failed: {}",
        String::from_utf8_lossy(&body)
    ));
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared
        .errors
        .lock()
        .unwrap()
        .push(format!("init failed: {}", String::from_utf8_lossy(&body)));
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

/// The environment Lambda gives a function, pointed at `runtime_api`.
pub fn lambda_environment(runtime_api: &str, function: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A shipped bootstrap binary running against a [`FakeRuntimeApi`], with its output kept.
pub struct Bootstrap {
    child: tokio::process::Child,
}

impl Bootstrap {
    /// Starts `binary` with Lambda's environment plus `env` (and nothing else of ours).
    pub fn spawn(
        binary: &str,
        runtime: &FakeRuntimeApi,
        function: &str,
        env: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let child = tokio::process::Command::new(binary)
            .env_clear()
            .envs(lambda_environment(&runtime.address(), function))
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        Ok(Self { child })
    }

    /// Waits for it to exit by itself (a failed init), then returns (success, stdout, stderr).
    pub async fn exited(self, timeout: std::time::Duration) -> Option<(bool, String, String)> {
        let output = tokio::time::timeout(timeout, self.child.wait_with_output())
            .await
            .ok()?
            .ok()?;
        Some((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Stops it and returns (stdout, stderr).
    pub async fn stop(mut self) -> (String, String) {
        use tokio::io::AsyncReadExt;
        let _ = self.child.start_kill();
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out).await;
        }
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err).await;
        }
        let _ = self.child.wait().await;
        (out, err)
    }
}

/// The EMF documents among a function's stdout lines.
pub fn emf_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}
