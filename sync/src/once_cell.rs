//! A cell written once, asynchronously, with tokio's API. Initialisation is serialised by a
//! one-permit semaphore: one initialiser runs at a time, the others wait; if it fails, panics
//! or is cancelled, the next waiter tries. Once set, the semaphore is closed, which wakes every
//! waiter to read the value.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

use crate::semaphore::raw::{RawAcquire, RawSemaphore};
use crate::sync::{AtomicUsize, Ordering};

const EMPTY: usize = 0;
const SET: usize = 1;

/// A thread-safe cell that can be written to only once.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// static CONFIG: std::sync::OnceLock<weir_sync::OnceCell<u32>> = std::sync::OnceLock::new();
/// let cell = CONFIG.get_or_init(weir_sync::OnceCell::new);
/// assert_eq!(*cell.get_or_init(|| async { 7 }).await, 7);
/// assert_eq!(*cell.get_or_init(|| async { 8 }).await, 7);
/// # });
/// ```
pub struct OnceCell<T> {
    state: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
    init: RawSemaphore,
}

// SAFETY: the value is written once, by the holder of the init permit, before `state` becomes
// SET (Release); it is read only after seeing SET (Acquire), then only shared. Sharing `&T`
// across threads needs `T: Sync`, handing the value to another thread's drop needs `T: Send`.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: moving the cell moves the value.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Why [`OnceCell::set`] failed; the value comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell was already set.
    AlreadyInitializedError(T),
    /// Another task is initialising the cell right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell was already set.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another task was initialising it.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("cell already initialized"),
            SetError::InitializingError(_) => f.write_str("cell is being initialized"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceCell {
            state: AtomicUsize::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            init: RawSemaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> Self {
        let cell = OnceCell::new();
        if let Some(value) = value {
            cell.store(value);
        }
        cell
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        // Acquire: pairs with `store`'s Release, so a caller that sees SET sees the value.
        self.state.load(Ordering::Acquire) == SET
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: SET was published after the value was written, and it is never
            // written again while `&self` lives.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, mutably, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.initialized() {
            // SAFETY: set, and `&mut self` is exclusive.
            Some(unsafe { self.value.get_mut().assume_init_mut() })
        } else {
            None
        }
    }

    /// Writes the value and publishes it. Only the init-permit holder (or `new_with`/`&mut`)
    /// calls this, once.
    fn store(&self, value: T) {
        // SAFETY: only the init-permit holder writes, once, before SET; nobody reads before
        // SET.
        unsafe { (*self.value.get()).write(value) };
        // Release: publishes the write above to every `initialized()` that sees SET.
        self.state.store(SET, Ordering::Release);
        // Wakes every waiting initialiser: they see SET and return the value.
        self.init.close();
    }

    /// Sets the value if the cell is empty and nobody is initialising it.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        if self.init.try_acquire(1).is_err() {
            return Err(if self.initialized() {
                SetError::AlreadyInitializedError(value)
            } else {
                SetError::InitializingError(value)
            });
        }
        // The permit is never given back: `store` closes the semaphore instead.
        self.store(value);
        Ok(())
    }

    /// The value, initialising it with `f` if empty. Concurrent callers wait for the one
    /// initialiser; if it is cancelled or panics, the next caller runs its own `f`.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The value, initialising it with `f` if empty; an error leaves the cell empty for the
    /// next caller and is returned.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            crate::runtime_hooks::spend_budget().await;
            return Ok(value);
        }
        // Holding the permit is the right to initialise; the guard gives it back unless
        // the value was stored (then the semaphore is closed instead).
        struct InitPermit<'a>(&'a RawSemaphore, bool);
        impl Drop for InitPermit<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.release(1);
                }
            }
        }
        match RawAcquire::new(&self.init, 1).await {
            Err(()) => {
                // Closed: the value was stored.
                Ok(self
                    .get()
                    .expect("a closed init semaphore means the value is set"))
            }
            Ok(()) => {
                let mut permit = InitPermit(&self.init, true);
                if let Some(value) = self.get() {
                    return Ok(value);
                }
                let value = f().await?;
                permit.1 = false;
                self.store(value);
                Ok(self.get().expect("just stored"))
            }
        }
    }

    /// The value, consuming the cell.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.state.store(EMPTY, Ordering::Relaxed);
        // The cell may be set again: a fresh, open init semaphore.
        self.init = RawSemaphore::new(1);
        // SAFETY: it was set; the state now says empty, so it is not read or dropped again.
        Some(unsafe { self.value.get_mut().assume_init_read() })
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.initialized() {
            // SAFETY: set, and never read again.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
