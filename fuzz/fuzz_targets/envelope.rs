//! (b) Zoom's envelope: any body, signed and verified as the zoom-webhook gate does, becomes an
//! `AuthenticEvent` or a named refusal, never a panic; an accepted one is routed by its fields,
//! keeps its exact body, has a well-formed id that re-serializing does not change, and a stamp
//! whose time reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use zcc_domain::challenge;
use zcc_domain::event::{AuthenticEvent, EventError, EventKind};
use zcc_domain::signature::{SecretToken, SecretTokens, SignatureVerifier, sign};
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::{Envelope, ZoomEvent};
use zcc_fuzz::{check_event, check_reserialized};

const SECRET: &str = "zcc-fuzz-secret";
/// 2026-11-30T14:00:00Z: received then.
const NOW_MS: i64 = 1_796_047_200_000;

fuzz_target!(|body: &[u8]| {
    let now = Timestamp::from_unix_millis(NOW_MS);
    let token = SecretToken::new(SECRET).expect("a token");
    let signature = sign(&token, now.unix_seconds(), body);
    let verified = SignatureVerifier::new(SecretTokens::from_list(SECRET).expect("tokens"), 300)
        .verify(
            Some(&now.unix_seconds().to_string()),
            Some(&signature),
            body,
            now,
        )
        .expect("signed just now");
    let _ = challenge::answer(&verified);
    let parsed: Option<Value> = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok());
    match AuthenticEvent::from_webhook(&verified, now) {
        Ok(event) => {
            let value = parsed.expect("accepted a body that is not JSON");
            let envelope = Envelope::from_value(&value).expect("accepted without an envelope");
            assert_eq!(event.name(), envelope.event);
            assert_eq!(
                event.kind(),
                EventKind::Zoom(ZoomEvent::from_name(&envelope.event))
            );
            assert_eq!(event.fields(), &envelope.object);
            assert_eq!(event.account_id(), envelope.account_id.as_deref());
            if let zcc_domain::event::Subject::Agent(_) = event.subject() {
                assert!(ZoomEvent::from_name(event.name()).is_agent_presence());
            }
            let text = std::str::from_utf8(body).expect("JSON is UTF-8");
            check_event(&event, text, &value, now);
            check_reserialized(&event, &value);
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
            match err {
                EventError::NotJson => assert!(parsed.is_none()),
                EventError::Envelope(e) => {
                    let value = parsed.expect("an envelope error for a body that is not JSON");
                    assert_eq!(Envelope::from_value(&value), Err(e));
                }
                EventError::Flow(e) => panic!("a webhook refused as a Flow body: {e}"),
            }
        }
    }
});
