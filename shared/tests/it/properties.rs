//! Exactly-once and order-independence as properties. Realistic engagements (holds, mutes,
//! transfers, notes, dispositions, Flow events) are delivered in random permutations with
//! random duplicates (some re-serialized), and the state must equal that of the in-order,
//! duplicate-free delivery: in memory, through the store sequentially, and through the
//! store from several clients racing on one dynoxide server.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::samples::flow_post;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::{attributes, schema};
use zcc_shared::store::{EventStore, Recorded};
use zcc_testkit::authentic;
use zcc_testkit::day::shaped;

/// Cases per store property (the issue asks for at least 200); override with PROPTEST_CASES.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The shape of one engagement; times are offsets in ms from its start.
#[derive(Debug, Clone)]
struct Plan {
    answer_after: i64,
    /// Offers before the answer: (agent, outcome) with outcomes from OFFER_OUTCOMES.
    offers: Vec<(usize, usize)>,
    holds: Vec<(i64, i64)>,
    mutes: Vec<i64>,
    /// (offset, target, outcome) with outcomes from TRANSFER_OUTCOMES.
    transfers: Vec<(i64, usize, usize)>,
    /// (offset, action) supervisors monitoring.
    monitors: Vec<(i64, usize)>,
    takeover: Option<i64>,
    notes: Vec<(usize, i64)>,
    dispositions: Vec<(usize, i64)>,
    /// Messages by the agent and by the consumer, files sent.
    messages: (usize, usize, bool),
    /// A channel upgrade at an offset, completed or expired.
    upgrade: Option<(i64, bool)>,
    wrap_up: Option<i64>,
    flow_accepted: bool,
    flow_disposition: Option<usize>,
    unknown: usize,
    ended: bool,
}

const QUEUES: [&str; 3] = ["q-sales", "q-billing", "q-support"];
const AGENTS: [&str; 3] = ["u-ana", "u-bo", "u-cy"];
const DISPOSITIONS: [&str; 3] = ["Resolved", "Callback", "Escalated"];
const OFFER_OUTCOMES: [&str; 4] = [
    "task_reservation_accepted",
    "task_reservation_rejected",
    "task_reservation_timeout",
    "task_reservation_canceled",
];
/// How a transfer goes, as the events Zoom sends for it.
const TRANSFER_OUTCOMES: [&[&str]; 5] = [
    // A cold transfer to a queue, as seen on real traffic: no _completed.
    &[
        "engagement_transfer_initiated",
        "engagement_transfer_queued",
        "engagement_transfer_reserved",
        "engagement_transfer_accepted",
    ],
    // A warm transfer.
    &[
        "engagement_transfer_initiated",
        "engagement_transfer_accepted",
        "engagement_transfer_completed",
    ],
    &[
        "engagement_transfer_initiated",
        "engagement_transfer_canceled",
    ],
    &[
        "engagement_transfer_initiated",
        "engagement_transfer_queued",
        "engagement_transfer_rejected",
    ],
    &[
        "engagement_transfer_initiated",
        "engagement_transfer_timeout",
    ],
];
const MONITOR_ACTIONS: [&str; 3] = ["listen", "whisper", "barge"];

/// Engagements with up to `most` of each repeated thing (holds, offers, transfers...): the
/// in-memory property takes the richest, the store properties (each event a transaction
/// through the SDK) a leaner mix of the same shapes.
fn plan(most: usize) -> impl Strategy<Value = Plan> {
    let up_to = |n: usize| 0..(n.min(most) + 1);
    (
        (
            (1_000i64..30_000),
            prop::collection::vec((0usize..3, 0usize..4), up_to(2)),
            prop::collection::vec((0i64..600_000, 0i64..120_000), up_to(2)),
            prop::collection::vec(0i64..600_000, up_to(1)),
            prop::collection::vec((0i64..600_000, 0usize..3, 0usize..5), up_to(2)),
            prop::collection::vec((0i64..600_000, 0usize..3), up_to(1)),
            prop::option::of(0i64..600_000),
        ),
        (
            prop::collection::vec((0usize..2, 0i64..600_000), up_to(2)),
            prop::collection::vec((0usize..3, 0i64..600_000), up_to(1)),
            (up_to(1), up_to(1), any::<bool>()),
            prop::option::of((0i64..600_000, any::<bool>())),
            prop::option::of(600_000i64..700_000),
            any::<bool>(),
            prop::option::of(0usize..3),
            0usize..2,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (answer_after, offers, holds, mutes, transfers, monitors, takeover),
                (
                    notes,
                    dispositions,
                    messages,
                    upgrade,
                    wrap_up,
                    flow_accepted,
                    flow_disposition,
                    unknown,
                    ended,
                ),
            )| Plan {
                answer_after,
                offers,
                holds,
                mutes,
                transfers,
                monitors,
                takeover,
                notes,
                dispositions,
                messages,
                upgrade,
                wrap_up,
                flow_accepted,
                flow_disposition,
                unknown,
                ended,
            },
        )
}

