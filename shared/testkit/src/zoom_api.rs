//! A stand-in for Zoom's REST API on loopback, serving the shapes of Zoom's published specs
//! (each shape's source: `shared/fixtures/zoom-api/SOURCES.md`): Server-to-Server OAuth with
//! Basic auth and bearer tokens that expire, the contact-center engagement list (paged by
//! `next_page_token`, filtered by `from`/`to`) and detail, and an app's webhook logs with
//! `request_body` as a JSON string. Faults are injected per endpoint (a 429 with
//! `Retry-After`, a 5xx, HTML instead of JSON, an expired token or page token, an empty
//! detail), and every request is counted and timed, so tests can assert retries and pacing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use zcc_domain::timestamp::Timestamp;

pub const ACCOUNT_ID: &str = "D8cJuqWVQ623CI4Q8yQK0Q";
pub const CLIENT_ID: &str = "zcc_s2s_client_id";
pub const CLIENT_SECRET: &str = "zcc-s2s-client-secret";
pub const APP_ID: &str = "VG5yKmKQRkK0Yc5UM2r3Yw";

/// The endpoints served, as requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    OAuth,
    Engagements,
    Engagement,
    WebhookLogs,
}

/// What the next request to an endpoint gets instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429, with `Retry-After: <seconds>` when given.
    TooManyRequests { retry_after: Option<u64> },
    /// A 5xx with Zoom's error body.
    ServerError(u16),
    /// 200 with an HTML page, as a proxy or an outage page answers.
    Html,
    /// 401 code 124, as for a token that expired.
    ExpiredToken,
    /// 400 for the page token, as after its 15 minutes (only on a request that has one).
    ExpiredPageToken,
    /// 200 `{}`: Zoom may answer so while it saves an engagement that just ended.
    EmptyDetail,
}

/// One engagement as Zoom reports it; the stand-in serves it in the list's and the
/// detail's shapes.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub direction: String,
    pub channel: String,
    pub consumer_number: String,
    pub flow: (String, String),
    /// Queues in order: the last is the final one.
    pub queues: Vec<(String, String)>,
    /// Agents in order: the last is the final one.
    pub agents: Vec<(String, String)>,
    pub talk_s: i64,
    pub waiting_s: i64,
    pub handling_s: i64,
    pub wrap_up_s: i64,
    pub transfer_count: i64,
    pub disposition: Option<(String, String)>,
}

impl Call {
    /// An answered inbound voice call: queued `waiting_s`, talked `talk_s`, wrapped up
    /// `wrap_up_s`, ending at the end of the talk.
    pub fn answered(
        id: &str,
        start: Timestamp,
        waiting_s: i64,
        talk_s: i64,
        wrap_up_s: i64,
    ) -> Self {
        let end = start.saturating_add_millis((waiting_s + talk_s) * 1000);
        Self {
            id: id.to_owned(),
            start,
            end,
            direction: "inbound".into(),
            channel: "voice".into(),
            consumer_number: "+14155550123".into(),
            flow: ("FkGXpgpWQIi0qkCvxLvw5Q".into(), "Main line".into()),
            queues: vec![("q-sales".into(), "Sales".into())],
            agents: vec![("u-ana".into(), "Ana Agent".into())],
            talk_s,
            waiting_s,
            handling_s: talk_s + wrap_up_s,
            wrap_up_s,
            transfer_count: 0,
            disposition: Some(("d1".into(), "Resolved".into())),
        }
    }

