//! A client of Zoom's REST API as Zoom documents it: Server-to-Server OAuth (one token an
//! hour, fetched again on expiry or on a 401 with code 124), requests paced under the
//! endpoints' rate labels (the limits are per account and shared with its other apps), 429
//! honoured (`Retry-After` when given, else backing off), 5xx and network failures retried a
//! bounded number of times, and every answer checked to be the documented JSON.

pub mod types;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{ReconcileError, ZoomCredentials};

/// Zoom's rate labels (ZOOM-API.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLabel {
    Light,
    Medium,
}

/// Requests per second at most, per label; 0 means unpaced (the bench measures our side).
/// The defaults are half of the Pro plan's contact-center limits (Light 20/s, Medium 10/s):
/// headroom for the account's other apps, which share the limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    pub light_per_sec: f64,
    pub medium_per_sec: f64,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            light_per_sec: 10.0,
            medium_per_sec: 5.0,
        }
    }
}

impl Pacing {
    pub fn unpaced() -> Self {
        Self {
            light_per_sec: 0.0,
            medium_per_sec: 0.0,
        }
    }

    fn interval(&self, label: RateLabel) -> Option<Duration> {
        let rate = match label {
            RateLabel::Light => self.light_per_sec,
            RateLabel::Medium => self.medium_per_sec,
        };
        (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate))
    }
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries of one request after a 429, a 5xx or a network failure.
    pub max_retries: u32,
    /// The first backoff; each next one doubles, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is waited only this long (and then retried).
    pub max_retry_after: Duration,
    /// Each request's own timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

struct Token {
    value: String,
    /// When to fetch another: a minute before Zoom says it expires.
    renew_at: Instant,
}

/// What a request came to.
pub(crate) enum Answer {
    Json(Value),
    /// A 4xx other than 401/429: the caller decides (a 404 `2901` is an engagement Zoom does
    /// not have yet; an expired page token is a reason to restart the slice).
    Refused {
        status: u16,
        code: Option<i64>,
        message: String,
    },
}

pub struct ZoomClient {
    http: reqwest::Client,
    credentials: ZoomCredentials,
    pacing: Pacing,
    retry: RetryPolicy,
    token: tokio::sync::Mutex<Option<Token>>,
    next_slot: tokio::sync::Mutex<HashMap<RateLabel, Instant>>,
    requests: AtomicU64,
    retries: AtomicU64,
    tokens_fetched: AtomicU64,
    waited: Mutex<Duration>,
}

impl ZoomClient {
    pub fn new(credentials: ZoomCredentials) -> Self {
        Self::with(credentials, Pacing::default(), RetryPolicy::default())
    }

    pub fn with(credentials: ZoomCredentials, pacing: Pacing, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .user_agent(concat!("zcc-reconcile/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS client builds");
        Self {
            http,
            credentials,
            pacing,
            retry,
            token: tokio::sync::Mutex::new(None),
            next_slot: tokio::sync::Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            tokens_fetched: AtomicU64::new(0),
            waited: Mutex::new(Duration::ZERO),
        }
    }

    pub fn credentials(&self) -> &ZoomCredentials {
        &self.credentials
    }

    /// Requests sent to Zoom's API and OAuth endpoint, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    pub fn tokens_fetched(&self) -> u64 {
        self.tokens_fetched.load(Ordering::Relaxed)
    }

    /// Time spent waiting for Zoom: backoffs and `Retry-After`, not pacing.
    pub fn waited(&self) -> Duration {
        *self.waited.lock().expect("not poisoned")
    }

