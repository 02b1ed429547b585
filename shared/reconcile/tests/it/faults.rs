//! Zoom's limits and faults as Zoom documents them (and an answer that is not JSON).

use std::time::Duration;

use zcc_reconcile::{Options, Pacing, ReconcileError};
use zcc_testkit::zoom_api::{self, Call, Endpoint, Fault};

use crate::support::{Rig, call_webhooks};

fn call(rig: &Rig, id: &str) -> Call {
    Call::answered(id, rig.base, 30, 120, 0)
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let rig = Rig::new().await;
    rig.zoom.add_call(call(&rig, "e1"));
    rig.zoom.inject(
        Endpoint::Engagements,
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    let report = rig.run(Options::default()).await;
    assert_eq!(report.backfilled_engagements, 1);
    let times = rig.zoom.request_times(Endpoint::Engagements);
    assert_eq!(times.len(), 2, "the refused request, then its retry");
    // Retry-After: 1 is a second, far above the test's 20 ms backoff: it was waited.
    assert!(
        times[1] - times[0] >= Duration::from_millis(990),
        "{:?}",
        times[1] - times[0]
    );
    assert_eq!(report.retries, 1);
}

#[tokio::test]
async fn a_5xx_is_retried_with_backoff_and_given_up_on_after_a_bound() {
    let rig = Rig::new().await;
    rig.zoom.add_call(call(&rig, "e1"));
    rig.zoom
        .inject(Endpoint::Engagement, Fault::ServerError(503));
    rig.zoom
        .inject(Endpoint::Engagement, Fault::ServerError(500));
    let report = rig.run(Options::default()).await;
    assert_eq!(report.backfilled_engagements, 1);
    assert_eq!(rig.zoom.requests(Endpoint::Engagement), 3);
    assert!(rig.state("e1").await.is_some());

    let rig = Rig::new().await;
    rig.zoom.add_call(call(&rig, "e1"));
    for _ in 0..10 {
        rig.zoom
            .inject(Endpoint::Engagement, Fault::ServerError(502));
    }
    let err = rig
        .reconciler()
        .run(rig.window(), Options::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ReconcileError::GaveUp { attempts: 6, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("/contact_center/engagements/{engagementId}")
    );
    assert!(rig.items().await.is_empty());
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let rig = Rig::new().await;
    rig.zoom.add_call(call(&rig, "e1"));
    let reconciler = rig.reconciler();
    reconciler
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    assert_eq!(rig.zoom.tokens_issued(), 1, "one token for the whole run");
    // Zoom's clock says the token expired before ours does: a 401 with code 124.
    rig.zoom.expire_tokens();
    let report = reconciler
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    assert_eq!(rig.zoom.tokens_issued(), 2);
    assert_eq!((report.checked, report.matched), (1, 1));
    // A token refused again right after renewal is an error, not a loop.
    rig.zoom.inject(Endpoint::Engagements, Fault::ExpiredToken);
    rig.zoom.inject(Endpoint::Engagements, Fault::ExpiredToken);
    let err = reconciler
        .run(rig.window(), Options::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ReconcileError::Zoom {
                status: 401,
                code: Some(124),
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_token_is_fetched_again_when_it_expires() {
    let rig = Rig::new().await;
    rig.zoom.add_call(call(&rig, "e1"));
    // Renewed at half its life (1.5 s): a run well inside that needs one token.
    rig.zoom.set_token_lifetime(Duration::from_secs(3));
    let reconciler = rig.reconciler();
    reconciler
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    reconciler
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    assert_eq!(rig.zoom.tokens_issued(), 2);
    // Renewed before use, so no request was refused.
    assert_eq!(
        rig.zoom.requests(Endpoint::Engagements),
        2,
        "one list request a run"
    );
}

#[tokio::test]
async fn html_instead_of_json_is_an_error_naming_the_endpoint_and_nothing_is_written() {
    let rig = Rig::new().await;
    let bodies = call_webhooks(&rig, "e0", 30_000, 150_000);
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        &bodies[0], rig.base, 401, 0, "r1",
    ));
    rig.zoom.add_call(call(&rig, "e1"));
    rig.zoom.add_call(call(&rig, "e2"));
    // A detail answers 5xx, then, retried, an outage page: by then a recovered event and
    // the list are in hand, and nothing may be written.
    rig.zoom
        .inject(Endpoint::Engagement, Fault::ServerError(599));
    rig.zoom.inject(Endpoint::Engagement, Fault::Html);
    let err = rig
        .reconciler()
        .run(rig.window(), Options::default())
        .await
        .unwrap_err();
    match &err {
        ReconcileError::NotDocumentedJson { endpoint, reason } => {
            assert_eq!(endpoint, "GET /contact_center/engagements/{engagementId}");
            assert!(reason.contains("HTML"), "{reason}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("nothing was written"));
    assert!(rig.items().await.is_empty());

    for endpoint in [
        Endpoint::Engagements,
        Endpoint::WebhookLogs,
        Endpoint::OAuth,
    ] {
        let rig = Rig::new().await;
        rig.zoom.add_call(call(&rig, "e1"));
        rig.zoom.inject(endpoint, Fault::Html);
        let err = rig
            .reconciler()
            .run(rig.window(), Options::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_documented_json", "{endpoint:?}: {err}");
        assert!(rig.items().await.is_empty());
    }
}

#[tokio::test]
async fn an_expired_page_token_restarts_the_slice() {
    let rig = Rig::new().await;
    for n in 0..150 {
        let mut c = call(&rig, &format!("e{n:03}"));
        c.start = rig.at(n);
        rig.zoom.add_call(c);
    }
    rig.zoom
        .inject(Endpoint::Engagements, Fault::ExpiredPageToken);
    let report = rig.run(Options::default()).await;
    assert_eq!(report.listed_engagements, 150);
    assert_eq!(report.backfilled_engagements, 150);
    // Page 1, page 2 refused, page 1 and page 2 again.
    assert_eq!(rig.zoom.requests(Endpoint::Engagements), 4);
    assert!(report.notes.iter().any(|n| n.contains("page token")));
}

#[tokio::test]
async fn requests_are_paced_under_the_rate_labels() {
    let rig = Rig::new().await;
    for n in 0..6 {
        rig.zoom.add_call(call(&rig, &format!("e{n}")));
    }
    let pacing = Pacing {
        light_per_sec: 10.0,
        medium_per_sec: 4.0,
    };
    rig.reconciler_with(pacing)
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    // Light: the details, at most 10 a second: six take at least five intervals of 100 ms.
    // (Measured where they arrive, so the span, not each gap: a request held up on its way
    // makes one gap shorter and the next longer.)
    let details = rig.zoom.request_times(Endpoint::Engagement);
    assert_eq!(details.len(), 6);
    let span = details[5] - details[0];
    assert!(span >= Duration::from_millis(460), "{span:?}");
    // Medium: the logs, then the list, at most 4 a second: 250 ms apart.
    let logs = rig.zoom.request_times(Endpoint::WebhookLogs)[0];
    let list = rig.zoom.request_times(Endpoint::Engagements)[0];
    assert!(
        list - logs >= Duration::from_millis(210),
        "{:?}",
        list - logs
    );
}
