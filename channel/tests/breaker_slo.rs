//! L3 through the channel API on a manual clock: stamping and samples, degrade (new sends to
//! the backup), the trickle to the primary, recovery after the cooldown, status, and a count
//! of every message (received once or returned).

use std::sync::Arc;
use std::time::Duration;

use weir_breaker::{Clock, Decision, ManualClock, SloConfig};
use weir_channel::{Builder, Receiver, Sender};

const MS: u64 = 1_000_000;

/// These tests pin the P99.9 streak + trend rule, so the head-age rule (tested in
/// `breaker_head_age.rs`) is off; so is the recovery gate, since the rig's consumer polls only
/// when it knows a value is due (the channel cannot see its service time).
fn slo() -> SloConfig {
    SloConfig::new()
        .head_age_percent(0)
        .recovery_load_percent(0)
        .target_p999(Duration::from_millis(50))
        .short_window(Duration::from_secs(1))
        .short_bucket(Duration::from_millis(100))
        .long_window(Duration::from_secs(10))
        .long_bucket(Duration::from_millis(100))
        .consecutive_breaches(3)
        .slope_threshold_per_min(Duration::from_millis(120))
        .predictive(false)
        .horizon(Duration::from_secs(5))
        .min_samples(10)
        .cooldown(Duration::from_secs(1))
        .rate_limit_per_sec(5)
        .burst(1)
}

struct Rig {
    clock: Arc<ManualClock>,
    tx: Sender<u64>,
    rx: Receiver<u64>,
    brx: Receiver<u64>,
    next: u64,
    seen: Vec<u32>,
}

impl Rig {
    fn new() -> Rig {
        let clock = Arc::new(ManualClock::new(0));
        let (btx, brx) = weir_channel::bounded(1024);
        let (tx, rx) = Builder::bounded(1024)
            .name("storage")
            .slo(slo())
            .clock(clock.clone())
            .backup(btx)
            .build();
        Rig {
            clock,
            tx,
            rx,
            brx,
            next: 0,
            seen: Vec::new(),
        }
    }

    /// One 10 ms step: send one message; the primary's consumer takes what has waited at
    /// least `delay_ms` (it is that slow); the backup's consumer takes everything.
    /// Returns (primary receives, backup receives).
    fn step(&mut self, delay_ms: u64, sent_at: &mut Vec<u64>) -> (usize, usize) {
        let id = self.next;
        self.next += 1;
        sent_at.push(self.clock.now());
        self.seen.push(0);
        self.tx.try_send(id).expect("room in both channels");
        let now = self.clock.now();
        let mut p = 0;
        // FIFO: take from the primary while its head is old enough (the test knows the
        // send times).
        while let Some(&head) = self.head(sent_at) {
            if now - head < delay_ms * MS {
                break;
            }
            let v = self.rx.try_recv().expect("head is there");
            self.seen[v as usize] += 1;
            p += 1;
        }
        let mut b = 0;
        while let Ok(v) = self.brx.try_recv() {
            self.seen[v as usize] += 1;
            b += 1;
        }
        self.clock.advance(10 * MS);
        (p, b)
    }

    /// Send time of the oldest message still in the primary: messages are numbered in send
    /// order, and those that went to the backup are marked seen already or wait in it.
    fn head<'a>(&self, sent_at: &'a [u64]) -> Option<&'a u64> {
        if self.rx.is_empty() {
            return None;
        }
        // The primary's head is the oldest unseen id that is not in the backup; the backup is
        // drained every step, so the oldest unseen id overall.
        let i = self.seen.iter().position(|&n| n == 0)?;
        sent_at.get(i)
    }
}