fn at(start: Timestamp, offset: i64) -> Timestamp {
    start.saturating_add_millis(offset)
}

/// The bodies of the engagement, in the order they happened, each in the shape Zoom
/// publishes for its event, with this engagement's values.
fn bodies(id: &str, plan: &Plan) -> Vec<(bool, Value)> {
    let start = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();
    // Values of fields the published body has; fields it lacks stay absent, as from Zoom.
    let zoom = |event: &str, offset: i64, values: Value| {
        (true, shaped(event, id, at(start, offset), values))
    };
    let agent = |n: usize| json!({"user_id": AGENTS[n], "user_display_name": format!("Agent {n}")});
    let mut out = vec![zoom("engagement_started", 0, json!({}))];
    let answered = plan.answer_after;
    out.push(zoom(
        "task_entered_queue",
        500,
        json!({"cc_queue_id": QUEUES[0], "queue_name": "Sales"}),
    ));
    for (n, (who, outcome)) in plan.offers.iter().enumerate() {
        let offer = json!({"task_reservation_id": format!("r{n}"), "assigned_user_id": AGENTS[*who],
            "cc_queue_id": QUEUES[0]});
        let offered = 600 + n as i64 * 10;
        out.push(zoom("task_reservation_created", offered, offer.clone()));
        out.push(zoom(OFFER_OUTCOMES[*outcome], offered + 5, offer));
    }
    out.push(zoom("engagement_user_answered", answered, json!({
        "user_id": AGENTS[0], "user_display_name": "Ana", "cc_queue_id": QUEUES[0], "queue_name": "Sales"})));
    for (gap, duration) in &plan.holds {
        let h = answered + gap;
        out.push(zoom("engagement_user_hold", h, agent(0)));
        out.push(zoom("engagement_user_unhold", h + duration, agent(0)));
    }
    for m in &plan.mutes {
        out.push(zoom("engagement_user_muted", answered + m, agent(0)));
        out.push(zoom(
            "engagement_user_unmuted",
            answered + m + 500,
            agent(0),
        ));
    }
    for (n, (offset, to, outcome)) in plan.transfers.iter().enumerate() {
        let t = answered + offset;
        let values = json!({"task_id": format!("t{n}"), "transfer_to_task_id": format!("t{n}-to"),
            "cc_queue_id": QUEUES[0], "user_id": AGENTS[0],
            "transfer_to_cc_queue_id": QUEUES[*to], "transfer_to_queue_name": format!("Queue {to}"),
            "transfer_to_user_id": AGENTS[*to], "transfer_to_user_display_name": format!("Agent {to}")});
        for (step, event) in TRANSFER_OUTCOMES[*outcome].iter().enumerate() {
            out.push(zoom(event, t + step as i64 * 1_000, values.clone()));
        }
    }
    for (n, (offset, action)) in plan.monitors.iter().enumerate() {
        let supervisor = json!({"monitoring_user_id": format!("sup-{n}"),
            "monitoring_user_display_name": format!("Supervisor {n}"), "action_type": MONITOR_ACTIONS[*action],
            "user_id": AGENTS[0]});
        out.push(zoom(
            "engagement_monitor_started",
            answered + offset,
            supervisor.clone(),
        ));
        out.push(zoom(
            "engagement_monitor_ended",
            answered + offset + 30_000,
            supervisor,
        ));
    }
    if let Some(offset) = plan.takeover {
        out.push(zoom(
            "engagement_takeover_started",
            answered + offset,
            json!({"takeover_user_id": "sup-take", "takeover_user_display_name": "Taker",
                "cc_queue_id": QUEUES[0]}),
        ));
    }
    let (agent_messages, consumer_messages, files) = plan.messages;
    for n in 0..agent_messages {
        out.push(zoom(
            "engagement_user_sent_message",
            answered + 1_000 + n as i64,
            json!({}),
        ));
    }
    for n in 0..consumer_messages {
        out.push(zoom(
            "engagement_consumer_sent_message",
            answered + 2_000 + n as i64,
            json!({}),
        ));
    }
    if files {
        out.push(zoom(
            "engagement_user_sent_file",
            answered + 3_000,
            json!({}),
        ));
        out.push(zoom(
            "engagement_consumer_sent_file",
            answered + 3_500,
            json!({}),
        ));
    }
    if let Some((offset, completed)) = plan.upgrade {
        out.push(zoom(
            "engagement_upgrade_initiated",
            answered + offset,
            json!({}),
        ));
        let outcome = if completed {
            "engagement_upgrade_completed"
        } else {
            "engagement_upgrade_expired"
        };
        out.push(zoom(outcome, answered + offset + 5_000, json!({})));
    }
    for (note, offset) in &plan.notes {
        let t = answered + offset;
        out.push(zoom("engagement_note_added", t, json!({"note_id": format!("n{note}"),
            "note": format!("note {note} at {offset}"), "last_modified_time": at(start, t).to_iso()})));
    }
    for (d, offset) in &plan.dispositions {
        out.push(zoom(
            "engagement_disposition_added",
            answered + offset,
            json!({
            "disposition_id": format!("d{d}"), "disposition_name": DISPOSITIONS[*d]}),
        ));
    }
    if let Some(w) = plan.wrap_up {
        out.push(zoom("engagement_wrap_up_started", w, json!({})));
        out.push(zoom("engagement_wrap_up_ended", w + 20_000, json!({})));
    }
    if plan.flow_accepted {
        out.push((
            false,
            flow_post(
                "engagement_accepted",
                id,
                Some(at(start, answered + 400)),
                json!({"variables": {"order": "A-1", "tier": "gold"}}),
            ),
        ));
    }
    if let Some(d) = plan.flow_disposition {
        out.push((
            false,
            flow_post(
                "disposition_saved",
                id,
                Some(at(start, 720_000)),
                json!({"disposition": DISPOSITIONS[d]}),
            ),
        ));
    }
    // Events stored and counted but not interpreted.
    for n in 0..plan.unknown {
        out.push(zoom(
            "engagement_conference_participant_joined",
            700_000 + n as i64,
            json!({}),
        ));
    }
    if plan.ended {
        out.push(zoom("engagement_ended", 730_000, json!({})));
    }
    out
}

