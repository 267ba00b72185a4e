//! A chat server: every line a client sends goes to every other client over a broadcast
//! channel; a client that lags is told how many messages it missed.

use std::net::SocketAddr;

use weir::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use weir::net::{TcpListener, TcpStream};
use weir::sync::broadcast::{self, error::RecvError};
use weir::sync::{mpsc, oneshot};

async fn chat_server(listener: TcpListener, tx: broadcast::Sender<(SocketAddr, String)>) {
    loop {
        let (socket, peer) = listener.accept().await.unwrap();
        let tx = tx.clone();
        let mut rx = tx.subscribe();
        let (rd, mut wr) = socket.into_split();
        // One task writes what others said; this one reads what the client says.
        weir::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok((from, text)) if from != peer => {
                        let out = format!("{text}\n");
                        if wr.write_all(out.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
        weir::spawn(async move {
            let mut lines = BufReader::new(rd).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send((peer, line));
            }
        });
    }
}

#[weir::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_broadcasts_to_the_others() -> weir::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, _keep) = broadcast::channel(64);
    weir::spawn(chat_server(listener, tx.clone()));

    let mut alice = BufReader::new(TcpStream::connect(addr).await?);
    let mut bob = BufReader::new(TcpStream::connect(addr).await?);
    // Wait until both are subscribed: the server holds one receiver per client plus ours.
    while tx.receiver_count() < 3 {
        weir::time::sleep(weir::time::Duration::from_millis(1)).await;
    }
    alice.get_mut().write_all(b"hi bob\n").await?;
    let mut line = String::new();
    bob.read_line(&mut line).await?;
    assert_eq!(line, "hi bob\n");
    bob.get_mut().write_all(b"hi alice\n").await?;
    line.clear();
    alice.read_line(&mut line).await?;
    assert_eq!(line, "hi alice\n");
    Ok(())
}

#[weir::test]
async fn broadcast_lag_and_close() {
    let (tx, mut rx) = broadcast::channel::<u32>(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    assert_eq!(rx.recv().await, Ok(3));
    assert_eq!(rx.recv().await, Ok(4));
    drop(tx);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[weir::test]
async fn actor_with_mpsc_and_oneshot_replies() {
    enum Command {
        Incr(u64),
        Get(oneshot::Sender<u64>),
    }
    let (tx, mut rx) = mpsc::channel::<Command>(8);
    let actor = weir::spawn(async move {
        let mut total = 0;
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Command::Incr(n) => total += n,
                Command::Get(reply) => {
                    let _ = reply.send(total);
                }
            }
        }
        total
    });
    for n in 1..=10 {
        tx.send(Command::Incr(n)).await.unwrap();
    }
    let (reply, answer) = oneshot::channel();
    tx.send(Command::Get(reply)).await.unwrap();
    assert_eq!(answer.await.unwrap(), 55);
    let permit = tx.reserve().await.unwrap();
    permit.send(Command::Incr(1));
    drop(tx);
    assert_eq!(actor.await.unwrap(), 56);
}