#[test]
fn degrade_routes_to_backup_trickles_to_primary_and_recovers() {
    let mut rig = Rig::new();
    let mut sent_at = Vec::new();
    // Calm: 5 ms queueing delay for 5 s (every 10 ms step, so the primary is read promptly).
    for _ in 0..500 {
        rig.step(0, &mut sent_at);
    }
    assert!(!rig.rx.is_degraded());
    let calm = rig.rx.slo_status().expect("evaluated");
    assert!(calm.p999_short <= Duration::from_millis(50), "{calm:?}");

    // Fault: the primary's consumer only takes messages 300 ms old.
    let mut steps_to_degrade = None;
    for i in 0..300 {
        rig.step(300, &mut sent_at);
        if rig.rx.is_degraded() {
            steps_to_degrade = Some(i);
            break;
        }
    }
    assert!(steps_to_degrade.is_some(), "{:?}", rig.rx.slo_status());
    let st = rig.rx.slo_status().unwrap();
    assert_eq!(st.degrade, Decision::Degrade);
    assert!(st.degraded_since.is_some());
    assert!(st.p999_short > Duration::from_millis(50));

    // Degraded for 2 s: new sends go to the backup, except a trickle of 5/s to the primary.
    let before_primary = rig.rx.len();
    let mut to_backup = 0;
    for _ in 0..200 {
        let (_, b) = rig.step(300, &mut sent_at);
        to_backup += b;
    }
    assert!(rig.rx.is_degraded());
    assert!(to_backup >= 180, "backup got {to_backup} of 200");
    let _ = before_primary;

    // Fault over: the primary's consumer is prompt again; after the cooldown it recovers.
    let mut recovered = false;
    for _ in 0..600 {
        rig.step(0, &mut sent_at);
        if !rig.rx.is_degraded() {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "{:?}", rig.rx.slo_status());
    assert_eq!(rig.rx.slo_status().unwrap().degrade, Decision::Recover);
    // Sends go to the primary again.
    let b_before = rig.brx.len();
    let p_before = rig.rx.len();
    rig.tx.try_send(rig.next).unwrap();
    rig.seen.push(0);
    sent_at.push(rig.clock.now());
    assert_eq!(rig.brx.len(), b_before);
    assert_eq!(rig.rx.len(), p_before + 1);

    // Count: every message was received exactly once (drain both channels).
    drop(rig.tx);
    while let Ok(v) = rig.rx.try_recv() {
        rig.seen[v as usize] += 1;
    }
    while let Ok(v) = rig.brx.try_recv() {
        rig.seen[v as usize] += 1;
    }
    let lost = rig.seen.iter().filter(|&&n| n == 0).count();
    let dup = rig.seen.iter().filter(|&&n| n > 1).count();
    assert_eq!((lost, dup), (0, 0), "of {}", rig.seen.len());
}

#[test]
fn trickle_to_the_primary_is_rate_limited() {
    let mut rig = Rig::new();
    let mut sent_at = Vec::new();
    for _ in 0..300 {
        rig.step(0, &mut sent_at);
    }
    let mut degraded = false;
    for _ in 0..300 {
        rig.step(300, &mut sent_at);
        if rig.rx.is_degraded() {
            degraded = true;
            break;
        }
    }
    assert!(degraded);
    // While degraded, 100 sends over 1 s: at most rate (5/s) * 1 s + burst (1) reach the
    // primary; the rest go to the backup. (The primary's consumer is stalled here, so the
    // primary's length counts what was admitted to it.)
    let before = rig.rx.len();
    for _ in 0..100 {
        let id = rig.next;
        rig.next += 1;
        rig.seen.push(0);
        rig.tx.try_send(id).unwrap();
        rig.clock.advance(10 * MS);
    }
    let admitted = rig.rx.len() - before;
    assert!((1..=6).contains(&admitted), "primary admitted {admitted}");
    assert_eq!(rig.brx.len(), 100 - admitted);
}

#[test]
fn a_monitored_channel_without_backup_keeps_sends_on_the_primary() {
    let clock = Arc::new(ManualClock::new(0));
    let (tx, rx) = Builder::bounded(4)
        .slo(slo())
        .clock(clock.clone())
        .build::<u8>();
    tx.try_send(1).unwrap();
    clock.advance(200 * MS);
    assert_eq!(rx.try_recv(), Ok(1));
    // The receive recorded its 200 ms queueing delay (from the send stamp) and ran the due
    // evaluation (which adds the head-of-queue age: 0, the queue is empty).
    let st = rx.slo_status().expect("evaluated on the receive path");
    assert_eq!(st.samples, 2);
    assert!(st.p999_short >= Duration::from_millis(190), "{st:?}");
    assert!(!rx.is_degraded());
    assert_eq!(rx.breaker_state(), None);
}

/// Sends the next id; a send that comes back is marked as accounted (returned to its
/// sender). Returns whether it was returned.
fn send_next(rig: &mut Rig) -> bool {
    let id = rig.next;
    rig.next += 1;
    rig.seen.push(0);
    if rig.tx.try_send(id).is_err() {
        rig.seen[id as usize] = 1;
        return true;
    }
    false
}

/// A channel whose primary consumer has stalled, degraded; returns the rig and the primary's
/// backlog just before the send that degraded it.
fn stalled_and_degraded(backup_cap: usize) -> (Rig, usize) {
    let clock = Arc::new(ManualClock::new(0));
    let (btx, brx) = weir_channel::bounded(backup_cap);
    let (tx, rx) = Builder::bounded(1024)
        .name("storage")
        .slo(slo())
        .clock(clock.clone())
        .backup(btx)
        .build();
    let mut rig = Rig {
        clock,
        tx,
        rx,
        brx,
        next: 0,
        seen: Vec::new(),
    };
    let mut sent_at = Vec::new();
    for _ in 0..300 {
        rig.step(0, &mut sent_at);
    }
    // Stall: the primary's consumer takes nothing; the test does not read the backup either.
    for _ in 0..300 {
        let backlog = rig.rx.len();
        send_next(&mut rig);
        rig.clock.advance(10 * MS);
        if rig.rx.is_degraded() {
            return (rig, backlog);
        }
    }
    panic!("never degraded: {:?}", rig.rx.slo_status());
}

fn drain_and_count(rig: Rig) -> (usize, usize) {
    let Rig {
        tx,
        rx,
        brx,
        mut seen,
        ..
    } = rig;
    drop(tx);
    while let Ok(v) = rx.try_recv() {
        seen[v as usize] += 1;
    }
    while let Ok(v) = brx.try_recv() {
        seen[v as usize] += 1;
    }
    let lost = seen.iter().filter(|&&n| n == 0).count();
    let dup = seen.iter().filter(|&&n| n > 1).count();
    (lost, dup)
}

#[test]
fn degrade_hands_the_primary_backlog_to_the_backup_exactly_once() {
    let (mut rig, backlog) = stalled_and_degraded(1024);
    assert!(backlog > 5, "a backlog built up: {backlog}");
    // The send that degraded the channel (or the next ones, a bounded batch each) moved the
    // backlog to the backup.
    for _ in 0..10 {
        assert!(!send_next(&mut rig));
    }
    assert!(rig.rx.migrated_to_backup() >= backlog as u64);
    // What is left on the primary is the trickle it admitted (at most one: the stalled
    // primary's head is older than the target soon after).
    assert!(rig.rx.len() <= 2, "primary holds {}", rig.rx.len());
    assert!(rig.brx.len() >= backlog + 9);
    assert_eq!(drain_and_count(rig), (0, 0));
}

#[test]
fn adaptive_trickle_stops_while_the_primary_does_not_drain() {
    let (mut rig, _) = stalled_and_degraded(4096);
    // 3 s of sends at 10 ms while the primary's consumer stays stalled: the rate limit alone
    // (5/s, burst 1) would admit about 16; the adaptive trickle admits one, which then waits
    // longer than the target and keeps the rest away.
    let before = rig.rx.len();
    for _ in 0..300 {
        assert!(!send_next(&mut rig));
        rig.clock.advance(10 * MS);
    }
    assert!(rig.rx.is_degraded());
    assert!(rig.rx.len() <= before + 1, "primary holds {}", rig.rx.len());
    assert_eq!(drain_and_count(rig), (0, 0));
}

#[test]
fn migration_pauses_on_a_full_backup_and_loses_nothing() {
    let (mut rig, backlog) = stalled_and_degraded(8);
    assert!(backlog > 8, "a backlog larger than the backup: {backlog}");
    // The backup fills (nobody reads it): the move pauses; the sends that find it full come
    // back to their sender.
    let mut returned = 0;
    for _ in 0..20 {
        returned += usize::from(send_next(&mut rig));
    }
    assert!(rig.brx.is_full());
    assert!(rig.rx.migrated_to_backup() <= 8);
    assert!(returned > 0);
    let left = rig.rx.len();
    assert!(left > 0, "the rest of the backlog stays on the primary");
    // Once the backup's consumer drains it, the move resumes.
    let mut taken = 0;
    while let Ok(v) = rig.brx.try_recv() {
        rig.seen[v as usize] += 1;
        taken += 1;
    }
    assert_eq!(taken, 8);
    let moved = rig.rx.migrated_to_backup();
    rig.rx.slo_tick();
    assert!(rig.rx.migrated_to_backup() > moved, "the move resumed");
    assert!(rig.rx.len() < left);
    assert_eq!(drain_and_count(rig), (0, 0));
}
