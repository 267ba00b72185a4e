//! `ToSocketAddrs`: what `bind`, `connect` and `send_to` accept as an address.
//!
//! Literal addresses resolve at once; a host name is looked up on the blocking pool, so the
//! system resolver never blocks a worker.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything that names one or more socket addresses: a `SocketAddr`, `(ip, port)`,
/// `"host:port"`, `("host", port)`, or a slice of `SocketAddr`s.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How an address resolves.
    #[doc(hidden)]
    pub enum Resolve {
        Done(io::Result<Vec<SocketAddr>>),
        /// A `host:port` string for the system resolver.
        Lookup(String),
    }

    /// Sealed: only weir implements it.
    #[doc(hidden)]
    pub trait ToSocketAddrsPriv {
        fn to_addrs(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

/// Resolves `host` (anything [`ToSocketAddrs`] takes, such as `"example.com:80"`) to its
/// socket addresses, looking host names up on the blocking pool (tokio's `lookup_host`).
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host).await?.into_iter())
}

/// Resolves `addr`, looking host names up on the blocking pool.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match addr.to_addrs() {
        Resolve::Done(r) => r,
        Resolve::Lookup(host) => {
            let lookup = crate::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect)
            });
            match lookup.await {
                Ok(r) => r,
                Err(e) => Err(io::Error::other(format!(
                    "weir: the host name lookup did not finish: {e}"
                ))),
            }
        }
    }
}

/// Tries `op` on each address in turn; the last error if none works.
pub(crate) async fn each_addr<T, F, Fut>(
    addr: &(impl ToSocketAddrs + ?Sized),
    mut op: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr).await? {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        )
    }))
}

macro_rules! done {
    ($($t:ty => |$s:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_addrs(&self) -> Resolve {
                let $s = self;
                Resolve::Done(Ok($e))
            }
        }
    )*};
}

done! {
    SocketAddr => |s| vec![*s];
    SocketAddrV4 => |s| vec![SocketAddr::V4(*s)];
    SocketAddrV6 => |s| vec![SocketAddr::V6(*s)];
    (IpAddr, u16) => |s| vec![SocketAddr::new(s.0, s.1)];
    (Ipv4Addr, u16) => |s| vec![SocketAddr::new(IpAddr::V4(s.0), s.1)];
    (Ipv6Addr, u16) => |s| vec![SocketAddr::new(IpAddr::V6(s.0), s.1)];
    [SocketAddr] => |s| s.to_vec();
    Vec<SocketAddr> => |s| s.clone();
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_addrs(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(a) => Resolve::Done(Ok(vec![a])),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_addrs(&self) -> Resolve {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_addrs(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Done(Ok(vec![SocketAddr::new(ip, self.1)])),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_addrs(&self) -> Resolve {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_addrs(&self) -> Resolve {
        (**self).to_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(a: &(impl ToSocketAddrs + ?Sized)) -> Vec<SocketAddr> {
        match a.to_addrs() {
            Resolve::Done(r) => r.unwrap(),
            Resolve::Lookup(h) => panic!("unexpected lookup of {h}"),
        }
    }

    #[test]
    fn literals_resolve_without_lookup() {
        let want: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(done("127.0.0.1:80"), vec![want]);
        assert_eq!(done(&("127.0.0.1", 80)), vec![want]);
        assert_eq!(done(&(Ipv4Addr::LOCALHOST, 80)), vec![want]);
        assert_eq!(done(&want), vec![want]);
        assert_eq!(done(&[want, want][..]), vec![want, want]);
        assert!(matches!(
            "localhost:80".to_addrs(),
            Resolve::Lookup(h) if h == "localhost:80"
        ));
    }
}
