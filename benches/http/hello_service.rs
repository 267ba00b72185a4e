//! The one HTTP service both servers of the comparison run: "Hello, world!" to any request.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

pub const BODY: &[u8] = b"Hello, world!\n";

pub async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// `--addr HOST:PORT` and `--workers N` from the command line.
pub struct Args {
    pub addr: std::net::SocketAddr,
    pub workers: usize,
}

pub fn parse_args(default_port: u16) -> Result<Args, String> {
    let mut addr: std::net::SocketAddr = ([127, 0, 0, 1], default_port).into();
    let mut workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?,
            "--workers" => {
                workers = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--workers {value}: want a number >= 1"))?
            }
            other => return Err(format!("unknown flag {other} (want --addr, --workers)")),
        }
    }
    Ok(Args { addr, workers })
}