fn authentic(webhook: bool, body: &str) -> AuthenticEvent {
    if webhook {
        authentic::webhook(body)
    } else {
        authentic::flow(body)
    }
}

/// A delivery: the events in order, then shuffled with duplicates, some re-serialized.
#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    in_order: Vec<AuthenticEvent>,
    shuffled: Vec<AuthenticEvent>,
}

fn delivery(most: usize) -> impl Strategy<Value = Delivery> {
    plan(most)
        .prop_flat_map(|plan| {
            let n = bodies("x", &plan).len();
            (
                Just(plan),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                prop::collection::vec((any::<Index>(), any::<bool>()), 0..6),
            )
        })
        .prop_map(|(plan, order, duplicates)| {
            // A new engagement per case, so all cases share two tables.
            static CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let id = format!(
                "prop-{}",
                CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            );
            let all = bodies(&id, &plan);
            let compact = |(webhook, body): &(bool, Value)| authentic(*webhook, &body.to_string());
            let in_order: Vec<_> = all.iter().map(compact).collect();
            let mut shuffled: Vec<_> = order.iter().map(|i| compact(&all[*i])).collect();
            for (index, pretty) in duplicates {
                let (webhook, body) = &all[index.index(all.len())];
                let copy = if pretty {
                    authentic(*webhook, &serde_json::to_string_pretty(body).unwrap())
                } else {
                    authentic(*webhook, &body.to_string())
                };
                let position = index.index(shuffled.len() + 1);
                shuffled.insert(position, copy);
            }
            Delivery {
                id,
                in_order,
                shuffled,
            }
        })
}

/// The store's dedupe, in memory: each distinct event id merged once.
fn fold(id: &str, events: &[AuthenticEvent]) -> EngagementState {
    let mut seen = std::collections::BTreeSet::new();
    let mut state = EngagementState::new(id);
    for e in events {
        if seen.insert(e.event_id().clone()) {
            state.apply(e);
        }
    }
    state
}

