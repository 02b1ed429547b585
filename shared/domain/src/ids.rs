//! Identifiers that cannot hold an invalid value.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAX_ID_LEN: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{0} is longer than {MAX_ID_LEN} characters")]
    TooLong(&'static str),
    #[error("{0} contains `#` or a control character")]
    BadCharacter(&'static str),
}

fn check(what: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty(what));
    }
    if value.len() > MAX_ID_LEN {
        return Err(IdError::TooLong(what));
    }
    // `#` separates the parts of our keys; refusing it keeps every key unambiguous.
    if value.chars().any(|c| c == '#' || c.is_control()) {
        return Err(IdError::BadCharacter(what));
    }
    Ok(())
}

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check($what, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(EngagementId, "engagement_id");
id_type!(UserId, "user_id");

/// A stable id for one logical event: the same for Zoom's retries and for the same JSON
/// re-serialized with other key order or whitespace, because it hashes parsed content.
/// Always 32 lowercase hex digits: read back from storage, it is checked like any input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

/// Hex digits in an event id: 128 bits of SHA-256.
const EVENT_ID_LEN: usize = 32;
/// Hex digits of the id that order events of one millisecond: 48 bits are plenty.
const SHORT_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event id is {EVENT_ID_LEN} lowercase hex digits, got `{0}`")]
pub struct EventIdError(String);

impl TryFrom<String> for EventId {
    type Error = EventIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> String {
        id.0
    }
}

impl EventId {
    pub fn parse(text: &str) -> Result<Self, EventIdError> {
        let well_formed = text.len() == EVENT_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(EventIdError(text.chars().take(40).collect()))
        }
    }

    /// The first 48 bits, to break ties between events of one instant in a small space.
    pub fn short(&self) -> &str {
        &self.0[..SHORT_LEN]
    }

    /// 64 bits of the id in 11 characters (URL-safe base64): what a record keeps to recognise
    /// events it has merged. Two distinct events of one record share a key with odds of
    /// about n²/2⁶⁵ (10⁻¹⁴ for a few hundred events).
    pub fn key(&self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bits = u64::from_str_radix(&self.0[..16], 16).expect("checked hex digits");
        let padded = u128::from(bits) << 2;
        (0..11)
            .map(|i| char::from(ALPHABET[((padded >> (60 - 6 * i)) & 63) as usize]))
            .collect()
    }

    /// The same 64 bits as a number: what a record's digest of its merged events sums.
    pub fn key_bits(&self) -> u64 {
        u64::from_str_radix(&self.0[..16], 16).expect("checked hex digits")
    }

    /// [`key_bits`](Self::key_bits) of a key [`key`](Self::key) wrote, if it is one.
    pub fn bits_of_key(key: &str) -> Option<u64> {
        if key.len() != 11 {
            return None;
        }
        let mut padded: u128 = 0;
        for c in key.bytes() {
            let digit = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            padded = (padded << 6) | u128::from(digit);
        }
        u64::try_from(padded >> 2).ok()
    }

    /// `namespace` keeps a Flow body and a webhook body that happen to be equal apart.
    pub fn of_json(namespace: &str, value: &serde_json::Value) -> Self {
        // serde_json's Map is a BTreeMap (no `preserve_order`), so this prints keys sorted,
        // without whitespace, and with escapes normalised: a canonical form.
        let canonical = serde_json::to_vec(value).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(namespace.as_bytes());
        hasher.update([0]);
        hasher.update(&canonical);
        let digest = hasher.finalize();
        Self(hex::encode(&digest[..16]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_empty_and_key_separators() {
        assert_eq!(
            EngagementId::parse(""),
            Err(IdError::Empty("engagement_id"))
        );
        assert_eq!(
            EngagementId::parse("a#b"),
            Err(IdError::BadCharacter("engagement_id"))
        );
        assert!(EngagementId::parse("x".repeat(201)).is_err());
        assert_eq!(
            EngagementId::parse("VrFJ9xUGT0G1jqJfyL8yCQ")
                .unwrap()
                .as_str(),
            "VrFJ9xUGT0G1jqJfyL8yCQ"
        );
    }

    #[test]
    fn event_id_ignores_key_order_whitespace_and_escapes() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"event":"x","payload":{"a":1,"b":"é"}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(
            "{ \"payload\" : { \"b\":\"\\u00e9\", \"a\" : 1 },\n \"event\":\"x\" }",
        )
        .unwrap();
        assert_eq!(
            EventId::of_json("webhook", &a),
            EventId::of_json("webhook", &b)
        );
        assert_ne!(
            EventId::of_json("webhook", &a),
            EventId::of_json("flow", &a)
        );
        assert_eq!(EventId::of_json("webhook", &a).as_str().len(), 32);
    }

    #[test]
    fn event_ids_read_back_are_checked() {
        let id = EventId::of_json("webhook", &serde_json::json!({"event": "x"}));
        let text = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<EventId>(&text).unwrap(), id);
        assert_eq!(id.short().len(), 12);
        assert!(id.as_str().starts_with(id.short()));
        for bad in ["\"abc\"", "\"\"", "\"0123456789ABCDEF0123456789abcdef\""] {
            assert!(serde_json::from_str::<EventId>(bad).is_err(), "{bad}");
        }
        assert!(EventId::parse("short").is_err());
    }

    #[test]
    fn an_event_key_is_64_bits_in_11_characters() {
        let id = EventId::parse("ffffffffffffffff0123456789abcdef").unwrap();
        assert_eq!(id.key(), "__________8");
        let zero = EventId::parse("00000000000000000123456789abcdef").unwrap();
        assert_eq!(zero.key(), "AAAAAAAAAAA");
        let one = EventId::parse("0000000000000001ffffffffffffffff").unwrap();
        assert_eq!(one.key(), "AAAAAAAAAAE");
    }

    #[test]
    fn event_id_changes_with_content() {
        let a = serde_json::json!({"event":"x","event_ts":1});
        let b = serde_json::json!({"event":"x","event_ts":2});
        assert_ne!(
            EventId::of_json("webhook", &a),
            EventId::of_json("webhook", &b)
        );
    }
}
