//! The tokens a function checks requests against, kept in AWS Secrets Manager (or, for
//! `zcc local` and tests, in the environment).
//!
//! In Secrets Manager a token list is out of the function's configuration, where anyone who
//! may read the function would see it, and a rotation is an update of the secret: no
//! redeploy. A function reads the secret when the first request needs it (a cold start
//! touches no network), keeps it, reads it again after [`settings::SECRET_REFRESH_SECS`], and at once
//! when a request fails verification and the copy it holds is older than [`RELOAD_GAP`]:
//! a rotation takes effect on its first request, and a flood of forged requests costs at
//! most one read of the secret every [`RELOAD_GAP`].

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use tokio::sync::{Mutex, OnceCell};

use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::signature::SignatureVerifier;

use crate::settings::{
    self, ConfigError, FLOW_AUTH_TOKEN, FLOW_AUTH_TOKEN_SECRET_ARN, Lookup,
    ZOOM_WEBHOOK_SECRET_ARN, ZOOM_WEBHOOK_SECRET_TOKEN,
};

const DEFAULT_REFRESH: Duration = Duration::from_secs(300);
/// The least time between two reads of a secret prompted by requests that failed to verify.
pub const RELOAD_GAP: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager did not answer, or refused: the request is answered 503, so that Zoom
    /// retries. Says what failed, never the secret.
    #[error("the secret {id} could not be read from AWS Secrets Manager: {reason}")]
    Unavailable { id: String, reason: String },
    /// Nothing has been read yet (`get` was not awaited first): a bug, answered 503.
    #[error("the secret was not read before the request was checked")]
    NotRead,
    /// The secret holds no usable token list.
    #[error("the secret {id} holds no token (an empty comma-separated list, or not text)")]
    Invalid { id: String },
}

type Make<T> = Box<dyn Fn(&str) -> Result<T, ConfigError> + Send + Sync>;

enum Source {
    /// Set once, from the environment: never read again.
    Fixed,
    SecretsManager {
        id: String,
        client: OnceCell<Client>,
        given: Option<Client>,
    },
}

fn secrets_manager_client() -> Client {
    crate::aws::secrets_manager(&crate::aws::lambda_sdk_config())
}

/// What a function checks requests against (a signature verifier, a bearer-token
/// authorizer), made from the token list of a secret.
pub struct Secret<T> {
    source: Source,
    make: Make<T>,
    current: RwLock<Option<Loaded<T>>>,
    /// One read of the secret at a time.
    reading: Mutex<()>,
    refresh: Duration,
    reload_gap: Duration,
}

struct Loaded<T> {
    value: Arc<T>,
    text: String,
    at: Instant,
}

impl<T> Secret<T> {
    /// A value that never changes (from the environment).
    pub fn fixed(value: T) -> Self {
        Self {
            source: Source::Fixed,
            make: Box::new(|_| Err(ConfigError::Missing("a fixed secret is never read"))),
            current: RwLock::new(Some(Loaded {
                value: Arc::new(value),
                text: String::new(),
                at: Instant::now(),
            })),
            reading: Mutex::new(()),
            refresh: DEFAULT_REFRESH,
            reload_gap: RELOAD_GAP,
        }
    }

