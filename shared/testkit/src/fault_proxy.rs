//! A TCP proxy that injects faults between an SDK client and a DynamoDB server (dynoxide), so
//! that the store is tried against what a real network and a real DynamoDB do to it: refused
//! and dropped connections, answers slower than the SDK waits, HTTP 500s, throttling, and
//! connections cut after the server did the work but before its answer came back.
//!
//! It speaks just enough HTTP/1.1 to find where each request and answer ends (`Content-Length`
//! framed, or chunked answers), so that every request on a kept-alive connection is decided on
//! by itself. What it injects is switched at run time ([`FaultProxy::set`]); a [`Rule`] applies
//! to every request or to a seeded random fraction of them, and optionally only to one
//! operation (the `X-Amz-Target`: `PutItem`, `GetItem`...). Nothing here imitates DynamoDB:
//! every request that is let through is answered by the real server behind.
//!
//! ```ignore
//! let db = EmbeddedDynamo::memory().await?;
//! let proxy = FaultProxy::start(db.addr(), 7).await;
//! let client = functions_client(&proxy.endpoint()).await; // the functions' SDK config
//! proxy.set(Rule::every(Fault::CutAfterForward).only("PutItem"));
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does to a request a [`Rule`] picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Connections are refused. While this is the rule for every request, nothing listens on
    /// the proxy's port (a connect fails with `ECONNREFUSED`) and open connections are reset;
    /// as a fraction, or for one operation, the connection a picked request arrives on is
    /// reset, and so is a picked new connection as soon as it is accepted.
    Refuse,
    /// The connection is reset when a picked request arrives: nothing is forwarded.
    Drop,
    /// The request is held this long, then forwarded and its answer relayed (to a client that
    /// has probably given up by then): a slow DynamoDB, whose write may land late.
    Delay(Duration),
    /// `500` with DynamoDB's `InternalServerError`; nothing is forwarded.
    InternalError,
    /// `400` with `ThrottlingException`; nothing is forwarded.
    Throttling,
    /// `400` with `ProvisionedThroughputExceededException`; nothing is forwarded.
    ProvisionedThroughputExceeded,
    /// The request is forwarded and answered by the server, then the connection is reset
    /// instead of relaying the answer: the write happened, the client cannot know it.
    CutAfterForward,
}

impl Fault {
    /// Every kind, in the order [`Stats::injected`] reports them.
    pub const KINDS: [&'static str; 7] = [
        "refuse",
        "drop",
        "delay",
        "500 InternalServerError",
        "400 ThrottlingException",
        "400 ProvisionedThroughputExceeded",
        "cut after forward",
    ];

    pub fn kind(self) -> &'static str {
        Self::KINDS[self.index()]
    }

    fn index(self) -> usize {
        match self {
            Fault::Refuse => 0,
            Fault::Drop => 1,
            Fault::Delay(_) => 2,
            Fault::InternalError => 3,
            Fault::Throttling => 4,
            Fault::ProvisionedThroughputExceeded => 5,
            Fault::CutAfterForward => 6,
        }
    }
}

/// Which requests get a fault: a fraction of them (1.0: all), optionally only those of one
/// operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub fault: Fault,
    pub fraction: f64,
    /// The operation, as the end of `X-Amz-Target` names it (`PutItem`, `GetItem`...).
    pub operation: Option<&'static str>,
}

impl Rule {
    pub fn every(fault: Fault) -> Self {
        Self {
            fault,
            fraction: 1.0,
            operation: None,
        }
    }

    pub fn fraction(fault: Fault, fraction: f64) -> Self {
        Self {
            fault,
            fraction,
            operation: None,
        }
    }

    /// The same rule for `operation`'s requests only.
    pub fn only(self, operation: &'static str) -> Self {
        Self {
            operation: Some(operation),
            ..self
        }
    }

    fn matches(&self, operation: Option<&str>) -> bool {
        self.operation
            .is_none_or(|wanted| operation == Some(wanted))
    }

