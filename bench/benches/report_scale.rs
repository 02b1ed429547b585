//! A day of many engagements for measuring `zcc report` at scale: merges each engagement of a
//! generated day in memory (the same merge the functions run) and writes the final state
//! items into a dynoxide data file, as `zcc local --data-dir` keeps them. Then time the real
//! thing against it (README, "Reporting"):
//!
//!     cargo bench -p zcc-bench --bench report_scale -- DIR 50000
//!     zcc local --data-dir DIR &
//!     /usr/bin/time -v zcc report --from 2026-11-30 --to 2026-11-30 \
//!         --endpoint-url http://127.0.0.1:8000 --table zcc-events

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use zcc_domain::engagement::EngagementState;
use zcc_domain::merge::State;
use zcc_shared::dynamodb::attributes::to_item;
use zcc_shared::dynamodb::embedded::{EmbeddedDynamo, Storage};
use zcc_shared::dynamodb::schema::{self, ENTITY, PK, SETS, SK, STATE_SK, VERSION};
use zcc_testkit::authentic;
use zcc_testkit::day::generate;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = std::path::PathBuf::from(args.first().map_or("target/report-scale", String::as_str));
    let n: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(50_000);
    let began = Instant::now();
    let day = generate("2026-11-30", n, 42);
    let mut states: BTreeMap<String, EngagementState> = BTreeMap::new();
    for body in &day.webhooks {
        let event = authentic::webhook(body);
        if let zcc_domain::event::Subject::Engagement(id) = event.subject() {
            let state = states
                .entry(id.to_string())
                .or_insert_with(|| EngagementState::fresh(id.as_str()));
            if !state.has_seen(&event) {
                state.apply(&event);
            }
        }
    }
    println!(
        "{n} engagements merged from {} webhooks in {:.1} s",
        day.webhooks.len(),
        began.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&dir).unwrap();
    let dynamo = EmbeddedDynamo::start(
        &Storage::File(dir.join("dynamodb.sqlite")),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let client = dynamo.client();
    schema::create(&client, "zcc-events").await.unwrap();
    let began = Instant::now();
    let items: Vec<_> = states
        .values()
        .map(|state| {
            let serde_json::Value::Object(fields) = serde_json::to_value(state).unwrap() else {
                unreachable!("a state is an object")
            };
            let mut item = to_item(fields, SETS);
            item.insert(
                PK.into(),
                AttributeValue::S(schema::engagement_pk(&state.engagement_id)),
            );
            item.insert(SK.into(), AttributeValue::S(STATE_SK.into()));
            item.insert(ENTITY.into(), AttributeValue::S("engagement".into()));
            item.insert(
                VERSION.into(),
                AttributeValue::N(state.event_count.to_string()),
            );
            item
        })
        .collect();
    for chunk in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        while !requests.is_empty() {
            let output = client
                .batch_write_item()
                .request_items("zcc-events", requests.clone())
                .send()
                .await
                .unwrap();
            requests = output
                .unprocessed_items()
                .and_then(|u| u.get("zcc-events"))
                .cloned()
                .unwrap_or_default();
        }
    }
    println!(
        "{} state items written to {} in {:.1} s",
        items.len(),
        dir.display(),
        began.elapsed().as_secs_f64()
    );
    dynamo.stop().await;
}
