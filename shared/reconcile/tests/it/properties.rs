//! The merge rules of Zoom's REST API facts as properties, in the style of
//! shared/tests/properties.rs: realistic engagements delivered in random orders, with and
//! without the facts of a backfill (which may say anything: Zoom's figures are its own).
//!
//! - a record that got every webhook is the same whether reconcile ran before it, after it,
//!   or never, apart from `sources` and the Zoom figures kept for the check;
//! - with the facts, any order of the same events gives the same record.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::samples::engagement_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::ZoomApiEngagement;
use zcc_testkit::authentic;

const ID: &str = "PrOpErTy-EnGaGeMeNt-01";
const AGENTS: [&str; 3] = ["u-ana", "u-bo", "u-cy"];
const QUEUES: [&str; 3] = ["q-sales", "q-billing", "q-support"];

#[derive(Debug, Clone)]
struct Plan {
    answer_after: Option<i64>,
    holds: Vec<(i64, i64)>,
    transfer: Option<(i64, usize)>,
    wrap_up: Option<i64>,
    disposition: bool,
    end_at: i64,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::option::weighted(0.85, 1_000i64..30_000),
        prop::collection::vec((0i64..100_000, 0i64..60_000), 0..3),
        prop::option::of((0i64..100_000, 0usize..3)),
        prop::option::of(0i64..60_000),
        any::<bool>(),
        200_000i64..400_000,
    )
        .prop_map(
            |(answer_after, holds, transfer, wrap_up, disposition, end_at)| Plan {
                answer_after,
                holds,
                transfer,
                wrap_up,
                disposition,
                end_at,
            },
        )
}

/// Zoom's facts, whatever they say.
fn facts() -> impl Strategy<Value = ZoomApiEngagement> {
    (
        (
            prop::option::of(-5_000i64..5_000),
            prop::option::of(100i64..500),
            prop::option::of(0usize..3),
            prop::option::of(0usize..3),
        ),
        (
            prop::option::of(0i64..400),
            prop::option::of(0i64..100),
            prop::option::of(0i64..100),
            prop::option::of(0u32..3),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((start, end_s, agent, queue), (talk, wrap, wait, transfers, disposition))| {
                let base = Timestamp::parse("2026-12-01T09:00:00Z").unwrap();
                ZoomApiEngagement {
                    engagement_id: ID.into(),
                    account_id: Some("acc".into()),
                    start_time: start.map(|ms| base.saturating_add_millis(ms / 1000 * 1000)),
                    end_time: end_s.map(|s| base.saturating_add_millis(s * 1000)),
                    direction: Some("inbound".into()),
                    channel: Some("voice".into()),
                    agent_user_id: agent.map(|a| AGENTS[a].into()),
                    agents: agent
                        .map(|a| vec![AGENTS[a].to_owned()])
                        .unwrap_or_default(),
                    queue_id: queue.map(|q| QUEUES[q].into()),
                    talk_s: talk,
                    wrap_up_s: wrap,
                    waiting_s: wait,
                    handling_s: talk.zip(wrap).map(|(t, w)| t + w),
                    transfer_count: transfers,
                    disposition_name: disposition.then(|| "From Zoom".into()),
                    ..Default::default()
                }
            },
        )
}

/// Every webhook of the engagement, engagement_ended included.
fn webhooks(plan: &Plan) -> Vec<AuthenticEvent> {
    let start = Timestamp::parse("2026-12-01T09:00:00.123Z").unwrap();
    let at = |ms: i64| start.saturating_add_millis(ms);
    let event = |name: &str, ms: i64, extra: serde_json::Value| {
        authentic::webhook(&engagement_webhook(name, ID, at(ms), extra).to_string())
    };
    let mut out = vec![
        event("engagement_started", 0, json!({})),
        event(
            "task_entered_queue",
            200,
            json!({"cc_queue_id": QUEUES[0], "queue_name": "Sales"}),
        ),
    ];
    if let Some(answered) = plan.answer_after {
        out.push(event(
            "engagement_user_answered",
            answered,
            json!({"user_id": AGENTS[0], "user_display_name": "Ana", "cc_queue_id": QUEUES[0]}),
        ));
        for (gap, duration) in &plan.holds {
            out.push(event("engagement_user_hold", answered + gap, json!({})));
            out.push(event(
                "engagement_user_unhold",
                answered + gap + duration,
                json!({}),
            ));
        }
        if let Some((offset, to)) = plan.transfer {
            out.push(event(
                "engagement_transfer_accepted",
                answered + offset,
                json!({"task_id": "t1", "transfer_to_task_id": "t2", "cc_queue_id": QUEUES[0],
                    "transfer_to_cc_queue_id": QUEUES[to], "transfer_to_user_id": AGENTS[to]}),
            ));
        }
        if plan.disposition {
            out.push(event(
                "engagement_disposition_added",
                answered + 1_000,
                json!({"disposition_id": "d1", "disposition_name": "Resolved"}),
            ));
        }
    }
    if let Some(wrap) = plan.wrap_up {
        out.push(event("engagement_wrap_up_started", plan.end_at, json!({})));
        out.push(event(
            "engagement_wrap_up_ended",
            plan.end_at + wrap,
            json!({}),
        ));
    }
    out.push(event("engagement_ended", plan.end_at, json!({})));
    out
}

fn merged<'a>(events: impl IntoIterator<Item = &'a AuthenticEvent>) -> EngagementState {
    let mut state = EngagementState::new(ID);
    for e in events {
        state.apply(e);
    }
    state
}

