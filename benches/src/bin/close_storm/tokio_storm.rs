//! The storm on tokio: tokio's mpsc has one receiver per channel, so each parked task owns one
//! `mpsc::channel`, and "channel `c`" is the set of tasks `c, c + k, c + 2k, ...`; closing it
//! drops those tasks' senders (tokio closes an mpsc when its last sender goes).

use std::sync::Arc;

use tokio::sync::mpsc;
use weir_benches::storm_log::StormLog;

use crate::args::Args;
use crate::driver::StormRuntime;

/// Capacity of each channel, as on the weir side.
const CAPACITY: usize = 16;

pub struct TokioStorm {
    rt: tokio::runtime::Runtime,
    channels: usize,
    senders: Vec<Option<mpsc::Sender<u64>>>,
    receivers: Vec<Option<mpsc::Receiver<u64>>>,
}

impl StormRuntime for TokioStorm {
    const NAME: &'static str = "tokio";
    const BREAKERS: bool = false;

    fn start(args: &Args) -> Self {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.workers)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(err) => {
                eprintln!("close_storm: cannot build the tokio runtime: {err}");
                std::process::exit(2);
            }
        };
        TokioStorm {
            rt,
            channels: args.channels,
            senders: Vec::new(),
            receivers: Vec::new(),
        }
    }

    fn build_channels(&mut self, args: &Args) {
        self.senders.reserve_exact(args.tasks);
        self.receivers.reserve_exact(args.tasks);
        for _ in 0..args.tasks {
            let (tx, rx) = mpsc::channel(CAPACITY);
            self.senders.push(Some(tx));
            self.receivers.push(Some(rx));
        }
    }

    fn spawn_receiver(&mut self, task: usize, log: &Arc<StormLog>) -> usize {
        let Some(mut rx) = self.receivers[task].take() else {
            unreachable!("receiver {task} spawned twice");
        };
        let log = log.clone();
        let receiver = async move {
            log.note_parking();
            let closed = rx.recv().await.is_none();
            log.note_woken(task, closed);
        };
        let bytes = std::mem::size_of_val(&receiver);
        drop(self.rt.spawn(receiver));
        bytes
    }

    fn parked_receivers(&self) -> Option<usize> {
        None
    }

    fn close_channel(&mut self, channel: usize, log: &StormLog) {
        log.note_close(channel);
        for sender in self.senders.iter_mut().skip(channel).step_by(self.channels) {
            drop(sender.take());
        }
    }
}
