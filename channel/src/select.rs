//! `select!`: wait on several channel operations and other futures, take the first ready.
//!
//! # Fairness
//!
//! Unless the select is `biased;`, each poll visits its branches in a fresh uniformly random
//! order: a Fisher–Yates shuffle drawn step by step as branches are visited, from a
//! per-thread xorshift generator, into an array sized by the (compile-time) branch count. Every
//! ready branch is therefore equally likely to be first, whatever sits between them.
//!
//! # The moment of decision (`default`)
//!
//! A select with `default` takes it only if there was one instant at which no branch was
//! ready. For each channel branch (a `recv()` or `send()` written as the branch's future) the
//! select reads the channel's state words just before polling it (on a buffered channel
//! `head` and `tail`: every send, receive and close moves one of them and they never go back;
//! on a rendezvous a version bumped under its lock whenever a waiter is linked, paired or
//! unlinked, or the channel closes),
//! and once more after every branch came back pending. If every channel reads the same, each
//! stood still from its first read to its second. The last branch polled found itself not
//! ready at one instant of its poll, which comes after every first read and before every
//! second read: at that instant every branch was as it was polled, not ready (so the last
//! branch needs no second read). If one moved, the select polls again (a few times, then it
//! yields and retries at its next poll rather than take `default`). On buffered channels the
//! reads are SeqCst, in the single order of the SeqCst `head`/`tail` RMWs; on a rendezvous
//! they are Acquire, ordered with the bumps by its lock. A rendezvous branch's own first wait
//! links its node (a bump), so such a select re-polls once before `default`. Guarded
//! (breaker) channels and non-channel futures have no such words: they are taken as polled.
//!
//! A branch may also be pending only because the task's coop budget ran out; the select then
//! yields (it is woken and polled again with a fresh budget) instead of taking `default`.
//!
//! # Rendezvous commitment
//!
//! Most branches complete only while the select polls them, so the select simply returns the
//! first one that is ready and drops the others. A rendezvous operation is different: while
//! its future waits, a partner on another thread may complete it (take a waiting sender's
//! value, hand a value to a waiting receiver). To keep "exactly one branch happens", every
//! rendezvous waiter inside a select carries a [`Claim`] on the outermost select's [`Token`]:
//!
//! * A partner completes such a waiter only after committing the token to the waiter's branch
//!   (`WAITING -> COMMITTED(path)`); the select then polls that branch alone until it returns.
//! * While the select polls its branches the token is `POLLING` and cannot be committed, so a
//!   branch that becomes ready during a poll never races a partner. A partner that finds the
//!   token `POLLING` sets `MISSED` and moves on; when the select ends its poll it sees `MISSED`
//!   and polls again, and its waiting rendezvous branches then pair with that partner actively.
//! * A partner never pairs with a waiter of its own select (same token): a select with send
//!   and receive branches on one rendezvous channel does not pair with itself.
//! * Once a select returns or is dropped the token is `DONE`: its waiters cannot be committed.
//!
//! Nested selects share the outermost token; the path records the branch taken at each level
//! (8 bits per level, up to [`MAX_DEPTH`] levels).
//!
//! The token is allocated the first time a rendezvous operation waits inside a select, and is
//! recycled per thread, so steady-state selects allocate nothing.

use std::cell::Cell;
use std::task::Context;

use crate::runtime_hooks::coop;
use crate::sync::{Arc, AtomicUsize, Ordering};

const TAG: usize = 0b11;
const WAITING: usize = 0;
const POLLING: usize = 1;
const COMMITTED: usize = 2;
const DONE: usize = 3;
const MISSED: usize = 0b100;
const PATH_SHIFT: u32 = 8;
/// Nesting levels whose branch a commitment can name.
pub(crate) const MAX_DEPTH: u32 = (usize::BITS - PATH_SHIFT) / 8;

/// The commitment word of one (outermost) select.
pub(crate) struct Token {
    state: AtomicUsize,
}

impl Token {
    fn new(state: usize) -> Self {
        Token {
            state: AtomicUsize::new(state),
        }
    }
}

/// A rendezvous waiter's tie to the select it waits in.
pub(crate) struct Claim {
    token: Arc<Token>,
    path: usize,
}

impl Claim {
    pub(crate) fn token_ptr(&self) -> *const Token {
        Arc::as_ptr(&self.token)
    }

