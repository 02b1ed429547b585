//! What a record keeps to merge each event exactly once, in a bounded size however many
//! events it merges: the keys of its [`RECENT`] latest events (by the time they happened), a
//! digest of every key it merged (the first [`POWERS`] power sums of the keys), and the
//! latest of the keys it let go of.
//!
//! The store writes an event's raw item before merging it, so an event whose raw item is
//! stored either was merged or was cut short between the two writes (a crash, a timeout) and
//! comes back on Zoom's retry. The ledger tells which:
//!
//! - a key among the recent ones was merged (a retry of a recent event costs no write);
//! - an event later than every key let go of would be among the recent ones had it been
//!   merged, so it was not;
//! - otherwise the ledger alone cannot say, and the store settles it from the record's raw
//!   items ([`Ledger::settle`]): what their keys' power sums exceed the digest by are the
//!   power sums of the keys not merged, which give (Newton's identities) the polynomial whose
//!   roots they are: the event was merged unless its key is a root. Exact for up to
//!   [`POWERS`] raw items unmerged at once. This costs a query, and happens only for an old
//!   event stored again.
//!
//! Everything here depends only on the set of events merged, never on their order, so the
//! record stays the same whatever order Zoom delivers in.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::event::AuthenticEvent;
use crate::timestamp::Timestamp;

/// How many of the latest events a record keeps the keys of. Each costs about 21 bytes of
/// item on every write (`cargo bench -p zcc-shared --features embedded --bench capacity`);
/// 32 covers a burst of retries without a read and keeps a long chat's item within a write
/// unit of a short one's.
pub const RECENT: usize = 32;

/// How many power sums the digest keeps: as many raw items may be unmerged at once (in
/// flight, or cut short between their two writes and not yet retried) for the raw items to
/// settle an old event exactly. Each costs 16 characters of item.
pub const POWERS: usize = 8;

/// The digest's arithmetic is modulo this prime (2⁶¹ − 1).
const P: u64 = (1 << 61) - 1;

/// The bookkeeping, stored as top-level attributes of the record's item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// `<key>@<unix ms, base 36>` of the [`RECENT`] latest events merged, by (time, key).
    #[serde(default)]
    pub recent_events: BTreeSet<String>,
    /// The power sums Σkʲ (j = 1..[`POWERS`], mod 2⁶¹ − 1) of the keys of every event merged,
    /// 16 hex digits each, once a key has been let go of (until then the recent keys are
    /// all). Absent from records written before it existed, whose events cannot be told
    /// apart from their raw items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_digest: Option<String>,
    /// The latest (time, key) of the events merged but no longer among the recent ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_since: Option<String>,
}

/// What the ledger says of an event whose raw item was found stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Merged,
    NotMerged,
    /// The raw items must settle it ([`Ledger::settle`]).
    Unknown,
}

/// One raw event item as [`Ledger::settle`] needs it: its key's 64 bits.
pub type RawKey = u64;

impl Ledger {
    /// A ledger for a record whose events were merged before digests: `keys` are the keys of
    /// every event merged when there are `merged` of them (then the digest is known), or of
    /// some only.
    pub fn from_legacy_keys(keys: &BTreeSet<String>, merged: u32) -> Self {
        let digest = (keys.len() == merged as usize).then(|| {
            let mut sums = Sums::default();
            for bits in keys.iter().filter_map(|k| key_bits(k)) {
                sums.add(bits);
            }
            sums.to_hex()
        });
        Self {
            recent_events: BTreeSet::new(),
            merged_digest: digest,
            // Their times are unknown: every stored event is settled from the raw items.
            recent_since: Some(entry_of(i64::MAX, "")),
        }
    }

    /// An agent's record from before digests kept the keys of its events of the last
    /// `window_ms` before its latest: those let go of are all earlier.
    pub fn from_legacy_window(&mut self, latest: Option<Timestamp>, window_ms: i64) {
        if self.merged_digest.is_none()
            && self.recent_since.is_none()
            && let Some(latest) = latest
        {
            self.recent_since = Some(entry_of(latest.unix_millis().saturating_sub(window_ms), ""));
        }
    }