    fn common(&self) -> serde_json::Map<String, Value> {
        let at = |t: Timestamp| format!("{}Z", &t.to_iso()[..19]);
        let value = json!({
            "engagement_id": self.id,
            "start_time": at(self.start),
            "end_time": at(self.end),
            "duration": (self.end.unix_millis() - self.start.unix_millis()) / 1000,
            "direction": self.direction,
            "channels": [{"channel": self.channel}],
            "consumers": [{"consumer_id": format!("c-{}", self.id), "consumer_display_name": "Jo Caller",
                "consumer_number": self.consumer_number}],
            "flows": [{"flow_id": self.flow.0, "flow_name": self.flow.1, "flow_version": "3"}],
            "queues": self.queues.iter().map(|(id, name)| json!({"cc_queue_id": id, "queue_name": name})).collect::<Vec<_>>(),
            "agents": self.agents.iter().map(|(id, name)| json!({"user_id": id, "display_name": name})).collect::<Vec<_>>(),
            "talk_duration": self.talk_s,
            "flow_duration": 2,
            "waiting_duration": self.waiting_s,
            "handling_duration": self.handling_s,
            "wrap_up_duration": self.wrap_up_s,
            "dispositions": self.disposition.iter().map(|(id, name)| json!({"disposition_id": id, "disposition_name": name})).collect::<Vec<_>>(),
            "notes": [],
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    /// A row of `GET /contact_center/engagements`'s `engagements[]`.
    pub fn list_row(&self) -> Value {
        let mut row = self.common();
        row.insert("transfer_count".into(), json!(self.transfer_count));
        Value::Object(row)
    }

    /// `GET /contact_center/engagements/{engagementId}`: the list's fields minus
    /// `transfer_count`, plus `queue_wait_type`, `voice_mail` and `events[]`.
    pub fn detail(&self) -> Value {
        let mut detail = self.common();
        detail.insert("queue_wait_type".into(), json!("live_waiting"));
        detail.insert("voice_mail".into(), json!(0));
        let at = |t: Timestamp| format!("{}Z", &t.to_iso()[..19]);
        let answered = self.start.saturating_add_millis(self.waiting_s * 1000);
        let mut events = vec![
            json!({"start_time": at(self.start), "event_type": "Engagement Start",
            "channel": self.channel, "direction": self.direction, "flow_id": self.flow.0, "flow_name": self.flow.1}),
        ];
        if let Some((user_id, name)) = self.agents.last() {
            events.push(json!({"start_time": at(answered), "event_type": "Agent Accept",
                "channel": self.channel, "user_id": user_id, "user_display_name": name, "accept_type": "manual"}));
        }
        detail.insert("events".into(), Value::Array(events));
        Value::Object(detail)
    }
}

/// A row of `GET /marketplace/apps/{appId}/webhook_logs`'s `webhook_logs[]`: one failed
/// attempt to deliver `body` (answered `status` by our endpoint).
pub fn failed_delivery(
    body: &str,
    at: Timestamp,
    status: i64,
    retry_num: i64,
    request_id: &str,
) -> Value {
    let event = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("event").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    json!({
        "event": event,
        "status": status,
        "failed_reason_type": 0,
        "user_id": "",
        "endpoint": "https://abc123.lambda-url.us-east-1.on.aws/",
        "subscription_id": "sub-zcc-1",
        "request_headers": "{\"content-type\":\"application/json; charset=utf-8\"}",
        "request_body": body,
        "response_headers": "{\"content-type\":\"application/json\"}",
        "response_body": "{\"error\":{\"code\":\"signature_mismatch\",\"message\":\"...\"}}",
        "date_time": format!("{}Z", &at.to_iso()[..19]),
        "trace_id": format!("trace-{request_id}-{retry_num}"),
        "request_id": request_id,
        "retry_num": retry_num,
    })
}

struct Inner {
    token_lifetime: Duration,
    page_token_lifetime: Duration,
    tokens: HashMap<String, Instant>,
    issued: u64,
    calls: BTreeMap<(Timestamp, String), Call>,
    logs: Vec<Value>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    empty_details: HashMap<String, u32>,
    requests: HashMap<Endpoint, Vec<Instant>>,
    page_tokens: HashMap<String, (Instant, usize)>,
}

type Shared = Arc<Mutex<Inner>>;

/// The stand-in, serving until dropped.
pub struct ZoomApiStandIn {
    addr: SocketAddr,
    inner: Shared,
    shutdown: Option<oneshot::Sender<()>>,
}

impl ZoomApiStandIn {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            token_lifetime: Duration::from_secs(3600),
            page_token_lifetime: Duration::from_secs(15 * 60),
            tokens: HashMap::new(),
            issued: 0,
            calls: BTreeMap::new(),
            logs: Vec::new(),
            faults: HashMap::new(),
            empty_details: HashMap::new(),
            requests: HashMap::new(),
            page_tokens: HashMap::new(),
        }));
        let router = Router::new()
            .route("/oauth/token", post(oauth))
            .route("/v2/contact_center/engagements", get(engagements))
            .route("/v2/contact_center/engagements/{id}", get(engagement))
            .route(
                "/v2/marketplace/apps/{app_id}/webhook_logs",
                get(webhook_logs),
            )
            .with_state(inner.clone());
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
            inner,
            shutdown: Some(shutdown),
        })
    }

    /// The `ZOOM_API_URL` to use.
    pub fn api_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The `ZOOM_OAUTH_URL` to use.
    pub fn oauth_url(&self) -> String {
        format!("http://{}/oauth/token", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().expect("not poisoned"))
    }

    /// How long the tokens it issues from now on live (Zoom: an hour).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.with(|i| i.token_lifetime = lifetime);
    }

    /// How long its page tokens live (Zoom: 15 minutes).
    pub fn set_page_token_lifetime(&self, lifetime: Duration) {
        self.with(|i| i.page_token_lifetime = lifetime);
    }

    pub fn add_call(&self, call: Call) {
        self.with(|i| {
            i.calls.retain(|(_, id), _| *id != call.id);
            i.calls.insert((call.start, call.id.clone()), call);
        });
    }

    /// Adds a row to the app's webhook logs.
    pub fn add_webhook_log(&self, row: Value) {
        self.with(|i| i.logs.push(row));
    }

    /// The next request to `endpoint` gets `fault` (faults queue up in order).
    pub fn inject(&self, endpoint: Endpoint, fault: Fault) {
        self.with(|i| i.faults.entry(endpoint).or_default().push_back(fault));
    }

    /// The next `times` details of `id` are empty, as just after the engagement ended.
    pub fn empty_detail(&self, id: &str, times: u32) {
        self.with(|i| i.empty_details.insert(id.to_owned(), times));
    }

    /// Every token issued so far expires now.
    pub fn expire_tokens(&self) {
        self.with(|i| {
            let past = Instant::now();
            for expiry in i.tokens.values_mut() {
                *expiry = past;
            }
        });
    }

    pub fn requests(&self, endpoint: Endpoint) -> usize {
        self.with(|i| i.requests.get(&endpoint).map_or(0, Vec::len))
    }

    /// When each request to `endpoint` arrived.
    pub fn request_times(&self, endpoint: Endpoint) -> Vec<Instant> {
        self.with(|i| i.requests.get(&endpoint).cloned().unwrap_or_default())
    }

    pub fn tokens_issued(&self) -> u64 {
        self.with(|i| i.issued)
    }
}