    /// Commits the select to this waiter's branch. `false` if the select is polling (it is
    /// then told it missed a partner), committed elsewhere or finished.
    pub(crate) fn try_commit(&self) -> bool {
        // Acquire: see the select's latest transition.
        let mut s = self.token.state.load(Ordering::Acquire);
        loop {
            let (new, ok) = match s & TAG {
                WAITING => (COMMITTED | (self.path << PATH_SHIFT), true),
                POLLING if s & MISSED == 0 => (s | MISSED, false),
                _ => return false,
            };
            // AcqRel: Release publishes the commitment (and, for MISSED, that a partner
            // waits) to the select's next Acquire of the state.
            match self
                .token
                .state
                .compare_exchange(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return ok,
                Err(actual) => s = actual,
            }
        }
    }
}

/// What the select being polled on this thread exposes to the operations it polls.
struct Scope {
    /// The outermost select's token cell.
    root: *const Cell<Option<Arc<Token>>>,
    depth: u32,
    /// The branch path being polled now.
    path: Cell<usize>,
    /// The path the outermost select is committed to, if any.
    commit: Option<usize>,
}

crate::sync::thread_local! {
    static SCOPE: Cell<*const Scope> = const { Cell::new(std::ptr::null()) };
    static SPARE: Cell<Option<Arc<Token>>> = const { Cell::new(None) };
    static RNG: Cell<u64> = const { Cell::new(0) };
}

fn scope() -> *const Scope {
    SCOPE.try_with(|s| s.get()).unwrap_or(std::ptr::null())
}

/// True while a select is polling on this thread.
pub(crate) fn in_select() -> bool {
    !scope().is_null()
}

/// The outermost select being polled on this thread, or null.
pub(crate) fn current_root() -> *const Token {
    let scope = scope();
    if scope.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a non-null SCOPE points at a `Scope` on the stack of a `poll_select` frame that
    // is still running (it restores the previous pointer before returning), and its `root`
    // at the token cell of the outermost select, which outlives that frame.
    unsafe {
        let root = &*(*scope).root;
        let tok = root.take();
        let ptr = tok.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
        root.set(tok);
        ptr
    }
}

/// A claim on the select being polled on this thread (allocating its token on first use),
/// or `None` outside any select.
pub(crate) fn current_claim() -> Option<Claim> {
    let scope = scope();
    if scope.is_null() {
        return None;
    }
    // SAFETY: as in `current_root`.
    unsafe {
        let scope = &*scope;
        let root = &*scope.root;
        let tok = match root.take() {
            Some(t) => t,
            // Created mid-poll, so it starts `POLLING`.
            None => new_token(POLLING),
        };
        let claim = Claim {
            token: tok.clone(),
            path: scope.path.get(),
        };
        root.set(Some(tok));
        Some(claim)
    }
}

fn new_token(state: usize) -> Arc<Token> {
    #[cfg(not(loom))]
    if let Some(t) = SPARE.try_with(|s| s.take()).ok().flatten() {
        // Relaxed: the token is ours alone (it was recycled with no other reference).
        t.state.store(state, Ordering::Relaxed);
        return t;
    }
    Arc::new(Token::new(state))
}

fn recycle(token: Arc<Token>) {
    // Release: a waiter still holding a clone (a future that outlived the select) sees DONE
    // and is never committed.
    token.state.store(DONE, Ordering::Release);
    #[cfg(not(loom))]
    if Arc::strong_count(&token) == 1 {
        let _ = SPARE.try_with(|s| {
            if let Some(old) = s.replace(Some(token)) {
                s.set(Some(old));
            }
        });
    }
}

/// The per-thread generator (xorshift64*), loaded into a local for one select poll.
struct Rng(u64);

impl Rng {
    fn load() -> Self {
        let x = RNG.try_with(|c| c.get()).unwrap_or(0);
        Rng(if x == 0 { seed() } else { x })
    }

    fn store(&self) {
        let _ = RNG.try_with(|c| c.set(self.0));
    }

    /// A fresh random word.
    #[inline]
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Random indices drawn from one random word: `below(m)` takes the high part of `r * m`
/// and keeps the low part (a mixed-radix digit of the word). Each draw spends `log2(m)` bits
/// and the word is refreshed every 8 draws, so at least 22 bits stand behind every digit: its
/// bias is below `2^-16` (below `2^-45` for selects of up to 8 branches).
struct Draws {
    r: u64,
    left: u32,
}

impl Draws {
    fn new() -> Self {
        Draws { r: 0, left: 0 }
    }

