//! The state items this process wrote or saw last, so that the next event for the same
//! engagement can be written without reading the item first.
//!
//! Nothing here has to be fresh to be safe: every state write is conditioned on the version
//! it was merged from, so a stale entry costs a cancelled transaction (which hands back the
//! current item) and never a lost or doubled event.

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
    item: Item,
    version: u64,
    used: u64,
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
fn size_of(item: &Item) -> usize {
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

    /// The item last written or seen under `pk`, and its version.
    pub fn get(&self, pk: &str) -> Option<(Item, u64)> {
        let mut entries = self.lock();
        entries.tick += 1;
        let tick = entries.tick;
        let entry = entries.by_pk.get_mut(pk)?;
        entry.used = tick;
        Some((entry.item.clone(), entry.version))
    }

    /// Remembers `item` at `version`, unless a newer version is already remembered (two
    /// requests of one process can finish out of order).
    pub fn put(&self, pk: &str, item: Item, version: u64) {
        if self.capacity == 0 {
            return;
        }
        let bytes = size_of(&item);
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
                item,
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

    fn item(n: &str) -> Item {
        Item::from([("n".to_owned(), AttributeValue::S(n.to_owned()))])
    }

    #[test]
    fn keeps_the_newest_version_of_each_item() {
        let cache = StateCache::new(4);
        cache.put("a", item("v2"), 2);
        cache.put("a", item("v1"), 1);
        assert_eq!(cache.get("a"), Some((item("v2"), 2)));
        cache.put("a", item("v3"), 3);
        assert_eq!(cache.get("a"), Some((item("v3"), 3)));
        assert_eq!(cache.get("b"), None);
    }

    #[test]
    fn evicts_the_least_recently_used_when_full() {
        let cache = StateCache::new(2);
        cache.put("a", item("a"), 1);
        cache.put("b", item("b"), 1);
        cache.get("a");
        cache.put("c", item("c"), 1);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none(), "b was used least recently");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
    }

    #[test]
    fn stays_within_its_byte_budget_and_skips_huge_items() {
        let cache = StateCache::new(usize::MAX);
        let sized = |n: usize| item(&"x".repeat(n));
        cache.put("huge", sized(LARGEST_KEPT + 1), 1);
        assert!(cache.get("huge").is_none());
        let each = 60 << 10;
        for i in 0..(BYTE_BUDGET / each + 10) {
            cache.put(&format!("pk{i}"), sized(each), 1);
        }
        assert!(cache.bytes() <= BYTE_BUDGET, "{} bytes", cache.bytes());
        assert_eq!(cache.len(), BYTE_BUDGET / (each + 1));
        // An item that grows past the limit is dropped, not kept stale.
        cache.put("pk0", sized(10), 1);
        cache.put("pk0", sized(LARGEST_KEPT + 1), 2);
        assert!(cache.get("pk0").is_none());
    }

    #[test]
    fn capacity_zero_remembers_nothing_and_forget_forgets() {
        let off = StateCache::new(0);
        off.put("a", item("a"), 1);
        assert_eq!(off.len(), 0);
        let cache = StateCache::new(2);
        cache.put("a", item("a"), 1);
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }
}
