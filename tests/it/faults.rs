//! Faults, injected for real. The zoom-webhook and flow-events handlers, fed function-URL
//! events, store through the functions' own SDK configuration (timeouts, retries, HTTP
//! client) into dynoxide, with a TCP proxy in between ([`zcc_testkit::fault_proxy`]) that
//! refuses or drops connections, answers late, answers 500 or throttles, or cuts the
//! connection after the server did the work. The table is read back through a client that is
//! not behind the proxy.
//!
//! Under every fault, each answer is 503 (Zoom retries) or 200, and 200 only when the event's
//! raw item is stored and its merge is in the state; no state ever holds half an event (it is
//! exactly the in-order merge of the events it says it merged); every answer comes within the
//! 3 s Zoom waits. When the store comes back, Zoom's retries of every delivery not answered
//! 200 (and duplicates of some that were) converge to the state one in-order, duplicate-free
//! delivery gives, with each event stored raw once.
//!
//! `ZCC_FAULT_DELIVERIES=50000 cargo test --release -p zcc-e2e --test it faults -- --nocapture`
//! runs the long scenario at scale (default: a few thousand deliveries).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use flow_events::{FlowEvents, FlowToken};
use serde_json::{Value, json};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Subject};
use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::merge::State;
use zcc_domain::samples::{agent_webhook, realistic_call};
use zcc_domain::signature::{SecretTokens, SignatureVerifier};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::attributes::from_item;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::dynamodb::state_item::encode_state;
use zcc_shared::edge::function_url::{function_url_event, lambda_request};
use zcc_testkit::fault_proxy::{Fault, FaultProxy, Rule, functions_client};
use zcc_testkit::{authentic, signed_webhook_event};
use zoom_webhook::{ZoomSignature, ZoomWebhook};

const TABLE: &str = "zcc-faults";
const SECRET: &str = "faults-webhook-secret";
const FLOW_TOKEN: &str = "faults-flow-token";
/// How long Zoom waits for an answer before it counts the delivery as failed.
const ZOOM_WAITS: Duration = Duration::from_secs(3);
/// Zoom's first delivery and its retries.
const MAX_ATTEMPTS: u32 = 5;
/// Deliveries in flight at once in the long scenario: a delivery that meets a fault waits
/// seconds, the others go on. More would keep the two cores of a CI machine so busy that
/// answers wait for a core, which is not what the 3 s bound is about.
const WORKERS: u64 = 24;

/// One scenario at a time: each runs many deliveries at once, and the time of each answer is
/// checked, so scenarios running side by side would measure each other.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How often the long scenario says how far it is.
const PROGRESS_EVERY: u64 = 5_000;

// ---------------------------------------------------------------------------------------
// What is delivered, and what each record must end as.

/// One distinct event as Zoom (or a Flow script) sends it, and where it must end up.
struct Event {
    body: String,
    flow: bool,
    parsed: AuthenticEvent,
    pk: String,
    sk: String,
    key: String,
}

impl Event {
    fn new(body: String, flow: bool) -> Self {
        let parsed = if flow {
            authentic::flow(&body)
        } else {
            authentic::webhook(&body)
        };
        assert!(parsed.is_timed(), "the expected state needs timed events");
        Self {
            pk: schema::partition(parsed.subject(), parsed.occurred_at()),
            sk: schema::event_sk(parsed.occurred_at(), parsed.event_id().as_str()),
            key: parsed.event_id().key(),
            body,
            flow,
            parsed,
        }
    }
}

/// A state item's record: its id, and its events in the order they happened.
struct Record {
    id: String,
    agent: bool,
    events: Vec<usize>,
}

/// Every distinct event, the records they make, and the deliveries of the first round (an
/// event may be delivered more than once: Zoom sends duplicates).
#[derive(Default)]
struct World {
    events: Vec<Event>,
    records: BTreeMap<String, Record>,
    by_key: HashMap<(String, String), usize>,
    deliveries: Vec<usize>,
}

impl World {
    /// Adds a delivery of `body`; a body already known (or the same event re-serialised) is
    /// delivered again, not counted twice.
    fn deliver(&mut self, body: String, flow: bool) {
        let event = Event::new(body, flow);
        let slot = (event.pk.clone(), event.key.clone());
        let index = match self.by_key.get(&slot) {
            Some(index) => *index,
            None => {
                let index = self.events.len();
                let (id, agent) = match event.parsed.subject() {
                    Subject::Engagement(id) => (id.as_str().to_owned(), false),
                    Subject::Agent(id) => (id.as_str().to_owned(), true),
                    Subject::Unrouted => panic!("the scenarios route every event"),
                };
                self.records
                    .entry(event.pk.clone())
                    .or_insert_with(|| Record {
                        id,
                        agent,
                        events: Vec::new(),
                    })
                    .events
                    .push(index);
                self.by_key.insert(slot, index);
                self.events.push(event);
                index
            }
        };
        self.deliveries.push(index);
    }

