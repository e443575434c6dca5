//! [`HookSet`], a set of hooks.

use std::fmt;

use crate::hook::Hook;

/// A set of hooks, used to narrow what `OnProviderLoaded` advertises.
///
/// ```
/// use exhook_hooks::{Hook, HookSet};
///
/// let client_only: HookSet = Hook::advertisable().filter(|h| h.is_client_hook()).collect();
/// assert_eq!(client_only.len(), 8);
/// assert!(client_only.iter().all(Hook::is_client_hook));
/// assert!(!client_only.contains(Hook::ProviderLoaded));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct HookSet(u32);

impl HookSet {
    /// No hook.
    pub const EMPTY: HookSet = HookSet(0);
    /// Every hook.
    pub const ALL: HookSet = HookSet((1 << Hook::COUNT) - 1);

    /// Whether `hook` is in the set.
    pub const fn contains(self, hook: Hook) -> bool {
        self.0 & (1 << hook.index()) != 0
    }

    /// Adds `hook`.
    pub fn insert(&mut self, hook: Hook) {
        self.0 |= 1 << hook.index();
    }

    /// Removes `hook`.
    pub fn remove(&mut self, hook: Hook) {
        self.0 &= !(1 << hook.index());
    }

    /// The hooks in both sets.
    pub const fn intersection(self, other: HookSet) -> HookSet {
        HookSet(self.0 & other.0)
    }

    /// How many hooks are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The hooks in the set, in [`Hook::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Hook> {
        Hook::ALL
            .into_iter()
            .filter(move |hook| self.contains(*hook))
    }
}

impl FromIterator<Hook> for HookSet {
    fn from_iter<I: IntoIterator<Item = Hook>>(iter: I) -> Self {
        let mut set = HookSet::EMPTY;
        iter.into_iter().for_each(|hook| set.insert(hook));
        set
    }
}

impl fmt::Debug for HookSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
