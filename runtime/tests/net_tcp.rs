//! TCP on loopback: echo under 1,000 concurrent connections, half-close, the OS errors that
//! must reach the caller by kind, timeouts, a stream changing workers, and registration leaks.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use weir_runtime::io::{AsyncReadExt, AsyncWriteExt};
use weir_runtime::net::{TcpListener, TcpStream};
use weir_runtime::runtime::{Builder, Runtime};
use weir_runtime::{spawn, time};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

fn current() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// Makes sure the process may open `want` descriptors (two per loopback connection).
fn ensure_fd_limit(want: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}

/// Payload sizes spread geometrically from 1 byte to 1 MiB over `n` connections.
fn payload_size(i: usize, n: usize) -> usize {
    let exp = 20.0 * i as f64 / (n - 1) as f64;
    (2f64.powf(exp).round() as usize).clamp(1, 1 << 20)
}

fn pattern(conn: usize, j: usize) -> u8 {
    (conn.wrapping_mul(131) ^ j.wrapping_mul(7) ^ (j >> 9)) as u8
}

async fn echo(stream: TcpStream) -> io::Result<u64> {
    let (mut r, mut w) = stream.into_split();
    let n = weir_runtime::io::copy(&mut r, &mut w).await?;
    w.shutdown().await?;
    Ok(n)
}

#[test]
fn echo_1000_concurrent_connections_1_byte_to_1_mib_every_byte_checked() {
    const CONNS: usize = 1_000;
    ensure_fd_limit(2 * CONNS as libc::rlim_t + 256);
    let rt = multi(2);
    rt.block_on(async {
        let start = weir_runtime::io::registration_count().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let mut echoes = Vec::with_capacity(CONNS);
            for _ in 0..CONNS {
                let (stream, _) = listener.accept().await?;
                echoes.push(spawn(echo(stream)));
            }
            let mut total = 0;
            for e in echoes {
                total += e.await.expect("echo task")?;
            }
            io::Result::Ok(total)
        });

        // Every connection is open before any byte moves: they are all live at once.
        let mut conns = Vec::with_capacity(CONNS);
        for _ in 0..CONNS {
            conns.push(TcpStream::connect(addr).await.unwrap());
        }
        assert_eq!(
            sizes_sum(CONNS),
            (0..CONNS).map(|i| payload_size(i, CONNS)).sum::<usize>()
        );
        assert_eq!(payload_size(0, CONNS), 1);
        assert_eq!(payload_size(CONNS - 1, CONNS), 1 << 20);

        let clients: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, stream)| {
                spawn(async move {
                    let size = payload_size(i, CONNS);
                    let data: Vec<u8> = (0..size).map(|j| pattern(i, j)).collect();
                    let (mut r, mut w) = stream.into_split();
                    let writer = spawn(async move {
                        w.write_all(&data).await?;
                        w.shutdown().await
                    });
                    let mut got = Vec::new();
                    let fail = |e: io::Error| format!("conn {i}: {e}");
                    r.read_to_end(&mut got).await.map_err(fail)?;
                    writer.await.expect("writer task").map_err(fail)?;
                    if got.len() != size {
                        return Err(format!("conn {i}: {} bytes back, sent {size}", got.len()));
                    }
                    if let Some(j) = (0..size).find(|&j| got[j] != pattern(i, j)) {
                        return Err(format!("conn {i}: byte {j} differs"));
                    }
                    Ok(size)
                })
            })
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await.expect("client task").unwrap();
        }
        assert_eq!(total, sizes_sum(CONNS));
        assert_eq!(server.await.unwrap().unwrap(), total as u64);
        assert_eq!(weir_runtime::io::registration_count().unwrap(), start);
    });
}

fn sizes_sum(n: usize) -> usize {
    (0..n).map(|i| payload_size(i, n)).sum()
}