    /// A random index below `m` (`1 <= m <= 64`).
    #[inline]
    fn below(&mut self, rng: &mut Rng, m: usize) -> usize {
        if self.left == 0 {
            self.r = rng.next();
            self.left = 8;
        }
        self.left -= 1;
        let wide = u128::from(self.r) * m as u128;
        self.r = wide as u64;
        (wide >> 64) as usize
    }
}

/// Step `k` of a lazy Fisher–Yates shuffle: swaps a random one of `order[k..]` into place
/// `k` and returns it.
#[inline]
fn shuffle_step<const N: usize>(
    order: &mut [u8; N],
    k: usize,
    draws: &mut Draws,
    rng: &mut Rng,
) -> usize {
    if k + 1 < N {
        let j = k + draws.below(rng, N - k);
        order.swap(k, j);
    }
    order[k] as usize
}

/// Seeds this thread's select generator: selects polled on this thread from now on visit
/// their branches in a reproducible order (for tests with statistical bounds).
pub fn seed_rng(seed: u64) {
    // xorshift never leaves a non-zero state; 0 would mean "unseeded".
    let _ = RNG.try_with(|c| c.set(seed | 1));
}

/// Under loom every execution of a model must make the same choices: a fixed seed (models
/// cover both orders with `biased;`).
#[cfg(loom)]
fn seed() -> u64 {
    0x9E37_79B9_7F4A_7C15
}

#[cfg(not(loom))]
fn seed() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    // Relaxed: a distinct number per thread is all that is needed.
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let local = 0u8;
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(&local as *const u8 as u64);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1
}

