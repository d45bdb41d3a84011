//! The crate's one lock policy.
//!
//! Every `std::sync` lock in the engine guards plain data that is valid between any two
//! statements: a critical section pushes, inserts, removes or takes one value and runs no user
//! code. A thread that panicked while holding such a lock therefore cannot have left the data
//! half-written, and refusing to read it would turn someone else's panic into a lost report or a
//! shutdown that stops halfway. So a poisoned lock is recovered with
//! [`PoisonError::into_inner`] and used as is — here, and nowhere else.
//!
//! Use these helpers instead of calling `.lock()`, `.read()` or `.write()` directly.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, recovering it if a panicking thread poisoned it.
#[inline]
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks `lock`, recovering it if a panicking thread poisoned it.
#[inline]
pub(crate) fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks `lock`, recovering it if a panicking thread poisoned it.
#[inline]
pub(crate) fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::lock;

    #[test]
    fn a_lock_poisoned_by_a_panicking_thread_is_used_as_it_is() {
        let list = Arc::new(Mutex::new(vec![1]));
        let writer = list.clone();
        let panicked = std::thread::spawn(move || {
            let mut l = writer.lock().expect("not poisoned yet");
            l.push(2);
            panic!("a writer panics while holding the lock");
        })
        .join();
        assert!(panicked.is_err());
        assert!(list.is_poisoned());
        lock(&list).push(3);
        assert_eq!(*lock(&list), [1, 2, 3]);
    }
}