impl Drop for ZoomApiStandIn {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn zoom_error(status: StatusCode, code: i64, message: &str) -> Response {
    json_response(status, json!({"code": code, "message": message}))
}

fn query_of(uri: &Uri) -> HashMap<String, String> {
    let decode = |text: &str| -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Counts the request and takes its injected fault, if any: an expired page token waits
/// for a request that has one.
fn arrive(inner: &Shared, endpoint: Endpoint, has_page_token: bool) -> Option<Fault> {
    let mut i = inner.lock().expect("not poisoned");
    i.requests.entry(endpoint).or_default().push(Instant::now());
    let queue = i.faults.get_mut(&endpoint)?;
    if queue.front() == Some(&Fault::ExpiredPageToken) && !has_page_token {
        return None;
    }
    queue.pop_front()
}

/// The answer a fault gives, when it is one this request can get.
fn faulted(fault: Option<Fault>, has_page_token: bool) -> Option<Response> {
    Some(match fault? {
        Fault::TooManyRequests { retry_after } => {
            let mut response = zoom_error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            );
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", after.to_string().parse().expect("digits"));
            }
            response
        }
        Fault::ServerError(status) => zoom_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            status.into(),
            "Internal server error.",
        ),
        Fault::Html => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>Zoom</title></head><body>Service temporarily unavailable</body></html>",
        )
            .into_response(),
        Fault::ExpiredToken => {
            zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.")
        }
        Fault::ExpiredPageToken if has_page_token => zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "The next page token is invalid or expired.",
        ),
        Fault::ExpiredPageToken | Fault::EmptyDetail => return None,
    })
}

