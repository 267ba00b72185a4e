//! The socket surface a program ported from tokio uses beyond read and write: readiness
//! (`readable`, `writable`, `ready`, `poll_*_ready`), non-waiting `try_*` calls, `peek`,
//! std conversions, `TcpSocket` and socket options, UDP's poll and try forms, `poll_accept`.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::sync::Arc;
use std::time::Duration;

use weir_runtime::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf};
use weir_runtime::net::{TcpListener, TcpSocket, TcpStream, UdpSocket, UnixStream};
use weir_runtime::runtime::{Builder, Runtime};
use weir_runtime::spawn;

fn multi() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = spawn(async move { listener.accept().await.unwrap().0 });
    let client = TcpStream::connect(addr).await.unwrap();
    (client, accept.await.unwrap())
}

#[test]
fn readable_then_try_read_and_writable_then_try_write() {
    multi().block_on(async {
        let (a, b) = pair().await;
        let mut buf = [0u8; 16];
        let err = b.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"ping").unwrap(), 4);
        let n = loop {
            b.readable().await.unwrap();
            match b.try_read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(&buf[..n], b"ping");

        let sent = a
            .try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
            .unwrap();
        assert_eq!(sent, 4);
        let ready = b
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable());
        let (mut x, mut y) = ([0u8; 1], [0u8; 8]);
        let n = loop {
            b.readable().await.unwrap();
            match b.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(n, 4);
        assert_eq!((&x, &y[..3]), (b"a", &b"bcd"[..]));

        // The end of the stream is readable, and reads 0.
        drop(a);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 0);
        assert!(b.ready(Interest::READABLE).await.unwrap().is_read_closed());
    });
}

#[test]
fn many_readable_waiters_beside_a_reader_are_all_woken() {
    multi().block_on(async {
        let (mut a, b) = pair().await;
        let b = Arc::new(b);
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                spawn(async move { b.readable().await.unwrap() })
            })
            .collect();
        weir_runtime::time::sleep(Duration::from_millis(20)).await;
        a.write_all(b"x").await.unwrap();
        for w in waiters {
            w.await.unwrap();
        }
        let mut one = [0u8; 1];
        assert_eq!(b.peek(&mut one).await.unwrap(), 1);
        assert_eq!(b.try_read(&mut one).unwrap(), 1);
        assert_eq!(&one, b"x");
    });
}

#[test]
fn peek_leaves_the_data_for_the_next_read() {
    multi().block_on(async {
        let (mut a, mut b) = pair().await;
        a.write_all(b"hello").await.unwrap();
        let mut peeked = [0u8; 5];
        let mut got = 0;
        while got < 5 {
            got = b.peek(&mut peeked).await.unwrap();
        }
        assert_eq!(&peeked, b"hello");
        let mut mem = [0u8; 3];
        let mut rb = ReadBuf::new(&mut mem);
        let n = poll_fn(|cx| b.poll_peek(cx, &mut rb)).await.unwrap();
        assert_eq!((n, rb.filled()), (3, &b"hel"[..]));
        poll_fn(|cx| b.poll_read_ready(cx)).await.unwrap();
        poll_fn(|cx| b.poll_write_ready(cx)).await.unwrap();
        let mut all = [0u8; 5];
        b.read_exact(&mut all).await.unwrap();
        assert_eq!(&all, b"hello");
    });
}

#[test]
fn std_conversions_and_socket_options() {
    multi().block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::try_from(std_listener).unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let client = TcpStream::try_from(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();

        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_ttl(33).unwrap();
        assert_eq!(client.ttl().unwrap(), 33);
        assert_eq!(client.linger().unwrap(), None);
        client.set_linger(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(2)));
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);

        let mut std_server = server.into_std().unwrap();
        std_server.set_nonblocking(false).unwrap();
        let mut client = client;
        client.write_all(b"to std").await.unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut std_server, &mut buf).unwrap();
        assert_eq!(&buf, b"to std");
        assert!(listener.into_std().is_ok());
    });
}

