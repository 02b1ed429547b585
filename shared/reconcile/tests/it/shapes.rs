//! The stand-in serves exactly the shapes recorded in shared/fixtures/zoom-api (read from
//! Zoom's specs, SOURCES.md there): the same keys at every level, the same JSON types.

use base64::Engine;
use serde_json::Value;
use zcc_testkit::zoom_api::{self, Call, ZoomApiStandIn};

use crate::support::Rig;

fn fixture(name: &str) -> Value {
    let path = format!("{}/../fixtures/zoom-api/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every path to a value with the value's JSON type; arrays contribute their first element.
fn shape(value: &Value, at: &str, out: &mut Vec<String>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.push(format!("{at}: {kind}"));
    match value {
        Value::Array(items) => {
            if let Some(first) = items.first() {
                shape(first, &format!("{at}[]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                shape(v, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn shape_of(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    shape(value, "", &mut out);
    out.sort();
    out
}

async fn get(zoom: &ZoomApiStandIn, path: &str) -> Value {
    let http = reqwest::Client::new();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        zoom_api::CLIENT_ID,
        zoom_api::CLIENT_SECRET
    ));
    let token: Value = http
        .post(format!(
            "{}?grant_type=account_credentials&account_id={}",
            zoom.oauth_url(),
            zoom_api::ACCOUNT_ID
        ))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shape_of(&token), shape_of(&fixture("oauth_token.json")));
    http.get(format!("{}{path}", zoom.api_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_stand_in_serves_the_fixtures_shapes() {
    let rig = Rig::new().await;
    for n in 0..2 {
        rig.zoom
            .add_call(Call::answered(&format!("e{n}"), rig.at(n), 32, 280, 30));
    }
    let body = rig.body("engagement_ended", "e0", 1000, serde_json::json!({}));
    rig.zoom
        .add_webhook_log(zoom_api::failed_delivery(&body, rig.at(1), 401, 0, "r1"));
    let from = format!("{}Z", &rig.at(-60).to_iso()[..19]);
    let to = format!("{}Z", &rig.at(60).to_iso()[..19]);
    let list = get(
        &rig.zoom,
        &format!("/contact_center/engagements?from={from}&to={to}&timezone=UTC&page_size=1"),
    )
    .await;
    assert_eq!(shape_of(&list), shape_of(&fixture("engagements.json")));
    let detail = get(&rig.zoom, "/contact_center/engagements/e0").await;
    assert_eq!(shape_of(&detail), shape_of(&fixture("engagement.json")));
    let missing = get(&rig.zoom, "/contact_center/engagements/nope").await;
    assert_eq!(
        shape_of(&missing),
        shape_of(&fixture("error_engagement_not_found.json"))
    );
    let logs = get(
        &rig.zoom,
        &format!(
            "/marketplace/apps/{}/webhook_logs?from={from}&to={to}&type=2&page_size=300",
            zoom_api::APP_ID
        ),
    )
    .await;
    assert_eq!(shape_of(&logs), shape_of(&fixture("webhook_logs.json")));
    // request_body is the whole webhook body as a JSON string.
    let inner: Value =
        serde_json::from_str(logs["webhook_logs"][0]["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["event"], "contact_center.engagement_ended");
    rig.zoom.expire_tokens();
    let refused: Value = reqwest::Client::new()
        .get(format!("{}/contact_center/engagements", rig.zoom.api_url()))
        .bearer_auth("eyJzdGFuZC1pbi1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shape_of(&refused),
        shape_of(&fixture("error_invalid_token.json"))
    );
    assert_eq!(refused["code"], 124);
}