    /// Orders each record's events as they happened, and the deliveries roughly so (Zoom
    /// sends as things happen, not quite in order): by event time, `jitter_ms` either way.
    fn arrange(&mut self, rng: &mut Dice, jitter_ms: i64) {
        let events = &self.events;
        for record in self.records.values_mut() {
            record
                .events
                .sort_by_key(|&i| (events[i].parsed.occurred_at(), events[i].key.clone()));
        }
        let mut keyed: Vec<(i64, usize)> = self
            .deliveries
            .iter()
            .map(|&i| {
                let at = events[i].parsed.occurred_at().unix_millis();
                (at + rng.between(-jitter_ms, jitter_ms), i)
            })
            .collect();
        keyed.sort();
        self.deliveries = keyed.into_iter().map(|(_, i)| i).collect();
    }
}

/// Realistic calls (sixteen events each, one of them a Flow POST) starting a few minutes
/// apart, and agents changing status every few minutes (all within the hours an agent's
/// record remembers events for: Zoom retries within 85 minutes).
fn add_calls(world: &mut World, prefix: &str, calls: usize, start: Timestamp) {
    for n in 0..calls {
        let begins = start.saturating_add_millis(n as i64 * 97_000);
        for (webhook, body) in realistic_call(&format!("{prefix}{n:05}"), begins) {
            world.deliver(body.to_string(), !webhook);
        }
    }
}

fn add_agents(world: &mut World, agents: usize, changes: usize, start: Timestamp) {
    const STATUSES: [&str; 3] = ["Ready", "Not Ready", "Busy"];
    for a in 0..agents {
        let user = format!("faultAgent{a:03}");
        let login = agent_webhook("user_login", &user, start, json!({}));
        world.deliver(login.to_string(), false);
        for c in 0..changes {
            let at = start.saturating_add_millis((c as i64 + 1) * 60_000 + a as i64 * 1_000);
            let body = agent_webhook(
                "user_status_changed",
                &user,
                at,
                json!({"current_status_name": STATUSES[c % 3], "current_status_id": format!("{}", c % 3)}),
            );
            world.deliver(body.to_string(), false);
        }
    }
}

fn at(iso: &str) -> Timestamp {
    Timestamp::parse(iso).expect("a time")
}

/// A small, seeded generator (xorshift64*).
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

// ---------------------------------------------------------------------------------------
// The functions, the store behind the proxy, and the checks.

/// Lambda instances of the two functions (each its own SDK client and state cache, as each
/// is its own process), storing through the proxy; and a client that is not behind it.
struct Rig {
    proxy: FaultProxy,
    direct: Client,
    reader: DynamoStore,
    webhooks: Vec<ZoomWebhook<DynamoStore>>,
    flow: FlowEvents<DynamoStore>,
    tally: Mutex<Tally>,
    _db: EmbeddedDynamo,
}

/// The table as the stack creates it, but without its stream: the stream feeds the notifier,
/// which is not under test here, and dynoxide finds each stream record's sequence number by
/// scanning every record before it, which makes a long run quadratic.
async fn create_table(client: &Client) {
    use aws_sdk_dynamodb::types::StreamSpecification;
    assert!(schema::create(client, TABLE).await.expect("a table"));
    client
        .update_table()
        .table_name(TABLE)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .expect("enabled is set"),
        )
        .send()
        .await
        .expect("the stream is turned off");
}

#[derive(Default)]
struct Tally {
    deliveries: u64,
    first: u64,
    retries: u64,
    duplicates: u64,
    answers: BTreeMap<u16, u64>,
    /// The error codes of answers other than 200.
    errors: BTreeMap<String, u64>,
    slowest: Duration,
    violations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    First,
    Retry,
    Duplicate,
}

impl Rig {
    async fn start(seed: u64, webhook_instances: usize) -> Self {
        let db = EmbeddedDynamo::memory().await.expect("dynoxide starts");
        create_table(&db.client()).await;
        let proxy = FaultProxy::start(db.addr(), seed).await;
        let verifier = || SignatureVerifier::new(SecretTokens::from_list(SECRET).unwrap(), 300);
        let mut webhooks = Vec::new();
        for _ in 0..webhook_instances {
            let store = DynamoStore::new(functions_client(&proxy.endpoint()).await, TABLE, None);
            webhooks.push(ZoomWebhook::new(ZoomSignature::new(verifier()), store));
        }
        let flow_store = DynamoStore::new(functions_client(&proxy.endpoint()).await, TABLE, None);
        let flow = FlowEvents::new(
            FlowToken::new(FlowAuthorizer::new(
                &SecretTokens::from_list(FLOW_TOKEN).unwrap(),
            )),
            flow_store,
        );
        let direct = db.client();
        Self {
            reader: DynamoStore::new(direct.clone(), TABLE, None),
            direct,
            proxy,
            webhooks,
            flow,
            tally: Mutex::new(Tally::default()),
            _db: db,
        }
    }

    fn violation(&self, what: String) {
        self.tally.lock().unwrap().violations.push(what);
    }

