//! `Builder`: a channel's kind, capacity and name.

use std::panic::Location;

use weir_probes::{probe, Event};

use crate::channel::{Chan, Flavor};
use crate::error::BuildError;
use crate::flavors::{array::Array, list::List, zero::Zero};
use crate::handles::{Receiver, Sender};
use crate::sync::Arc;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Bounded(usize),
    Unbounded,
    Rendezvous,
}

/// Configures a channel: `Builder::bounded(n).name("orders").build()`.
#[derive(Debug, Clone)]
pub struct Builder {
    kind: Kind,
    name: Option<Box<str>>,
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
            name: None,
        }
    }

    /// A channel with no bound on its buffer: sends never wait.
    pub fn unbounded() -> Builder {
        Builder {
            kind: Kind::Unbounded,
            name: None,
        }
    }

    /// A rendezvous channel (Go's unbuffered channel): a send completes only when a receiver
    /// takes the value.
    pub fn rendezvous() -> Builder {
        Builder {
            kind: Kind::Rendezvous,
            name: None,
        }
    }

    /// Names the channel (shown by `Debug` and available to probes' consumers).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
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
        let (flavor, capacity) = match self.kind {
            Kind::Bounded(cap) => (Flavor::Array(Array::try_new(cap)?), cap),
            Kind::Unbounded => (Flavor::List(List::new()), usize::MAX),
            Kind::Rendezvous => (Flavor::Zero(Zero::new()), 0),
        };
        let chan = Arc::new(Chan::new(flavor, self.name));
        let location = Location::caller();
        probe!(Event::ChannelNew {
            channel: chan.id,
            capacity,
            location
        });
        let _ = (capacity, location);
        Ok((Sender { chan: chan.clone() }, Receiver { chan }))
    }
}
