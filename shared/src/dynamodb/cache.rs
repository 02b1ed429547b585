//! The states this process wrote or saw last, decoded, so that the next event for the same
//! engagement can be merged and written without reading (or decoding) the item first.
//!
//! Nothing here has to be fresh to be safe: every state write is conditioned on the version
//! it was merged from, so a stale entry costs a refused write (which hands back the current
//! item) and never a lost or doubled event.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attributes::Item;

/// How many state items a warm Lambda keeps: an engagement's events come within minutes of
/// each other, and a state item is a few KB.
pub const DEFAULT_CAPACITY: usize = 1024;
/// ...and how many bytes of them at most, so that a function with the smallest memory
/// (128 MB) stays far from its limit even when Flow scripts send large variables.
pub const BYTE_BUDGET: usize = 16 << 20;
/// Items larger than this are not kept (they take the read path): rare, and each would crowd
/// out dozens of ordinary ones.
pub const LARGEST_KEPT: usize = 64 << 10;

#[derive(Debug)]
pub struct StateCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    tick: u64,
    bytes: usize,
    by_pk: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    /// The decoded state (an `EngagementState`, an `AgentState`).
    state: Box<dyn Any + Send + Sync>,
    version: u64,
    used: u64,
    /// The size of its item.
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, pk: &str) {
        if let Some(entry) = self.by_pk.remove(pk) {
            self.bytes -= entry.bytes;
        }
    }

    fn evict_least_recently_used(&mut self) {
        // Linear, but over at most `capacity` entries and only when full: far cheaper than
        // the network round trip an entry saves.
        if let Some(oldest) = self
            .by_pk
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| k.clone())
        {
            self.remove(&oldest);
        }
    }
}

/// Roughly the bytes an item holds (names and values; numbers as their digits).
pub fn size_of(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Ss(items) | AttributeValue::Ns(items) => {
                items.iter().map(String::len).sum()
            }
            AttributeValue::L(items) => items.iter().map(value).sum::<usize>() + items.len(),
            AttributeValue::M(map) => map.iter().map(|(k, v)| k.len() + value(v)).sum(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

impl StateCache {
    /// A cache of `capacity` items; 0 turns it off (every write reads first).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// The state last written or seen under `pk`, and its version, taken out: the caller
    /// puts back the state it writes next (or this one, if it writes none).
    /// Also hands back the size of its item.
    pub fn take<T: Any>(&self, pk: &str) -> Option<(T, u64, usize)> {
        let mut entries = self.lock();
        let entry = entries.by_pk.remove(pk)?;
        entries.bytes -= entry.bytes;
        let (version, bytes) = (entry.version, entry.bytes);
        entry
            .state
            .downcast::<T>()
            .ok()
            .map(|state| (*state, version, bytes))
    }

    /// Remembers `state` at `version`, whose item is `bytes` long, unless a newer version is
    /// already remembered (two requests of one process can finish out of order).
    pub fn put<T: Any + Send + Sync>(&self, pk: &str, state: T, version: u64, bytes: usize) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.by_pk.get(pk).is_some_and(|e| e.version > version) {
            return;
        }
        entries.remove(pk);
        if bytes > LARGEST_KEPT {
            return;
        }
        while !entries.by_pk.is_empty()
            && (entries.by_pk.len() >= self.capacity || entries.bytes + bytes > BYTE_BUDGET)
        {
            entries.evict_least_recently_used();
        }
        entries.tick += 1;
        let used = entries.tick;
        entries.bytes += bytes;
        entries.by_pk.insert(
            pk.to_owned(),
            Entry {
                state: Box::new(state),
                version,
                used,
                bytes,
            },
        );
    }

    pub fn forget(&self, pk: &str) {
        self.lock().remove(pk);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves at worst a stale entry, which is safe.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for StateCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl StateCache {
        fn len(&self) -> usize {
            self.lock().by_pk.len()
        }
        fn bytes(&self) -> usize {
            self.lock().bytes
        }
    }

    fn put(cache: &StateCache, pk: &str, state: &str, version: u64) {
        cache.put(pk, state.to_owned(), version, state.len());
    }

    fn get(cache: &StateCache, pk: &str) -> Option<(String, u64)> {
        let (state, version, _) = cache.take::<String>(pk)?;
        put(cache, pk, &state, version);
        Some((state, version))
    }

    #[test]
    fn keeps_the_newest_version_of_each_state() {
        let cache = StateCache::new(4);
        put(&cache, "a", "v2", 2);
        put(&cache, "a", "v1", 1);
        assert_eq!(get(&cache, "a"), Some(("v2".into(), 2)));
        put(&cache, "a", "v3", 3);
        assert_eq!(cache.take::<String>("a"), Some(("v3".into(), 3, 2)));
        assert_eq!(cache.take::<String>("a"), None, "taken out");
        assert_eq!(get(&cache, "b"), None);
        put(&cache, "c", "c", 1);
        assert_eq!(
            cache.take::<u32>("c"),
            None,
            "another type is not handed out"
        );
    }

    #[test]
    fn evicts_the_least_recently_used_when_full() {
        let cache = StateCache::new(2);
        put(&cache, "a", "a", 1);
        put(&cache, "b", "b", 1);
        get(&cache, "a");
        put(&cache, "c", "c", 1);
        assert_eq!(cache.len(), 2);
        assert!(get(&cache, "b").is_none(), "b was used least recently");
        assert!(get(&cache, "a").is_some() && get(&cache, "c").is_some());
    }

    #[test]
    fn stays_within_its_byte_budget_and_skips_huge_states() {
        let cache = StateCache::new(usize::MAX);
        let sized = |n: usize| "x".repeat(n);
        put(&cache, "huge", &sized(LARGEST_KEPT + 1), 1);
        assert!(get(&cache, "huge").is_none());
        let each = 60 << 10;
        for i in 0..(BYTE_BUDGET / each + 10) {
            put(&cache, &format!("pk{i}"), &sized(each), 1);
        }
        assert!(cache.bytes() <= BYTE_BUDGET, "{} bytes", cache.bytes());
        assert_eq!(cache.len(), BYTE_BUDGET / each);
        // A state that grows past the limit is dropped, not kept stale.
        put(&cache, "pk0", &sized(10), 1);
        put(&cache, "pk0", &sized(LARGEST_KEPT + 1), 2);
        assert!(get(&cache, "pk0").is_none());
    }

    #[test]
    fn capacity_zero_remembers_nothing_and_forget_forgets() {
        let off = StateCache::new(0);
        put(&off, "a", "a", 1);
        assert_eq!(off.len(), 0);
        let cache = StateCache::new(2);
        put(&cache, "a", "a", 1);
        cache.forget("a");
        assert!(get(&cache, "a").is_none());
    }

    #[test]
    fn an_item_s_size_counts_names_and_values() {
        let item = Item::from([
            ("ab".to_owned(), AttributeValue::S("xyz".into())),
            ("n".to_owned(), AttributeValue::N("12".into())),
        ]);
        assert_eq!(size_of(&item), 2 + 3 + 1 + 2);
    }
}