    /// Delivers one event as Zoom (or the Flow script) does, to Lambda instance `instance`,
    /// and checks the answer against the table: its status, its time, and what it says was
    /// stored.
    async fn deliver(&self, world: &World, index: usize, instance: usize, sent: Sent) -> u16 {
        let event = &world.events[index];
        let request = if event.flow {
            lambda_request(&function_url_event(
                "POST",
                "/",
                &[
                    ("authorization", &format!("Bearer {FLOW_TOKEN}")),
                    ("content-type", "application/json"),
                ],
                event.body.as_bytes(),
                false,
            ))
        } else {
            lambda_request(&signed_webhook_event(
                SECRET,
                Timestamp::now().unix_seconds(),
                &event.body,
                false,
            ))
        };
        let started = Instant::now();
        let response = if event.flow {
            self.flow.handle(request).await
        } else {
            self.webhooks[instance % self.webhooks.len()]
                .handle(request)
                .await
        }
        .expect("a handler never fails");
        let took = started.elapsed();
        let status = response.status().as_u16();
        let error = (status != 200).then(|| {
            serde_json::from_slice::<Value>(response.body().as_ref())
                .ok()
                .and_then(|b| b["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "no error code".into())
        });
        {
            let mut tally = self.tally.lock().unwrap();
            tally.deliveries += 1;
            match sent {
                Sent::First => tally.first += 1,
                Sent::Retry => tally.retries += 1,
                Sent::Duplicate => tally.duplicates += 1,
            }
            *tally.answers.entry(status).or_default() += 1;
            if let Some(code) = error {
                *tally.errors.entry(code).or_default() += 1;
            }
            tally.slowest = tally.slowest.max(took);
            if tally.deliveries.is_multiple_of(PROGRESS_EVERY) {
                println!(
                    "  ... {} deliveries, {} answered 503",
                    tally.deliveries,
                    tally.answers.get(&503).copied().unwrap_or(0)
                );
            }
        }
        let what = || format!("{} of {} ({sent:?})", event.parsed.name(), event.pk);
        if took >= ZOOM_WAITS {
            self.violation(format!(
                "answered {status} after {took:?}, past the {ZOOM_WAITS:?} Zoom waits: {} (rule {:?})",
                what(),
                self.proxy.rule()
            ));
        }
        if status != 200 && status != 503 {
            self.violation(format!("answered {status} for {}", what()));
        }
        // One read of the state serves both checks.
        let state = match self.state(&event.pk).await {
            Ok(state) => state,
            Err(e) => {
                self.violation(e);
                return status;
            }
        };
        if status == 200
            && let Err(e) = self.stored_and_merged(event, state.as_ref()).await
        {
            self.violation(format!("200 for {}, but {e}", what()));
        }
        if let Err(e) = whole_events_only(world, &event.pk, state) {
            self.violation(format!("after {}: {e}", what()));
        }
        status
    }

    /// The raw event item is stored and the state says the event is merged.
    async fn stored_and_merged(&self, event: &Event, state: Option<&Value>) -> Result<(), String> {
        let raw = self
            .direct
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(event.pk.clone()))
            .key("sk", AttributeValue::S(event.sk.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("the table cannot be read: {e:?}"))?;
        if raw.item.is_none() {
            return Err("its raw event item is not stored".into());
        }
        match state {
            Some(state) if claimed(state).contains(&event.key) => Ok(()),
            Some(_) => Err("the state does not say it is merged".into()),
            None => Err("there is no state item".into()),
        }
    }

    /// The state item under `pk`, read now (strongly consistent) past the proxy.
    async fn state(&self, pk: &str) -> Result<Option<Value>, String> {
        let output = self
            .direct
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S("STATE".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("the table cannot be read: {e:?}"))?;
        Ok(output.item.map(|item| Value::Object(from_item(&item))))
    }

    /// After the store came back and Zoom's retries: every record is the in-order merge of
    /// all its events, each merged once and stored raw once.
    async fn converged(&self, world: &World, pk: &str) -> Result<(), String> {
        let record = &world.records[pk];
        let merged = whole_events_only(world, pk, self.state(pk).await?)?;
        if merged != record.events.len() {
            return Err(format!(
                "{pk} has merged {merged} of its {} events",
                record.events.len()
            ));
        }
        let stored = self
            .reader
            .event_items(pk)
            .await
            .map_err(|e| format!("{pk}: {e}"))?;
        let mut raw: BTreeMap<String, usize> = BTreeMap::new();
        for item in &stored {
            if let Some(AttributeValue::S(id)) = item.get("event_id") {
                *raw.entry(id.clone()).or_default() += 1;
            }
        }
        let expected: BTreeMap<String, usize> = record
            .events
            .iter()
            .map(|&i| (world.events[i].parsed.event_id().to_string(), 1))
            .collect();
        if raw != expected {
            return Err(format!(
                "{pk}: raw event items {raw:?}, expected each of its {} events once",
                record.events.len()
            ));
        }
        Ok(())
    }
}

/// The record under `pk`, as `state` holds it, holds whole events only: it is exactly the
/// in-order merge of the events it says it merged, counts each once, and its version is their
/// number. Returns how many that is.
fn whole_events_only(world: &World, pk: &str, state: Option<Value>) -> Result<usize, String> {
    let Some(state) = state else {
        return Ok(0);
    };
    let record = &world.records[pk];
    let keys = claimed(&state);
    let known: BTreeSet<&str> = record
        .events
        .iter()
        .map(|&i| world.events[i].key.as_str())
        .collect();
    if let Some(stranger) = keys.iter().find(|k| !known.contains(k.as_str())) {
        return Err(format!("{pk} claims an event never sent to it: {stranger}"));
    }
    let count = state["event_count"].as_u64().unwrap_or(0) as usize;
    let version = state["version"].as_u64().unwrap_or(0) as usize;
    if count != keys.len() || version != keys.len() {
        return Err(format!(
            "{pk} claims {} events but counts {count} at version {version}",
            keys.len()
        ));
    }
    let merged = record
        .events
        .iter()
        .map(|&i| &world.events[i])
        .filter(|e| keys.contains(&e.key));
    let expected = folded(record, pk, merged);
    let actual = without_version(state);
    if actual != expected {
        return Err(format!(
            "{pk} is not the merge of the {} events it claims: {}",
            keys.len(),
            differences(&expected, &actual)
        ));
    }
    Ok(keys.len())
}

/// The keys of the events a state item says it merged.
fn claimed(state: &Value) -> BTreeSet<String> {
    let keys = state
        .get("merged_events")
        .or_else(|| state.get("recent_events"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    keys.iter()
        .filter_map(Value::as_str)
        // An agent's record keeps `<key>@<time>`.
        .map(|k| k.split('@').next().unwrap_or(k).to_owned())
        .collect()
}

/// The state item one in-order, duplicate-free delivery of `events` gives, without its
/// version.
fn folded<'a>(record: &Record, pk: &str, events: impl Iterator<Item = &'a Event>) -> Value {
    fn fold<'a, T: State>(id: &str, pk: &str, events: impl Iterator<Item = &'a Event>) -> Value {
        let mut state = T::fresh(id);
        let mut n = 0;
        for event in events {
            state.apply(&event.parsed);
            n += 1;
        }
        let item = encode_state(pk, &state, n).expect("a state item");
        without_version(Value::Object(from_item(&item)))
    }
    if record.agent {
        fold::<AgentState>(&record.id, pk, events)
    } else {
        fold::<EngagementState>(&record.id, pk, events)
    }
}

fn without_version(mut state: Value) -> Value {
    if let Some(fields) = state.as_object_mut() {
        fields.remove("version");
    }
    state
}

/// The attributes two state items differ in.
fn differences(expected: &Value, actual: &Value) -> String {
    let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
        return format!("expected {expected}, found {actual}");
    };
    let names: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
    names
        .into_iter()
        .filter(|n| e.get(*n) != a.get(*n))
        .map(|n| {
            format!(
                "{n}: expected {}, found {}",
                e.get(n).unwrap_or(&Value::Null),
                a.get(n).unwrap_or(&Value::Null)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Delivers `jobs` with `concurrency` deliveries in flight (as Zoom sends in parallel), each to
/// a Lambda instance chosen by `seed`; the answers, in the order of `jobs`.
async fn deliver_all(
    rig: &Arc<Rig>,
    world: &Arc<World>,
    jobs: Vec<(usize, Sent)>,
    concurrency: usize,
    seed: u64,
) -> Vec<u16> {
    let jobs = Arc::new(jobs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let answers = Arc::new(Mutex::new(vec![0u16; jobs.len()]));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (rig, world, jobs, next, answers) = (
            rig.clone(),
            world.clone(),
            jobs.clone(),
            next.clone(),
            answers.clone(),
        );
        workers.spawn(async move {
            let mut dice = Dice::new(seed ^ ((worker as u64 + 1) * 0x9E37_79B9));
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&(index, sent)) = jobs.get(n) else {
                    return;
                };
                let instance = dice.below(64) as usize;
                let status = rig.deliver(&world, index, instance, sent).await;
                answers.lock().unwrap()[n] = status;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a delivery worker");
    }
    Arc::try_unwrap(answers)
        .expect("the workers are done")
        .into_inner()
        .unwrap()
}

fn report_violations(rig: &Rig) {
    let tally = rig.tally.lock().unwrap();
    if !tally.violations.is_empty() {
        let shown: Vec<&String> = tally.violations.iter().take(25).collect();
        panic!(
            "{} violations, the first {}:\n{}",
            tally.violations.len(),
            shown.len(),
            shown
                .iter()
                .map(|v| format!("  - {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------
// The proxy itself: what the SDK makes of each fault.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_fails_requests_as_dynamodb_and_networks_do() {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

    let db = EmbeddedDynamo::memory().await.expect("dynoxide starts");
    assert!(schema::create(&db.client(), TABLE).await.expect("a table"));
    let direct = db.client();
    let proxy = FaultProxy::start(db.addr(), 3).await;
    // One attempt each, so that what comes back is what the proxy did.
    let client = Client::from_conf(
        direct
            .config()
            .to_builder()
            .endpoint_url(proxy.endpoint())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_millis(300))
                    .build(),
            )
            .build(),
    );
    let item = |n: u32| {
        (
            AttributeValue::S(format!("PROXY#{n}")),
            AttributeValue::S("STATE".into()),
        )
    };
    let put = |n: u32| {
        let (pk, sk) = item(n);
        client
            .put_item()
            .table_name(TABLE)
            .item("pk", pk)
            .item("sk", sk)
            .send()
    };
    let get = |n: u32| {
        let (pk, sk) = item(n);
        client
            .get_item()
            .table_name(TABLE)
            .key("pk", pk)
            .key("sk", sk)
            .send()
    };
    let stored = |n: u32| {
        let (pk, sk) = item(n);
        let direct = direct.clone();
        async move {
            direct
                .get_item()
                .table_name(TABLE)
                .key("pk", pk)
                .key("sk", sk)
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .is_some()
        }
    };

    put(0).await.expect("passed through");
    assert!(get(0).await.unwrap().item.is_some());

    // DynamoDB's own errors, as the SDK names them; nothing reaches the server.
    for (n, fault, code) in [
        (1, Fault::InternalError, "InternalServerError"),
        (2, Fault::Throttling, "ThrottlingException"),
        (
            3,
            Fault::ProvisionedThroughputExceeded,
            "ProvisionedThroughputExceededException",
        ),
    ] {
        proxy.set(Rule::every(fault));
        let err = put(n).await.expect_err("a fault");
        assert!(matches!(err, SdkError::ServiceError(_)), "{err:?}");
        assert_eq!(err.code(), Some(code), "{err:?}");
        proxy.pass_through();
        assert!(!stored(n).await, "{fault:?} forwarded nothing");
    }

    // One operation only.
    proxy.set(Rule::every(Fault::InternalError).only("GetItem"));
    put(4).await.expect("a PutItem passes");
    assert_eq!(
        get(4).await.expect_err("a GetItem fails").code(),
        Some("InternalServerError")
    );

    // Connections refused, or dropped when a request arrives: nothing written.
    for (n, fault) in [(5, Fault::Refuse), (6, Fault::Drop)] {
        proxy.set(Rule::every(fault));
        let err = put(n).await.expect_err("no connection");
        assert!(
            matches!(
                err,
                SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
            ),
            "{fault:?}: {err:?}"
        );
        proxy.pass_through();
        assert!(!stored(n).await, "{fault:?} forwarded nothing");
    }

    // Cut after the server acted: the client sees a failure, the write happened.
    proxy.set(Rule::every(Fault::CutAfterForward).only("PutItem"));
    let err = put(7).await.expect_err("no answer");
    assert!(
        matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
    assert!(stored(7).await, "the write landed");

    // Slower than the client waits: it gives up, and the write lands later.
    proxy.set(Rule::every(Fault::Delay(Duration::from_millis(600))));
    let err = put(8).await.expect_err("too slow");
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(!stored(8).await, "not yet");
    proxy.pass_through();
    proxy.settle().await;
    assert!(stored(8).await, "landed late");

    // A fraction, decided request by request on kept-alive connections.
    proxy.set(Rule::fraction(Fault::InternalError, 0.5));
    let mut failed = 0;
    for _ in 0..200 {
        if get(0).await.is_err() {
            failed += 1;
        }
    }
    assert!((60..=140).contains(&failed), "{failed} of 200 failed");
    let stats = proxy.stats();
    assert_eq!(stats.injected["500 InternalServerError"], 2 + failed);
    assert!(stats.faults() >= 8 + failed, "{stats:?}");
}

// ---------------------------------------------------------------------------------------
// Each fault on its own.

/// What the first round, under the fault, must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Nothing can be stored: every delivery is answered 503.
    All503,
    /// Some deliveries get through, some do not.
    Some503,
}

/// A small world under `rule` for one round of deliveries, then the store back and Zoom's
/// retries; returns the rig for checks particular to the fault.
async fn under(name: &str, rule: Rule, expect: Expect) -> (Arc<Rig>, Arc<World>) {
    let seed = name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    let mut dice = Dice::new(seed);
    let mut world = World::default();
    add_calls(&mut world, "FaultCall", 3, at("2026-12-01T09:00:00Z"));
    add_agents(&mut world, 2, 4, at("2026-12-01T08:58:00Z"));
    world.arrange(&mut dice, 20_000);
    let first: Vec<(usize, Sent)> = world.deliveries.iter().map(|&i| (i, Sent::First)).collect();
    let world = Arc::new(world);
    let _alone = ONE_AT_A_TIME.lock().await;
    let rig = Arc::new(Rig::start(seed, 2).await);
    let started = Instant::now();

    rig.proxy.set(rule);
    let answers = deliver_all(&rig, &world, first.clone(), 32, seed).await;
    rig.proxy.pass_through();
    rig.proxy.settle().await;
    let stats = rig.proxy.stats();
    assert!(stats.faults() > 0, "{name}: no fault was injected");
    let failed = answers.iter().filter(|s| **s != 200).count();
    match expect {
        Expect::All503 => assert_eq!(
            failed,
            answers.len(),
            "{name}: every delivery is answered 503 while nothing can be stored"
        ),
        Expect::Some503 => assert!(failed > 0, "{name}: no delivery failed"),
    }
    for pk in world.records.keys() {
        let state = rig.state(pk).await.expect("the table answers");
        if let Err(e) = whole_events_only(&world, pk, state) {
            rig.violation(format!("{name}, once the fault is over: {e}"));
        }
    }

    // The store is back. Zoom re-delivers what was not answered 200, up to four times, and
    // sends a few of the others again.
    let mut due: Vec<(usize, Sent)> = first
        .iter()
        .zip(&answers)
        .filter(|(_, status)| **status != 200)
        .map(|((index, _), _)| (*index, Sent::Retry))
        .collect();
    for (n, ((index, _), status)) in first.iter().zip(&answers).enumerate() {
        if *status == 200 && n % 7 == 0 {
            due.push((*index, Sent::Duplicate));
        }
    }
    for _retry in 1..MAX_ATTEMPTS {
        if due.is_empty() {
            break;
        }
        let answers = deliver_all(&rig, &world, due.clone(), 16, seed).await;
        due = due
            .into_iter()
            .zip(answers)
            .filter(|(_, status)| *status != 200)
            .map(|((index, _), _)| (index, Sent::Retry))
            .collect();
    }
    assert!(
        due.is_empty(),
        "{name}: {} deliveries still failing with the store back",
        due.len()
    );
    rig.proxy.settle().await;
    for pk in world.records.keys() {
        if let Err(e) = rig.converged(&world, pk).await {
            rig.violation(format!("{name}, after Zoom's retries: {e}"));
        }
    }
    {
        let tally = rig.tally.lock().unwrap();
        println!(
            "{name}: {} deliveries ({} first, {} retries, {} duplicates), answers {:?}, \
             {failed} of the first round failed, faults {:?}, slowest answer {:?}, {} records \
             converged, {:?}",
            tally.deliveries,
            tally.first,
            tally.retries,
            tally.duplicates,
            tally.answers,
            stats
                .injected
                .iter()
                .filter(|(_, n)| **n > 0)
                .collect::<BTreeMap<_, _>>(),
            tally.slowest,
            world.records.len(),
            started.elapsed()
        );
    }
    report_violations(&rig);
    (rig, world)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_503_and_retries_converge() {
    under("refused", Rule::every(Fault::Refuse), Expect::All503).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_503_and_retries_converge() {
    under("dropped", Rule::fraction(Fault::Drop, 0.5), Expect::Some503).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_sdk_waits_are_503_within_zoom_s_3_s() {
    // Past the attempt timeout (800 ms) for some requests: a retried request may succeed, so
    // one event can spend most of a budget on each of its requests.
    under(
        "slow",
        Rule::fraction(Fault::Delay(Duration::from_millis(1200)), 0.5),
        Expect::Some503,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_operation_timeout_land_late_and_converge() {
    // Every request held past the operation timeout (2 s), then done: the writes land after
    // the function answered 503.
    let (rig, world) = under(
        "stalled",
        Rule::every(Fault::Delay(Duration::from_millis(2300))),
        Expect::All503,
    )
    .await;
    assert!(rig.proxy.stats().forwarded > 0);
    drop(world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_server_errors_are_503_and_retries_converge() {
    under("500", Rule::every(Fault::InternalError), Expect::All503).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_503_and_retries_converge() {
    under(
        "throttled",
        Rule::fraction(Fault::Throttling, 0.7),
        Expect::Some503,
    )
    .await;
    under(
        "provisioned throughput exceeded",
        Rule::fraction(Fault::ProvisionedThroughputExceeded, 0.7),
        Expect::Some503,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_cut_after_the_server_acted_are_retried_to_one_merge() {
    under(
        "cut",
        Rule::fraction(Fault::CutAfterForward, 0.5),
        Expect::Some503,
    )
    .await;
}

/// Every write reaches the table and no answer comes back: the raw event items are stored
/// and nothing is merged, the state of a crash between the two writes. Zoom's retries merge
/// each event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_between_the_two_writes_is_merged_once_by_the_retries() {
    let name = "cut between the writes";
    let seed = 12;
    let mut world = World::default();
    add_calls(&mut world, "CutCall", 3, at("2026-12-01T10:00:00Z"));
    add_agents(&mut world, 1, 4, at("2026-12-01T10:00:00Z"));
    world.arrange(&mut Dice::new(seed), 0);
    let first: Vec<(usize, Sent)> = world.deliveries.iter().map(|&i| (i, Sent::First)).collect();
    let world = Arc::new(world);
    let _alone = ONE_AT_A_TIME.lock().await;
    let rig = Arc::new(Rig::start(seed, 1).await);
    rig.proxy
        .set(Rule::every(Fault::CutAfterForward).only("PutItem"));
    // Reads pass, so every event gets as far as its raw item, which is written; its answer
    // never comes back, so the state is never written.
    let answers = deliver_all(&rig, &world, first.clone(), 32, seed).await;
    rig.proxy.pass_through();
    rig.proxy.settle().await;
    assert!(answers.iter().all(|s| *s == 503), "{answers:?}");
    for (pk, record) in &world.records {
        let raw = rig.reader.event_items(pk).await.unwrap();
        assert_eq!(
            raw.len(),
            record.events.len(),
            "{pk}: every raw item stored"
        );
        assert_eq!(rig.state(pk).await.unwrap(), None, "{pk}: no merge landed");
    }
    // Zoom's retries (writers of one engagement racing, as Zoom's deliveries do, may need
    // more than one).
    let mut due: Vec<(usize, Sent)> = first.iter().map(|(i, _)| (*i, Sent::Retry)).collect();
    for _retry in 1..MAX_ATTEMPTS {
        let answers = deliver_all(&rig, &world, due.clone(), 16, seed).await;
        due = due
            .into_iter()
            .zip(answers)
            .filter(|(_, status)| *status != 200)
            .map(|(job, _)| job)
            .collect();
        if due.is_empty() {
            break;
        }
    }
    assert!(due.is_empty(), "{} still failing", due.len());
    for pk in world.records.keys() {
        if let Err(e) = rig.converged(&world, pk).await {
            rig.violation(format!("{name}: {e}"));
        }
    }
    report_violations(&rig);
}

/// Reads fail, writes work: the events a warm instance can merge without reading land, the
/// others are 503 until the store answers reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_reads_alone_are_503_and_retries_converge() {
    under(
        "reads fail",
        Rule::every(Fault::InternalError).only("GetItem"),
        Expect::Some503,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Thousands of deliveries, faults switched on and off at random.

/// One delivery to make: the event, and which attempt of Zoom's it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Job {
    index: usize,
    attempt: u32,
    sent: u8,
}

impl Job {
    fn sent(&self) -> Sent {
        match self.sent {
            0 => Sent::First,
            1 => Sent::Retry,
            _ => Sent::Duplicate,
        }
    }
}

/// Deliveries in the order Zoom makes them: first deliveries as events happen; a retry of a
/// failed one some deliveries later (Zoom waits minutes); now and then a duplicate of one
/// answered 200. A retry past `fault_attempts` waits for the store to come back.
struct Schedule {
    pending: VecDeque<Job>,
    retries: BinaryHeap<Reverse<(u64, Job)>>,
    after_faults: Vec<Job>,
    issued: u64,
    outstanding: usize,
    fault_attempts: u32,
    dice: Dice,
}

enum Next {
    Deliver(Job),
    Wait,
    Done,
}

impl Schedule {
    fn next(&mut self) -> Next {
        let due = self
            .retries
            .peek()
            .is_some_and(|Reverse((due, _))| *due <= self.issued);
        let job = if due {
            self.retries.pop().map(|Reverse((_, job))| job)
        } else if let Some(job) = self.pending.pop_front() {
            Some(job)
        } else {
            self.retries.pop().map(|Reverse((_, job))| job)
        };
        match job {
            Some(job) => {
                self.issued += 1;
                self.outstanding += 1;
                Next::Deliver(job)
            }
            None if self.outstanding > 0 => Next::Wait,
            None => Next::Done,
        }
    }

    fn answered(&mut self, job: Job, status: u16) {
        self.outstanding -= 1;
        let later = self.issued + 20 + self.dice.below(200);
        if status != 200 {
            let retry = Job {
                attempt: job.attempt + 1,
                sent: 1,
                ..job
            };
            if job.attempt < self.fault_attempts {
                self.retries.push(Reverse((later, retry)));
            } else {
                self.after_faults.push(retry);
            }
        } else if job.sent != 2 && self.dice.chance(0.03) {
            let again = Job {
                attempt: 1,
                sent: 2,
                ..job
            };
            self.retries.push(Reverse((later, again)));
        }
    }
}

/// A fault picked at random: which, for what fraction of requests, for which operation.
fn random_rule(dice: &mut Dice) -> Rule {
    let fault = match dice.below(10) {
        0 => Fault::Refuse,
        1 => Fault::Drop,
        2 | 3 => Fault::Delay(Duration::from_millis(dice.between(600, 2600) as u64)),
        4 | 5 => Fault::InternalError,
        6 => Fault::Throttling,
        7 => Fault::ProvisionedThroughputExceeded,
        _ => Fault::CutAfterForward,
    };
    let fraction = [0.1, 0.3, 0.6, 1.0][dice.below(4) as usize];
    let rule = Rule::fraction(fault, fraction);
    match dice.below(4) {
        0 => rule.only("PutItem"),
        1 => rule.only("GetItem"),
        _ => rule,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_deliveries_with_faults_switched_on_and_off_at_random() {
    let target: usize = std::env::var("ZCC_FAULT_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seed = std::env::var("ZCC_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_201u64);
    let started = Instant::now();
    let mut dice = Dice::new(seed);

    // The world: a generated day of engagements (webhooks in Zoom's published shapes, each
    // engagement's in any order, one duplicate each), realistic calls with their Flow POSTs,
    // and agents changing status: about eleven deliveries per engagement in all.
    let mut world = World::default();
    let engagements = (target / 11).max(12);
    let day = zcc_testkit::day::generate("2026-12-01", engagements, seed);
    for body in day.webhooks {
        let event = authentic::webhook(&body);
        // The generated agents' days span more hours than an agent's record remembers
        // events for; agents are added below, within them.
        if matches!(event.subject(), Subject::Engagement(_)) {
            world.deliver(body, false);
        }
    }
    add_calls(
        &mut world,
        "RandomCall",
        (engagements / 10).max(2),
        at("2026-12-01T08:30:00Z"),
    );
    add_agents(
        &mut world,
        6,
        (target / 200).clamp(5, 300),
        at("2026-12-01T09:00:00Z"),
    );
    world.arrange(&mut dice, 60_000);
    let world = Arc::new(world);
    let _alone = ONE_AT_A_TIME.lock().await;
    let rig = Arc::new(Rig::start(seed, 3).await);
    let schedule = Arc::new(Mutex::new(Schedule {
        pending: world
            .deliveries
            .iter()
            .map(|&index| Job {
                index,
                attempt: 1,
                sent: 0,
            })
            .collect(),
        retries: BinaryHeap::new(),
        after_faults: Vec::new(),
        issued: 0,
        outstanding: 0,
        // The first delivery and two retries while faults come and go; the last two
        // retries once the store is back.
        fault_attempts: 3,
        dice: Dice::new(seed ^ 0xFA17),
    }));

    // Faults on and off at random, for a random while each.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let switcher = {
        let rig = rig.clone();
        let mut dice = Dice::new(seed ^ 0x5EED);
        tokio::spawn(async move {
            let mut switches = 0u64;
            loop {
                let pause = Duration::from_millis(dice.between(40, 400) as u64);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stopped.changed() => break,
                }
                if dice.chance(0.55) {
                    rig.proxy.pass_through();
                } else {
                    rig.proxy.set(random_rule(&mut dice));
                }
                switches += 1;
            }
            rig.proxy.pass_through();
            switches
        })
    };

    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let (rig, world, schedule) = (rig.clone(), world.clone(), schedule.clone());
        workers.spawn(async move {
            let mut dice = Dice::new(seed ^ ((worker + 1) * 0x9E37_79B9));
            loop {
                let next = schedule.lock().unwrap().next();
                let job = match next {
                    Next::Deliver(job) => job,
                    Next::Wait => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    Next::Done => return,
                };
                let instance = dice.below(64) as usize;
                let status = rig.deliver(&world, job.index, instance, job.sent()).await;
                schedule.lock().unwrap().answered(job, status);
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a delivery worker");
    }
    stop.send_replace(true);
    let switches = switcher.await.expect("the fault switcher");
    let faulted_phase = started.elapsed();

    // The store is back: the last of Zoom's retries.
    rig.proxy.settle().await;
    let stats = rig.proxy.stats();
    let mut due: Vec<Job> = std::mem::take(&mut schedule.lock().unwrap().after_faults);
    let retried_after = due.len();
    while !due.is_empty() {
        let jobs: Vec<(usize, Sent)> = due.iter().map(|j| (j.index, Sent::Retry)).collect();
        let answers = deliver_all(&rig, &world, jobs, WORKERS as usize, seed).await;
        let mut again = Vec::new();
        for (job, status) in due.into_iter().zip(answers) {
            if status == 200 {
                continue;
            }
            if job.attempt < MAX_ATTEMPTS {
                again.push(Job {
                    attempt: job.attempt + 1,
                    ..job
                });
            } else {
                rig.violation(format!(
                    "{} of {} still {status} after Zoom's last retry, with the store back",
                    world.events[job.index].parsed.name(),
                    world.events[job.index].pk
                ));
            }
        }
        due = again;
    }
    rig.proxy.settle().await;

    // Engagement by engagement (and agent by agent): nothing lost, nothing applied twice.
    let mut engagements_checked = 0;
    let mut agents_checked = 0;
    let mut wrong = 0;
    for (pk, record) in &world.records {
        match rig.converged(&world, pk).await {
            Ok(()) if record.agent => agents_checked += 1,
            Ok(()) => engagements_checked += 1,
            Err(e) => {
                wrong += 1;
                rig.violation(format!("after Zoom's retries: {e}"));
            }
        }
    }
    {
        let tally = rig.tally.lock().unwrap();
        let injected: Vec<String> = stats
            .injected
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        println!("faults switched on and off at random (seed {seed}):");
        println!(
            "  deliveries: {} ({} first, {} Zoom retries, {} duplicates of answered ones); \
             {} retried once the store was back",
            tally.deliveries, tally.first, tally.retries, tally.duplicates, retried_after
        );
        println!("  answers: {:?}, errors {:?}", tally.answers, tally.errors);
        println!(
            "  requests through the proxy: {} ({} answered by dynoxide), {} fault switches",
            stats.requests, stats.forwarded, switches
        );
        println!(
            "  faults injected: {} — {}",
            stats.faults(),
            injected.join(", ")
        );
        println!(
            "  checked: {engagements_checked} engagements, {agents_checked} agents, {} distinct \
             events; {wrong} records wrong (lost or applied twice); {} violations",
            world.events.len(),
            tally.violations.len()
        );
        println!(
            "  slowest answer: {:?} (Zoom waits {ZOOM_WAITS:?}); {:?} with faults, {:?} in all",
            tally.slowest,
            faulted_phase,
            started.elapsed()
        );
    }
    report_violations(&rig);
}
