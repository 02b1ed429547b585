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

    c.bench_function("verify signature (2 tokens, ~0.6 KB body)", |b| {
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
    let mut eleven = EngagementState::new("BenchEngagement0000001");
    events[..last].iter().for_each(|e| eleven.apply(e));
    c.bench_function("merge the last event of the call into the state", |b| {
        b.iter(|| {
            let mut state = eleven.clone();
            state.apply(black_box(&events[last]));
            state
        })
    });
    let mut full = eleven.clone();
    full.apply(&events[last]);
    c.bench_function("state to DynamoDB item", |b| {
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