fn permuted<T: Clone>(items: &[T], seed: &[usize]) -> Vec<T> {
    let mut items = items.to_vec();
    for (i, s) in seed.iter().enumerate().take(items.len()) {
        let j = i + s % (items.len() - i);
        items.swap(i, j);
    }
    items
}

/// The record without what reconcile adds: `zoom_api` in `sources`, and Zoom's figures.
fn without_zoom(mut state: EngagementState) -> EngagementState {
    state.sources.remove("zoom_api");
    state.zoom_api = None;
    state
}

#[test]
fn a_record_that_got_every_webhook_is_the_same_with_or_without_reconcile() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let strategy = (
        plan(),
        facts(),
        prop::collection::vec(0usize..1000, 40),
        prop::collection::vec(0usize..1000, 40),
        0usize..40,
    );
    runner
        .run(&strategy, |(plan, facts, order, other, api_at)| {
            let webhooks = webhooks(&plan);
            let never = merged(&webhooks);
            let api = AuthenticEvent::from_zoom_api(&facts, Timestamp::now());
            // Reconcile ran before, between or after the webhooks: the facts at any place.
            let mut with = permuted(&webhooks, &order);
            with.insert(api_at.min(with.len()), api.clone());
            let reconciled = merged(&with);
            prop_assert!(reconciled.sources.contains("zoom_api"));
            prop_assert_eq!(reconciled.zoom_api.as_ref().map(|z| &z.facts), Some(&facts));
            prop_assert!(reconciled.filled_from_zoom_api.is_empty());
            prop_assert_eq!(without_zoom(reconciled.clone()), never);
            // Any order of the same events gives the same record.
            let mut again = permuted(&webhooks, &other);
            again.push(api);
            prop_assert_eq!(merged(&permuted(&again, &order)), reconciled);
            Ok(())
        })
        .unwrap();
}

#[test]
fn facts_fill_only_what_no_webhook_said_and_later_webhooks_replace_them() {
    let mut runner = TestRunner::new(Config::with_cases(200));
    let strategy = (
        plan(),
        facts(),
        prop::collection::vec(0usize..1000, 40),
        0usize..40,
    );
    runner
        .run(&strategy, |(plan, facts, order, keep)| {
            let webhooks = webhooks(&plan);
            // Only some webhooks arrived, engagement_ended (the last) not among them.
            let arrived: Vec<_> = permuted(&webhooks[..webhooks.len() - 1], &order)
                .into_iter()
                .take(keep)
                .collect();
            let api = AuthenticEvent::from_zoom_api(&facts, Timestamp::now());
            let mut with = arrived.clone();
            with.push(api.clone());
            let partial = merged(&with);
            let bare = merged(&arrived);
            // What a webhook said stays as it said it.
            if bare.started_at.is_some() {
                prop_assert_eq!(partial.started_at, bare.started_at);
            } else {
                prop_assert_eq!(partial.started_at, facts.start_time);
            }
            if bare.agent_user_id.is_some() {
                prop_assert_eq!(&partial.agent_user_id, &bare.agent_user_id);
            } else {
                prop_assert_eq!(&partial.agent_user_id, &facts.agent_user_id);
            }
            prop_assert_eq!(partial.ended_at, facts.end_time);
            // The rest arriving later: the record is the webhooks' own, whatever the order.
            let mut all = webhooks.clone();
            all.push(api);
            let late = merged(&permuted(&all, &order));
            prop_assert_eq!(without_zoom(late), merged(&webhooks));
            Ok(())
        })
        .unwrap();
}
