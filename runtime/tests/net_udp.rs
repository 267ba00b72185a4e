//! UDP on loopback: round trips, connected sockets, and several tasks waiting on one socket.

use std::io;
use std::sync::Arc;

use weir_runtime::net::UdpSocket;
use weir_runtime::runtime::{Builder, Runtime};
use weir_runtime::{spawn, task};

fn current() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn udp_round_trip() {
    current().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a_addr = a.local_addr().unwrap();
        let b_addr = b.local_addr().unwrap();
        assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
        b.send_to(b"pong", from).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));
    });
}

#[test]
fn connected_send_and_recv() {
    current().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        for i in 0..100u32 {
            a.send(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_be_bytes(buf), i);
        }
        // A datagram longer than the buffer is cut, not split.
        a.send(&[9u8; 32]).await.unwrap();
        a.send(b"next").await.unwrap();
        let mut small = [0u8; 8];
        assert_eq!(b.recv(&mut small).await.unwrap(), 8);
        assert_eq!(b.recv(&mut small).await.unwrap(), 4);
        assert_eq!(&small[..4], b"next");
    });
}

#[test]
fn sending_to_a_closed_port_reports_connection_refused_on_the_connected_socket() {
    current().block_on(async {
        let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let gone_addr = gone.local_addr().unwrap();
        drop(gone);
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(gone_addr).await.unwrap();
        a.send(b"anyone?").await.unwrap();
        // The ICMP port-unreachable comes back as an error on the next receive.
        let mut buf = [0u8; 8];
        let err = a.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn every_task_waiting_on_a_shared_socket_is_woken() {
    current().block_on(async {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = socket.local_addr().unwrap();
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let s = socket.clone();
                spawn(async move {
                    let mut buf = [0u8; 8];
                    let (n, _) = s.recv_from(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                })
            })
            .collect();
        // On this one-thread runtime, yielding lets every receiver run until it waits.
        task::yield_now().await;
        task::yield_now().await;
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..4u8 {
            sender.send_to(&[i], addr).await.unwrap();
        }
        let mut got: Vec<u8> = Vec::new();
        for r in receivers {
            // A lost wake-up would hang here; fail instead.
            let r = weir_runtime::time::timeout(std::time::Duration::from_secs(60), r).await;
            got.extend(r.expect("a receiver was never woken").unwrap());
        }
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3]);
    });
}

#[test]
fn std_socket_round_trip() {
    current().block_on(async {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_sock.local_addr().unwrap();
        let sock = UdpSocket::from_std(std_sock).unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        other.send_to(b"hi", addr).await.unwrap();
        let mut buf = [0u8; 2];
        sock.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        let back = sock.into_std().unwrap();
        assert_eq!(back.local_addr().unwrap(), addr);
    });
}