#[test]
fn half_close_reads_zero_and_the_other_direction_keeps_working() {
    current().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut s, peer) = listener.accept().await.unwrap();
            assert_eq!(s.peer_addr().unwrap(), peer);
            let mut req = Vec::new();
            s.read_to_end(&mut req).await.unwrap();
            // The end of the stream stays the end.
            let mut buf = [0u8; 8];
            assert_eq!(s.read(&mut buf).await.unwrap(), 0);
            assert_eq!(s.read(&mut buf).await.unwrap(), 0);
            s.write_all(b"response to ").await.unwrap();
            s.write_all(&req).await.unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        c.write_all(b"request").await.unwrap();
        c.shutdown().await.unwrap();
        let mut resp = String::new();
        c.read_to_string(&mut resp).await.unwrap();
        assert_eq!(resp, "response to request");
        let mut buf = [0u8; 4];
        assert_eq!(c.read(&mut buf).await.unwrap(), 0);
        server.await.unwrap();
    });
}

fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

#[test]
fn connect_to_a_closed_port_is_connection_refused() {
    current().block_on(async {
        let err = TcpStream::connect(closed_port()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        // The failed attempt left no registration behind.
        let before = weir_runtime::io::registration_count().unwrap();
        let _ = TcpStream::connect(closed_port()).await.unwrap_err();
        assert_eq!(weir_runtime::io::registration_count().unwrap(), before);
    });
}

#[test]
fn binding_a_used_address_is_addr_in_use() {
    current().block_on(async {
        let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(a.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn peer_reset_is_connection_reset_then_writes_are_broken_pipe() {
    multi(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut one = [0u8; 1];
            s.read_exact(&mut one).await.unwrap();
            // Closing with unread data makes the kernel reset the connection.
            drop(s);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"ab").await.unwrap();
        server.await.unwrap();
        let mut buf = [0u8; 16];
        let err = c.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        let err = c.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        // Shutting down a dead stream is not an error.
        c.shutdown().await.unwrap();
    });
}

#[test]
fn a_read_that_times_out_leaves_the_stream_usable() {
    multi(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut go = [0u8; 2];
            s.read_exact(&mut go).await.unwrap();
            assert_eq!(&go, b"go");
            s.write_all(b"late").await.unwrap();
            s
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 4];
        // The server writes nothing until told to, so this read can only time out.
        let r = time::timeout(Duration::from_millis(20), c.read(&mut buf)).await;
        assert!(r.is_err(), "read returned {r:?} before any byte was sent");
        c.write_all(b"go").await.unwrap();
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"late");
        drop(server.await.unwrap());
    });
}

#[test]
fn a_stream_moved_to_a_task_on_another_worker_keeps_receiving() {
    let rt = multi(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let peer = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"one").unwrap();
        go_rx.recv().unwrap();
        s.write_all(b"two").unwrap();
        let mut end = [0u8; 1];
        // The receiver closes after "two": the end of the stream.
        assert_eq!(s.read(&mut end).unwrap(), 0);
    });
    let (stream, _) = rt.block_on(listener.accept()).unwrap();

    let (hand_tx, hand_rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel::<u32>();
    let a = rt.spawn(async move {
        let mut stream = stream;
        let mut buf = [0u8; 3];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"one");
        // Leave this task's waker registered for the read direction.
        let r = time::timeout(Duration::from_millis(10), stream.read(&mut buf)).await;
        assert!(r.is_err());
        // The worker this task holds from here to its end (no await below).
        let worker_a = weir_probes::context::current_worker();
        hand_tx.send((stream, worker_a)).unwrap();
        // Hold this worker until task B runs elsewhere, so B cannot land on it.
        let worker_b = started_rx.recv().unwrap();
        (worker_a, worker_b)
    });
    let (mut stream, worker_a) = hand_rx.recv().unwrap();
    let b = rt.spawn(async move {
        let worker_b = weir_probes::context::current_worker();
        started_tx.send(worker_b).unwrap();
        go_tx.send(()).unwrap();
        let mut buf = [0u8; 3];
        stream.read_exact(&mut buf).await.unwrap();
        (worker_b, buf)
    });
    let (wa, wb) = rt.block_on(a).unwrap();
    let (worker_b, buf) = rt.block_on(b).unwrap();
    assert_eq!(wa, worker_a);
    assert_eq!(wb, worker_b);
    assert_ne!(
        worker_a, worker_b,
        "task B ran on the same worker as task A"
    );
    assert_eq!(&buf, b"two");
    peer.join().unwrap();
}