    /// Whether no connection can be made at all.
    fn refuses_everything(&self) -> bool {
        self.fault == Fault::Refuse && self.fraction >= 1.0 && self.operation.is_none()
    }
}

/// What the proxy has seen and done since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests read from clients (a refused connection carries none).
    pub requests: u64,
    /// Requests the server answered (and the answer was relayed, unless cut).
    pub forwarded: u64,
    /// Connections reset as soon as they were accepted.
    pub refused_connections: u64,
    /// Times the port was closed (every connection refused until it opened again).
    pub port_closed: u64,
    /// Faults injected, by [`Fault::kind`]: under `refuse`, the connections reset on accept,
    /// the requests whose connection was reset, and the times the port was closed.
    pub injected: BTreeMap<&'static str, u64>,
}

impl Stats {
    pub fn faults(&self) -> u64 {
        self.injected.values().sum()
    }
}

struct Shared {
    upstream: SocketAddr,
    rule: watch::Sender<Option<Rule>>,
    rng: Mutex<u64>,
    requests: AtomicU64,
    forwarded: AtomicU64,
    refused_connections: AtomicU64,
    port_closed: AtomicU64,
    injected: [AtomicU64; 7],
    /// Requests read and not yet done with (held, forwarded, answered): see
    /// [`FaultProxy::settle`].
    in_flight: AtomicUsize,
}

impl Shared {
    /// Whether the current rule picks a request of `operation` (`None`: a new connection).
    fn pick(&self, operation: Option<&str>, on_accept: bool) -> Option<Fault> {
        let rule = (*self.rule.borrow())?;
        if on_accept {
            // A new connection carries no operation yet: only a refusal applies to it.
            if rule.fault != Fault::Refuse || rule.operation.is_some() {
                return None;
            }
        } else if !rule.matches(operation) {
            return None;
        }
        (rule.fraction >= 1.0 || self.roll() < rule.fraction).then_some(rule.fault)
    }

    /// A uniform number in [0, 1) from the seeded generator (xorshift64*).
    fn roll(&self) -> f64 {
        let mut state = self.rng.lock().expect("the generator");
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let n = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (n >> 11) as f64 / (1u64 << 53) as f64
    }

