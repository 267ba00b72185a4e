//! hyper 1.x serving "Hello, world!" over HTTP/1.1 keep-alive on weir.
//!
//! ```text
//! cargo run --release --example http_hello -- [--addr 127.0.0.1:3000] [--workers N]
//! curl -v http://127.0.0.1:3000/
//! ```
//!
//! The same binary is the weir side of the HTTP comparison in `benches/http/run.sh`.

#[path = "../benches/http/hello_service.rs"]
mod hello_service;
#[path = "../benches/http/hyper_weir.rs"]
mod hyper_weir;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_weir::{WeirIo, WeirTimer};
use weir::net::TcpListener;

fn main() {
    let args = match hello_service::parse_args(3000) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("http_hello: {msg}");
            std::process::exit(2);
        }
    };
    let rt = weir::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("http_hello: {e}");
            std::process::exit(1);
        });
    if let Err(e) = rt.block_on(serve(args)) {
        eprintln!("http_hello: {e}");
        std::process::exit(1);
    }
}

async fn serve(args: hello_service::Args) -> std::io::Result<()> {
    let listener = TcpListener::bind(args.addr).await?;
    println!(
        "weir http_hello listening on http://{} ({} workers); Ctrl-C stops it",
        listener.local_addr()?,
        args.workers
    );
    let mut server = weir::spawn(accept_loop(listener));
    let mut ctrl_c = std::pin::pin!(weir::signal::ctrl_c());
    std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = ctrl_c.as_mut().poll(cx) {
            println!("http_hello: Ctrl-C, shutting down");
            return Poll::Ready(r);
        }
        match Pin::new(&mut server).poll(cx) {
            Poll::Ready(Ok(r)) => Poll::Ready(r),
            Poll::Ready(Err(e)) => Poll::Ready(Err(std::io::Error::other(e.to_string()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Accepts connections forever, one task per connection.
async fn accept_loop(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of descriptors, a connection reset before accept: keep serving, but
                // give the cause a moment to pass.
                eprintln!("http_hello: accept: {e}");
                weir::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        weir::spawn(async move {
            let conn = http1::Builder::new()
                .timer(WeirTimer)
                .keep_alive(true)
                .serve_connection(WeirIo::new(stream), service_fn(hello_service::hello));
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    eprintln!("http_hello: connection: {e}");
                }
            }
        });
    }
}
