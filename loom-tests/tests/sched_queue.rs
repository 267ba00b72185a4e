//! The task queues of the multi-thread scheduler: a worker's local ring
//! (`runtime/src/scheduler/multi_thread/queue.rs`) with its owner and a thief, and the global
//! injector (`runtime/src/scheduler/inject.rs`) with several producers.
//!
//! The tasks are real allocations (never polled). Every model checks, in every interleaving:
//! - each task comes out exactly once: no task lost, none duplicated (the ids taken are
//!   exactly the ids put in);
//! - every task is freed: a task left behind in a queue keeps its runtime handle (a loom
//!   `Arc`) alive, and loom reports the leak when the execution ends;
//! - the slots are handed over without a data race (loom checks every `UnsafeCell` access).
//!
//! The ring models are small enough to explore every interleaving (no preemption bound); the
//! injector models, whose consumers retry, run at the preemption bound.
//!
//! Under loom the ring holds four tasks (`LOCAL_QUEUE_CAPACITY`), so that a model can fill it
//! and exercise the overflow to the injector.
//!
//! The LIFO slot itself is a plain field of the worker's core, touched only by its owner; what
//! crosses threads is what `schedule_local` does with it: the task it displaces goes to the
//! back of the local ring, where a thief can take it. The owner threads below do exactly that.
#![cfg(loom)]

use loom::thread;
use weir_loom_tests::{model, model_exhaustive};
use weir_runtime::loom_api::{
    local_queue, Injector, LocalQueue, Task, TaskFactory, LOCAL_QUEUE_CAPACITY,
};

fn ids(tasks: &[Task]) -> Vec<u64> {
    let mut ids: Vec<u64> = tasks.iter().map(Task::id).collect();
    ids.sort_unstable();
    ids
}

fn drain(local: &mut LocalQueue) -> Vec<Task> {
    std::iter::from_fn(|| local.pop()).collect()
}

/// `schedule_local` as the owner runs it: the new task takes the LIFO slot and the one it
/// displaces goes to the back of the ring.
fn schedule_local(lifo: &mut Option<Task>, local: &mut LocalQueue, task: Task, inj: &Injector) {
    if let Some(prev) = lifo.replace(task) {
        local.push_back(prev, inj);
    }
}

/// The owner schedules three tasks through its LIFO slot (two spill to the ring) and pops,
/// while another worker steals half of the ring: every task is run exactly once.
#[test]
fn lifo_spill_races_steal() {
    model_exhaustive(|| {
        let factory = TaskFactory::new();
        let inj = std::sync::Arc::new(Injector::new());
        let (mut local, stealer) = local_queue();
        let tasks: Vec<Task> = (0..3).map(|_| factory.task()).collect();
        let expected = ids(&tasks);

        let thief = thread::spawn(move || {
            let (mut mine, _) = local_queue();
            let mut got = Vec::new();
            if let Some((task, taken)) = stealer.steal_into(&mut mine) {
                assert!(taken >= 1);
                got.push(task);
                got.extend(drain(&mut mine));
                assert_eq!(got.len(), taken);
            }
            got
        });

        let mut lifo = None;
        for task in tasks {
            schedule_local(&mut lifo, &mut local, task, &inj);
        }
        let mut ran: Vec<Task> = lifo.into_iter().collect();
        ran.extend(drain(&mut local));
        ran.extend(thief.join().unwrap());
        assert!(inj.is_empty());
        assert_eq!(ids(&ran), expected);
    });
}

/// The owner pushes while a thief steals and then pops what is left: nothing is lost or
/// taken twice, including when the owner's pop and the thief's claim race for the last task.
#[test]
fn owner_pop_races_steal() {
    model_exhaustive(|| {
        let factory = TaskFactory::new();
        let inj = Injector::new();
        let (mut local, stealer) = local_queue();
        let first: Vec<Task> = (0..2).map(|_| factory.task()).collect();
        let second = factory.task();
        let mut expected = ids(&first);
        expected.push(second.id());
        expected.sort_unstable();
        for task in first {
            local.push_back(task, &inj);
        }

        let thief = thread::spawn(move || {
            let (mut mine, _) = local_queue();
            let mut got = Vec::new();
            if let Some((task, _)) = stealer.steal_into(&mut mine) {
                got.push(task);
                got.extend(drain(&mut mine));
            }
            got
        });

        let mut ran: Vec<Task> = local.pop().into_iter().collect();
        local.push_back(second, &inj);
        ran.extend(drain(&mut local));
        ran.extend(thief.join().unwrap());
        assert!(inj.is_empty());
        assert_eq!(ids(&ran), expected);
    });
}

