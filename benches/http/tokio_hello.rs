//! The tokio side of the HTTP comparison: the same hyper service, connection setup and
//! flags as `examples/http_hello.rs`, on tokio with hyper-util's adapters.

mod hello_service;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

fn main() {
    let args = match hello_service::parse_args(3001) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("tokio-hello: {msg}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("tokio-hello: {e}");
            std::process::exit(1);
        });
    let result: std::io::Result<()> = rt.block_on(async {
        let listener = TcpListener::bind(args.addr).await?;
        println!(
            "tokio-hello listening on http://{} ({} workers)",
            listener.local_addr()?,
            args.workers
        );
        match tokio::spawn(accept_loop(listener)).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    });
    if let Err(e) = result {
        eprintln!("tokio-hello: {e}");
        std::process::exit(1);
    }
}

async fn accept_loop(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("tokio-hello: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(hello_service::hello));
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    eprintln!("tokio-hello: connection: {e}");
                }
            }
        });
    }
}