    pub fn has_seen(&self, event: &AuthenticEvent) -> bool {
        let from = format!("{}@", event.event_id().key());
        self.recent_events
            .range(from.clone()..)
            .next()
            .is_some_and(|e| e.starts_with(&from))
    }

    /// Records a merged event. Until the first key is let go of, the recent keys are every
    /// key merged, so the digest is only written from then on (a short record is smaller).
    pub fn insert(&mut self, event: &AuthenticEvent) {
        let key = event.event_id().key();
        if self.recent_since.is_some()
            && let Some(digest) = &mut self.merged_digest
            // A digest that cannot be read is left as it is: settling will say so.
            && let Some(mut sums) = Sums::from_hex(digest)
        {
            sums.add(event.event_id().key_bits());
            *digest = sums.to_hex();
        }
        let new = entry_of(event.occurred_at().unix_millis(), &key);
        if self
            .recent_since
            .as_deref()
            .is_some_and(|since| order(&new, since) != Ordering::Greater)
        {
            // Not among the latest: let go of at once (the mark stays the later one).
            return;
        }
        self.recent_events.insert(new);
        if self.recent_events.len() > RECENT && self.recent_since.is_none() {
            // The first key let go of: the digest of every key merged, all of them here.
            let mut sums = Sums::default();
            for bits in self.recent_events.iter().filter_map(|e| key_bits(e)) {
                sums.add(bits);
            }
            self.merged_digest = Some(sums.to_hex());
        }
        while self.recent_events.len() > RECENT {
            let earliest = self
                .recent_events
                .iter()
                .min_by(|a, b| order(a, b))
                .cloned()
                .expect("more than RECENT entries");
            self.recent_events.remove(&earliest);
            if self
                .recent_since
                .as_deref()
                .is_none_or(|since| order(&earliest, since) == Ordering::Greater)
            {
                self.recent_since = Some(earliest);
            }
        }
    }

    /// For an event whose raw item is stored and whose key is not among the recent ones.
    pub fn verdict(&self, event: &AuthenticEvent) -> Stored {
        if self.has_seen(event) {
            return Stored::Merged;
        }
        let this = entry_of(event.occurred_at().unix_millis(), &event.event_id().key());
        match self.recent_since.as_deref() {
            Some(since) if order(&this, since) != Ordering::Greater => Stored::Unknown,
            _ => Stored::NotMerged,
        }
    }

    /// Settles [`Stored::Unknown`] from the record's raw items (their keys' 64 bits; not
    /// those kept unmerged; `event`'s among them), given that the record merged `merged`
    /// events: `Some(true)` when `event` was merged, `Some(false)` when not, `None` when more
    /// than [`POWERS`] raw items are unmerged at once: ask again later.
    pub fn settle(&self, event: &AuthenticEvent, raw: &[RawKey], merged: u32) -> Option<bool> {
        let Some(digest) = self.merged_digest.as_deref().and_then(Sums::from_hex) else {
            // A record from before digests: as it always did, a stored event was merged.
            return Some(true);
        };
        let Some(unmerged) = raw.len().checked_sub(merged as usize) else {
            // Fewer raw items than events merged: some have expired (the table's retention).
            // An event that old was merged long ago.
            return Some(true);
        };
        if unmerged == 0 {
            return Some(true);
        }
        if unmerged > POWERS {
            return None;
        }
        let mut all = Sums::default();
        for bits in raw {
            all.add(*bits);
        }
        // The power sums of the keys not merged, then the coefficients of the polynomial
        // whose roots they are (Newton's identities): e₀ = 1, i·eᵢ = Σⱼ (−1)ʲ⁻¹ eᵢ₋ⱼ pⱼ.
        let p: Vec<u64> = (0..unmerged).map(|j| sub(all.0[j], digest.0[j])).collect();
        let mut e = vec![1u64];
        for i in 1..=unmerged {
            let mut sum = 0;
            for j in 1..=i {
                let term = mul(e[i - j], p[j - 1]);
                sum = if j % 2 == 1 {
                    add(sum, term)
                } else {
                    sub(sum, term)
                };
            }
            e.push(mul(sum, inverse(i as u64)));
        }
        // Π (x − rᵢ) = Σᵢ (−1)ⁱ eᵢ xᵏ⁻ⁱ, at x = this event's key.
        let x = event.event_id().key_bits() % P;
        let mut value = 0;
        for (i, coefficient) in e.iter().enumerate() {
            let term = if i % 2 == 0 {
                *coefficient
            } else {
                sub(0, *coefficient)
            };
            value = add(mul(value, x), term);
        }
        Some(value != 0)
    }
}

