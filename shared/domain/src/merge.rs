//! Merge rules that make state independent of arrival order. Each is commutative,
//! associative and, given distinct events, applied once per event by the store.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::event::{AuthenticEvent, Source};
use crate::ledger::Stored;
use crate::timestamp::Timestamp;

/// A record merged from events (an engagement, an agent): what the store needs to know to
/// merge an event into it exactly once.
pub trait State: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind of record, as stored beside it (`engagement`, `agent`).
    const ENTITY: &'static str;
    fn fresh(id: &str) -> Self;
    /// Whether this exact event has been merged already: the record keeps the keys
    /// ([`EventId::key`](crate::ids::EventId::key)) of the events it merged.
    fn has_seen(&self, event: &AuthenticEvent) -> bool;
    /// For an event whose raw item was found stored but that [`has_seen`](Self::has_seen)
    /// does not know: whether it was merged, or whether the write of its merge never landed
    /// (a crash or a timeout between the store's two writes) so that it is merged now, or
    /// [`Stored::Unknown`]: the record's raw items must [`settle`](Self::settle) it.
    fn stored_verdict(&self, event: &AuthenticEvent) -> Stored;
    /// Settles [`Stored::Unknown`] from the record's raw event items (not those kept
    /// unmerged), each as its key's 64 bits and its source: `None` when it cannot yet.
    fn settle(&self, event: &AuthenticEvent, raw: &[(u64, Source)]) -> Option<bool>;
    /// Merges one distinct event (and remembers its key). The store guarantees each event is
    /// merged once.
    fn apply(&mut self, event: &AuthenticEvent);
    /// Whether `event` usually arrives before any other for its record, so that writing it
    /// as the record's first is the best guess when a writer has not seen the record.
    fn usually_first(event: &AuthenticEvent) -> bool;
}

/// Per-field "stamps" (`<occurred ISO>#<event id>`, a total order over events).
pub type Stamps = BTreeMap<String, String>;

/// Last writer wins: true when `stamp` is later than the one recorded for `key`, which it
/// then becomes. The caller writes the field only when this says so.
pub fn newer(stamps: &mut Stamps, key: &str, stamp: &str) -> bool {
    match stamps.get(key) {
        Some(current) if current.as_str() >= stamp => false,
        _ => {
            stamps.insert(key.to_owned(), stamp.to_owned());
            true
        }
    }
}

/// Last writer wins for one field.
pub fn set_latest<T>(
    stamps: &mut Stamps,
    key: &str,
    stamp: &str,
    slot: &mut Option<T>,
    value: Option<T>,
) {
    if let Some(value) = value
        && newer(stamps, key, stamp)
    {
        *slot = Some(value);
    }
}

/// For fields that are the same on every event of one engagement (channel, direction...):
/// the smallest value seen, so that even inconsistent senders give one answer.
pub fn set_stable(slot: &mut Option<String>, value: Option<String>) {
    if let Some(value) = value
        && slot.as_ref().is_none_or(|current| value < *current)
    {
        *slot = Some(value);
    }
}

pub fn earliest(slot: &mut Option<Timestamp>, at: Timestamp) {
    if slot.is_none_or(|current| at < current) {
        *slot = Some(at);
    }
}

pub fn latest(slot: &mut Option<Timestamp>, at: Timestamp) {
    if slot.is_none_or(|current| at > current) {
        *slot = Some(at);
    }
}

/// Inserts keeping the list sorted: a sorted multiset is the same whatever the order.
pub fn insert_sorted<T: Ord>(list: &mut Vec<T>, value: T) {
    let at = list.partition_point(|x| *x <= value);
    list.insert(at, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_is_order_independent() {
        let mut a = Stamps::new();
        let mut b = Stamps::new();
        let (mut va, mut vb) = (None, None);
        for (stamp, v) in [("2#x", "two"), ("1#y", "one"), ("3#a", "three")] {
            set_latest(&mut a, "f", stamp, &mut va, Some(v));
        }
        for (stamp, v) in [("3#a", "three"), ("2#x", "two"), ("1#y", "one")] {
            set_latest(&mut b, "f", stamp, &mut vb, Some(v));
        }
        assert_eq!(va, Some("three"));
        assert_eq!(va, vb);
        assert_eq!(a, b);
    }

    #[test]
    fn absent_values_do_not_overwrite() {
        let mut stamps = Stamps::new();
        let mut slot = Some("kept");
        set_latest(&mut stamps, "f", "9#z", &mut slot, None);
        assert_eq!(slot, Some("kept"));
        assert!(stamps.is_empty());
    }

    #[test]
    fn stable_and_extremes_and_sorted() {
        let mut s = None;
        set_stable(&mut s, Some("voice".into()));
        set_stable(&mut s, Some("chat".into()));
        set_stable(&mut s, None);
        assert_eq!(s.as_deref(), Some("chat"));
        let (mut lo, mut hi) = (None, None);
        for ms in [5, 1, 9] {
            earliest(&mut lo, Timestamp::from_unix_millis(ms));
            latest(&mut hi, Timestamp::from_unix_millis(ms));
        }
        assert_eq!(lo.unwrap().unix_millis(), 1);
        assert_eq!(hi.unwrap().unix_millis(), 9);
        let mut list = vec![];
        for x in [3, 1, 2, 1] {
            insert_sorted(&mut list, x);
        }
        assert_eq!(list, [1, 1, 2, 3]);
    }
}
