//! The owned-tasks list: every live task of a runtime, so that shutdown can drop them all.
//!
//! Sharded by task id; each shard is a `Mutex<Slab>` whose key is stored in the task header.
//! Insertion happens once per spawn and removal once per completion, both on an uncontended
//! shard lock in practice; polls and wakes never touch the list.

use slab::Slab;

use super::raw::{Header, RawTask};
use crate::sync::{Mutex, MutexGuard};

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    mask: usize,
}

struct Shard {
    tasks: Slab<RawTask>,
    closed: bool,
}

impl OwnedTasks {
    pub(crate) fn new(workers: usize) -> Self {
        let n = (workers * 4).next_power_of_two().clamp(4, 256);
        let shards = (0..n)
            .map(|_| {
                Mutex::new(Shard {
                    tasks: Slab::new(),
                    closed: false,
                })
            })
            .collect();
        Self {
            shards,
            mask: n - 1,
        }
    }

    fn shard(&self, id: u64) -> MutexGuard<'_, Shard> {
        lock(&self.shards[id as usize & self.mask])
    }

    /// Adds a freshly spawned task (taking the list's reference). `Err` hands the reference
    /// back when the runtime is shutting down; the caller must shut the task down.
    pub(crate) fn insert(&self, task: RawTask) -> Result<(), RawTask> {
        let mut shard = self.shard(task.id().0);
        if shard.closed {
            return Err(task);
        }
        let header = task.ptr();
        let key = shard.tasks.insert(task);
        // SAFETY: the key slot is written under the shard lock, and only read under it.
        unsafe { header.as_ref() }
            .owned_key
            .with_mut(|k| unsafe { *k = key });
        Ok(())
    }

    /// Removes a completing task; returns the list's reference if the task was still listed.
    pub(crate) fn remove(&self, header: &Header) -> Option<RawTask> {
        let mut shard = self.shard(header.id.0);
        // SAFETY: read under the shard lock, which also guarded the write.
        let key = header.owned_key.with(|k| unsafe { *k });
        match shard.tasks.get(key) {
            Some(task) if std::ptr::eq(task.header(), header) => Some(shard.tasks.remove(key)),
            _ => None,
        }
    }

    /// Closes the list to new tasks and shuts down every listed task.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            lock(shard).closed = true;
        }
        for shard in self.shards.iter() {
            // Closed: nothing is added any more, so one drain empties the shard. Shut the tasks
            // down outside the lock: dropping a future may complete other tasks, which need it.
            let tasks: Vec<RawTask> = lock(shard).tasks.drain().collect();
            for task in tasks {
                task.shutdown();
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).tasks.len()).sum()
    }
}

/// Locks, ignoring poisoning: the list's invariants hold between statements, and a panic in
/// user code never runs while the lock is held.
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
