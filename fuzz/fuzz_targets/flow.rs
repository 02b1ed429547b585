//! (c) Flow POSTs: any Authorization header and any body, as the flow-events gate takes them
//! (`FlowAuthorizer::authorize`, then `AuthenticEvent::from_flow`). Input: the header, a
//! newline, the body. An accepted event is about the engagement its body names, keeps its
//! exact body and has a well-formed id that re-serializing does not change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use zcc_domain::event::{AuthenticEvent, EventError, EventKind, Subject};
use zcc_domain::flow::{FlowAuthError, FlowAuthorizer, FlowEvent, FlowPost};
use zcc_domain::signature::SecretTokens;
use zcc_domain::timestamp::Timestamp;
use zcc_fuzz::{check_event, check_reserialized};

const TOKENS: &str = "zcc-flow-token,zcc-flow-next";
const NOW_MS: i64 = 1_796_047_200_000;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let header = std::str::from_utf8(header).ok();
    let now = Timestamp::from_unix_millis(NOW_MS);
    let authorizer = FlowAuthorizer::new(&SecretTokens::from_list(TOKENS).expect("tokens"));
    // The only headers that pass: `Bearer <one of the tokens>`, any case, any spaces around.
    let expected = header.is_some_and(|h| {
        h.trim().split_once(' ').is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && TOKENS.split(',').any(|t| t == token.trim())
        })
    });
    let post = match authorizer.authorize(header, body) {
        Ok(post) => {
            assert!(expected, "authorized {header:?}");
            post
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
            assert!(!expected, "refused {header:?}: {err}");
            assert_eq!(header.is_none(), err == FlowAuthError::Missing);
            // The body is judged only once the token checked out: judge it anyway.
            authorizer
                .authorize(Some("Bearer zcc-flow-token"), body)
                .expect("the right token")
        }
    };
    assert_eq!(post.body(), body);
    let parsed: Option<Value> = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok());
    match AuthenticEvent::from_flow(&post, now) {
        Ok(event) => {
            let value = parsed.expect("accepted a body that is not JSON");
            let flow = FlowPost::from_value(&value).expect("accepted without a Flow body");
            assert_eq!(event.name(), flow.event);
            assert_eq!(
                event.kind(),
                EventKind::Flow(FlowEvent::from_name(&flow.event))
            );
            assert_eq!(
                event.subject(),
                &Subject::Engagement(flow.engagement_id.clone())
            );
            assert_eq!(Some(event.fields()), value.as_object());
            assert_eq!(event.account_id(), None);
            let timed = flow
                .occurred_at
                .as_deref()
                .is_some_and(|t| Timestamp::parse(t).is_ok());
            assert_eq!(event.is_timed(), timed);
            let text = std::str::from_utf8(body).expect("JSON is UTF-8");
            check_event(&event, text, &value, now);
            check_reserialized(&event, &value);
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
            match err {
                EventError::NotJson => assert!(parsed.is_none()),
                EventError::Flow(e) => {
                    let value = parsed.expect("a Flow error for a body that is not JSON");
                    assert_eq!(FlowPost::from_value(&value), Err(e));
                }
                EventError::Envelope(e) => panic!("a Flow body refused as an envelope: {e}"),
            }
        }
    }
});