    fn count(&self, fault: Fault) {
        self.injected[fault.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// A running fault proxy in front of one server. Dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream`, letting everything through;
    /// `seed` makes its choice of requests repeatable.
    pub async fn start(upstream: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let (rule, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            upstream,
            rule,
            rng: Mutex::new(seed.max(1)),
            requests: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
            port_closed: AtomicU64::new(0),
            injected: Default::default(),
            in_flight: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, addr, shared.clone()));
        Self { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Injects `rule`'s fault from the next request on.
    pub fn set(&self, rule: Rule) {
        self.shared.rule.send_replace(Some(rule));
    }

    /// Lets everything through again.
    pub fn pass_through(&self) {
        self.shared.rule.send_replace(None);
    }

    pub fn rule(&self) -> Option<Rule> {
        *self.shared.rule.borrow()
    }

    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        let mut injected: BTreeMap<&'static str, u64> = Fault::KINDS
            .iter()
            .zip(&s.injected)
            .map(|(kind, n)| (*kind, n.load(Ordering::Relaxed)))
            .collect();
        let refused = s.refused_connections.load(Ordering::Relaxed);
        let port_closed = s.port_closed.load(Ordering::Relaxed);
        *injected.entry(Fault::Refuse.kind()).or_default() += refused + port_closed;
        Stats {
            requests: s.requests.load(Ordering::Relaxed),
            forwarded: s.forwarded.load(Ordering::Relaxed),
            refused_connections: refused,
            port_closed,
            injected,
        }
    }

    /// Waits until no request is held or being forwarded: a delayed write has landed (or been
    /// refused) by the time this returns.
    pub async fn settle(&self) {
        while self.shared.in_flight.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections while listening is allowed; closes the port while the rule refuses
/// every connection, and opens the same port again when it no longer does.
async fn accept_loop(listener: TcpListener, addr: SocketAddr, shared: Arc<Shared>) {
    let mut rules = shared.rule.subscribe();
    let mut listener = Some(listener);
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let refusing = rules
            .borrow_and_update()
            .is_some_and(|r| r.refuses_everything());
        if refusing {
            // Not listening: connects are refused; what was open is reset.
            if listener.take().is_some() {
                shared.port_closed.fetch_add(1, Ordering::Relaxed);
            }
            for connection in connections.drain(..) {
                connection.abort();
            }
            if rules.changed().await.is_err() {
                return;
            }
            continue;
        }
        let current = match &listener {
            Some(listener) => listener,
            None => listener.insert(rebind(addr).await),
        };
        tokio::select! {
            accepted = current.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.retain(|c| !c.is_finished());
                if shared.pick(None, true).is_some() {
                    shared.refused_connections.fetch_add(1, Ordering::Relaxed);
                    reset(stream);
                    continue;
                }
                connections.push(tokio::spawn(serve(stream, shared.clone())));
            }
            changed = rules.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// The proxy's own port again, once the refusal is over. Another socket could take it in
/// between; on loopback that is rare enough to retry for a while and then say so.
async fn rebind(addr: SocketAddr) -> TcpListener {
    for _ in 0..200 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fault proxy cannot listen on {addr} again");
}

/// Closes a connection with a reset (RST), as a crashed peer or a dropped route does, not
/// with an orderly FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Marks a request as in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One client connection: each request on it is decided on by itself.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut from_client = Vec::new();
    let mut upstream: Option<(TcpStream, Vec<u8>)> = None;
    loop {
        let Some(request) = read_message(&mut client, &mut from_client, Framing::Request).await
        else {
            return;
        };
        let _in_flight = InFlight::new(&shared.in_flight);
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let operation = request.header("x-amz-target").and_then(|target| {
            target
                .rsplit_once('.')
                .map(|(_, operation)| operation.to_owned())
        });
        let fault = shared.pick(operation.as_deref(), false);
        if let Some(fault) = fault {
            shared.count(fault);
        }
        match fault {
            Some(Fault::Refuse | Fault::Drop) => {
                reset(client);
                return;
            }
            Some(Fault::InternalError) => {
                let answer = dynamodb_error(
                    500,
                    "Internal Server Error",
                    "InternalServerError",
                    "Internal server error",
                );
                if client.write_all(&answer).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::Throttling) => {
                let answer = dynamodb_error(
                    400,
                    "Bad Request",
                    "ThrottlingException",
                    "Rate of requests exceeds the allowed throughput.",
                );
                if client.write_all(&answer).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::ProvisionedThroughputExceeded) => {
                let answer = dynamodb_error(
                    400,
                    "Bad Request",
                    "ProvisionedThroughputExceededException",
                    "The level of configured provisioned throughput for the table was exceeded. \
                     Consider increasing your provisioning level with the UpdateTable API.",
                );
                if client.write_all(&answer).await.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::Delay(by)) => tokio::time::sleep(by).await,
            Some(Fault::CutAfterForward) | None => {}
        }
        let Some(answer) = forward(&shared, &mut upstream, &request.bytes).await else {
            // The server did not answer: neither can we.
            reset(client);
            return;
        };
        shared.forwarded.fetch_add(1, Ordering::Relaxed);
        if fault == Some(Fault::CutAfterForward) {
            reset(client);
            return;
        }
        if client.write_all(&answer.bytes).await.is_err() {
            return;
        }
    }
}

/// Sends `request` to the server on this connection's upstream connection (opened on first
/// use) and reads its whole answer. A kept-alive upstream connection found closed before any
/// byte of the answer is opened afresh and the request sent once more: the server never read
/// it.
async fn forward(
    shared: &Shared,
    upstream: &mut Option<(TcpStream, Vec<u8>)>,
    request: &[u8],
) -> Option<Message> {
    for _ in 0..2 {
        let reused = upstream.is_some();
        if upstream.is_none() {
            let stream = TcpStream::connect(shared.upstream).await.ok()?;
            let _ = stream.set_nodelay(true);
            *upstream = Some((stream, Vec::new()));
        }
        let (stream, buffer) = upstream.as_mut()?;
        let sent = stream.write_all(request).await.is_ok();
        let answer = if sent {
            read_message(stream, buffer, Framing::Response).await
        } else {
            None
        };
        match answer {
            Some(answer) => {
                if answer.closes {
                    *upstream = None;
                }
                return Some(answer);
            }
            None => {
                let untouched = buffer.is_empty();
                *upstream = None;
                if !(reused && untouched) {
                    return None;
                }
            }
        }
    }
    None
}

/// A DynamoDB error answer as AWS sends it (awsJson1_0).
fn dynamodb_error(status: u16, reason: &str, error: &str, message: &str) -> Vec<u8> {
    let body =
        format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error}","message":"{message}"}}"#);
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         content-type: application/x-amz-json-1.0\r\n\
         x-amzn-requestid: ZCCFAULTPROXY{status}{len}\r\n\
         content-length: {len}\r\n\
         \r\n\
         {body}",
        len = body.len()
    )
    .into_bytes()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Request,
    Response,
}

/// One HTTP/1.1 message, as the bytes that carried it.
struct Message {
    bytes: Vec<u8>,
    headers: Vec<(String, String)>,
    /// The sender closes the connection after it.
    closes: bool,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one message from `stream`, `buffer` holding what was read past the previous one.
/// `None` when the connection ends (cleanly between messages, or not) or the message is not
/// HTTP/1.1 as this proxy understands it.
async fn read_message(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    framing: Framing,
) -> Option<Message> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        fill(stream, buffer).await?;
    };
    let head = std::str::from_utf8(&buffer[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let start = lines.next()?;
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let http10 = start.starts_with("HTTP/1.0") || start.ends_with("HTTP/1.0");
    let closes = value("connection").is_some_and(|v| v.contains("close"))
        || (http10 && !value("connection").is_some_and(|v| v.contains("keep-alive")));
    let chunked = value("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length = value("content-length").and_then(|v| v.parse::<usize>().ok());
    let no_body = framing == Framing::Response && {
        let status = start.split(' ').nth(1).unwrap_or("");
        status.starts_with('1') || status == "204" || status == "304"
    };
    let end = if no_body {
        head_end
    } else if chunked {
        chunked_end(stream, buffer, head_end).await?
    } else if let Some(length) = length {
        while buffer.len() < head_end + length {
            fill(stream, buffer).await?;
        }
        head_end + length
    } else if framing == Framing::Response {
        // Delimited by the end of the connection.
        while fill(stream, buffer).await.is_some() {}
        buffer.len()
    } else {
        head_end
    };
    let bytes: Vec<u8> = buffer.drain(..end).collect();
    Some(Message {
        bytes,
        headers,
        closes,
    })
}

/// Where a chunked body that starts at `from` ends (after its last chunk and trailers).
async fn chunked_end(stream: &mut TcpStream, buffer: &mut Vec<u8>, from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let line_end = loop {
            if let Some(i) = find(&buffer[at..], b"\r\n") {
                break at + i;
            }
            fill(stream, buffer).await?;
        };
        let size_text = std::str::from_utf8(&buffer[at..line_end]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let line_end = loop {
                    if let Some(i) = find(&buffer[at..], b"\r\n") {
                        break at + i;
                    }
                    fill(stream, buffer).await?;
                };
                let empty = line_end == at;
                at = line_end + 2;
                if empty {
                    return Some(at);
                }
            }
        }
        while buffer.len() < at + size + 2 {
            fill(stream, buffer).await?;
        }
        at += size + 2;
    }
}

/// Reads more of `stream` into `buffer`; `None` at its end or on an error.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An SDK client for the DynamoDB at `endpoint` configured as the functions configure theirs
/// ([`zcc_shared::aws::sdk_config`]: its timeouts, retries and HTTP client), with a
/// local region and test credentials. The tests' `client_for` sets no timeouts: behind a
/// fault proxy, the functions' own configuration is what is under test.
pub async fn functions_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{Credentials, Region};
    let config = zcc_shared::aws::sdk_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zcc-faults"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
