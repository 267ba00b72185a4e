//! An async reader-writer lock with tokio's API: a semaphore of `max_readers` permits, a
//! reader takes one, a writer takes them all. The semaphore's FIFO makes it fair and
//! write-preferring: once a writer waits, later readers queue behind it, so writers do not
//! starve.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::mutex::TryLockError;
use crate::semaphore::raw::{RawAcquire, RawSemaphore};

/// The default (and largest) number of concurrent readers, as tokio's.
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lock = weir_sync::RwLock::new(5);
/// {
///     let (a, b) = (lock.read().await, lock.read().await);
///     assert_eq!(*a + *b, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`), a writer has `&mut T` possibly
// on another thread (needs `T: Send`); the semaphore enforces one writer or many readers.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// A lock admitting at most `max_readers` readers at once (clamped to 1 ..= tokio's
    /// maximum, `u32::MAX >> 3`).
    pub fn with_max_readers(value: T, max_readers: u32) -> Self {
        let max_readers = max_readers.clamp(1, MAX_READS);
        RwLock {
            max_readers,
            sem: RawSemaphore::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    async fn acquire(&self, n: u32) {
        // Never closed, so never an error; see `Mutex::acquire`.
        while RawAcquire::new(&self.sem, n as usize).await.is_err() {}
    }

    /// Waits for shared access.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Waits for exclusive access.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers).await;
        RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// [`read`](Self::read) with a guard owning an `Arc` of the lock.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        OwnedRwLockReadGuard { lock: self }
    }

    /// [`write`](Self::write) with a guard owning an `Arc` of the lock.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers).await;
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Shared access if available now (and no writer waits).
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Exclusive access if available now.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError(()))?;
        Ok(RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// [`try_read`](Self::try_read) with an owned guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.sem.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// [`try_write`](Self::try_write) with an owned guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.sem
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockWriteGuard { lock: self })
    }

    /// The value, through `&mut` (the borrow is exclusive: no locking).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s value.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a T>,
}

/// Exclusive access to an [`RwLock`]'s value.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

/// Shared access to an `Arc<RwLock<T>>`'s value.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

/// Exclusive access to an `Arc<RwLock<T>>`'s value.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a writer in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access without letting a writer in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the `Arc` is moved out exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.sem.release(lock.max_readers as usize - 1);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a reader's permit excludes writers; readers only share `&T`.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for the borrowed read guard.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer holds every permit.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer holds every permit; `&mut self` is the only access.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer holds every permit.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer holds every permit; `&mut self` is the only access.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

macro_rules! debug_via_deref {
    ($($guard:ident $(<$lt:lifetime>)?),*) => {$(
        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

debug_via_deref!(
    RwLockReadGuard<'a>,
    RwLockWriteGuard<'a>,
    OwnedRwLockReadGuard,
    OwnedRwLockWriteGuard
);
