//! `Builder`: a channel's kind, capacity, name and breaker layers.

use std::fmt;
use std::panic::Location;

use weir_breaker::{BreakerConfig, Clock, Group, GroupPolicy, SloConfig};
use weir_probes::{probe, Event};

use crate::channel::{Chan, Flavor};
use crate::error::BuildError;
use crate::flavors::{array::Array, list::List, zero::Zero};
use crate::guard::{Guard, GuardConfig};
use crate::handles::{Receiver, Sender};
use crate::sync::Arc;
// The breaker's API (group, clock) takes std's `Arc` even under loom.
use std::sync::Arc as StdArc;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Bounded(usize),
    Unbounded,
    Rendezvous,
}

/// Configures a channel: `Builder::bounded(n).name("orders").build()`.
///
/// The breaker layers are opt-in: [`Builder::breaker`] (L1 circuit and L2 hold),
/// [`Builder::slo`] (L3 SLO monitor), [`Builder::backup`] (where sends go while L3 has the
/// channel degraded), [`Builder::group`] and [`Builder::clock`]. A channel without them pays
/// one `Option` test per operation.
///
/// ```
/// use std::time::Duration;
/// use weir_breaker::{BreakerConfig, SloConfig};
/// let (backup_tx, _backup_rx) = weir_channel::bounded::<u32>(64);
/// let (tx, rx) = weir_channel::Builder::bounded(64)
///     .name("orders")
///     .breaker(BreakerConfig::new().failure_threshold(3))
///     .slo(SloConfig::new().target_p999(Duration::from_millis(200)))
///     .backup(backup_tx)
///     .build();
/// assert_eq!(rx.breaker_state(), Some(weir_breaker::State::Closed));
/// # drop(tx);
/// ```
#[derive(Clone)]
pub struct Builder {
    kind: Kind,
    name: Option<Box<str>>,
    breaker: Option<BreakerConfig>,
    slo: Option<SloConfig>,
    group: Option<(StdArc<Group>, GroupPolicy)>,
    clock: Option<StdArc<dyn Clock>>,
    wait_samples: bool,
    env_error: Option<weir_breaker::ConfigError>,
    #[cfg(feature = "chaos")]
    chaos: Option<StdArc<crate::chaos::Faults>>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("breaker", &self.breaker)
            .field("slo", &self.slo)
            .field("group", &self.group.as_ref().map(|(_, p)| p))
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("wait_samples", &self.wait_samples)
            .finish()
    }
}

/// A [`Builder`] with a backup channel for the values it carries (see [`Builder::backup`]).
#[derive(Debug)]
pub struct BackedBuilder<T> {
    builder: Builder,
    backup: Sender<T>,
}

impl<T: Send + 'static> BackedBuilder<T> {
    /// Builds the channel. Panics as [`Builder::build`] does.
    ///
    /// Built inside a weir runtime, a channel with L3 gets a small timer task that evaluates
    /// it (and moves aged values to the backup) while it is idle with a backlog, so no status
    /// loop has to drive it; `T: Send + 'static` is what that task needs.
    #[track_caller]
    pub fn build(self) -> (Sender<T>, Receiver<T>) {
        match self.try_build() {
            Ok(pair) => pair,
            Err(err) => panic!("weir::channel: {err}"),
        }
    }

    /// Builds the channel, or says why it cannot be built.
    #[track_caller]
    pub fn try_build(self) -> Result<(Sender<T>, Receiver<T>), BuildError> {
        let (tx, rx) = self.builder.build_with(Some(self.backup))?;
        #[cfg(not(loom))]
        crate::guard::watchdog::spawn(&rx.chan);
        Ok((tx, rx))
    }
}

impl Builder {
    /// A channel buffering up to `cap` values; `cap == 0` is a rendezvous.
    pub fn bounded(cap: usize) -> Builder {
        Builder {
            kind: if cap == 0 {
                Kind::Rendezvous
            } else {
                Kind::Bounded(cap)
            },
            ..Builder::unbounded()
        }
    }

    /// A channel with no bound on its buffer: sends never wait.
    pub fn unbounded() -> Builder {
        Builder {
            kind: Kind::Unbounded,
            name: None,
            breaker: None,
            slo: None,
            group: None,
            clock: None,
            wait_samples: false,
            env_error: None,
            #[cfg(feature = "chaos")]
            chaos: None,
        }
    }

    /// A rendezvous channel (Go's unbuffered channel): a send completes only when a receiver
    /// takes the value.
    pub fn rendezvous() -> Builder {
        Builder {
            kind: Kind::Rendezvous,
            ..Builder::unbounded()
        }
    }

    /// Names the channel (shown by `Debug` and available to probes' consumers).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Turns on L1 (the circuit consulted before each receive) and L2 (timeouts count as
    /// failures; a receive right after a failure is held by the backoff unless a value is
    /// ready). `build` validates the configuration.
    pub fn breaker(mut self, config: BreakerConfig) -> Builder {
        self.breaker = Some(config);
        self
    }

    /// Like [`Builder::breaker`], with the defaults overridden by the environment variables
    /// `WEIR_BREAKER_<NAME>_<FIELD>` (`<NAME>` is the channel's name, upper-cased; set the name
    /// first). A malformed variable makes `build` fail with an error naming it.
    pub fn breaker_from_env(mut self) -> Builder {
        match BreakerConfig::from_env(&self.env_name()) {
            Ok(c) => self.breaker = Some(c),
            Err(e) => self.env_error = self.env_error.or(Some(e)),
        }
        self
    }

