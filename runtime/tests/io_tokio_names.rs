//! The IO utilities a program ported from tokio reaches for, under the same names: `duplex`,
//! `copy_bidirectional`, `empty`/`sink`/`repeat`, `take`/`chain`, `lines`/`split`, the
//! generic `io::split`, fixed-size numbers, `Cursor` with `AsyncSeek`, and the std re-exports.

use std::future::Future;
use std::io::Cursor;

use weir_runtime::io::{
    self, copy_bidirectional, duplex, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt,
    AsyncSeekExt, AsyncWriteExt, BufReader, SeekFrom,
};
use weir_runtime::runtime::Builder;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn std_error_types_are_reexported() {
    fn fails() -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::InvalidData, "boom"))
    }
    let err: std::io::Error = fails().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn copy_bidirectional_proxies_both_ways_and_passes_the_end_on() {
    block_on(async {
        // client <-> (proxy_a | proxy_b) <-> server, with small pipes so both directions
        // must interleave.
        let (mut client, mut proxy_a) = duplex(64);
        let (mut proxy_b, mut server) = duplex(64);
        let proxy =
            weir_runtime::spawn(
                async move { copy_bidirectional(&mut proxy_a, &mut proxy_b).await },
            );
        let upstream: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let downstream: Vec<u8> = (0..30_000u32).map(|i| (i * 3) as u8).collect();
        let (up, down) = (upstream.clone(), downstream.clone());
        let server_task = weir_runtime::spawn(async move {
            let (mut r, mut w) = io::split(server);
            let writer = weir_runtime::spawn(async move {
                w.write_all(&down).await.unwrap();
                w.shutdown().await.unwrap();
                w
            });
            let mut got = Vec::new();
            r.read_to_end(&mut got).await.unwrap();
            let w = writer.await.unwrap();
            assert!(r.is_pair_of(&w));
            server = r.unsplit(w);
            drop(server);
            got
        });
        let (mut r, mut w) = io::split(client);
        let writer = weir_runtime::spawn(async move {
            w.write_all(&up).await.unwrap();
            w.shutdown().await.unwrap();
            w
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        let w = writer.await.unwrap();
        client = r.unsplit(w);
        drop(client);
        assert_eq!(got, downstream);
        assert_eq!(server_task.await.unwrap(), upstream);
        assert_eq!(
            proxy.await.unwrap().unwrap(),
            (upstream.len() as u64, downstream.len() as u64)
        );
    });
}

#[test]
fn empty_sink_repeat_take_and_chain() {
    block_on(async {
        let mut v = Vec::new();
        assert_eq!(empty().read_to_end(&mut v).await.unwrap(), 0);
        let mut s = sink();
        s.write_all(&[1; 10_000]).await.unwrap();
        assert_eq!(
            io::copy(&mut repeat(7).take(5000), &mut s).await.unwrap(),
            5000
        );

        let mut out = String::new();
        let mut r = (&b"head,"[..])
            .chain(repeat(b'x').take(3))
            .chain(&b",tail"[..]);
        r.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "head,xxx,tail");

        let mut t = (&b"0123456789"[..]).take(4);
        let mut buf = [0; 10];
        assert_eq!(t.read(&mut buf).await.unwrap(), 4);
        assert_eq!(t.limit(), 0);
        assert_eq!(t.read(&mut buf).await.unwrap(), 0);
        t.set_limit(100);
        let mut rest = Vec::new();
        t.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"456789");
    });
}

#[test]
fn lines_and_segments() {
    block_on(async {
        let text = "one\r\ntwo\n\nthree";
        let mut lines = BufReader::with_capacity(2, text.as_bytes()).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "", "three"]);
        assert_eq!(lines.next_line().await.unwrap(), None);

        let mut bad = (&[b'o', b'k', b'\n', 0xff, b'\n'][..]).lines();
        assert_eq!(bad.next_line().await.unwrap().as_deref(), Some("ok"));
        let err = bad.next_line().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);

        let mut parts = BufReader::new(&b"a:bb::c"[..]).split(b':');
        let mut segs = Vec::new();
        while let Some(seg) = parts.next_segment().await.unwrap() {
            segs.push(seg);
        }
        assert_eq!(segs, [&b"a"[..], b"bb", b"", b"c"]);
    });
}

#[test]
fn numbers_round_trip_in_both_byte_orders() {
    block_on(async {
        let mut w = Vec::new();
        w.write_u8(0xab).await.unwrap();
        w.write_u16(0x0102).await.unwrap();
        w.write_u32_le(0x0a0b0c0d).await.unwrap();
        w.write_i64(-2).await.unwrap();
        w.write_f64_le(1.5).await.unwrap();
        w.write_u128(u128::MAX - 1).await.unwrap();
        assert_eq!(&w[..3], &[0xab, 1, 2]);
        assert_eq!(&w[3..7], &[0x0d, 0x0c, 0x0b, 0x0a]);
        let mut r = &w[..];
        assert_eq!(r.read_u8().await.unwrap(), 0xab);
        assert_eq!(r.read_u16().await.unwrap(), 0x0102);
        assert_eq!(r.read_u32_le().await.unwrap(), 0x0a0b0c0d);
        assert_eq!(r.read_i64().await.unwrap(), -2);
        assert_eq!(r.read_f64_le().await.unwrap(), 1.5);
        assert_eq!(r.read_u128().await.unwrap(), u128::MAX - 1);
        let err = (&[1u8, 2][..]).read_u32().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn a_cursor_seeks_as_a_file_would() {
    block_on(async {
        let mut c = Cursor::new(Vec::new());
        c.write_all(b"hello world").await.unwrap();
        assert_eq!(c.seek(SeekFrom::Start(6)).await.unwrap(), 6);
        let mut word = String::new();
        c.read_to_string(&mut word).await.unwrap();
        assert_eq!(word, "world");
        c.rewind().await.unwrap();
        let mut first = BufReader::new(&mut c);
        let mut line = Vec::new();
        first.read_until(b' ', &mut line).await.unwrap();
        assert_eq!(line, b"hello ");
    });
}

#[test]
fn a_duplex_end_waits_while_its_direction_is_full() {
    block_on(async {
        let (mut a, mut b) = duplex(8);
        a.write_all(b"12345678").await.unwrap();
        // The direction is full: the next write waits until b reads.
        let mut pending = std::pin::pin!(a.write_all(b"9"));
        let woken = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(pending.as_mut().poll(cx).is_pending())
        })
        .await;
        assert!(woken, "a write into a full duplex direction completed");
        let mut buf = [0; 8];
        b.read_exact(&mut buf).await.unwrap();
        pending.await.unwrap();
        let mut nine = [0; 1];
        b.read_exact(&mut nine).await.unwrap();
        assert_eq!(&nine, b"9");
    });
}
