//! What the handler and binary tests share: dynoxide with the table, and Zoom (the test kit's
//! stand-in) and the table as an hourly run finds them.

use serde_json::json;
use zcc_domain::samples::engagement_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_reconcile::Window;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::store::EventStore;
use zcc_testkit::authentic;
use zcc_testkit::zoom_api::{
    ACCOUNT_ID, APP_ID, CLIENT_ID, CLIENT_SECRET as ZOOM_CLIENT_SECRET, Call, ZoomApiStandIn,
    failed_delivery,
};

use reconcile::window::hourly;

pub const TABLE: &str = "reconcile-handler";
pub const CLIENT_SECRET: &str = "s2s-client-secret-Qm8vT1x";

pub struct Table {
    pub store: DynamoStore,
    pub db: EmbeddedDynamo,
}

pub async fn table() -> Table {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), TABLE).await.unwrap();
    Table {
        store: DynamoStore::new(db.client(), TABLE, None),
        db,
    }
}

impl Table {
    pub async fn items(&self) -> usize {
        let scan = self
            .store
            .client()
            .scan()
            .table_name(TABLE)
            .send()
            .await
            .unwrap();
        scan.items().len()
    }
}

/// The secret's value as the operator puts it, for the stand-in's app.
pub fn secret_json() -> String {
    json!({
        "account_id": ACCOUNT_ID,
        "client_id": CLIENT_ID,
        "client_secret": ZOOM_CLIENT_SECRET,
        "app_id": APP_ID,
    })
    .to_string()
}

pub const LOST_END: &str = "e-lost-end";
pub const NO_WEBHOOKS: &str = "e-no-webhooks";

/// Zoom and the table as an hourly run at `now` finds them: in the hour it covers, one
/// engagement whose `engagement_ended` our endpoint answered 401 (so Zoom never retried it,
/// and it is in the app's webhook logs) and one engagement no webhook told the table about.
pub struct Scenario {
    pub zoom: ZoomApiStandIn,
    pub table: Table,
    pub now: Timestamp,
    pub window: Window,
}

pub async fn scenario() -> Scenario {
    // The real clock: Zoom keeps webhook logs 7 days back from now, and the run asks for
    // what falls in both its window and those 7 days.
    let now = Timestamp::now();
    let window = hourly(now);
    let zoom = ZoomApiStandIn::start().await.unwrap();
    let table = table().await;

    let start = window.from.saturating_add_millis(10 * 60_000);
    let lost = Call::answered(LOST_END, start, 10, 120, 0);
    let routing = json!({"cc_queue_id": "q-sales", "queue_name": "Sales",
        "user_id": "u-ana", "user_display_name": "Ana Agent"});
    for (name, at) in [
        ("engagement_started", start),
        (
            "engagement_user_answered",
            start.saturating_add_millis(10_000),
        ),
    ] {
        let body = engagement_webhook(name, LOST_END, at, routing.clone()).to_string();
        table
            .store
            .record(&authentic::webhook(&body))
            .await
            .unwrap();
    }
    let ended = engagement_webhook("engagement_ended", LOST_END, lost.end, routing).to_string();
    zoom.add_webhook_log(failed_delivery(&ended, lost.end, 401, 0, "req-lost-end"));
    zoom.add_call(lost);
    zoom.add_call(Call::answered(
        NO_WEBHOOKS,
        window.from.saturating_add_millis(25 * 60_000),
        5,
        60,
        10,
    ));
    Scenario {
        zoom,
        table,
        now,
        window,
    }
}
