//! The storm on weir: `k` weir channels, some built with a breaker and an SLO monitor, and the
//! receivers parked in `recv().await`; `Sender::close` closes each channel.

use std::sync::Arc;

use weir::breaker::{BreakerConfig, SloConfig};
use weir::channel::{Builder, Receiver, RecvError, Sender};
use weir_benches::storm_log::{channel_of, StormLog};

use crate::args::Args;
use crate::driver::StormRuntime;

/// Capacity of each channel (the receivers find them empty; the bound only picks the flavour).
const CAPACITY: usize = 16;

pub struct WeirStorm {
    rt: weir::Runtime,
    senders: Vec<Sender<u64>>,
    receivers: Vec<Receiver<u64>>,
}

impl StormRuntime for WeirStorm {
    const NAME: &'static str = "weir";
    const BREAKERS: bool = true;

    fn start(args: &Args) -> Self {
        let rt = match weir::runtime::Builder::new_multi_thread()
            .worker_threads(args.workers)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(err) => {
                eprintln!("close_storm: cannot build the weir runtime: {err}");
                std::process::exit(2);
            }
        };
        WeirStorm {
            rt,
            senders: Vec::new(),
            receivers: Vec::new(),
        }
    }

    fn build_channels(&mut self, args: &Args) {
        for c in 0..args.channels {
            let (tx, rx) = if args.guarded(c) {
                Builder::bounded(CAPACITY)
                    .name(format!("storm-{c}"))
                    .breaker(BreakerConfig::default())
                    .slo(SloConfig::default())
                    .build()
            } else {
                weir::channel::bounded(CAPACITY)
            };
            self.senders.push(tx);
            self.receivers.push(rx);
        }
    }

    fn spawn_receiver(&mut self, task: usize, log: &Arc<StormLog>) -> usize {
        let rx = self.receivers[channel_of(task, self.receivers.len())].clone();
        let log = log.clone();
        let receiver = async move {
            log.note_parking();
            let closed = matches!(rx.recv().await, Err(RecvError::Closed));
            log.note_woken(task, closed);
        };
        let bytes = std::mem::size_of_val(&receiver);
        drop(self.rt.spawn(receiver));
        bytes
    }

    fn parked_receivers(&self) -> Option<usize> {
        Some(self.receivers.iter().map(|r| r.waiting_receivers()).sum())
    }

    fn close_channel(&mut self, channel: usize, log: &StormLog) {
        log.note_close(channel);
        self.senders[channel].close();
    }
}
