//! `task_local!`: values scoped to a future, wherever (on whichever thread) it is polled.
//!
//! A key is a thread-local slot. [`LocalKey::scope`] wraps a future: each poll moves the value
//! into the slot, polls, and moves it back out (also when the poll panics), so the value
//! travels with the future and never leaks to other tasks polled on the same thread.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `task_local! { static ID: u64; pub static NAME: String; }`.
///
/// ```
/// weir_runtime::task_local! {
///     static REQUEST: u32;
/// }
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let seen = REQUEST.scope(7, async { REQUEST.get() }).await;
/// assert_eq!(seen, 7);
/// assert!(REQUEST.try_with(|_| ()).is_err(), "no value outside the scope");
/// # });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::core::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::core::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&SLOT)
        };
        $crate::task_local!($($rest)*);
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    slot: &'static std::thread::LocalKey<RefCell<Option<T>>>,
}

/// The value of a task-local key was read outside any scope that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set: read it inside LocalKey::scope or sync_scope")
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(slot: &'static std::thread::LocalKey<RefCell<Option<T>>>) -> Self {
        Self { slot }
    }

    /// Runs `future` with the key set to `value`.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the key set to `value`.
    #[track_caller]
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        self.enter(&mut value, f)
    }

    /// Moves `value` into the slot for the duration of `f`, and back out afterwards (on unwind
    /// too).
    #[track_caller]
    fn enter<R>(&'static self, value: &mut Option<T>, f: impl FnOnce() -> R) -> R {
        struct Leave<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                let _ = self
                    .key
                    .slot
                    .try_with(|slot| std::mem::swap(&mut *slot.borrow_mut(), self.value));
            }
        }
        let entered = self.slot.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => {
                std::mem::swap(&mut *slot, value);
                true
            }
            Err(_) => false,
        });
        if entered != Ok(true) {
            panic!(
                "weir::task_local: cannot enter a scope of this key while its value is \
                 borrowed (inside `with`), or while the thread is exiting"
            );
        }
        let _leave = Leave { key: self, value };
        f()
    }

    /// Runs `f` with a reference to the value.
    ///
    /// # Panics
    /// Outside a scope of this key; see [`LocalKey::try_with`].
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(err) => panic!("{err}"),
        }
    }

    /// Runs `f` with a reference to the value, or says that none is set.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.slot
            .try_with(|slot| {
                let slot = slot.try_borrow().map_err(|_| AccessError(()))?;
                slot.as_ref().map(f).ok_or(AccessError(()))
            })
            .unwrap_or(Err(AccessError(())))
    }

    /// A copy of the value.
    ///
    /// # Panics
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(|v| *v)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// The future returned by [`LocalKey::scope`].
#[must_use = "futures do nothing unless polled"]
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    value: Option<T>,
    /// `None` once dropped inside the scope (see `Drop`).
    future: Option<F>,
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is pinned structurally and never moved out (only dropped in place,
        // in `Drop`); `value` and `key` are not pinned and may move freely.
        let this = unsafe { self.get_unchecked_mut() };
        let key = this.key;
        let future = &mut this.future;
        key.enter(&mut this.value, || match future.as_mut() {
            // SAFETY: see above.
            Some(future) => unsafe { Pin::new_unchecked(future) }.poll(cx),
            None => panic!("weir::task_local: TaskLocalFuture polled after it was dropped"),
        })
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        // The future's destructor may read the key too: drop it inside the scope. (When the
        // slot cannot be entered, it is dropped outside instead, which only loses the value.)
        if self.future.is_some() {
            let key = self.key;
            let future = &mut self.future;
            let entered = key.slot.try_with(|slot| slot.try_borrow_mut().is_ok());
            if entered == Ok(true) {
                key.enter(&mut self.value, || *future = None);
            }
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TaskLocalFuture { .. }")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    crate::task_local! {
        static NUMBER: u32;
        static NAME: String;
    }

    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn the_value_lives_with_its_future_not_the_thread() {
        assert!(NUMBER.try_with(|_| ()).is_err());
        let mut a = pin!(NUMBER.scope(1, async {
            let before = NUMBER.get();
            crate::task::yield_now().await;
            (before, NUMBER.get())
        }));
        let mut b = pin!(NUMBER.scope(2, async { NUMBER.get() }));
        assert!(poll_once(a.as_mut()).is_pending());
        // Polled between the two polls of `a`, on the same thread: sees its own value.
        assert_eq!(poll_once(b.as_mut()), Poll::Ready(2));
        assert!(NUMBER.try_with(|_| ()).is_err(), "left between polls");
        assert_eq!(poll_once(a.as_mut()), Poll::Ready((1, 1)));
    }

    #[test]
    fn nested_scopes_restore_the_outer_value() {
        let inner = NAME.sync_scope("outer".to_owned(), || {
            let inner = NAME.sync_scope("inner".to_owned(), || NAME.with(String::clone));
            assert_eq!(NAME.with(String::clone), "outer");
            inner
        });
        assert_eq!(inner, "inner");
        assert!(NAME.try_with(|_| ()).is_err());
    }

    #[test]
    fn a_panicking_poll_leaves_the_scope() {
        let caught = std::panic::catch_unwind(|| {
            NUMBER.sync_scope(9, || panic!("inside"));
        });
        assert!(caught.is_err());
        assert!(NUMBER.try_with(|_| ()).is_err());
    }

    #[test]
    fn the_future_is_dropped_inside_its_scope() {
        struct ReadsOnDrop(std::sync::Arc<std::sync::Mutex<Option<u32>>>);
        impl Drop for ReadsOnDrop {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = NUMBER.try_with(|n| *n).ok();
            }
        }
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let guard = ReadsOnDrop(seen.clone());
        let scoped = NUMBER.scope(5, async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        {
            let mut scoped = pin!(scoped);
            assert!(poll_once(scoped.as_mut()).is_pending());
        }
        assert_eq!(*seen.lock().unwrap(), Some(5));
    }
}
