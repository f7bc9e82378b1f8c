//! Per-thread memos of functions of a text. A corpus repeats the same names, notes and values
//! all through (营业执照, 居民身份证, 申请人提交 …), so a repeated text costs a hash look-up; a
//! memo starts again when it is full, which bounds memory on a corpus that does not repeat.

use std::cell::RefCell;
use std::thread::LocalKey;

use rustc_hash::FxHashMap;

/// The results of one function, per text, for one `owner` (a memo of another owner's results
/// starts again: see [`PhraseMatcher`](super::reference::PhraseMatcher), one per run).
#[derive(Default)]
pub struct Memo<V: 'static> {
    owner: u64,
    found: FxHashMap<Box<str>, V>,
}

/// `compute(key)`, remembered in `memo` for `owner` up to `limit` texts.
pub fn memoized<V: Clone>(
    memo: &'static LocalKey<RefCell<Memo<V>>>,
    owner: u64,
    limit: usize,
    key: &str,
    compute: impl FnOnce(&str) -> V,
) -> V {
    if let Some(v) = memo.with_borrow(|m| (m.owner == owner).then(|| m.found.get(key).cloned()).flatten()) {
        return v;
    }
    // Computed outside the borrow: `compute` may use other memos.
    let v = compute(key);
    memo.with_borrow_mut(|m| {
        if m.owner != owner || m.found.len() >= limit {
            m.owner = owner;
            m.found.clear();
        }
        m.found.insert(key.into(), v.clone());
    });
    v
}