    /// Waits for this label's next slot.
    async fn pace(&self, label: RateLabel) {
        let Some(interval) = self.pacing.interval(label) else {
            return;
        };
        let wait = {
            let mut slots = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = slots.get(&label).copied().unwrap_or(now).max(now);
            slots.insert(label, slot + interval);
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn backoff(&self, attempt: u32, retry_after: Option<Duration>) {
        let wait = match retry_after {
            Some(after) => after.min(self.retry.max_retry_after),
            None => self
                .retry
                .base_backoff
                .saturating_mul(1 << attempt.min(16))
                .min(self.retry.max_backoff),
        };
        *self.waited.lock().expect("not poisoned") += wait;
        self.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
    }

    /// The current token, fetched when there is none, it is about to expire, or `stale` is
    /// the one Zoom just refused.
    async fn token(&self, stale: Option<&str>) -> Result<String, ReconcileError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref()
            && Instant::now() < token.renew_at
            && stale != Some(token.value.as_str())
        {
            return Ok(token.value.clone());
        }
        let token = self.fetch_token().await?;
        let value = token.value.clone();
        *held = Some(token);
        Ok(value)
    }

    async fn fetch_token(&self) -> Result<Token, ReconcileError> {
        const ENDPOINT: &str = "POST oauth/token";
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.credentials.client_id,
            self.credentials.client_secret()
        ));
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let request = self
                .http
                .post(with_query(
                    &self.credentials.oauth_url,
                    &[
                        ("grant_type", "account_credentials".to_owned()),
                        ("account_id", self.credentials.account_id.clone()),
                    ],
                ))
                .header("authorization", format!("Basic {basic}"));
            let Some((status, retry_after, body)) =
                self.exchange(ENDPOINT, &mut attempt, request).await?
            else {
                continue;
            };
            if (status == 429 || status >= 500) && attempt < self.retry.max_retries {
                self.backoff(attempt, retry_after).await;
                attempt += 1;
                continue;
            }
            if status != 200 {
                return Err(ReconcileError::OAuth {
                    status,
                    message: error_message(&body),
                });
            }
            let answer: types::TokenAnswer = parse(ENDPOINT, &body)?;
            self.tokens_fetched.fetch_add(1, Ordering::Relaxed);
            let lifetime = Duration::from_secs(answer.expires_in.max(0) as u64);
            // Renew a minute early (or at half-life for short tokens), so that no request
            // is sent with a token about to expire.
            let margin = Duration::from_secs(60).min(lifetime / 2);
            return Ok(Token {
                value: answer.access_token,
                renew_at: Instant::now() + lifetime - margin,
            });
        }
    }

    /// Sends one attempt and reads its whole answer: its status, `Retry-After` and body.
    /// `None` when the request or its answer was lost on the way and there are attempts left
    /// (after backing off, `attempt` counted): the caller sends it again.
    async fn exchange(
        &self,
        endpoint: &str,
        attempt: &mut u32,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<(u16, Option<Duration>, Vec<u8>)>, ReconcileError> {
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after(&response);
                response
                    .bytes()
                    .await
                    .map(|body| (status, retry_after, body.to_vec()))
            }
            Err(err) => Err(err),
        };
        match answer {
            Ok(answer) => Ok(Some(answer)),
            Err(err) if *attempt < self.retry.max_retries => {
                tracing::warn!(endpoint, error = %err, "no whole answer, retrying");
                self.backoff(*attempt, None).await;
                *attempt += 1;
                Ok(None)
            }
            Err(err) => Err(ReconcileError::Unreachable {
                endpoint: endpoint.into(),
                reason: err.to_string(),
            }),
        }
    }

    /// `GET {api_url}{path}?{query}`; `endpoint` names it in errors (the spec's path).
    pub(crate) async fn get(
        &self,
        endpoint: &str,
        path: &str,
        query: &[(&str, String)],
        label: RateLabel,
    ) -> Result<Answer, ReconcileError> {
        let url = format!("{}{}", self.credentials.api_url, path);
        let mut attempt = 0;
        let mut renewed = false;
        let mut stale: Option<String> = None;
        loop {
            let token = self.token(stale.as_deref()).await?;
            self.pace(label).await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let request = self.http.get(with_query(&url, query)).bearer_auth(&token);
            let Some((status, retry_after, body)) =
                self.exchange(endpoint, &mut attempt, request).await?
            else {
                continue;
            };
            match status {
                200..=299 => {
                    let value: Value = parse(endpoint, &body)?;
                    return Ok(Answer::Json(value));
                }
                401 => {
                    let (code, message) = error_parts(&body);
                    // 124: the token expired or is invalid. Once, with a new token.
                    if code == Some(124) && !renewed {
                        renewed = true;
                        stale = Some(token);
                        continue;
                    }
                    return Err(ReconcileError::Zoom {
                        endpoint: endpoint.into(),
                        status,
                        code,
                        message,
                    });
                }
                429 | 500..=599 => {
                    if attempt >= self.retry.max_retries {
                        return Err(ReconcileError::GaveUp {
                            endpoint: endpoint.into(),
                            attempts: attempt + 1,
                            last: format!("HTTP {status}"),
                        });
                    }
                    tracing::warn!(endpoint, status, ?retry_after, "Zoom asked to wait");
                    self.backoff(attempt, if status == 429 { retry_after } else { None })
                        .await;
                    attempt += 1;
                }
                _ => {
                    let (code, message) = error_parts(&body);
                    return Ok(Answer::Refused {
                        status,
                        code,
                        message,
                    });
                }
            }
        }
    }
}

/// `url` with `query` appended, percent-encoded.
fn with_query(url: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", pairs.join("&"))
}

/// `Retry-After` in seconds (Zoom's headers are not documented; an HTTP date is not used).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn parse<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, ReconcileError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(1)]).to_string();
        ReconcileError::NotDocumentedJson {
            endpoint: endpoint.into(),
            reason: if start == "<" {
                "HTML, not JSON".into()
            } else {
                format!("not JSON: {e}")
            },
        }
    })?;
    from_value(endpoint, value)
}

pub(crate) fn from_value<T: DeserializeOwned>(
    endpoint: &str,
    value: Value,
) -> Result<T, ReconcileError> {
    serde_json::from_value(value).map_err(|e| ReconcileError::NotDocumentedJson {
        endpoint: endpoint.into(),
        reason: e.to_string(),
    })
}

/// Zoom's error body `{"code": 124, "message": "..."}`; OAuth's `{"reason", "error"}`.
fn error_parts(body: &[u8]) -> (Option<i64>, String) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = value.get("code").and_then(Value::as_i64);
    (code, error_message(body))
}

fn error_message(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    ["message", "reason", "error"]
        .iter()
        .find_map(|f| value.get(*f).and_then(Value::as_str))
        .map(|m| m.chars().take(200).collect())
        .unwrap_or_else(|| "no message".into())
}