/// The power sums of a set of keys, modulo [`P`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums([u64; POWERS]);

impl Sums {
    fn add(&mut self, bits: u64) {
        let x = bits % P;
        let mut power = x;
        for sum in &mut self.0 {
            *sum = add(*sum, power);
            power = mul(power, x);
        }
    }

    fn to_hex(self) -> String {
        self.0.iter().map(|s| format!("{s:016x}")).collect()
    }

    fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 16 * POWERS || !text.is_ascii() {
            return None;
        }
        let mut sums = [0; POWERS];
        for (i, sum) in sums.iter_mut().enumerate() {
            *sum = u64::from_str_radix(&text[16 * i..16 * (i + 1)], 16).ok()? % P;
        }
        Some(Self(sums))
    }
}

fn add(a: u64, b: u64) -> u64 {
    (a + b) % P
}

fn sub(a: u64, b: u64) -> u64 {
    (a + P - b) % P
}

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

/// The inverse modulo the prime [`P`]: a^(P−2).
fn inverse(a: u64) -> u64 {
    let (mut base, mut exponent, mut result) = (a % P, P - 2, 1);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

/// The 64-bit key of an entry's (or a bare) key, as [`crate::ids::EventId::key_bits`] gives it.
fn key_bits(key: &str) -> Option<u64> {
    let key = key.split('@').next()?;
    crate::ids::EventId::bits_of_key(key)
}

fn entry_of(ms: i64, key: &str) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    format!("{key}@{sign}{}", base36(ms.unsigned_abs()))
}

fn time_of(entry: &str) -> i64 {
    entry
        .rsplit_once('@')
        .and_then(|(_, at)| i64::from_str_radix(at, 36).ok())
        .unwrap_or(i64::MIN)
}

