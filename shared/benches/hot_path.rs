//! What one event costs in CPU before and after DynamoDB: verifying the signature, parsing the
//! body into an authentic event, merging it into the state, and turning the state into an item.
//!
//!     cargo bench -p zcc-shared --bench hot_path
//!
//! Compare ratios within one run: these machines are shared and noisy.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::samples::realistic_call;
use zcc_domain::signature::{SecretToken, SecretTokens, SignatureVerifier, sign};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::attributes::to_item;
use zcc_shared::dynamodb::event_item::event_item;
use zcc_shared::dynamodb::state_item::{decode_state, encode_state};

/// The webhooks of the shared realistic call (the Flow POST is verified differently).
fn bodies() -> Vec<String> {
    let t0 = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();
    realistic_call("BenchEngagement0000001", t0)
        .into_iter()
        .filter(|(from_zoom, _)| *from_zoom)
        .map(|(_, body)| body.to_string())
        .collect()
}

fn hot_path(c: &mut Criterion) {
    let now = Timestamp::now();
    let ts = now.unix_seconds().to_string();
    // A rotation in progress: the signature matches the second token, so both are tried.
    let verifier =
        SignatureVerifier::new(SecretTokens::from_list("new-token,old-token").unwrap(), 300);
    let old = SecretToken::new("old-token").unwrap();
    let bodies = bodies();
    let body = bodies[1].as_bytes();
    let last = bodies.len() - 1;
    let signature = sign(&old, now.unix_seconds(), body);
    let events: Vec<AuthenticEvent> = bodies
        .iter()
        .map(|b| {
            let sig = sign(&old, now.unix_seconds(), b.as_bytes());
            let v = verifier
                .verify(Some(&ts), Some(&sig), b.as_bytes(), now)
                .unwrap();
            AuthenticEvent::from_webhook(&v, now).unwrap()
        })
        .collect();

    c.bench_function("verify signature (2 tokens, ~1.1 KB body)", |b| {
        b.iter(|| {
            verifier
                .verify(Some(&ts), Some(&signature), black_box(body), now)
                .unwrap()
        })
    });
    let verified = verifier
        .verify(Some(&ts), Some(&signature), body, now)
        .unwrap();
    c.bench_function("parse into an authentic event", |b| {
        b.iter(|| AuthenticEvent::from_webhook(black_box(&verified), now).unwrap())
    });
    let mut all_but_last = EngagementState::new("BenchEngagement0000001");
    events[..last].iter().for_each(|e| all_but_last.apply(e));
    c.bench_function("merge the last event of the call into the state", |b| {
        b.iter(|| {
            let mut state = all_but_last.clone();
            state.apply(black_box(&events[last]));
            state
        })
    });
    let mut full = all_but_last.clone();
    full.apply(&events[last]);
    // What one webhook costs in process, but for the two round trips, on the warm path (the
    // engagement's state cached, decoded, from its previous event): verify, parse, merge, and
    // encode the raw event item and the new state item. The store moves the state out of its
    // cache and back; the clone here overstates that a little.
    let pk = "ENGAGEMENT#BenchEngagement0000001";
    let before = encode_state(pk, &all_but_last, last as u64).unwrap();
    let last_body = bodies[last].as_bytes();
    let last_signature = sign(&old, now.unix_seconds(), last_body);
    c.bench_function("whole event: verify, parse, merge, encode", |b| {
        b.iter(|| {
            let verified = verifier
                .verify(Some(&ts), Some(&last_signature), black_box(last_body), now)
                .unwrap();
            let event = AuthenticEvent::from_webhook(&verified, now).unwrap();
            let mut state = all_but_last.clone();
            state.apply(&event);
            (
                event_item(pk, &event, Some(90)),
                encode_state(pk, &state, last as u64 + 1).unwrap(),
            )
        })
    });
    // Only when the state is not cached: after a read, or a refused write.
    c.bench_function("state item to state (decode)", |b| {
        b.iter(|| {
            decode_state::<EngagementState>(pk, "BenchEngagement0000001", Some(black_box(&before)))
                .unwrap()
        })
    });
    c.bench_function("state to DynamoDB item", |b| {
        b.iter(|| encode_state(pk, black_box(&full), 16).unwrap())
    });
    c.bench_function("state to DynamoDB item through JSON (before)", |b| {
        b.iter(|| {
            let serde_json::Value::Object(map) = serde_json::to_value(black_box(&full)).unwrap()
            else {
                unreachable!()
            };
            to_item(map, &["sources"])
        })
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
