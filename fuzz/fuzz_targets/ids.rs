//! (d) Identifiers and instants: `EngagementId`, `UserId` and `EventId` accept exactly what
//! their rules say and read back as they were written (JSON, as the state item holds them);
//! `EventId::of_json` is well-formed and blind to key order, whitespace and escapes;
//! `Timestamp::parse` and `to_iso` (the fixed-width text that stamps and sort keys rely on)
//! agree. Input: any bytes, read as text, as JSON and as a Unix time in milliseconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use zcc_domain::ids::{EngagementId, EventId, IdError, UserId};
use zcc_domain::timestamp::Timestamp;

fn id_rules(text: &str, what: &'static str) -> Result<(), IdError> {
    if text.is_empty() {
        Err(IdError::Empty(what))
    } else if text.len() > 200 {
        Err(IdError::TooLong(what))
    } else if text.contains('#') || text.chars().any(char::is_control) {
        Err(IdError::BadCharacter(what))
    } else {
        Ok(())
    }
}

fn check_name_id(text: &str) {
    let json = serde_json::to_string(text).expect("a string serializes");
    let engagement = EngagementId::parse(text);
    assert_eq!(
        engagement.as_ref().err(),
        id_rules(text, "engagement_id").err().as_ref()
    );
    let read: Result<EngagementId, _> = serde_json::from_str(&json);
    assert_eq!(read.ok().as_ref(), engagement.as_ref().ok());
    if let Ok(id) = engagement {
        assert_eq!(id.as_str(), text);
        assert_eq!(id.to_string(), text);
        assert_eq!(serde_json::to_string(&id).expect("serializes"), json);
    }
    let user = UserId::parse(text);
    assert_eq!(
        user.as_ref().err(),
        id_rules(text, "user_id").err().as_ref()
    );
    let read: Result<UserId, _> = serde_json::from_str(&json);
    assert_eq!(read.ok().as_ref(), user.as_ref().ok());
    if let Err(e) = user {
        let _ = e.to_string();
    }
}

fn check_event_id(text: &str) {
    let well_formed = text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let id = EventId::parse(text);
    assert_eq!(id.is_ok(), well_formed, "{text:?}");
    match id {
        Ok(id) => {
            assert_eq!(id.as_str(), text);
            assert_eq!(id.short(), &text[..12]);
            let json = serde_json::to_string(&id).expect("serializes");
            assert_eq!(serde_json::from_str::<EventId>(&json).ok(), Some(id));
        }
        Err(e) => {
            let _ = e.to_string();
            let json = serde_json::to_string(text).expect("serializes");
            assert!(serde_json::from_str::<EventId>(&json).is_err());
        }
    }
}

fn check_of_json(value: &Value) {
    let id = EventId::of_json("webhook", value);
    assert_eq!(EventId::parse(id.as_str()).as_ref(), Ok(&id));
    assert_ne!(id, EventId::of_json("flow", value));
    // Another spelling of the same content has the same id.
    for text in [
        value.to_string(),
        serde_json::to_string_pretty(value).expect("serializes"),
    ] {
        let again: Value = serde_json::from_str(&text).expect("our own JSON parses");
        assert_eq!(EventId::of_json("webhook", &again), id, "{text}");
    }
}

/// An instant's ISO text is fixed-width and reads back as the same instant.
fn check_instant(t: Timestamp) {
    let iso = t.to_iso();
    assert_eq!(iso.len(), 24, "{iso} ({} ms)", t.unix_millis());
    assert_eq!(
        Timestamp::parse(&iso),
        Ok(t),
        "{iso} ({} ms)",
        t.unix_millis()
    );
    assert_eq!(t.day(), iso[..10]);
    let json = serde_json::to_string(&t).expect("serializes");
    assert_eq!(
        serde_json::from_str::<Timestamp>(&json).ok(),
        Some(t),
        "{json}"
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_name_id(&text);
    check_name_id(text.trim());
    check_event_id(&text);
    check_event_id(text.trim());
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check_of_json(&value);
    }
    if let Ok(t) = Timestamp::parse(&text) {
        check_instant(t);
    }
    // Unix milliseconds from the input's first bytes: signed_at and Zoom's event_ts.
    if data.len() >= 8 {
        let ms = i64::from_le_bytes(data[..8].try_into().expect("8 bytes"));
        let _ = Timestamp::from_unix_millis(ms).to_iso();
        let _ = Timestamp::from_unix_millis(ms).day();
    }
});
