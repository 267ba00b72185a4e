//! The recorder's SVG heatmap renders in a real SVG renderer (librsvg's `rsvg-convert`).
//!
//! Events go in through the public path (`dispatch` of `ChannelNew` and `ChannelRecv`, stamped
//! by a clock this test registers), the snapshot renders the heatmap, and `rsvg-convert` turns
//! it into a PNG whose header and content are checked. Under `CI=true` a missing
//! `rsvg-convert` is a failure; elsewhere the test says why it skipped the rendering (the SVG
//! text checks still run).
#![cfg(feature = "record")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use weir_probes::{dispatch, recorder, register_clock, Event, LatencyKind, RecvLatency};

/// The clock the events are stamped with (ns), set by the test.
static NOW: AtomicU64 = AtomicU64::new(0);

fn clock() -> u64 {
    NOW.load(Ordering::SeqCst)
}

/// Latencies (µs) every channel gets, so that both heatmaps span the same rows.
const LATENCIES_US: [u64; 4] = [2, 50, 900, 20_000];

/// Records, for channel `id` named `name`, `columns` heatmap columns of receives; in column
/// `c` latency `LATENCIES_US[i]` is received `counts(c, i)` times.
fn record(id: u64, name: &str, columns: u64, counts: impl Fn(u64, usize) -> u64) {
    dispatch(Event::ChannelNew {
        channel: id,
        capacity: 16,
        location: std::panic::Location::caller(),
        name,
    });
    for c in 0..columns {
        // One heatmap column is 250 ms of the recorder's clock.
        NOW.store(1_000_000_000 + c * 250_000_000, Ordering::SeqCst);
        for (i, &us) in LATENCIES_US.iter().enumerate() {
            for _ in 0..counts(c, i) {
                dispatch(Event::ChannelRecv {
                    channel: id,
                    latency: RecvLatency::Queued { nanos: us * 1000 },
                });
            }
        }
    }
}

/// The `width` and `height` attributes of the root `<svg>` element.
fn svg_size(svg: &str) -> (u32, u32) {
    let root = &svg[svg.find("<svg").expect("no <svg>")..];
    let root = &root[..root.find('>').unwrap()];
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let at = root
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {root}"))
            + key.len();
        root[at..root[at..].find('"').unwrap() + at]
            .parse()
            .unwrap()
    };
    (attr("width"), attr("height"))
}

/// The width and height in a PNG's IHDR, after checking the signature.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "PNG too short: {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "first chunk is not IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

/// Renders `svg` with `rsvg-convert`; `None` when it is not installed (outside CI).
fn render(dir: &Path, stem: &str, svg: &str) -> Option<Vec<u8>> {
    let src = dir.join(format!("{stem}.svg"));
    let out = dir.join(format!("{stem}.png"));
    std::fs::write(&src, svg).unwrap();
    let run = Command::new("rsvg-convert")
        .arg("-f")
        .arg("png")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output();
    match run {
        Ok(o) => {
            assert!(
                o.status.success(),
                "rsvg-convert failed on {}: {}",
                src.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            Some(std::fs::read(&out).unwrap())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but rsvg-convert is not installed (apt-get install librsvg2-bin)"
            );
            eprintln!(
                "skipping the rendering: rsvg-convert not found (apt-get install librsvg2-bin)"
            );
            None
        }
        Err(e) => panic!("could not run rsvg-convert: {e}"),
    }
}

/// Checks the SVG's own text: title with the channel and kind, µs and ms row labels, legend.
fn check_svg_text(svg: &str, name: &str) {
    let title = svg
        .lines()
        .find(|l| l.contains("font-weight=\"bold\""))
        .expect("no title");
    assert!(
        title.contains(name),
        "title lacks the channel name: {title}"
    );
    assert!(
        title.contains("send-to-recv"),
        "title lacks the kind: {title}"
    );
    // Row labels are each row's lower bound: 2 µs .. 16.4 ms here.
    let labels: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains("text-anchor=\"end\""))
        .collect();
    assert!(
        labels.iter().any(|l| l.contains(" µs<")),
        "no µs row label: {labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.contains(" ms<")),
        "no ms row label: {labels:?}"
    );
    assert!(svg.contains(">count</text>"), "no legend heading");
    // The legend's eight swatches, besides the background and the cells.
    let swatches = svg
        .lines()
        .filter(|l| l.contains("width=\"16\" height=\"16\""))
        .count();
    assert_eq!(swatches, 8, "legend swatches");
    assert!(svg.trim_end().ends_with("</svg>"));
}

#[test]
fn heatmap_renders_to_a_png_of_its_size_and_content() {
    register_clock(clock, clock);
    // Same columns and rows, different counts: "spread" is flat, "skewed" piles up on one row.
    record(9_001, "heat-spread", 8, |_, _| 5);
    record(9_002, "heat-skewed", 8, |c, i| {
        if i == (c % 4) as usize {
            40
        } else {
            1
        }
    });
    let snap = recorder().snapshot();
    let spread = snap
        .heatmap("heat-spread", LatencyKind::SendToRecv)
        .unwrap();
    let skewed = snap
        .heatmap("heat-skewed", LatencyKind::SendToRecv)
        .unwrap();
    assert_eq!(
        snap.channel("heat-spread")
            .unwrap()
            .histogram(LatencyKind::SendToRecv)
            .count(),
        8 * 4 * 5
    );
    check_svg_text(&spread, "heat-spread");
    check_svg_text(&skewed, "heat-skewed");
    let (w, h) = svg_size(&spread);
    assert_eq!(
        svg_size(&skewed),
        (w, h),
        "same columns and rows, same size"
    );
    assert!(w > 300 && h > 200, "{w}x{h}");
    // The same size, nothing drawn: what a blank heatmap would compress to.
    let blank = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/></svg>\n"
    );

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("heatmap_png");
    std::fs::create_dir_all(&dir).unwrap();
    let Some(spread_png) = render(&dir, "spread", &spread) else {
        return;
    };
    let skewed_png = render(&dir, "skewed", &skewed).unwrap();
    let blank_png = render(&dir, "blank", &blank).unwrap();
    for png in [&spread_png, &skewed_png, &blank_png] {
        assert_eq!(png_size(png), (w, h), "PNG size is not the SVG's");
    }
    eprintln!(
        "{w}x{h}: spread {} B, skewed {} B, blank {} B (in {})",
        spread_png.len(),
        skewed_png.len(),
        blank_png.len(),
        dir.display()
    );
    for png in [&spread_png, &skewed_png] {
        assert!(
            png.len() > 4 * blank_png.len(),
            "the heatmap PNG ({} B) is hardly bigger than a blank one ({} B)",
            png.len(),
            blank_png.len()
        );
    }
    assert_ne!(
        spread_png, skewed_png,
        "different counts rendered the same image"
    );
}
