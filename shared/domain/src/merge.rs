//! Merge rules that make state independent of arrival order. Each is commutative,
//! associative and, given distinct events, applied once per event by the store.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::event::AuthenticEvent;
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
    /// For an event whose raw item was stored before but that [`has_seen`](Self::has_seen)
    /// does not know: true when it was merged all the same (the record no longer keeps its
    /// key, or predates keeping keys), false when the write of its merge never landed, so
    /// that it is merged now.
    fn stored_means_merged(&self, event: &AuthenticEvent) -> bool;
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

/// The keys of the events a record merged that happened within `window` of its latest,
/// each as `<key>@<unix ms, base 36>`: bounded for records that live long (an agent's), and
/// the same whatever the order of merging, because it depends only on the set of events.
pub mod recent {
    use std::collections::BTreeSet;

    use crate::timestamp::Timestamp;

    fn entry(key: &str, at: Timestamp) -> String {
        let ms = at.unix_millis();
        let sign = if ms < 0 { "-" } else { "" };
        format!("{key}@{sign}{}", base36(ms.unsigned_abs()))
    }

    fn time_of(entry: &str) -> Option<i64> {
        let (_, at) = entry.split_once('@')?;
        i64::from_str_radix(at, 36).ok()
    }

    fn base36(mut n: u64) -> String {
        let mut digits = Vec::new();
        loop {
            digits.push(char::from_digit((n % 36) as u32, 36).expect("below 36"));
            n /= 36;
            if n == 0 {
                break;
            }
        }
        digits.iter().rev().collect()
    }

    pub fn contains(set: &BTreeSet<String>, key: &str) -> bool {
        let from = format!("{key}@");
        set.range(from.clone()..)
            .next()
            .is_some_and(|e| e.starts_with(&from))
    }

    /// Adds an event merged at `at` and drops those more than `window_ms` before `latest`
    /// (the record's latest event, this one included).
    pub fn insert(
        set: &mut BTreeSet<String>,
        key: &str,
        at: Timestamp,
        latest: Timestamp,
        window_ms: i64,
    ) {
        let horizon = latest.unix_millis() - window_ms;
        if at.unix_millis() >= horizon {
            set.insert(entry(key, at));
        }
        set.retain(|e| time_of(e).is_none_or(|t| t >= horizon));
    }

    /// Whether an event at `at` is older than the window of a record whose latest event is
    /// `latest`: its key is not kept.
    pub fn outside(at: Timestamp, latest: Option<Timestamp>, window_ms: i64) -> bool {
        latest.is_some_and(|latest| at.unix_millis() < latest.unix_millis() - window_ms)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keys_within_the_window_are_kept_whatever_the_order() {
            let t = |ms| Timestamp::from_unix_millis(ms);
            let events = [("a", 1_000), ("b", 9_000), ("c", 5_000), ("d", 12_500)];
            let mut forward = BTreeSet::new();
            let mut backward = BTreeSet::new();
            let mut latest = t(0);
            for (key, at) in events {
                latest = latest.max(t(at));
                insert(&mut forward, key, t(at), latest, 5_000);
            }
            let mut latest = t(0);
            for (key, at) in events.iter().rev() {
                latest = latest.max(t(*at));
                insert(&mut backward, key, t(*at), latest, 5_000);
            }
            assert_eq!(forward, backward);
            assert!(contains(&forward, "b") && !contains(&forward, "a"));
            assert!(!contains(&forward, "c"), "7.5 s before the latest");
            assert!(outside(t(5_000), Some(t(12_500)), 5_000));
            assert!(!outside(t(9_000), Some(t(12_500)), 5_000));
            assert!(!outside(t(1), None, 5_000));
        }

        /// Found by fuzzing: a time before 1970 was kept as 1970, so whether the window
        /// kept it depended on the order of arrival.
        #[test]
        fn times_before_1970_keep_their_place() {
            let t = |ms| Timestamp::from_unix_millis(ms);
            let events = [("a", -100_000_000), ("b", -1)];
            let (mut forward, mut backward) = (BTreeSet::new(), BTreeSet::new());
            let mut latest = t(i64::MIN / 2);
            for (key, at) in events {
                latest = latest.max(t(at));
                insert(&mut forward, key, t(at), latest, 5_000);
            }
            let mut latest = t(i64::MIN / 2);
            for (key, at) in events.iter().rev() {
                latest = latest.max(t(*at));
                insert(&mut backward, key, t(*at), latest, 5_000);
            }
            assert_eq!(forward, backward);
            assert!(contains(&forward, "b") && !contains(&forward, "a"));
        }
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
