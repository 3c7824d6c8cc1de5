//! A spin lock for short critical sections: the stream slots' (`slots.rs`) and the pools'
//! connection of each shard (`topology::pool`).
//!
//! Taking it is one `swap`, giving it back one `Release` store. `std::sync::Mutex` adds its
//! poison bookkeeping (two reads of the panic count) and a contended-state check on every
//! unlock; at four slot locks per request that was 58 to 104 instructions per request
//! (callgrind, measured when the slots moved to this lock). A slot's lock is contended only
//! when the reader delivers to a slot while its request polls it from another thread; a
//! shard's connection lock when requests on several threads pick that shard at once, and
//! those never wait: [`SpinLock::try_lock`] fails and they read the pool's connections
//! instead. A waiter spins briefly and yields its thread ([`Backoff::snooze`]).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_utils::Backoff;

/// A value behind a spin lock. Meant for critical sections of a few moves: a holder that
/// blocks or runs long makes every other taker spin and yield until it is done.
#[derive(Default)]
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through a `SpinGuard`, and a guard exists only while its
// thread holds `locked`: taken by a `swap(true, Acquire)` that returned `false` (so by one
// thread at a time), given back by the guard's drop with a `Release` store, which orders
// every access of one holder before those of the next. `T: Send` is what handing the value
// from thread to thread this way needs.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> std::fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpinLock")
            .field("locked", &self.locked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> SpinLock<T> {
    /// Takes the lock, spinning (then yielding the thread) while another holds it.
    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self.locked.swap(true, Ordering::Acquire) {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    /// Takes the lock if no one holds it, without waiting: for readers that have another way
    /// to their value (a shard's connection: the pool's `conns`).
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        if self.locked.swap(true, Ordering::Acquire) {
            None
        } else {
            Some(SpinGuard { lock: self })
        }
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let backoff = Backoff::new();
        loop {
            while self.locked.load(Ordering::Relaxed) {
                backoff.snooze();
            }
            if !self.locked.swap(true, Ordering::Acquire) {
                return;
            }
        }
    }
}

/// The held lock of a [`SpinLock`]: its value, given back on drop (also on unwinding, so a
/// panic in a critical section does not wedge the lock).
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock (see `SpinLock`'s `Sync` proof).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and `&mut self` makes this the only reference
        // made through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::SpinLock;

    #[test]
    fn try_lock_fails_only_while_held() {
        let lock = SpinLock::<u8>::default();
        let mut held = lock.try_lock().expect("free");
        *held = 7;
        assert!(lock.try_lock().is_none());
        drop(held);
        assert_eq!(*lock.try_lock().expect("given back"), 7);
        assert_eq!(*lock.lock(), 7);
    }

    /// Two threads adding under the lock lose no update; a panic while holding it gives it
    /// back.
    #[test]
    fn excludes_and_survives_a_panic() {
        let counter = Arc::new(SpinLock::<u64>::default());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..100_000 {
                        *counter.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*counter.lock(), 200_000);
        let held = counter.clone();
        let panicked = std::thread::spawn(move || {
            let _guard = held.lock();
            panic!("while holding the lock");
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(*counter.lock(), 200_000);
    }
}
