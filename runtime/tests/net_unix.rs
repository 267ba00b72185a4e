//! Unix-domain stream sockets: listener and connect, pairs, half-close, split halves.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use weir_runtime::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weir_runtime::net::{UnixListener, UnixStream};
use weir_runtime::runtime::{Builder, Runtime};
use weir_runtime::spawn;

fn multi() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh socket path, removed when dropped.
struct SockPath(PathBuf);

impl SockPath {
    fn new() -> SockPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        SockPath(std::env::temp_dir().join(format!(
            "weir-net-unix-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )))
    }
}

impl Drop for SockPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn unix_echo_over_a_listener() {
    let path = SockPath::new();
    multi().block_on(async {
        let listener = UnixListener::bind(&path.0).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let server = spawn(async move {
            let mut served = 0;
            for _ in 0..10 {
                let (s, _) = listener.accept().await.unwrap();
                let (mut r, mut w) = s.into_split();
                weir_runtime::io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
                served += 1;
            }
            served
        });
        for i in 0..10usize {
            let mut c = UnixStream::connect(&path.0).await.unwrap();
            let msg: Vec<u8> = (0..i * 1000 + 1).map(|j| (j * 13 + i) as u8).collect();
            c.write_all(&msg).await.unwrap();
            c.shutdown().await.unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, msg);
        }
        assert_eq!(server.await.unwrap(), 10);
    });
}

#[test]
fn pair_half_close_and_line_reading() {
    multi().block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let writer = spawn(async move {
            let mut a = a;
            a.write_all(b"first line\nsecond line\nno newline")
                .await
                .unwrap();
            a.shutdown().await.unwrap();
            // The read side of `a` still works after its write side closed.
            let mut reply = String::new();
            a.read_to_string(&mut reply).await.unwrap();
            reply
        });
        let mut lines = Vec::new();
        {
            let mut reader = BufReader::with_capacity(4, &mut b);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                lines.push(line);
            }
        }
        assert_eq!(lines, ["first line\n", "second line\n", "no newline"]);
        b.write_all(b"thanks").await.unwrap();
        drop(b);
        assert_eq!(writer.await.unwrap(), "thanks");
    });
}

#[test]
fn connecting_to_a_missing_path_fails_with_not_found() {
    multi().block_on(async {
        let path = SockPath::new();
        let err = UnixStream::connect(&path.0).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    });
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_socket_names_bind_and_connect() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("weir-abstract-{}", std::process::id());
    let path = format!("\0{name}");
    multi().block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
        assert_eq!(local.as_pathname(), None);
        let server = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"abstract").await.unwrap();
        });
        let mut c = UnixStream::connect(&path).await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"abstract");
        server.await.unwrap();
        // No file was made for it.
        assert!(!std::path::Path::new(&name).exists());
    });
}
