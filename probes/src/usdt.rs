//! The USDT backend: SystemTap SDT (v3) notes, provider `weir`, one probe per
//! [`Probe`], emitted with weir's own `asm!` (x86_64 and aarch64 Linux only; the `weir_usdt`
//! cfg of `build.rs`).
//!
//! Each probe site is a `nop` plus an ELF note in `.note.stapsdt` that names the provider,
//! the probe, the argument format (`8@%rdi ...`: where each 64-bit argument lives at the
//! `nop`) and the address of the probe's semaphore. A tracer that attaches puts a breakpoint
//! on the `nop` and increments the semaphore; [`is_attached`] reads it so that a site that
//! nobody traces costs one load and one branch.
//!
//! Measured with bpftrace 0.17 on Linux 6.18 (rustc 1.95, rust-lld):
//! * one semaphore per probe *name*, shared by all its sites: with one per site bpftrace
//!   enabled only one of two sites;
//! * the semaphores fill one page-aligned page of their own (`.probes`): sharing a file page
//!   with the RELRO segment made the kernel bump the counter in the wrong mapping, so
//!   `bpftrace -c` never saw the probes enabled in a release build;
//! * `.stapsdt.base` (the section tracers use to find the load bias) is marked retained
//!   (`R`): lld drops it under `--gc-sections` otherwise.

use core::sync::atomic::{AtomicU16, Ordering};

use crate::{Event, Probe, Stamp};

/// The semaphores, one per probe, indexed by `Probe as usize`. The kernel's uprobe
/// reference counter adds 1 to a probe's semaphore for every attached tracer.
#[repr(C, align(4096))]
pub(crate) struct Semaphores([AtomicU16; Probe::COUNT]);

/// In `.probes`, page-aligned and (through the alignment) a whole page long: no other data
/// shares its page.
#[link_section = ".probes"]
#[used]
pub(crate) static SEMAPHORES: Semaphores = Semaphores([const { AtomicU16::new(0) }; Probe::COUNT]);

/// Whether a tracer is attached to `probe`: one relaxed load.
#[inline(always)]
pub(crate) fn is_attached(probe: Probe) -> bool {
    // Relaxed: the counter is the only payload; a site racing with an attach may miss one
    // event, as with any tracer.
    SEMAPHORES.0[probe as usize].load(Ordering::Relaxed) != 0
}

/// One SDT probe site: the `nop`, its note, and (once per object) `.stapsdt.base`.
/// `$name` is the probe's name, `$probe` its [`Probe`] (the semaphore), then the argument
/// variables (each a `u64`; the first two are the task and the worker).
macro_rules! sdt {
    ($name:literal, $probe:expr, [$first:ident $(, $arg:ident)*]) => {
        // SAFETY: the template is a `nop` (no registers, memory, stack or flags touched) plus
        // directives that assemble into non-loaded note and base sections; the operands are
        // only named in the note's argument string, never used by instructions. `readonly`
        // (not `nomem`): a tracer reads the `Text` buffers the arguments point to while the
        // `nop` traps, so their writes must happen before it.
        unsafe {
            sdt_asm!(
                "990: nop",
                concat!(".pushsection .note.stapsdt,\"\",", note_type!()),
                ".balign 4",
                ".4byte 992f-991f, 994f-993f, 3",
                "991: .asciz \"stapsdt\"",
                "992: .balign 4",
                "993: .8byte 990b",
                ".8byte _.stapsdt.base",
                ".8byte {sems} + {offset}",
                ".asciz \"weir\"",
                concat!(".asciz \"", $name, "\""),
                concat!(".asciz \"8@{", stringify!($first), "}", $(" 8@{", stringify!($arg), "}",)* "\""),
                "994: .balign 4",
                ".popsection",
                ".ifndef _.stapsdt.base",
                concat!(
                    ".pushsection .stapsdt.base,\"aGR\",",
                    progbits_type!(),
                    ",.stapsdt.base,comdat"
                ),
                ".weak _.stapsdt.base",
                ".hidden _.stapsdt.base",
                "_.stapsdt.base: .space 1",
                ".size _.stapsdt.base, 1",
                ".popsection",
                ".endif",
                sems = sym SEMAPHORES,
                offset = const ($probe as usize) * core::mem::size_of::<AtomicU16>(),
                $first = in(reg) $first,
                $($arg = in(reg) $arg,)*
            )
        }
    };
}

