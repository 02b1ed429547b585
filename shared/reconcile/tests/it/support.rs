//! One stand-in, one dynoxide and one fresh table per test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use zcc_domain::engagement::EngagementState;
use zcc_domain::samples::engagement_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_reconcile::{
    Options, Pacing, ReconcileReport, Reconciler, RetryPolicy, Window, ZoomClient, ZoomCredentials,
};
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::{DynamoStore, attributes, schema};
use zcc_shared::store::EventStore;
use zcc_testkit::authentic;
use zcc_testkit::zoom_api::{self, ZoomApiStandIn};

static TABLES: AtomicU32 = AtomicU32::new(0);

pub struct Rig {
    pub zoom: ZoomApiStandIn,
    pub dynamo: EmbeddedDynamo,
    pub table: String,
    /// Where calls start: three hours ago, whole seconds (inside Zoom's 7 days of logs).
    pub base: Timestamp,
}

/// Retries quick enough for tests; the same logic as in production.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

impl Rig {
    pub async fn new() -> Self {
        let zoom = ZoomApiStandIn::start().await.expect("the stand-in starts");
        let dynamo = EmbeddedDynamo::memory().await.expect("dynoxide starts");
        let n = TABLES.fetch_add(1, Ordering::SeqCst);
        let table = format!("reconcile-{}-{n}", std::process::id());
        assert!(
            schema::create(&dynamo.client(), &table)
                .await
                .expect("table created")
        );
        let now = Timestamp::now().unix_seconds();
        let base = Timestamp::from_unix_millis((now - 3 * 3600) * 1000);
        Self {
            zoom,
            dynamo,
            table,
            base,
        }
    }

    pub fn credentials(&self, app_id: bool) -> ZoomCredentials {
        ZoomCredentials::new(
            zoom_api::ACCOUNT_ID,
            zoom_api::CLIENT_ID,
            zoom_api::CLIENT_SECRET,
            app_id.then(|| zoom_api::APP_ID.to_owned()),
            Some(self.zoom.api_url()),
            Some(self.zoom.oauth_url()),
        )
    }

    /// A store as a new process has it: no cache.
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamo.client(), self.table.clone(), None)
    }

    pub fn reconciler_with(&self, pacing: Pacing) -> Reconciler {
        Reconciler::with_client(
            ZoomClient::with(self.credentials(true), pacing, quick_retries()),
            self.store(),
        )
    }

    pub fn reconciler(&self) -> Reconciler {
        self.reconciler_with(Pacing::unpaced())
    }

    /// The window around the calls: from an hour before `base` to an hour after.
    pub fn window(&self) -> Window {
        Window::new(self.at(-3600), self.at(3600)).unwrap()
    }

    pub async fn run(&self, options: Options) -> ReconcileReport {
        self.reconciler()
            .run(self.window(), options)
            .await
            .expect("the run succeeds")
    }

    pub fn at(&self, seconds: i64) -> Timestamp {
        self.base.saturating_add_millis(seconds * 1000)
    }

    /// A webhook body of engagement `id` at `ms` after `base`.
    pub fn body(&self, event: &str, id: &str, ms: i64, extra: Value) -> String {
        engagement_webhook(event, id, self.base.saturating_add_millis(ms), extra).to_string()
    }

    /// Delivers a webhook as the live endpoint does (after its signature check).
    pub async fn deliver(&self, body: &str) {
        self.store()
            .record(&authentic::webhook(body))
            .await
            .expect("stored");
    }

    /// The engagement's record as stored now.
    pub async fn state(&self, id: &str) -> Option<EngagementState> {
        let item = self
            .store()
            .current_state(&schema::engagement_pk(id))
            .await
            .unwrap()?;
        Some(serde_json::from_value(Value::Object(attributes::from_item(&item))).unwrap())
    }

    /// Every item of the table, keyed `pk|sk`, with its attributes: to show that a run
    /// changed nothing.
    pub async fn items(&self) -> Vec<(String, Value)> {
        let output = self
            .dynamo
            .client()
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        let mut items: Vec<(String, Value)> = output
            .items()
            .iter()
            .map(|item| {
                let map = attributes::from_item(item);
                let key = format!("{}|{}", map["pk"], map["sk"]);
                (key, Value::Object(map))
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items
    }
}

/// Webhooks of an answered call as Zoom sends them: started at 0, answered by u-ana in
/// q-sales at `answer_ms`, ended at `end_ms`, with wrap-up from the end for `wrap_ms`.
pub fn call_webhooks(rig: &Rig, id: &str, answer_ms: i64, end_ms: i64) -> Vec<String> {
    let agent = json!({"user_id": "u-ana", "user_display_name": "Ana Agent",
        "cc_queue_id": "q-sales", "queue_name": "Sales"});
    vec![
        rig.body("engagement_started", id, 0, json!({})),
        rig.body(
            "task_entered_queue",
            id,
            100,
            json!({"cc_queue_id": "q-sales", "queue_name": "Sales"}),
        ),
        rig.body("engagement_user_answered", id, answer_ms, agent.clone()),
        rig.body("engagement_ended", id, end_ms, json!({})),
    ]
}
