//! An echo server and its clients, as in tokio's tutorial.

use weir::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weir::net::{TcpListener, TcpStream};
use weir::task::JoinSet;

async fn serve(listener: TcpListener) -> weir::io::Result<()> {
    loop {
        let (mut socket, _peer) = listener.accept().await?;
        weir::spawn(async move {
            let mut buf = vec![0u8; 1024];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(_) => return,
                };
                if socket.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[weir::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_answers_many_clients() -> weir::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = weir::spawn(serve(listener));

    let mut clients = JoinSet::new();
    for i in 0..16u32 {
        clients.spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let msg = format!("hello {i}\n");
            stream.write_all(msg.as_bytes()).await?;
            let mut back = vec![0u8; msg.len()];
            stream.read_exact(&mut back).await?;
            assert_eq!(back, msg.as_bytes());
            Ok::<_, weir::io::Error>(i)
        });
    }
    let mut seen = Vec::new();
    while let Some(res) = clients.join_next().await {
        seen.push(res.expect("client task")?);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..16).collect::<Vec<_>>());

    server.abort();
    let err = server.await.expect_err("aborted server");
    assert!(err.is_cancelled());
    Ok(())
}

#[weir::test]
async fn line_echo_with_split_and_bufreader() -> weir::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    weir::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (rd, mut wr) = socket.into_split();
        let mut lines = BufReader::new(rd).lines();
        while let Some(line) = lines.next_line().await.unwrap() {
            wr.write_all(line.to_uppercase().as_bytes()).await.unwrap();
            wr.write_all(b"\n").await.unwrap();
        }
    });

    let stream = TcpStream::connect(addr).await?;
    let (rd, mut wr) = weir::io::split(stream);
    let mut rd = BufReader::new(rd);
    for word in ["one", "two", "three"] {
        wr.write_all(format!("{word}\n").as_bytes()).await?;
        let mut line = String::new();
        rd.read_line(&mut line).await?;
        assert_eq!(line, format!("{}\n", word.to_uppercase()));
    }
    Ok(())
}