#[test]
fn ten_thousand_accept_close_cycles_leave_no_registration_behind() {
    multi(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let start = weir_runtime::io::registration_count().unwrap();
        for i in 0..10_000u32 {
            let c = TcpStream::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            if i % 2 == 0 {
                drop(c);
                drop(s);
            } else {
                drop(s);
                drop(c);
            }
        }
        assert_eq!(weir_runtime::io::registration_count().unwrap(), start);
    });
}

#[test]
fn many_tasks_accept_on_one_listener() {
    multi(2).block_on(async {
        let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        // Eight acceptors wait on one listener at once; each must be woken for its connection.
        let acceptors: Vec<_> = (0..8)
            .map(|_| {
                let l = listener.clone();
                spawn(async move {
                    let (mut s, _) = l.accept().await.unwrap();
                    let mut b = [0u8; 1];
                    s.read_exact(&mut b).await.unwrap();
                    s.write_all(&b).await.unwrap();
                })
            })
            .collect();
        weir_runtime::task::yield_now().await;
        let mut clients = Vec::new();
        for i in 0..8u8 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[i]).await.unwrap();
            clients.push((i, c));
        }
        for (i, mut c) in clients {
            let mut b = [0u8; 1];
            c.read_exact(&mut b).await.unwrap();
            assert_eq!(b[0], i);
        }
        for a in acceptors {
            a.await.unwrap();
        }
    });
}

#[test]
fn split_halves_work_together_and_reunite() {
    current().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            echo(s).await.unwrap()
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        {
            let (mut r, mut w) = c.split();
            w.write_all(b"borrowed").await.unwrap();
            let mut buf = [0u8; 8];
            r.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"borrowed");
        }
        let (mut r, mut w) = c.into_split();
        assert_eq!(r.as_ref().peer_addr().unwrap(), addr);
        w.write_all(b"owned").await.unwrap();
        let mut buf = [0u8; 5];
        r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"owned");
        let mut c = r.reunite(w).unwrap();
        c.shutdown().await.unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        assert_eq!(server.await.unwrap(), 13);
    });
}

#[test]
fn halves_of_different_streams_do_not_reunite() {
    current().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (ra, _wa) = a.into_split();
        let (_rb, wb) = b.into_split();
        let err = ra.reunite(wb).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the read and write halves come from different streams"
        );
    });
}

#[test]
fn dropping_an_owned_write_half_sends_the_end_of_stream() {
    current().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        let (_r, mut w) = c.into_split();
        w.write_all(b"bye").await.unwrap();
        drop(w);
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"bye");
    });
}

#[test]
fn std_conversions_round_trip() {
    current().block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let before = weir_runtime::io::registration_count().unwrap();
        let mut std_server = server.into_std().unwrap();
        assert_eq!(weir_runtime::io::registration_count().unwrap(), before - 1);
        client.write_all(b"x").await.unwrap();
        std_server.set_nonblocking(false).unwrap();
        let mut b = [0u8; 1];
        std_server.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"x");
        let l = listener.into_std().unwrap();
        assert_eq!(l.local_addr().unwrap(), addr);
    });
}

#[test]
fn host_names_resolve_off_the_worker() {
    current().block_on(async {
        let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let c = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert_eq!(c.peer_addr().unwrap().port(), port);
    });
}

#[test]
fn sockets_need_a_runtime_with_io() {
    let rt = Builder::new_current_thread().enable_time().build().unwrap();
    let err = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("enable_io"), "{err}");
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = TcpListener::from_std(std_listener).unwrap_err();
    assert!(err.to_string().contains("no weir runtime"), "{err}");
}

#[test]
fn io_operations_spend_the_coop_budget() {
    let rt = current();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        c.write_all(&[7u8; 1000]).await.unwrap();
        c.shutdown().await.unwrap();
        let reader = spawn(async move {
            // One byte per read: far more ready operations than one poll's budget.
            let mut n = 0;
            let mut b = [0u8; 1];
            while s.read(&mut b).await.unwrap() == 1 {
                n += 1;
            }
            n
        });
        assert_eq!(reader.await.unwrap(), 1000);
    });
    assert!(
        rt.handle().metrics().forced_yield_count() >= 1000 / weir_runtime::coop::BUDGET as u64 - 1,
        "forced yields: {}",
        rt.handle().metrics().forced_yield_count()
    );
}