/// The bearer token's check: 401 code 124 unless it is one we issued and it has not expired.
fn authorized(inner: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let i = inner.lock().expect("not poisoned");
    match token.and_then(|t| i.tokens.get(t)) {
        Some(expiry) if Instant::now() < *expiry => Ok(()),
        _ => Err(Box::new(zoom_error(
            StatusCode::UNAUTHORIZED,
            124,
            "Invalid access token.",
        ))),
    }
}

async fn oauth(State(inner): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    if let Some(response) = faulted(arrive(&inner, Endpoint::OAuth, false), false) {
        return response;
    }
    let query = query_of(&uri);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
        );
    }
    if query.get("grant_type").map(String::as_str) != Some("account_credentials") {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"reason": "Unsupported grant type", "error": "unsupported_grant_type"}),
        );
    }
    if query.get("account_id").map(String::as_str) != Some(ACCOUNT_ID) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"reason": "Invalid account_id", "error": "invalid_request"}),
        );
    }
    let mut i = inner.lock().expect("not poisoned");
    i.issued += 1;
    let token = format!("eyJzdGFuZC1pbi{}", i.issued);
    let lifetime = i.token_lifetime;
    i.tokens.insert(token.clone(), Instant::now() + lifetime);
    json_response(
        StatusCode::OK,
        json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime.as_secs(),
            "scope": "contact_center_report:read:admin marketplace_app:read:admin",
            "api_url": "https://api.zoom.us"}),
    )
}

fn zoom_time(text: Option<&String>) -> Option<Timestamp> {
    let text = text?;
    if text.len() == 10 {
        Timestamp::parse(&format!("{text}T00:00:00Z")).ok()
    } else {
        Timestamp::parse(text).ok()
    }
}

/// A page of `items` after the request's page token (or from the start), and the token of
/// the next page: the 400 Zoom answers for an unknown or expired page token otherwise.
fn page(
    inner: &Shared,
    query: &HashMap<String, String>,
    total: usize,
    max_size: usize,
    default_size: usize,
) -> Result<(usize, usize, Option<String>), Box<Response>> {
    let size = query
        .get("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(default_size)
        .clamp(1, max_size);
    let mut i = inner.lock().expect("not poisoned");
    let start = match query.get("next_page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => match i.page_tokens.get(token) {
            Some((expiry, offset)) if Instant::now() < *expiry => *offset,
            _ => {
                return Err(Box::new(zoom_error(
                    StatusCode::BAD_REQUEST,
                    300,
                    "The next page token is invalid or expired.",
                )));
            }
        },
    };
    let end = (start + size).min(total);
    let next = (end < total).then(|| {
        let token = format!("pt{}x{}", i.page_tokens.len() + 1, end);
        let expiry = Instant::now() + i.page_token_lifetime;
        i.page_tokens.insert(token.clone(), (expiry, end));
        token
    });
    Ok((start, end, next))
}

