//! Per-thread memos of functions of a text. A corpus repeats the same names, notes and values
//! all through (营业执照, 居民身份证, 申请人提交 …), so a repeated text costs a hash look-up; a
//! memo starts again when it is full, which bounds memory on a corpus that does not repeat.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::Hash;
use std::sync::Mutex;
use std::thread::LocalKey;

use rustc_hash::FxHashMap;

/// The results of one function, per key (a text unless said), for one `owner` (a memo of
/// another owner's results starts again: see [`PhraseMatcher`](super::reference::PhraseMatcher),
/// one per run).
pub struct Memo<V: 'static, K: 'static = Box<str>> {
    owner: u64,
    found: FxHashMap<K, V>,
}

impl<V, K> Default for Memo<V, K> {
    fn default() -> Self {
        Memo { owner: 0, found: FxHashMap::default() }
    }
}

impl<V, K: Hash + Eq> Memo<V, K> {
    /// What is remembered of `key` for `owner`.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, owner: u64, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        if self.owner == owner { self.found.get(key) } else { None }
    }

    /// Remembers `value` of `key` for `owner`, starting again first when the memo holds another
    /// owner's results or `limit` keys already.
    pub fn remember(&mut self, owner: u64, limit: usize, key: K, value: V) {
        if self.owner != owner || self.found.len() >= limit {
            self.owner = owner;
            self.found.clear();
        }
        self.found.insert(key, value);
    }
}

/// `compute(key)`, remembered in `memo` for `owner` up to `limit` texts.
pub fn memoized<V: Clone>(
    memo: &'static LocalKey<RefCell<Memo<V>>>,
    owner: u64,
    limit: usize,
    key: &str,
    compute: impl FnOnce(&str) -> V,
) -> V {
    if let Some(v) = memo.with_borrow(|m| m.get(owner, key).cloned()) {
        return v;
    }
    // Computed outside the borrow: `compute` may use other memos.
    let v = compute(key);
    memo.with_borrow_mut(|m| m.remember(owner, limit, key.into(), v.clone()));
    v
}

/// `compute(key)`, remembered in `memo`, shared by all threads, for `owner` up to `limit` texts:
/// behind a thread's own memo, for what is costly enough that no two threads should compute it.
/// Computed outside the lock (two threads may both compute a text, and find the same); a
/// poisoned lock only means computing again.
pub fn memoized_shared<V: Clone>(
    memo: &Mutex<Memo<V>>,
    owner: u64,
    limit: usize,
    key: &str,
    compute: impl FnOnce(&str) -> V,
) -> V {
    if let Some(v) = memo.lock().ok().and_then(|m| m.get(owner, key).cloned()) {
        return v;
    }
    let v = compute(key);
    if let Ok(mut m) = memo.lock() {
        m.remember(owner, limit, key.into(), v.clone());
    }
    v
}