/// Entries by (time, key): a total order over events.
fn order(a: &str, b: &str) -> Ordering {
    time_of(a)
        .cmp(&time_of(b))
        .then_with(|| a.split('@').next().cmp(&b.split('@').next()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::testing::webhook;

    /// Messages of one chat, a second apart.
    fn chat(n: usize) -> Vec<AuthenticEvent> {
        (0..n)
            .map(|i| {
                webhook(
                    &serde_json::json!({
                        "event": "contact_center.engagement_consumer_sent_message",
                        "event_ts": 1_780_000_000_000i64 + 1_000 * i as i64,
                        "payload": {"account_id": "acct", "object": {
                            "engagement_id": "chat-1", "message_id": format!("m{i}")}}
                    })
                    .to_string(),
                )
            })
            .collect()
    }

    fn ledger_of(events: &[AuthenticEvent]) -> Ledger {
        let mut ledger = Ledger::default();
        for e in events {
            ledger.insert(e);
        }
        ledger
    }

    #[test]
    fn keeps_the_latest_keys_whatever_the_order() {
        let events = chat(100);
        let forward = ledger_of(&events);
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(ledger_of(&reversed), forward);
        let mut rotated = events.clone();
        rotated.rotate_left(37);
        assert_eq!(ledger_of(&rotated), forward);
        assert_eq!(forward.recent_events.len(), RECENT);
        assert!(forward.has_seen(&events[99]));
        assert!(!forward.has_seen(&events[10]));
    }

    #[test]
    fn an_event_later_than_those_let_go_of_was_not_merged_unless_kept() {
        let events = chat(100);
        let ledger = ledger_of(&events[..99]);
        assert_eq!(ledger.verdict(&events[99]), Stored::NotMerged);
        assert_eq!(ledger.verdict(&events[98]), Stored::Merged);
        assert_eq!(ledger.verdict(&events[3]), Stored::Unknown);
        // A short record keeps every key: nothing is unknown.
        let short = ledger_of(&events[..5]);
        assert_eq!(short.verdict(&events[50]), Stored::NotMerged);
        assert_eq!(short.verdict(&events[0]), Stored::Merged);
    }

    #[test]
    fn the_raw_items_settle_what_the_ledger_cannot() {
        let events = chat(80);
        let bits = |e: &AuthenticEvent| e.event_id().key_bits();
        // Of 0..50, 3, 7 and 11 were cut short between their two writes (not merged); 55..
        // are in flight (stored raw, not merged yet) in the cases below.
        let cut = [3, 7, 11];
        let merged: Vec<_> = events[..50]
            .iter()
            .enumerate()
            .filter(|(i, _)| !cut.contains(i))
            .map(|(_, e)| e.clone())
            .collect();
        let ledger = ledger_of(&merged);
        let raw_with = |extra: &[usize]| -> Vec<u64> {
            let mut raw: Vec<u64> = merged.iter().map(bits).collect();
            raw.extend(extra.iter().map(|i| bits(&events[*i])));
            raw
        };
        let n = merged.len() as u32;
        assert_eq!(ledger.verdict(&events[3]), Stored::Unknown);
        for in_flight in 0..=(POWERS - cut.len()) {
            let mut unmerged = cut.to_vec();
            unmerged.extend(55..55 + in_flight);
            let raw = raw_with(&unmerged);
            for i in cut {
                assert_eq!(ledger.settle(&events[i], &raw, n), Some(false), "{i}");
            }
            for i in [0, 4, 12, 49] {
                assert_eq!(ledger.settle(&events[i], &raw, n), Some(true), "{i}");
            }
        }
        let mut too_many = cut.to_vec();
        too_many.extend(55..55 + POWERS);
        assert_eq!(ledger.settle(&events[3], &raw_with(&too_many), n), None);
        // Nothing unmerged: it was merged.
        let all = ledger_of(&events[..50]);
        let raw: Vec<u64> = events[..50].iter().map(bits).collect();
        assert_eq!(all.settle(&events[3], &raw, 50), Some(true));
    }

    #[test]
    fn the_modular_arithmetic_holds() {
        for a in [1, 2, 12_345, P - 1] {
            assert_eq!(mul(a, inverse(a)), 1);
        }
        assert_eq!(sub(0, 1), P - 1);
        assert_eq!(add(P - 1, 1), 0);
        let mut sums = Sums::default();
        sums.add(u64::MAX);
        assert_eq!(Sums::from_hex(&sums.to_hex()), Some(sums));
        assert_eq!(Sums::from_hex("not hex"), None);
    }

    #[test]
    fn a_record_from_before_digests_settles_as_it_always_did() {
        let events = chat(3);
        let keys: BTreeSet<String> = events.iter().map(|e| e.event_id().key()).collect();
        let known = Ledger::from_legacy_keys(&keys, 3);
        let mut sums = Sums::default();
        for e in &events {
            sums.add(e.event_id().key_bits());
        }
        assert_eq!(known.merged_digest, Some(sums.to_hex()));
        // A short ledger keeps every key and no digest; the digest comes with the first key
        // let go of, and is the same as if it had been kept from the start.
        assert_eq!(ledger_of(&events).merged_digest, None);
        let long = chat(RECENT + 5);
        let mut all = Sums::default();
        for e in &long {
            all.add(e.event_id().key_bits());
        }
        assert_eq!(ledger_of(&long).merged_digest, Some(all.to_hex()));
        assert_eq!(known.verdict(&events[2]), Stored::Unknown);
        let unkeyed = Ledger::from_legacy_keys(&BTreeSet::new(), 3);
        assert_eq!(unkeyed.settle(&events[0], &[1, 2, 3, 4], 3), Some(true));
    }
}