// The argument strings name registers the way SDT readers parse them: AT&T (`%rdi`) on
// x86_64, plain (`x0`) on aarch64.
#[cfg(target_arch = "x86_64")]
macro_rules! sdt_asm {
    ($($t:tt)*) => {
        core::arch::asm!($($t)* options(readonly, nostack, preserves_flags, att_syntax))
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! sdt_asm {
    ($($t:tt)*) => {
        core::arch::asm!($($t)* options(readonly, nostack, preserves_flags))
    };
}

// `@` starts a comment on some assemblers' syntax; the section types use the form each
// target's integrated assembler takes.
#[cfg(target_arch = "x86_64")]
macro_rules! note_type {
    () => {
        "@note"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! note_type {
    () => {
        "%note"
    };
}
#[cfg(target_arch = "x86_64")]
macro_rules! progbits_type {
    () => {
        "@progbits"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! progbits_type {
    () => {
        "%progbits"
    };
}

/// A string as a probe argument: a NUL-terminated copy on the emitting stack (at most
/// [`TEXT_LEN`] - 1 bytes), which bpftrace reads with `str(argN)` while the site's `nop` traps.
/// One argument instead of an address and a length: bpftrace 0.17 reads only `arg0`..`arg5`
/// of a USDT probe on x86_64.
const TEXT_LEN: usize = 64;

struct Text {
    buf: [u8; TEXT_LEN],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text {
            buf: [0; TEXT_LEN],
            len: 0,
        }
    }

    /// Appends `s`, cut at the end to what fits (keeping the NUL).
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(TEXT_LEN - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn push_u32(&mut self, mut v: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    /// `file:line`, keeping the file's end when the whole does not fit.
    fn location(l: &core::panic::Location<'_>) -> Text {
        let mut t = Text::new();
        let file = l.file().as_bytes();
        // `:` and up to ten digits.
        let room = TEXT_LEN - 1 - 11;
        t.push(&file[file.len().saturating_sub(room)..]);
        t.push(b":");
        t.push_u32(l.line());
        t
    }

    fn of(s: &str) -> Text {
        let mut t = Text::new();
        t.push(s.as_bytes());
        t
    }

    /// The argument: the buffer's address (valid until the caller's frame ends).
    fn arg(&self) -> u64 {
        self.buf.as_ptr() as u64
    }
}

/// Fires `event`'s probe site with its stamp and fields (see [`crate::table`] for the
/// argument order). Each arm holds that probe's one site.
#[inline(always)]
pub(crate) fn emit(stamp: Stamp, event: &Event<'_>) {
    let task = stamp.task;
    let worker = u64::from(stamp.worker);
    match *event {
        Event::TaskSpawn {
            task: new,
            location: l,
        } => {
            let at = Text::location(l);
            let at_arg = at.arg();
            sdt!("task_spawn", Probe::TaskSpawn, [task, worker, new, at_arg]);
        }
        Event::PollStart => sdt!("poll_start", Probe::PollStart, [task, worker]),
        Event::PollEnd { complete } => {
            let complete = u64::from(complete);
            sdt!("poll_end", Probe::PollEnd, [task, worker, complete]);
        }
        Event::TaskWake { task: woken } => {
            sdt!("task_wake", Probe::TaskWake, [task, worker, woken])
        }
        Event::TaskComplete { task: done } => {
            sdt!("task_complete", Probe::TaskComplete, [task, worker, done]);
        }
        Event::WorkerPark { worker: w } => {
            let w = u64::from(w);
            sdt!("worker_park", Probe::WorkerPark, [task, worker, w]);
        }
        Event::WorkerUnpark { worker: w } => {
            let w = u64::from(w);
            sdt!("worker_unpark", Probe::WorkerUnpark, [task, worker, w]);
        }
        Event::WorkerSteal { worker: w, victim } => {
            let (w, victim) = (u64::from(w), u64::from(victim));
            sdt!(
                "worker_steal",
                Probe::WorkerSteal,
                [task, worker, w, victim]
            );
        }
        Event::Yield { reason } => {
            let reason = reason.code();
            sdt!("yield", Probe::Yield, [task, worker, reason]);
        }
        Event::TimerFire { count } => {
            let count = u64::from(count);
            sdt!("timer_fire", Probe::TimerFire, [task, worker, count]);
        }
        Event::ChannelNew {
            channel,
            capacity,
            location: l,
            name,
        } => {
            let capacity = capacity as u64;
            // Unnamed: the label is the location, so a script needs no string comparison
            // (which bpftrace 0.17 warns about across address spaces).
            let at = Text::location(l);
            let name = if name.is_empty() {
                Text::location(l)
            } else {
                Text::of(name)
            };
            let (name_arg, at_arg) = (name.arg(), at.arg());
            sdt!(
                "channel_new",
                Probe::ChannelNew,
                [task, worker, channel, capacity, name_arg, at_arg]
            );
        }
        Event::ChannelSend { channel } => {
            sdt!("channel_send", Probe::ChannelSend, [task, worker, channel])
        }
        Event::ChannelRecv { channel, latency } => {
            let (kind, nanos) = (latency.code(), latency.nanos());
            sdt!(
                "channel_recv",
                Probe::ChannelRecv,
                [task, worker, channel, kind, nanos]
            );
        }
        Event::ChannelClose { channel, woken } => {
            let woken = u64::from(woken);
            sdt!(
                "channel_close",
                Probe::ChannelClose,
                [task, worker, channel, woken]
            );
        }
        Event::ChannelWaitStart {
            channel,
            op,
            location: l,
        } => {
            let op = op.code();
            let at = Text::location(l);
            let at_arg = at.arg();
            sdt!(
                "channel_wait_start",
                Probe::ChannelWaitStart,
                [task, worker, channel, op, at_arg]
            );
        }
        Event::ChannelWaitEnd { channel, op } => {
            let op = op.code();
            sdt!(
                "channel_wait_end",
                Probe::ChannelWaitEnd,
                [task, worker, channel, op]
            );
        }
        Event::BreakerTransition { channel, from, to } => {
            let (from, to) = (u64::from(from), u64::from(to));
            sdt!(
                "breaker_transition",
                Probe::BreakerTransition,
                [task, worker, channel, from, to]
            );
        }
        Event::SloEvaluation {
            channel,
            p999_us,
            breached,
        } => {
            let breached = u64::from(breached);
            sdt!(
                "slo_evaluation",
                Probe::SloEvaluation,
                [task, worker, channel, p999_us, breached]
            );
        }
        Event::SloDegrade { channel, degraded } => {
            let degraded = u64::from(degraded);
            sdt!(
                "slo_degrade",
                Probe::SloDegrade,
                [task, worker, channel, degraded]
            );
        }
    }
}