/// Support for the [`select!`](crate::select!) macro. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    pub use core::future::{pending, poll_fn, IntoFuture};
    pub use core::pin::pin;
    pub use core::task::Poll;

    /// Which way a select went.
    pub enum Selected<O> {
        /// A branch completed with a matching output.
        Branch(O),
        /// No branch was ready and the select has a `default` branch.
        Default,
        /// Every branch is disabled and the select has an `else` branch.
        Else,
    }

    /// How a select decides.
    #[derive(Clone, Copy)]
    pub struct Mode {
        /// Has a `default` branch.
        pub default: bool,
        /// Has an `else` branch.
        pub otherwise: bool,
        /// `biased;`: declaration order, no shuffle.
        pub biased: bool,
    }

    /// What the macro asks of branch `i`.
    pub enum Ask<'a, 'b> {
        /// Read the branch's channel state words (if any) into the slot, then poll it.
        Poll(&'a mut Context<'b>),
        /// Only read the state words (the re-check before `default`).
        State,
    }

    /// The state words of a branch future that is a channel operation.
    pub trait ChannelState {
        /// The channel's state words (see the module docs).
        fn __weir_select_state(&self) -> Option<[usize; 2]>;
    }

    /// Any other future: no state words.
    pub trait NoChannelState {
        /// No state words.
        fn __weir_select_state(&self) -> Option<[usize; 2]> {
            None
        }
    }

    /// Wraps a branch future for the state-word lookup (autoref picks [`ChannelState`] for
    /// channel operations, [`NoChannelState`] for everything else).
    pub struct Probe<'a, F>(pub &'a F);

    impl<T> ChannelState for Probe<'_, crate::RecvFuture<'_, T>> {
        fn __weir_select_state(&self) -> Option<[usize; 2]> {
            self.0.select_state()
        }
    }

    impl<T> ChannelState for Probe<'_, crate::SendFuture<'_, T>> {
        fn __weir_select_state(&self) -> Option<[usize; 2]> {
            self.0.select_state()
        }
    }

    impl<F> NoChannelState for &Probe<'_, F> {}

    /// The select's own state, declared before its futures so it is dropped after them.
    pub struct SelectState {
        token: Cell<Option<Arc<Token>>>,
        disabled: u64,
    }

    impl Default for SelectState {
        fn default() -> Self {
            Self::new()
        }
    }

    impl SelectState {
        /// A select with every branch enabled.
        pub fn new() -> Self {
            SelectState {
                token: Cell::new(None),
                disabled: 0,
            }
        }

        /// Disables branch `i` (its precondition was false).
        pub fn disable(&mut self, i: usize) {
            self.disabled |= 1 << i;
        }
    }

    impl Drop for SelectState {
        fn drop(&mut self) {
            if let Some(t) = self.token.take() {
                recycle(t);
            }
        }
    }

    /// Counts a branch.
    pub const fn one(_: usize) -> usize {
        1
    }

    /// Restores the thread's previous scope even if a branch panics.
    struct Enter(*const Scope);

    impl Drop for Enter {
        fn drop(&mut self) {
            let _ = SCOPE.try_with(|s| s.set(self.0));
        }
    }

    /// Full polls of the branches before a select whose channels keep moving yields instead
    /// of deciding.
    const DECIDE_ATTEMPTS: u32 = 4;

    /// One poll of a select with `N` branches. `branch(i, Ask::Poll(cx), words)` polls branch
    /// `i` (first writing its channel state words, if any, to `words` when the select has a
    /// `default`): `Ready(Some(out))` completes the select, `Ready(None)` (finished without
    /// matching its pattern, or absent) disables the branch. `Ask::State` only reads the
    /// words.
    pub fn poll_select<const N: usize, O>(
        state: &mut SelectState,
        cx: &mut Context<'_>,
        mode: Mode,
        mut branch: impl FnMut(usize, Ask<'_, '_>, &mut Option<[usize; 2]>) -> Poll<Option<O>>,
    ) -> Poll<Selected<O>> {
        let parent = scope();
        let outermost = parent.is_null();
        let (root, depth, prefix, mut commit) = if outermost {
            let mut commit = None;
            let tok = state.token.take();
            if let Some(t) = &tok {
                // Acquire: see a partner's commitment (and the value it moved).
                let mut s = t.state.load(Ordering::Acquire);
                loop {
                    match s & TAG {
                        WAITING => match t.state.compare_exchange(
                            s,
                            POLLING,
                            // Acquire: as above, for a commitment racing with us.
                            Ordering::Acquire,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => break,
                            Err(actual) => s = actual,
                        },
                        COMMITTED => {
                            commit = Some(s >> PATH_SHIFT);
                            break;
                        }
                        _ => break,
                    }
                }
            }
            state.token.set(tok);
            (
                &state.token as *const Cell<Option<Arc<Token>>>,
                0,
                0,
                commit,
            )
        } else {
            // SAFETY: see `current_root`.
            let p = unsafe { &*parent };
            (p.root, p.depth + 1, p.path.get(), p.commit)
        };
        let shift = PATH_SHIFT * depth.min(MAX_DEPTH);
        let path_of = |i: usize| {
            if depth < MAX_DEPTH {
                prefix | (i << shift)
            } else {
                prefix
            }
        };
        let scope = Scope {
            root,
            depth,
            path: Cell::new(prefix),
            commit,
        };
        let all = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
        let result = {
            let _enter = Enter(parent);
            let _ = SCOPE.try_with(|s| s.set(&scope));
            'poll: {
                if let Some(path) = commit.filter(|_| depth < MAX_DEPTH) {
                    let i = (path >> shift) & 0xff;
                    scope.path.set(path_of(i));
                    match branch(i, Ask::Poll(cx), &mut None) {
                        Poll::Ready(Some(out)) => break 'poll Poll::Ready(Selected::Branch(out)),
                        Poll::Pending => break 'poll Poll::Pending,
                        Poll::Ready(None) => {
                            // The committed branch finished but its pattern did not match:
                            // it is spent; carry on with the others.
                            if i < 64 {
                                state.disabled |= 1 << i;
                            }
                            commit = None;
                        }
                    }
                }
                let mut rng = if mode.biased || N < 2 {
                    None
                } else {
                    Some(Rng::load())
                };
                let mut words = [None; N];
                let mut attempts = 0;
                let decided = loop {
                    if state.disabled & all == all {
                        break if mode.otherwise {
                            Poll::Ready(Selected::Else)
                        } else if mode.default {
                            Poll::Ready(Selected::Default)
                        } else {
                            // Go's select over nil channels: wait forever.
                            Poll::Pending
                        };
                    }
                    // Visit in a uniformly random order: step k swaps a random one of the
                    // branches not yet visited into place k (Fisher–Yates, drawn lazily).
                    let mut order = [0u8; N];
                    for (k, o) in order.iter_mut().enumerate() {
                        *o = k as u8;
                    }
                    let mut ready = None;
                    let mut last = N;
                    let mut draws = Draws::new();
                    for k in 0..N {
                        let i = match &mut rng {
                            Some(rng) => shuffle_step(&mut order, k, &mut draws, rng),
                            None => k,
                        };
                        if state.disabled & (1 << i) != 0 {
                            continue;
                        }
                        scope.path.set(path_of(i));
                        last = i;
                        match branch(i, Ask::Poll(cx), &mut words[i]) {
                            Poll::Ready(Some(out)) => {
                                ready = Some(out);
                                break;
                            }
                            Poll::Ready(None) => state.disabled |= 1 << i,
                            Poll::Pending => {}
                        }
                    }
                    if let Some(out) = ready {
                        break Poll::Ready(Selected::Branch(out));
                    }
                    if state.disabled & all == all {
                        continue;
                    }
                    if !mode.default {
                        break Poll::Pending;
                    }
                    if !coop::has_budget_remaining() {
                        // A branch may be pending only for want of budget: yield (with a
                        // fresh budget the select decides) rather than take `default`.
                        cx.waker().wake_by_ref();
                        break Poll::Pending;
                    }
                    // The moment of decision: every channel read the same before its poll and
                    // now, so none moved in between (see the module docs). The branch polled
                    // last needs no second read: the instant its own poll found it not ready
                    // lies inside every other branch's interval.
                    let mut still = true;
                    for (i, w) in words.iter_mut().enumerate() {
                        if state.disabled & (1 << i) != 0 || i == last {
                            continue;
                        }
                        if let Some(before) = w.take() {
                            let mut now = None;
                            let _ = branch(i, Ask::State, &mut now);
                            still &= now == Some(before);
                        }
                    }
                    if still {
                        break Poll::Ready(Selected::Default);
                    }
                    attempts += 1;
                    if attempts == DECIDE_ATTEMPTS {
                        // The channels keep moving: decide at a later poll rather than spin.
                        cx.waker().wake_by_ref();
                        break Poll::Pending;
                    }
                };
                if let Some(rng) = &rng {
                    rng.store();
                }
                decided
            }
        };
        if outermost {
            if let Some(t) = state.token.take() {
                match &result {
                    // Release: waiters that outlive us see DONE.
                    Poll::Ready(_) => t.state.store(DONE, Ordering::Release),
                    Poll::Pending if commit.is_some() => {}
                    Poll::Pending => {
                        // AcqRel: Release lets partners commit what our branches registered;
                        // Acquire pairs with a partner's MISSED.
                        let old = t.state.swap(WAITING, Ordering::AcqRel);
                        if old & MISSED != 0 {
                            // A partner passed us by while we polled: poll again so our waiting
                            // rendezvous branches pair with it.
                            cx.waker().wake_by_ref();
                        }
                    }
                }
                state.token.set(Some(t));
            }
        }
        result
    }
}