#[test]
fn in_memory_any_order_with_duplicates_gives_the_in_order_state() {
    let mut runner = TestRunner::new(Config::with_cases(cases(1000)));
    runner
        .run(&delivery(2), |d| {
            prop_assert_eq!(fold(&d.id, &d.shuffled), fold(&d.id, &d.in_order));
            Ok(())
        })
        .unwrap();
}

/// The runtime all store cases share.
struct Stores {
    runtime: tokio::runtime::Runtime,
}

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| Stores {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap(),
    })
}

/// A fresh in-memory dynoxide per case, with a table for the in-order reference delivery and
/// one for the shuffled delivery: tables that grew over hundreds of cases slowed every case
/// after them.
struct Tables {
    server: EmbeddedDynamo,
    reference: DynamoStore,
    shuffled: DynamoStore,
}

async fn tables() -> Tables {
    let server = EmbeddedDynamo::memory().await.unwrap();
    let client = server.client();
    for name in ["reference", "shuffled"] {
        schema::create(&client, name).await.unwrap();
    }
    Tables {
        reference: DynamoStore::new(client.clone(), "reference", None),
        shuffled: DynamoStore::new(client, "shuffled", None),
        server,
    }
}

async fn stored_state(store: &DynamoStore, id: &str) -> Value {
    let item = store
        .current_state(&schema::engagement_pk(id))
        .await
        .unwrap()
        .unwrap();
    Value::Object(attributes::from_item(&item))
}

async fn event_count(store: &DynamoStore, id: &str) -> usize {
    store
        .event_items(&schema::engagement_pk(id))
        .await
        .unwrap()
        .len()
}

async fn reference(s: &Tables, d: &Delivery) -> Value {
    for e in &d.in_order {
        assert_eq!(
            s.reference.record(e).await.unwrap().outcome,
            Recorded::Applied
        );
    }
    stored_state(&s.reference, &d.id).await
}

#[test]
fn through_the_store_sequentially() {
    let runtime = &stores().runtime;
    let mut runner = TestRunner::new(Config::with_cases(cases(200)));
    runner
        .run(&delivery(1), |d| {
            let (expected, actual, events) = runtime.block_on(async {
                let s = &tables().await;
                let expected = reference(s, &d).await;
                for e in &d.shuffled {
                    s.shuffled.record(e).await.unwrap();
                }
                let actual = stored_state(&s.shuffled, &d.id).await;
                (expected, actual, event_count(&s.shuffled, &d.id).await)
            });
            prop_assert_eq!(&actual, &expected);
            prop_assert_eq!(events, d.in_order.len());
            Ok(())
        })
        .unwrap();
}

#[test]
fn through_the_store_from_racing_clients() {
    let runtime = &stores().runtime;
    let mut runner = TestRunner::new(Config::with_cases(cases(200)));
    runner
        .run(&(delivery(1), 2usize..5), |(d, writers)| {
            let (expected, actual, events, applied) = runtime.block_on(async {
                let s = &tables().await;
                let expected = reference(s, &d).await;
                // Each writer has its own SDK client (its own connections), as separate Lambda
                // instances would; they start together and race on the same state item.
                let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(writers));
                let mut tasks = Vec::new();
                for w in 0..writers {
                    let mine: Vec<_> = d
                        .shuffled
                        .iter()
                        .skip(w)
                        .step_by(writers)
                        .cloned()
                        .collect();
                    // Half of them without a state cache: writers that read first race
                    // writers that merge into what they wrote last (and are often stale).
                    let store = DynamoStore::new(s.server.client(), "shuffled", None);
                    let store = if w % 2 == 0 {
                        store
                    } else {
                        store.with_cache_capacity(0)
                    };
                    let barrier = barrier.clone();
                    tasks.push(tokio::spawn(async move {
                        barrier.wait().await;
                        let mut applied = 0;
                        for e in mine {
                            // A writer that loses too many races answers 503 and Zoom sends
                            // the event again, as here: the retry must still apply it once.
                            let mut attempt = 0;
                            let receipt = loop {
                                match store.record(&e).await {
                                    Ok(receipt) => break receipt,
                                    Err(err) if attempt < 5 => {
                                        attempt += 1;
                                        eprintln!("racing writer: {err}; sent again");
                                    }
                                    Err(err) => panic!("still failing after Zoom's retries: {err}"),
                                }
                            };
                            if receipt.outcome == Recorded::Applied {
                                applied += 1;
                            }
                        }
                        applied
                    }));
                }
                let mut applied = 0;
                for t in tasks {
                    applied += t.await.unwrap();
                }
                let actual = stored_state(&s.shuffled, &d.id).await;
                (
                    expected,
                    actual,
                    event_count(&s.shuffled, &d.id).await,
                    applied,
                )
            });
            prop_assert_eq!(&actual, &expected);
            prop_assert_eq!(events, d.in_order.len());
            prop_assert_eq!(
                applied,
                d.in_order.len(),
                "each distinct event applied exactly once"
            );
            Ok(())
        })
        .unwrap();
}

