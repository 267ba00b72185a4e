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
        // only named in the note's argument string, never used by instructions.
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
        core::arch::asm!($($t)* options(nomem, nostack, preserves_flags, att_syntax))
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! sdt_asm {
    ($($t:tt)*) => {
        core::arch::asm!($($t)* options(nomem, nostack, preserves_flags))
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

/// A source location as four probe arguments: file address, file length, line, column.
#[inline(always)]
fn location(l: &'static core::panic::Location<'static>) -> (u64, u64, u64, u64) {
    (
        l.file().as_ptr() as u64,
        l.file().len() as u64,
        u64::from(l.line()),
        u64::from(l.column()),
    )
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
            let (file, file_len, line, col) = location(l);
            sdt!(
                "task_spawn",
                Probe::TaskSpawn,
                [task, worker, new, file, file_len, line, col]
            );
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
            let (file, file_len, line, col) = location(l);
            let (name_ptr, name_len) = (name.as_ptr() as u64, name.len() as u64);
            sdt!(
                "channel_new",
                Probe::ChannelNew,
                [task, worker, channel, capacity, file, file_len, line, col, name_ptr, name_len]
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
            let (file, file_len, line, col) = location(l);
            sdt!(
                "channel_wait_start",
                Probe::ChannelWaitStart,
                [task, worker, channel, op, file, file_len, line, col]
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
        Event::TimerSleep { location: l } => {
            let (file, file_len, line, col) = location(l);
            sdt!(
                "timer_sleep",
                Probe::TimerSleep,
                [task, worker, file, file_len, line, col]
            );
        }
        Event::IoWait {
            fd,
            write,
            location: l,
        } => {
            let write = u64::from(write);
            let (file, file_len, line, col) = location(l);
            sdt!(
                "io_wait",
                Probe::IoWait,
                [task, worker, fd, write, file, file_len, line, col]
            );
        }
    }
}
