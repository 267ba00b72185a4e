//! A TCP proxy: each inbound connection is piped to the upstream with `copy_bidirectional`.

use std::net::SocketAddr;

use weir::io::{AsyncReadExt, AsyncWriteExt};
use weir::net::{TcpListener, TcpStream};

async fn upstream() -> weir::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    weir::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            weir::spawn(async move {
                let mut buf = Vec::new();
                if socket.read_to_end(&mut buf).await.is_ok() {
                    buf.reverse();
                    let _ = socket.write_all(&buf).await;
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    Ok(addr)
}

async fn proxy(listen: TcpListener, to: SocketAddr) -> weir::io::Result<()> {
    loop {
        let (mut inbound, _) = listen.accept().await?;
        weir::spawn(async move {
            let mut outbound = TcpStream::connect(to).await?;
            let (up, down) = weir::io::copy_bidirectional(&mut inbound, &mut outbound).await?;
            Ok::<_, weir::io::Error>((up, down))
        });
    }
}

#[weir::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_pipes_both_ways() -> weir::io::Result<()> {
    let to = upstream().await?;
    let listen = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listen.local_addr()?;
    weir::spawn(proxy(listen, to));

    for n in [1usize, 1000, 100_000] {
        let mut client = TcpStream::connect(addr).await?;
        let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        client.write_all(&data).await?;
        client.shutdown().await?;
        let mut back = Vec::new();
        client.read_to_end(&mut back).await?;
        let mut want = data;
        want.reverse();
        assert_eq!(back.len(), want.len());
        assert_eq!(back, want);
    }
    Ok(())
}

#[weir::test]
async fn in_memory_proxy_over_duplex() -> weir::io::Result<()> {
    let (mut client, mut proxy_in) = weir::io::duplex(64);
    let (mut proxy_out, mut server) = weir::io::duplex(64);
    let pipe =
        weir::spawn(
            async move { weir::io::copy_bidirectional(&mut proxy_in, &mut proxy_out).await },
        );
    client.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    server.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"ping");
    server.write_all(b"pong").await?;
    client.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"pong");
    drop(client);
    drop(server);
    let (a, b) = pipe.await.expect("pipe task")?;
    assert_eq!((a, b), (4, 4));
    Ok(())
}
