//! Runtime shutdown while connections are open: it finishes, and the peers see the
//! connections closed. A socket that outlives its runtime fails, it does not panic.

use std::io::{Read, Write};
use std::time::Duration;

use weir_runtime::io::{AsyncReadExt, AsyncWriteExt};
use weir_runtime::net::{TcpListener, TcpStream};
use weir_runtime::runtime::Builder;

#[test]
fn shutdown_with_open_connections_finishes_and_closes_them() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            weir_runtime::spawn(async move {
                let mut buf = [0u8; 2];
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
                // Then hold the connection open, waiting for bytes that never come.
                let _ = s.read(&mut buf).await;
            });
        }
    });
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(b"hi").unwrap();
        let mut echo = [0u8; 2];
        // Once the echo is back, a task holds this connection.
        c.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"hi");
        clients.push(c);
    }
    rt.shutdown_timeout(Duration::from_secs(30));
    for mut c in clients {
        // A generous guard so that a regression fails instead of hanging the suite.
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 1];
        match c.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the server side should be closed, read gave {other:?}"),
        }
    }
}

#[test]
fn a_socket_that_outlives_its_runtime_returns_errors() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let (mut client, _server) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let server = listener.accept().await.unwrap();
        (client, server)
    });
    drop(rt);
    let other = Builder::new_current_thread().enable_all().build().unwrap();
    let err = other
        .block_on(async {
            let mut buf = [0u8; 4];
            client.read(&mut buf).await
        })
        .unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}