#[test]
fn tcp_socket_configures_then_listens_and_connects() {
    multi().block_on(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        assert!(socket.reuseaddr().unwrap());
        socket.set_reuseport(true).unwrap();
        assert!(socket.reuseport().unwrap());
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let bound = socket.local_addr().unwrap();
        assert_ne!(bound.port(), 0);
        let listener = socket.listen(16).unwrap();
        assert_eq!(listener.local_addr().unwrap(), bound);

        let client = TcpSocket::new_v4().unwrap();
        client.set_keepalive(true).unwrap();
        assert!(client.keepalive().unwrap());
        client.set_nodelay(true).unwrap();
        client.set_send_buffer_size(32 * 1024).unwrap();
        assert!(client.send_buffer_size().unwrap() >= 32 * 1024);
        client.set_linger(Some(Duration::ZERO)).unwrap();
        let mut stream = client.connect(bound).await.unwrap();
        assert!(stream.nodelay().unwrap());
        let (mut accepted, _) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        stream.write_all(b"via TcpSocket").await.unwrap();
        drop(stream);
        let mut got = Vec::new();
        // A zero linger resets instead of closing; what was sent before may still arrive.
        let _ = accepted.read_to_end(&mut got).await;
        assert!(b"via TcpSocket".starts_with(&got));

        // Nobody listens here: refused, as with TcpStream::connect.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn udp_poll_try_and_peek_forms() {
    multi().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();

        let mut buf = [0u8; 32];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
        assert_eq!(poll_fn(|cx| a.poll_send(cx, b"one")).await.unwrap(), 3);
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
        let mut mem = [0u8; 32];
        let mut rb = ReadBuf::new(&mut mem);
        poll_fn(|cx| b.poll_recv(cx, &mut rb)).await.unwrap();
        assert_eq!(rb.filled(), b"one");

        a.writable().await.unwrap();
        assert_eq!(a.try_send(b"two").unwrap(), 3);
        assert_eq!(a.try_send_to(b"three", b_addr).unwrap(), 5);
        let n = loop {
            b.readable().await.unwrap();
            match b.try_recv(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(&buf[..n], b"two");
        let mut mem = [0u8; 32];
        let mut rb = ReadBuf::new(&mut mem);
        poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
        let from = poll_fn(|cx| b.poll_peek_from(cx, &mut rb)).await.unwrap();
        assert_eq!((rb.filled(), from), (&b"three"[..], a_addr));
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"three"[..], a_addr));

        poll_fn(|cx| a.poll_send_to(cx, b"four", b_addr))
            .await
            .unwrap();
        let mut mem = [0u8; 32];
        let mut rb = ReadBuf::new(&mut mem);
        let from = poll_fn(|cx| b.poll_recv_from(cx, &mut rb)).await.unwrap();
        assert_eq!((rb.filled(), from), (&b"four"[..], a_addr));

        a.set_multicast_loop_v4(false).unwrap();
        assert!(!a.multicast_loop_v4().unwrap());
        a.set_multicast_ttl_v4(4).unwrap();
        assert_eq!(a.multicast_ttl_v4().unwrap(), 4);
        let _ = UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    });
}

#[test]
fn a_poll_waiter_and_future_waiters_on_one_udp_socket_are_all_woken() {
    multi().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let b_addr = b.local_addr().unwrap();
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                spawn(async move { b.readable().await.unwrap() })
            })
            .collect();
        let poller = {
            let b = b.clone();
            spawn(async move { poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap() })
        };
        weir_runtime::time::sleep(Duration::from_millis(20)).await;
        a.send_to(b"wake", b_addr).await.unwrap();
        for r in readers {
            r.await.unwrap();
        }
        poller.await.unwrap();
    });
}

#[test]
fn unix_streams_have_the_same_readiness_surface() {
    multi().block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"unix").unwrap(), 4);
        let mut buf = [0u8; 8];
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"unix");
    });
}
