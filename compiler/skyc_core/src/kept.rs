//! A process-wide memo of the last few results, by key: for work that compilations in one
//! process repeat (a project's entry files, an editor's checks after each edit) and whose
//! keys keep coming (the oldest are dropped first, so the memo stays small).

use std::collections::VecDeque;
use std::sync::Mutex;

pub(crate) struct Kept<K, V> {
    items: Mutex<VecDeque<(K, V)>>,
    most: usize,
}

impl<K: PartialEq, V: Clone> Kept<K, V> {
    /// A memo of at most `most` results.
    pub(crate) const fn new(most: usize) -> Kept<K, V> {
        Kept {
            items: Mutex::new(VecDeque::new()),
            most,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(K, V)>> {
        // It holds only complete results, so a panic elsewhere cannot leave it torn.
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` under `key` (unless a result is kept there already).
    pub(crate) fn keep(&self, key: K, value: V) {
        let mut items = self.lock();
        if items.iter().any(|(k, _)| *k == key) {
            return;
        }
        if items.len() >= self.most {
            items.pop_front();
        }
        items.push_back((key, value));
    }
}
