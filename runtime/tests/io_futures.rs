//! The `futures-io` traits on weir's sockets (feature `futures-io`): code written against
//! them reads and writes a weir stream.
#![cfg(feature = "futures-io")]

use std::future::poll_fn;
use std::pin::Pin;

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use weir_runtime::io::BufReader;
use weir_runtime::net::UnixStream;
use weir_runtime::runtime::Builder;

/// Written against futures-io alone, as a third-party library would be.
async fn write_then_close<W: AsyncWrite + Unpin>(w: &mut W, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx))
        .await
        .unwrap();
    poll_fn(|cx| Pin::new(&mut *w).poll_close(cx))
        .await
        .unwrap();
}

async fn read_all<R: AsyncRead + Unpin>(r: &mut R) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn futures_io_traits_drive_weir_streams() {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let payload: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
            let (mut br, _bw) = b.into_split();
            let reader = weir_runtime::spawn(async move { read_all(&mut br).await });
            write_then_close(&mut a, &payload).await;
            assert_eq!(reader.await.unwrap(), payload);

            let (c, mut d) = UnixStream::pair().unwrap();
            write_then_close(&mut d, b"line one\nrest").await;
            let mut r = BufReader::new(c);
            let first = poll_fn(|cx| Pin::new(&mut r).poll_fill_buf(cx).map_ok(|b| b.to_vec()))
                .await
                .unwrap();
            assert!(first.starts_with(b"line"));
            Pin::new(&mut r).consume(5);
            assert_eq!(read_all(&mut r).await, b"one\nrest");
        });
}
