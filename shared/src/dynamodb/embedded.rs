//! An embedded DynamoDB (dynoxide) served over HTTP on loopback, and SDK clients for local
//! endpoints: the store of `zcc local` and of the tests. Not compiled into the Lambdas.

use std::net::SocketAddr;
use std::path::PathBuf;

use aws_sdk_dynamodb::Client;
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
pub enum EmbeddedError {
    #[error("cannot open the embedded store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running embedded DynamoDB. Dropping it without [`EmbeddedDynamo::stop`] aborts it.
pub struct EmbeddedDynamo {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedDynamo {
    pub async fn start(storage: &Storage, addr: SocketAddr) -> Result<Self, EmbeddedError> {
        let database = match storage {
            Storage::Memory => dynoxide::Database::memory().map_err(|e| EmbeddedError::Open {
                path: ":memory:".into(),
                reason: e.to_string(),
            })?,
            Storage::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| EmbeddedError::Open {
                        path: dir.display().to_string(),
                        reason: e.to_string(),
                    })?;
                }
                dynoxide::Database::new(&path.to_string_lossy()).map_err(|e| {
                    EmbeddedError::Open {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    }
                })?
            }
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmbeddedError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmbeddedError::Bind { addr, source })?;
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

    pub async fn memory() -> Result<Self, EmbeddedError> {
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

impl Drop for EmbeddedDynamo {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An SDK client for a DynamoDB on `endpoint` that needs no AWS account (dynoxide, moto).
pub fn client_for(endpoint: &str) -> Client {
    crate::aws::local_dynamodb(endpoint)
}