/// Waits on several operations at once and runs the handler of the first that completes.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// let (tx, rx) = weir_channel::bounded::<u32>(1);
/// let (tx2, rx2) = weir_channel::bounded::<&str>(1);
/// tx.try_send(7).unwrap();
/// let got = weir_channel::select! {
///     v = rx.recv() => v.map(|v| v * 2).unwrap_or(0),
///     Ok(s) = rx2.recv() => s.len() as u32,
///     _ = weir_runtime::time::sleep(Duration::from_secs(1)) => 0,
/// };
/// assert_eq!(got, 14);
/// # drop((tx2, rx)); });
/// ```
///
/// Branches:
///
/// * `pattern = future => handler` — `future` is any `IntoFuture`. When it completes and its
///   output matches `pattern`, the select completes with `handler` (a block, or an expression
///   followed by a comma). If the output does not match, the branch is disabled and the select
///   goes on waiting on the others.
/// * `pattern = future, if condition => handler` — the branch takes part only if `condition`
///   (evaluated first, once) is true. Otherwise it is like Go's nil channel: the `future`
///   expression is **not evaluated** (no future is created, nothing it would borrow or move
///   is touched).
/// * `default => handler` — makes the select non-blocking: if no branch is ready, the
///   default handler runs (see *One moment of decision*).
/// * `else => handler` — runs when every branch is disabled (by its condition or by an
///   unmatched pattern). Without `else`, such a select waits forever (with `default`, it takes
///   `default`), as Go's `select` over nil channels does.
/// * `biased;` as the first token — branches are polled in declaration order instead of a
///   random one (earlier branches win ties; starvation is then the caller's choice).
///
/// `select! {}` waits forever; `select! { default => handler }` runs the handler.
///
/// # Uniformity
///
/// Unless `biased;`, each poll visits the branches in a fresh uniformly random order (a
/// Fisher–Yates shuffle, allocation-free), so when several branches are ready each is taken
/// with equal probability, however many pending branches sit between them.
///
/// # One moment of decision
///
/// `default` is taken only if there was an instant at which no branch was ready. A channel
/// branch (`recv()` or `send()` of a channel without a breaker, written directly as the
/// branch's future) is re-checked before `default` is taken: if its channel's state moved
/// since it was polled, the select polls again. A branch that is pending only because the
/// task's coop budget ran out does not count as not ready: the select yields and decides at
/// its next poll. So a loop `select! { v = rx.recv() => …, default => break }` drains every
/// buffered value. Other futures (timers, your own, nested selects) are taken as they were
/// polled.
///
/// # Losing branches
///
/// Futures of losing branches are dropped. A dropped `recv()` has consumed nothing. A losing
/// `send(v)` delivered nothing: its value was not consumed by the channel and no receiver saw
/// it, but it was moved into the send future and is dropped with it. To keep the value, send
/// a clone, or use `try_send` (which hands it back in the error) in a loop with the select.
/// On rendezvous channels the select commits atomically with its partner (see the module
/// docs), so exactly one branch happens. At most 64 branches.
///
/// A malformed branch is a compile error that says what a branch looks like:
///
/// ```compile_fail
/// # async fn f(rx: weir_channel::Receiver<u8>) {
/// weir_channel::select! {
///     rx.recv() => {} // no `pattern =`
/// }
/// # }
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($tokens:tt)*) => {
        $crate::__select_parse! { {true} [] [] [] ; $($tokens)* }
    };
    ($($tokens:tt)*) => {
        $crate::__select_parse! { {false} [] [] [] ; $($tokens)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // No branch at all: `else`, else `default`, else wait forever.
    ( $bi:tt [] $d:tt [$($e:tt)+] ; ) => {
        $crate::__select_default!($($e)+)
    };
    ( $bi:tt [] [$($d:tt)+] [] ; ) => {
        $crate::__select_default!($($d)+)
    };
    ( $bi:tt [] [] [] ; ) => {
        match $crate::select::__private::pending::<::core::convert::Infallible>().await {}
    };
    // All branches read.
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; ) => {
        $crate::__select_number! {
            [ (0 __B0) (1 __B1) (2 __B2) (3 __B3) (4 __B4) (5 __B5) (6 __B6) (7 __B7)
              (8 __B8) (9 __B9) (10 __B10) (11 __B11) (12 __B12) (13 __B13) (14 __B14) (15 __B15)
              (16 __B16) (17 __B17) (18 __B18) (19 __B19) (20 __B20) (21 __B21) (22 __B22)
              (23 __B23) (24 __B24) (25 __B25) (26 __B26) (27 __B27) (28 __B28) (29 __B29)
              (30 __B30) (31 __B31) (32 __B32) (33 __B33) (34 __B34) (35 __B35) (36 __B36)
              (37 __B37) (38 __B38) (39 __B39) (40 __B40) (41 __B41) (42 __B42) (43 __B43)
              (44 __B44) (45 __B45) (46 __B46) (47 __B47) (48 __B48) (49 __B49) (50 __B50)
              (51 __B51) (52 __B52) (53 __B53) (54 __B54) (55 __B55) (56 __B56) (57 __B57)
              (58 __B58) (59 __B59) (60 __B60) (61 __B61) (62 __B62) (63 __B63) ]
            [] [$($b)*] $bi $d $e
        }
    };
    // `default => handler`
    ( $bi:tt $b:tt [] $e:tt ; default => $h:block , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b [ $h ] $e ; $($rest)* }
    };
    ( $bi:tt $b:tt [] $e:tt ; default => $h:block $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b [ $h ] $e ; $($rest)* }
    };
    ( $bi:tt $b:tt [] $e:tt ; default => $h:expr , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b [ $h ] $e ; $($rest)* }
    };
    ( $bi:tt $b:tt [] $e:tt ; default => $h:expr ) => {
        $crate::__select_parse! { $bi $b [ $h ] $e ; }
    };
    ( $bi:tt $b:tt [$($d:tt)+] $e:tt ; default $($rest:tt)* ) => {
        ::core::compile_error!("weir::select!: more than one `default` branch")
    };
    // `else => handler`
    ( $bi:tt $b:tt $d:tt [] ; else => $h:block , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b $d [ $h ] ; $($rest)* }
    };
    ( $bi:tt $b:tt $d:tt [] ; else => $h:block $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b $d [ $h ] ; $($rest)* }
    };
    ( $bi:tt $b:tt $d:tt [] ; else => $h:expr , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi $b $d [ $h ] ; $($rest)* }
    };
    ( $bi:tt $b:tt $d:tt [] ; else => $h:expr ) => {
        $crate::__select_parse! { $bi $b $d [ $h ] ; }
    };
    ( $bi:tt $b:tt $d:tt [$($e:tt)+] ; else $($rest:tt)* ) => {
        ::core::compile_error!("weir::select!: more than one `else` branch")
    };
    // `pattern = future, if condition => handler`
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr , if $c:expr => $h:block , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) ($c) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr , if $c:expr => $h:block $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) ($c) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr , if $c:expr => $h:expr , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) ($c) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr , if $c:expr => $h:expr ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) ($c) ($h) }] $d $e ; }
    };
    // `pattern = future => handler`
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr => $h:block , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) (true) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr => $h:block $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) (true) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr => $h:expr , $($rest:tt)* ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) (true) ($h) }] $d $e ; $($rest)* }
    };
    ( $bi:tt [$($b:tt)*] $d:tt $e:tt ; $p:pat = $f:expr => $h:expr ) => {
        $crate::__select_parse! { $bi [$($b)* { ($p) ($f) (true) ($h) }] $d $e ; }
    };
    // Anything else.
    ( $bi:tt $b:tt $d:tt $e:tt ; $($rest:tt)* ) => {
        ::core::compile_error!(::core::concat!(
            "weir::select!: malformed branch; expected `pattern = future => handler`, ",
            "`pattern = future, if condition => handler`, `default => handler` or ",
            "`else => handler`, found `",
            ::core::stringify!($($rest)*),
            "`"
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_number {
    // Every branch has its number.
    ( $names:tt [$($done:tt)*] [] $bi:tt $d:tt $e:tt ) => {
        $crate::__select_expand! { [$($done)*] $bi $d $e }
    };
    ( [($i:tt $n:ident) $($names:tt)*] [$($done:tt)*] [{ $($branch:tt)* } $($rest:tt)*] $bi:tt $d:tt $e:tt ) => {
        $crate::__select_number! { [$($names)*] [$($done)* { $i $n $($branch)* }] [$($rest)*] $bi $d $e }
    };
    ( [] $done:tt [$($rest:tt)+] $bi:tt $d:tt $e:tt ) => {
        ::core::compile_error!("weir::select!: at most 64 branches")
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    ( [$({ $i:tt $n:ident ($p:pat) ($f:expr) ($c:expr) ($h:expr) })*] {$bi:tt} [$($d:tt)*] [$($e:tt)*] ) => {{
        use $crate::select::__private as __weir_select;
        #[allow(unused_imports)]
        use __weir_select::{ChannelState as _, NoChannelState as _};
        #[allow(non_camel_case_types, clippy::enum_variant_names)]
        enum __WeirSelectOut<$($n,)*> { $($n($n),)* }
        let mut __weir_state = __weir_select::SelectState::new();
        $(
            #[allow(non_snake_case)]
            let $n = if $c {
                ::core::option::Option::Some(__weir_select::IntoFuture::into_future($f))
            } else {
                __weir_select::SelectState::disable(&mut __weir_state, $i);
                ::core::option::Option::None
            };
            #[allow(non_snake_case)]
            let mut $n = __weir_select::pin!($n);
        )*
        const __WEIR_N: usize = 0usize $(+ __weir_select::one($i))*;
        const __WEIR_DEFAULT: bool = $crate::__select_present!($($d)*);
        let __weir_out = __weir_select::poll_fn(|__weir_cx| {
            __weir_select::poll_select::<__WEIR_N, _>(
                &mut __weir_state,
                __weir_cx,
                __weir_select::Mode {
                    default: __WEIR_DEFAULT,
                    otherwise: $crate::__select_present!($($e)*),
                    biased: $bi,
                },
                |__weir_i, __weir_ask, __weir_words| {
                    #[allow(unreachable_patterns)]
                    match __weir_i {
                        $(
                            $i => {
                                if __WEIR_DEFAULT {
                                    *__weir_words = match $n.as_ref().get_ref() {
                                        ::core::option::Option::Some(__weir_f) => {
                                            (&__weir_select::Probe(__weir_f))
                                                .__weir_select_state()
                                        }
                                        ::core::option::Option::None => ::core::option::Option::None,
                                    };
                                }
                                let __weir_cx = match __weir_ask {
                                    __weir_select::Ask::Poll(__weir_cx) => __weir_cx,
                                    __weir_select::Ask::State => {
                                        return __weir_select::Poll::Pending;
                                    }
                                };
                                match $n.as_mut().as_pin_mut() {
                                    ::core::option::Option::Some(__weir_f) => {
                                        match ::core::future::Future::poll(__weir_f, __weir_cx) {
                                            __weir_select::Poll::Ready(__weir_v) => {
                                                #[allow(unused_variables, unreachable_patterns)]
                                                match &__weir_v {
                                                    $p => __weir_select::Poll::Ready(
                                                        ::core::option::Option::Some(
                                                            __WeirSelectOut::$n(__weir_v),
                                                        ),
                                                    ),
                                                    _ => __weir_select::Poll::Ready(
                                                        ::core::option::Option::None,
                                                    ),
                                                }
                                            }
                                            __weir_select::Poll::Pending => {
                                                __weir_select::Poll::Pending
                                            }
                                        }
                                    }
                                    ::core::option::Option::None => {
                                        __weir_select::Poll::Ready(::core::option::Option::None)
                                    }
                                }
                            }
                        )*
                        _ => __weir_select::Poll::Ready(::core::option::Option::None),
                    }
                },
            )
        })
        .await;
        match __weir_out {
            __weir_select::Selected::Branch(__weir_o) => {
                #[allow(unreachable_patterns, unused_variables)]
                match __weir_o {
                    $( __WeirSelectOut::$n($p) => $h, )*
                    _ => ::core::unreachable!("weir::select!: the output matched its pattern when polled"),
                }
            }
            __weir_select::Selected::Default => $crate::__select_default!($($d)*),
            __weir_select::Selected::Else => $crate::__select_else!($($e)*),
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_present {
    () => {
        false
    };
    ($($d:tt)+) => {
        true
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    () => {
        ::core::unreachable!("weir::select!: no default branch")
    };
    ($h:expr) => {
        $h
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_else {
    () => {
        ::core::unreachable!("weir::select!: no else branch")
    };
    ($h:expr) => {
        $h
    };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn shuffle<const N: usize>(rng: &mut Rng) -> [u8; N] {
        let mut order = [0u8; N];
        for (k, o) in order.iter_mut().enumerate() {
            *o = k as u8;
        }
        let mut draws = Draws::new();
        for k in 0..N {
            shuffle_step(&mut order, k, &mut draws, rng);
        }
        order
    }

    #[test]
    fn every_permutation_of_four_is_equally_likely() {
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..48_000 {
            *counts.entry(shuffle::<4>(&mut rng)).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 24);
        for (perm, n) in counts {
            assert!(
                (1_700..=2_300).contains(&n),
                "{perm:?} drawn {n} times, not ~2000"
            );
        }
    }

    #[test]
    fn every_position_is_uniform_for_many_branches() {
        // 20 branches: more draws than one random word serves.
        let mut rng = Rng(0x0BAD_5EED);
        let mut first = [0u32; 20];
        let mut last = [0u32; 20];
        for _ in 0..40_000 {
            let o = shuffle::<20>(&mut rng);
            first[o[0] as usize] += 1;
            last[o[19] as usize] += 1;
        }
        for n in first.iter().chain(&last) {
            assert!((1_700..=2_300).contains(n), "first {first:?} last {last:?}");
        }
    }
}