    /// Turns on L3: send stamps, latency samples and SLO evaluation on this channel.
    pub fn slo(mut self, config: SloConfig) -> Builder {
        self.slo = Some(config);
        self
    }

    /// Like [`Builder::slo`], reading `WEIR_SLO_<NAME>_<FIELD>` overrides (see
    /// `SloConfig::from_env`).
    pub fn slo_from_env(mut self) -> Builder {
        match SloConfig::from_env(&self.env_name()) {
            Ok(c) => self.slo = Some(c),
            Err(e) => self.env_error = self.env_error.or(Some(e)),
        }
        self
    }

    /// Whether L3 also samples how long receives wait for a value (off by default). Queueing
    /// delay (send to receive) is always sampled. A receive's wait measures the *producer*
    /// side: turn it on for a channel whose consumer must not starve; leave it off for a
    /// channel whose traffic comes in bursts, or every quiet spell reads as a breach.
    pub fn slo_wait_samples(mut self, on: bool) -> Builder {
        self.wait_samples = on;
        self
    }

    /// Attaches injected faults (the `chaos` feature; see [`crate::chaos`]).
    #[cfg(feature = "chaos")]
    pub fn chaos(mut self, faults: StdArc<crate::chaos::Faults>) -> Builder {
        self.chaos = Some(faults);
        self
    }

    /// Makes the circuit a member of `group` (see `weir_breaker::Group`).
    pub fn group(mut self, group: StdArc<Group>, policy: GroupPolicy) -> Builder {
        self.group = Some((group, policy));
        self
    }

    /// The clock the breaker layers read (default: the runtime's coarse clock). Tests pass a
    /// `weir_breaker::ManualClock`.
    pub fn clock(mut self, clock: StdArc<dyn Clock>) -> Builder {
        self.clock = Some(clock);
        self
    }

    /// Where sends go while L3 has the channel degraded (the primary still admits a trickle).
    /// Without a backup, a degraded channel keeps every send on the primary and only reports.
    /// Call it last: it fixes the value type.
    ///
    /// A monitored channel with a backup may hand its queued messages to the backup when it
    /// degrades: the messages waiting on the primary at that moment have not been received
    /// yet, so the next sends (and [`Receiver::slo_tick`](crate::Receiver::slo_tick)) move
    /// them, a bounded batch per call, with a receive on the primary and a send on the
    /// backup. Every message is still received exactly once, by a consumer of one channel or
    /// the other; the moved messages lose their order relative to the backup's own. Moving
    /// stops when either channel closes and pauses while the backup is full (a rendezvous
    /// backup takes none). [`Receiver::migrated_to_backup`](crate::Receiver::migrated_to_backup)
    /// counts them.
    ///
    /// The trickle the primary admits while degraded is adaptive: while its oldest message
    /// has waited longer than the SLO target (its consumer is not draining), sends go to the
    /// backup only.
    pub fn backup<T>(self, backup: Sender<T>) -> BackedBuilder<T> {
        BackedBuilder {
            builder: self,
            backup,
        }
    }

    fn env_name(&self) -> String {
        self.name.as_deref().unwrap_or("").to_string()
    }

    /// Builds the channel.
    ///
    /// # Panics
    /// If the capacity is larger than a channel supports or its buffer cannot be allocated;
    /// [`Builder::try_build`] reports these as errors instead.
    #[track_caller]
    pub fn build<T>(self) -> (Sender<T>, Receiver<T>) {
        match self.try_build() {
            Ok(pair) => pair,
            Err(err) => panic!("weir::channel: {err}"),
        }
    }

    /// Builds the channel, or says why it cannot be built.
    #[track_caller]
    pub fn try_build<T>(self) -> Result<(Sender<T>, Receiver<T>), BuildError> {
        self.build_with(None)
    }

    #[track_caller]
    fn build_with<T>(
        self,
        backup: Option<Sender<T>>,
    ) -> Result<(Sender<T>, Receiver<T>), BuildError> {
        if let Some(err) = self.env_error {
            return Err(err.into());
        }
        let (flavor, capacity) = match self.kind {
            Kind::Bounded(cap) => (Flavor::Array(Array::try_new(cap)?), cap),
            Kind::Unbounded => (Flavor::List(List::new()), usize::MAX),
            Kind::Rendezvous => (Flavor::Zero(Zero::new()), 0),
        };
        let mut chan = Chan::new(flavor, self.name);
        #[cfg(feature = "chaos")]
        {
            chan.chaos = self.chaos;
        }
        let guard = GuardConfig {
            breaker: self.breaker,
            slo: self.slo,
            backup: backup.map(Sender::into_backup),
            group: self.group,
            clock: self.clock,
            wait_samples: self.wait_samples,
        };
        if !guard.is_empty() {
            let cap = match self.kind {
                Kind::Unbounded => None,
                _ => Some(capacity),
            };
            chan.guard = Some(Box::new(Guard::new(guard, chan.id, cap)?));
        }
        let chan = Arc::new(chan);
        let location = Location::caller();
        probe!(Event::ChannelNew {
            channel: chan.id,
            capacity,
            location,
            name: chan.name.as_deref().unwrap_or("")
        });
        let _ = (capacity, location);
        Ok((Sender { chan: chan.clone() }, Receiver { chan }))
    }
}
