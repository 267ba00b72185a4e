//! A counting semaphore with tokio's API: fair (FIFO), closable, with borrowed and owned
//! permits. The protocol is in [`raw`]; this file is the public face.

mod error;
pub(crate) mod raw;

use std::fmt;
use std::sync::Arc;

pub use error::{AcquireError, TryAcquireError};
use raw::{RawAcquire, RawSemaphore, TryAcquire};

/// A counting semaphore: [`acquire`](Self::acquire) waits for a permit, dropping the permit
/// gives it back.
///
/// Fair: permits go to waiters in the order they asked, and a large `acquire_many` at the
/// front is not overtaken by later small ones. Waiting allocates nothing, spends one unit of
/// the task's coop budget per poll that completes, and is cancel-safe: a dropped acquire leaves
/// no waiter behind and gives back any permits it had been handed.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use weir_sync::Semaphore;
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let _b = sem.acquire().await.unwrap();
/// assert!(sem.try_acquire().is_err());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore holds (as tokio's). Counts beyond it saturate: `new` and
    /// `add_permits` keep `MAX_PERMITS` and discard the excess (where tokio panics).
    pub const MAX_PERMITS: usize = raw::MAX_PERMITS;

    /// A semaphore with `permits` permits (at most [`MAX_PERMITS`](Self::MAX_PERMITS)).
    pub fn new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Permits available right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// Adds `n` permits, handing them to waiters first (in order).
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Removes up to `n` available permits; returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.raw.forget_permits(n)
    }

    /// Closes the semaphore: every waiting and future acquire fails with [`AcquireError`].
    /// Permits already handed out stay valid.
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }

    /// Waits for one permit.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many_usize(1).await
    }

    /// Waits for `n` permits, taken together.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many_usize(n as usize).await
    }

    async fn acquire_many_usize(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        match RawAcquire::new(&self.raw, n).await {
            Ok(()) => Ok(SemaphorePermit {
                sem: self,
                permits: n,
            }),
            Err(()) => Err(AcquireError(())),
        }
    }

    /// Takes one permit if one is available now and nobody is waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available now and nobody is waiting.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let n = n as usize;
        self.raw.try_acquire(n).map_err(error_of)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire) with a permit that owns an `Arc` of the semaphore.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Self::acquire_many) with a permit that owns an `Arc` of the semaphore.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let n = n as usize;
        match RawAcquire::new(&self.raw, n).await {
            Ok(()) => Ok(OwnedSemaphorePermit {
                sem: self,
                permits: n,
            }),
            Err(()) => Err(AcquireError(())),
        }
    }

    /// [`try_acquire`](Self::try_acquire) with an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Self::try_acquire_many) with an owned permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let n = n as usize;
        self.raw.try_acquire(n).map_err(error_of)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }
}

fn error_of(e: TryAcquire) -> TryAcquireError {
    match e {
        TryAcquire::Closed => TryAcquireError::Closed,
        TryAcquire::NoPermits => TryAcquireError::NoPermits,
    }
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Semaphore::new(0)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit gives it back at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If `other` belongs to another semaphore (its permits would be returned to the wrong
    /// one).
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds fewer.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits that own an `Arc` of their [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit gives it back at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If `other` belongs to another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds fewer.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