/// The owner fills its ring and overflows (half the ring and the new task move to the
/// injector in one batch) while a thief steals: the overflow either wins the ring's head
/// or finds room freed by the thief; every task ends up run exactly once.
#[test]
fn overflow_to_injector_races_steal() {
    model_exhaustive(|| {
        let factory = TaskFactory::new();
        let inj = std::sync::Arc::new(Injector::new());
        let (mut local, stealer) = local_queue();
        let tasks: Vec<Task> = (0..=LOCAL_QUEUE_CAPACITY).map(|_| factory.task()).collect();
        let expected = ids(&tasks);
        let mut tasks = tasks.into_iter();
        for task in tasks.by_ref().take(LOCAL_QUEUE_CAPACITY) {
            local.push_back(task, &inj);
        }
        let last = tasks.next().expect("one task past capacity");

        let thief = thread::spawn(move || {
            let (mut mine, _) = local_queue();
            let mut got = Vec::new();
            if let Some((task, _)) = stealer.steal_into(&mut mine) {
                got.push(task);
                got.extend(drain(&mut mine));
            }
            got
        });

        local.push_back(last, &inj);
        let mut ran = drain(&mut local);
        ran.extend(thief.join().unwrap());
        while let Some(task) = inj.pop() {
            ran.push(task);
        }
        assert!(inj.is_empty());
        assert_eq!(ids(&ran), expected);
    });
}

/// Two producers (one pushing a single task, one a batch of two) and a consumer that keeps
/// popping until it has every task. The producers make their tasks themselves, as a waker or
/// a spawner outside the runtime does, so the consumer's use of each task must be ordered
/// after its creation by the producer's link store. Each task comes out once, a producer's
/// tasks in its order.
#[test]
fn injector_producers_and_consumer() {
    model(|| {
        let factory = std::sync::Arc::new(TaskFactory::new());
        let inj = std::sync::Arc::new(Injector::new());

        let (f1, i1) = (factory.clone(), inj.clone());
        let p1 = thread::spawn(move || {
            let task = f1.task();
            let id = task.id();
            i1.push(task);
            vec![id]
        });
        let (f2, i2) = (factory.clone(), inj.clone());
        let p2 = thread::spawn(move || {
            let batch: Vec<Task> = (0..2).map(|_| f2.task()).collect();
            let ids: Vec<u64> = batch.iter().map(Task::id).collect();
            i2.push_batch(batch);
            ids
        });

        let mut got = Vec::new();
        while got.len() < 3 {
            match inj.pop() {
                Some(task) => got.push(task.id()),
                // A producer has not finished linking: let it run.
                None => thread::yield_now(),
            }
        }
        let single = p1.join().unwrap();
        let batch = p2.join().unwrap();
        assert!(inj.is_empty());
        let from_single: Vec<u64> = got
            .iter()
            .copied()
            .filter(|id| single.contains(id))
            .collect();
        let from_batch: Vec<u64> = got
            .iter()
            .copied()
            .filter(|id| batch.contains(id))
            .collect();
        assert_eq!(from_single, single);
        assert_eq!(from_batch, batch);
    });
}

/// Two consumers race for the injector's consuming end while a producer pushes: the
/// try-lock admits one at a time, and each task is taken once.
#[test]
fn injector_consumers_take_turns() {
    model(|| {
        let factory = TaskFactory::new();
        let inj = std::sync::Arc::new(Injector::new());
        let tasks: Vec<Task> = (0..2).map(|_| factory.task()).collect();
        let expected = ids(&tasks);
        let mut tasks = tasks.into_iter();
        inj.push(tasks.next().unwrap());
        let late = tasks.next().unwrap();

        let i1 = inj.clone();
        let consumer = thread::spawn(move || i1.pop());
        let i2 = inj.clone();
        let producer = thread::spawn(move || i2.push(late));

        let mine = inj.pop();
        let theirs = consumer.join().unwrap();
        producer.join().unwrap();
        let mut ran: Vec<Task> = mine.into_iter().chain(theirs).collect();
        // What the racing consumers left (busy end, a push still linking) is still queued.
        while let Some(task) = inj.pop() {
            ran.push(task);
        }
        assert_eq!(ids(&ran), expected);
    });
}