async fn engagements(State(inner): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let query = query_of(&uri);
    let fault = arrive(
        &inner,
        Endpoint::Engagements,
        query.contains_key("next_page_token"),
    );
    if let Err(response) = authorized(&inner, &headers) {
        return *response;
    }
    if let Some(response) = faulted(fault, query.contains_key("next_page_token")) {
        return response;
    }
    // Zoom: `to` is required with `from`; no `from` means the last 24 hours.
    let now = Timestamp::now();
    let from = zoom_time(query.get("from"))
        .unwrap_or_else(|| Timestamp::from_unix_millis(now.unix_millis() - 86_400_000));
    let to = match query.get("to") {
        Some(to) if to.len() == 10 => {
            zoom_time(Some(to)).map(|t| t.saturating_add_millis(86_399_999))
        }
        Some(to) => zoom_time(Some(to)),
        None if query.contains_key("from") => {
            return zoom_error(
                StatusCode::BAD_REQUEST,
                300,
                "The to parameter is required.",
            );
        }
        None => Some(now),
    };
    let Some(to) = to else {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid to.");
    };
    // Whole seconds: a `to` of 10:00:00 takes in everything that started in that second.
    let to = Timestamp::from_unix_millis(to.unix_seconds() * 1000 + 999);
    let rows: Vec<Value> = {
        let i = inner.lock().expect("not poisoned");
        i.calls
            .values()
            .filter(|c| c.start >= from && c.start <= to)
            .map(Call::list_row)
            .collect()
    };
    let (start, end, next) = match page(&inner, &query, rows.len(), 100, 10) {
        Ok(page) => page,
        Err(response) => return *response,
    };
    json_response(
        StatusCode::OK,
        json!({"next_page_token": next.unwrap_or_default(), "page_size": end - start,
            "total_records": rows.len(), "timezone": query.get("timezone").cloned().unwrap_or_else(|| "UTC".into()),
            "from": query.get("from"), "to": query.get("to"),
            "engagements": rows[start..end]}),
    )
}

async fn engagement(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let fault = arrive(&inner, Endpoint::Engagement, false);
    if let Err(response) = authorized(&inner, &headers) {
        return *response;
    }
    let empty_fault = fault == Some(Fault::EmptyDetail);
    if let Some(response) = faulted(fault, false) {
        return response;
    }
    let mut i = inner.lock().expect("not poisoned");
    let empty = match i.empty_details.get_mut(&id) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => empty_fault,
    };
    if empty {
        return json_response(StatusCode::OK, json!({}));
    }
    match i.calls.values().find(|c| c.id == id) {
        Some(call) => json_response(StatusCode::OK, call.detail()),
        None => zoom_error(
            StatusCode::NOT_FOUND,
            2901,
            &format!("Engagement does not exist: {id}."),
        ),
    }
}

async fn webhook_logs(
    State(inner): State<Shared>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = query_of(&uri);
    let fault = arrive(
        &inner,
        Endpoint::WebhookLogs,
        query.contains_key("next_page_token"),
    );
    if let Err(response) = authorized(&inner, &headers) {
        return *response;
    }
    if let Some(response) = faulted(fault, query.contains_key("next_page_token")) {
        return response;
    }
    if app_id != APP_ID {
        return zoom_error(
            StatusCode::NOT_FOUND,
            1401,
            &format!("APP ID does not exist: {app_id}."),
        );
    }
    let now = Timestamp::now();
    let week_ago = Timestamp::from_unix_millis(now.unix_millis() - 7 * 86_400_000);
    let (Some(from), Some(to)) = (zoom_time(query.get("from")), zoom_time(query.get("to"))) else {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "from and to are required.");
    };
    if to < from {
        return zoom_error(
            StatusCode::NOT_FOUND,
            1501,
            "The 'to' date must be after the 'from' date.",
        );
    }
    if from < week_ago {
        return zoom_error(
            StatusCode::NOT_FOUND,
            1502,
            "The date range must be within the last seven days.",
        );
    }
    let to = Timestamp::from_unix_millis(to.unix_seconds() * 1000 + 999);
    let kind = query.get("type").map(String::as_str).unwrap_or("1");
    let rows: Vec<Value> = {
        let i = inner.lock().expect("not poisoned");
        i.logs
            .iter()
            .filter(|row| {
                let at = row["date_time"]
                    .as_str()
                    .and_then(|t| Timestamp::parse(t).ok());
                let status = row["status"].as_i64().unwrap_or(-1);
                let failed = !(200..300).contains(&status);
                at.is_some_and(|at| at >= from && at <= to)
                    && match kind {
                        "2" => failed,
                        "3" => !failed,
                        _ => true,
                    }
            })
            .cloned()
            .collect()
    };
    let (start, end, next) = match page(&inner, &query, rows.len(), 300, 30) {
        Ok(page) => page,
        Err(response) => return *response,
    };
    json_response(
        StatusCode::OK,
        json!({"next_page_token": next.unwrap_or_default(), "page_size": end - start,
            "webhook_logs": rows[start..end]}),
    )
}