    /// The secret `id` in Secrets Manager, made into a `T` by `make`, read with `client`
    /// (or, when `None`, a client from the Lambda environment, built on first use).
    pub fn in_secrets_manager(
        id: impl Into<String>,
        client: Option<Client>,
        refresh: Duration,
        make: impl Fn(&str) -> Result<T, ConfigError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            source: Source::SecretsManager {
                id: id.into(),
                client: OnceCell::new(),
                given: client,
            },
            make: Box::new(make),
            current: RwLock::new(None),
            reading: Mutex::new(()),
            refresh,
            reload_gap: RELOAD_GAP,
        }
    }

    /// The same, reading again after a mismatch only `gap` after the last read.
    pub fn with_reload_gap(self, gap: Duration) -> Self {
        Self {
            reload_gap: gap,
            ..self
        }
    }

    /// From the environment: the secret named by `arn_variable` when set, else the token
    /// list in `variable`, made into a `T` by `make`.
    pub fn from_env(
        env: &impl Lookup,
        arn_variable: &'static str,
        variable: &'static str,
        make: impl Fn(&str) -> Result<T, ConfigError> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        if let Some(id) = env.get(arn_variable) {
            let refresh = settings::secret_refresh(env)?.unwrap_or(DEFAULT_REFRESH);
            return Ok(Self::in_secrets_manager(id, None, refresh, make));
        }
        let text = env.get(variable).ok_or(ConfigError::Missing(variable))?;
        Ok(Self::fixed(make(&text)?))
    }

    /// Where the value comes from, for the log line at start (never the value).
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Fixed => "the environment".to_owned(),
            Source::SecretsManager { id, .. } => format!("AWS Secrets Manager ({id})"),
        }
    }

    /// For a gate's `ready`: the secret at hand, or the 503 that says it cannot be read.
    pub async fn ready(&self) -> Result<(), SecretError> {
        self.get().await.map(drop)
    }

    /// For a gate's `admit`, after [`ready`](Self::ready): the value to check against.
    pub fn held(&self) -> Result<Arc<T>, SecretError> {
        self.current().ok_or(SecretError::NotRead)
    }

    /// The value held now, if any (after [`get`](Self::get), there is one).
    pub fn current(&self) -> Option<Arc<T>> {
        self.loaded().map(|(value, _)| value)
    }

    fn loaded(&self) -> Option<(Arc<T>, Instant)> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.as_ref().map(|l| (l.value.clone(), l.at))
    }

    /// The value to check a request against: read (again) when there is none yet or it is
    /// older than the refresh period. A failed refresh keeps the value held, and says so.
    pub async fn get(&self) -> Result<Arc<T>, SecretError> {
        match self.loaded() {
            Some((value, _)) if matches!(self.source, Source::Fixed) => Ok(value),
            Some((value, at)) if at.elapsed() < self.refresh => Ok(value),
            held => match self.read(held.as_ref().map(|(_, at)| *at)).await {
                Ok(value) => Ok(value),
                Err(err) => match held {
                    Some((value, _)) => {
                        tracing::warn!(error = %err, "kept the secret held: its refresh failed");
                        Ok(value)
                    }
                    None => Err(err),
                },
            },
        }
    }

    /// After a request failed to verify: reads the secret again unless it was read in the
    /// last [`RELOAD_GAP`]. True when what it holds changed, so that the request is worth
    /// checking again.
    pub async fn reloaded(&self) -> bool {
        if matches!(self.source, Source::Fixed) {
            return false;
        }
        let Some((before, at)) = self.loaded() else {
            return false;
        };
        if at.elapsed() < self.reload_gap {
            return false;
        }
        match self.read(Some(at)).await {
            Ok(now) => !Arc::ptr_eq(&before, &now),
            Err(err) => {
                tracing::warn!(error = %err, "could not read the secret again after a mismatch");
                false
            }
        }
    }

    /// Reads the secret, unless another request did since `seen` (the time of the copy the
    /// caller holds), and makes it into a value when its text changed.
    async fn read(&self, seen: Option<Instant>) -> Result<Arc<T>, SecretError> {
        let Source::SecretsManager { id, client, given } = &self.source else {
            unreachable!("a fixed secret is always loaded");
        };
        let _one_at_a_time = self.reading.lock().await;
        if let Some((value, at)) = self.loaded()
            && seen.is_none_or(|seen| at > seen)
        {
            return Ok(value);
        }
        let client = match given {
            Some(client) => client,
            None => {
                client
                    .get_or_init(|| async { secrets_manager_client() })
                    .await
            }
        };
        let output = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|err| SecretError::Unavailable {
                id: id.clone(),
                reason: match err.code() {
                    Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
                    None => DisplayErrorContext(&err)
                        .to_string()
                        .chars()
                        .take(200)
                        .collect(),
                },
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| SecretError::Invalid { id: id.clone() })?;
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if let Some(loaded) = current.as_mut()
            && loaded.text == text
        {
            loaded.at = Instant::now();
            return Ok(loaded.value.clone());
        }
        let value =
            Arc::new((self.make)(text).map_err(|_| SecretError::Invalid { id: id.clone() })?);
        *current = Some(Loaded {
            value: value.clone(),
            text: text.to_owned(),
            at: Instant::now(),
        });
        Ok(value)
    }
}

/// The webhook functions' verifier: from the secret `ZOOM_WEBHOOK_SECRET_ARN` names (read on
/// first use), else from `ZOOM_WEBHOOK_SECRET_TOKEN`.
pub fn webhook_secret(env: &impl Lookup) -> Result<Secret<SignatureVerifier>, ConfigError> {
    Secret::from_env(
        env,
        ZOOM_WEBHOOK_SECRET_ARN,
        ZOOM_WEBHOOK_SECRET_TOKEN,
        settings::verifier_maker(settings::tolerance(env)?),
    )
}

/// The Flow function's authorizer: from the secret `FLOW_AUTH_TOKEN_SECRET_ARN` names, else
/// from `FLOW_AUTH_TOKEN`.
pub fn flow_secret(env: &impl Lookup) -> Result<Secret<FlowAuthorizer>, ConfigError> {
    Secret::from_env(
        env,
        FLOW_AUTH_TOKEN_SECRET_ARN,
        FLOW_AUTH_TOKEN,
        settings::make_authorizer,
    )
}
