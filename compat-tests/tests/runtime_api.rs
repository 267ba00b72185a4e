//! Building runtimes by hand, the way services configure tokio.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir::runtime::{Builder, Handle, Runtime};

#[test]
fn builder_hooks_run_on_the_workers() {
    let started = Arc::new(AtomicUsize::new(0));
    let parks = Arc::new(AtomicUsize::new(0));
    let unparks = Arc::new(AtomicUsize::new(0));
    let (s, p, u) = (started.clone(), parks.clone(), unparks.clone());
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("svc-worker")
        .on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_park(move || {
            p.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_unpark(move || {
            u.fetch_add(1, Ordering::SeqCst);
        })
        .enable_all()
        .build()
        .unwrap();
    let name = rt.block_on(async {
        weir::spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("svc-worker"));
    rt.block_on(async {
        for _ in 0..10 {
            weir::time::sleep(weir::time::Duration::from_millis(1)).await;
            weir::spawn(async {}).await.unwrap();
        }
    });
    let metrics = rt.metrics();
    assert_eq!(metrics.num_workers(), 2);
    let worker_parks: u64 = (0..2).map(|w| metrics.worker_park_count(w)).sum();
    assert!(worker_parks > 0);
    drop(rt);
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert!(parks.load(Ordering::SeqCst) > 0);
    assert!(unparks.load(Ordering::SeqCst) > 0);
}

#[test]
fn handles_have_ids_and_block_on() {
    let a = Runtime::new().unwrap();
    let b = Builder::new_current_thread().enable_all().build().unwrap();
    assert_ne!(a.handle().id(), b.handle().id());
    assert_eq!(a.handle().id(), a.handle().clone().id());
    let h: Handle = a.handle().clone();
    let got = std::thread::spawn(move || h.block_on(async { weir::spawn(async { 4 }).await }))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(got, 4);
    let inside = a.block_on(async { Handle::current().id() });
    assert_eq!(inside, a.handle().id());
}

#[test]
fn io_error_names() {
    fn parse(s: &str) -> weir::io::Result<u8> {
        s.parse()
            .map_err(|e| weir::io::Error::new(weir::io::ErrorKind::InvalidData, e))
    }
    assert_eq!(parse("7").unwrap(), 7);
    assert_eq!(
        parse("x").unwrap_err().kind(),
        weir::io::ErrorKind::InvalidData
    );
}

#[weir::test]
async fn tokio_paths_a_service_uses() -> Result<(), Box<dyn std::error::Error>> {
    use weir::runtime::RuntimeFlavor;
    use weir::time::error::Elapsed;

    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    let addrs: Vec<_> = weir::net::lookup_host("127.0.0.1:8080").await?.collect();
    assert_eq!(addrs, vec!["127.0.0.1:8080".parse()?]);
    let late: Result<(), Elapsed> =
        weir::time::timeout(weir::time::Duration::from_millis(1), std::future::pending()).await;
    let err: Box<dyn std::error::Error> = Box::new(late.unwrap_err());
    assert!(!err.to_string().is_empty());
    use weir::io::AsyncWriteExt;
    let mut out = weir::io::stdout();
    out.write_all(b"").await?;
    out.flush().await?;
    Ok(())
}

#[weir::main(flavor = "current_thread")]
async fn service_main() -> weir::io::Result<()> {
    let listener = weir::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = weir::spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
    let client = weir::net::TcpStream::connect(addr).await?;
    assert_eq!(server.await??, client.local_addr()?);
    Ok(())
}

#[test]
fn a_main_function_runs_as_a_plain_fn() {
    service_main().unwrap();
}