/// A long chat: more messages than a record keeps the keys of ([`RECENT`]), each `(webhook,
/// body)`, seconds apart in the order given.
fn long_chat(id: &str, messages: usize) -> Vec<(bool, Value)> {
    let start = Timestamp::parse("2026-12-01T09:00:00Z")
        .unwrap()
        .unix_millis();
    (0..messages)
        .map(|i| {
            let event = if i % 3 == 0 {
                "engagement_user_sent_message"
            } else {
                "engagement_consumer_sent_message"
            };
            let at = Timestamp::from_unix_millis(start + 7_000 * i as i64);
            (
                true,
                zcc_domain::samples::engagement_webhook(
                    event,
                    id,
                    at,
                    json!({"channel": "chat", "message_id": i}),
                ),
            )
        })
        .collect()
}

/// Long engagements through the store: a chat of up to four times as many messages as the
/// ledger keeps keys of, delivered in any order, with duplicates, and with some messages cut
/// short between their two writes (the raw item stored, the merge lost) and sent again later,
/// as Zoom retries a 503: the same item as the in-order delivery, each message merged once.
#[test]
fn long_engagements_through_the_store_with_crashes_and_duplicates() {
    use zcc_domain::ledger::{POWERS, RECENT};
    let runtime = &stores().runtime;
    let mut runner = TestRunner::new(Config::with_cases(cases(24)));
    let strategy = (RECENT + 1..RECENT * 4).prop_flat_map(|n| {
        (
            Just(n),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            prop::collection::vec(any::<Index>(), 0..12),
            // More than POWERS old events unmerged at once cannot be settled on the live
            // path (the ledger's limit; `zcc rebuild` merges them).
            prop::collection::btree_set(0..n, 0..=POWERS),
        )
    });
    runner
        .run(&strategy, |(n, order, duplicates, crashed)| {
            static CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let id = format!(
                "long-{}",
                CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            );
            let all: Vec<AuthenticEvent> = long_chat(&id, n)
                .iter()
                .map(|(webhook, body)| authentic(*webhook, &body.to_string()))
                .collect();
            let (expected, actual, applied) = runtime.block_on(async {
                let s = &tables().await;
                let delivery = Delivery {
                    id: id.clone(),
                    in_order: all.clone(),
                    shuffled: vec![],
                };
                let expected = reference(s, &delivery).await;
                // Zoom's deliveries: each message once in a random order, a crashed one first
                // as its raw item alone, then duplicates, then the retries of the crashed.
                let mut queue: std::collections::VecDeque<AuthenticEvent> = Default::default();
                for i in &order {
                    if crashed.contains(i) {
                        assert!(s.shuffled.store_raw(&all[*i]).await.unwrap());
                    } else {
                        queue.push_back(all[*i].clone());
                    }
                }
                for d in &duplicates {
                    queue.push_back(all[d.index(n)].clone());
                }
                for i in &crashed {
                    queue.push_back(all[*i].clone());
                }
                let mut applied = 0;
                let mut answers = 0;
                while let Some(e) = queue.pop_front() {
                    answers += 1;
                    assert!(answers < 20 * n, "the retries do not converge");
                    match s.shuffled.record(&e).await {
                        Ok(receipt) if receipt.outcome == Recorded::Applied => applied += 1,
                        Ok(_) => {}
                        // Answered 503: Zoom sends it again later.
                        Err(_) => queue.push_back(e),
                    }
                }
                (expected, stored_state(&s.shuffled, &id).await, applied)
            });
            prop_assert_eq!(&actual, &expected);
            // Each message applied exactly once, the crashed ones on their retry.
            prop_assert_eq!(applied, n);
            Ok(())
        })
        .unwrap();
}
