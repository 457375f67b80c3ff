//! A tiny HTTP CONNECT proxy on `127.0.0.1:0` for the tests, std only, a thread per
//! connection (and [`dead_port`], a port that refuses connections, through `libc`). It records the target of every `CONNECT host:port HTTP/1.1`, never
//! resolves or dials it, and pipes the tunnel to one fixed loopback address instead
//! (the TLS relay), whatever host was asked for. So a test can use a name that does not
//! resolve (`api.test`) and prove the client let the proxy resolve it.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// `200 Connection established`, then the tunnel to the fixed address.
    Tunnel,
    /// `403 Forbidden` (a corporate proxy that does not allow the host).
    Forbid,
}

pub struct ConnectProxy {
    addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// A proxy whose tunnels all lead to `forward_to`.
    pub fn start(forward_to: SocketAddr) -> ConnectProxy {
        ConnectProxy::start_with(forward_to, Mode::Tunnel)
    }

    /// A proxy that answers every `CONNECT` with `403 Forbidden`.
    pub fn start_forbidding() -> ConnectProxy {
        ConnectProxy::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), Mode::Forbid)
    }

    fn start_with(forward_to: SocketAddr, mode: Mode) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind");
        let addr = listener.local_addr().unwrap();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&targets);
        thread::Builder::new()
            .name("connect-proxy-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let log = Arc::clone(&log);
                    thread::spawn(move || serve(stream, forward_to, mode, log));
                }
            })
            .unwrap();
        ConnectProxy { addr, targets }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (what `HTTPS_PROXY` should be).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every request line received (`CONNECT` targets; for any other
    /// method, the whole request line prefixed with the method).
    pub fn targets(&self) -> Vec<String> {
        self.targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A loopback port that refuses connections for as long as it lives (keep it in a variable
/// while the port is in use): a TCP socket bound to `127.0.0.1` but not listening, so a
/// connection gets a reset ("connection refused"), and no other program can take the port
/// meanwhile, as it could one that was bound and released.
pub struct DeadPort {
    _socket: OwnedFd,
    port: u16,
}

impl DeadPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A [`DeadPort`] for a dead proxy or endpoint.
pub fn dead_port() -> DeadPort {
    // SAFETY: plain socket calls; the address structs are libc's, zeroed then filled, and
    // their sizes are passed along.
    unsafe {
        #[cfg(target_os = "linux")]
        let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
        #[cfg(not(target_os = "linux"))]
        let kind = libc::SOCK_STREAM;
        let fd = libc::socket(libc::AF_INET, kind, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let socket = OwnedFd::from_raw_fd(fd);
        assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(fd, (&raw const addr).cast(), len);
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        let rc = libc::getsockname(socket.as_raw_fd(), (&raw mut bound).cast(), &mut bound_len);
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        DeadPort {
            port: u16::from_be(bound.sin_port),
            _socket: socket,
        }
    }
}

fn serve(mut client: TcpStream, forward_to: SocketAddr, mode: Mode, log: Arc<Mutex<Vec<String>>>) {
    // Read the request head; anything after it already belongs to the tunnel.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 64 * 1024 {
            return;
        }
        match client.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let early = head.split_off(end);
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let record = |s: String| log.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    if method != "CONNECT" {
        record(format!("{method} {target}"));
        let _ = client.write_all(
            b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    record(target.to_string());
    if mode == Mode::Forbid {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(forward_to) else {
        let _ = client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
        || upstream.write_all(&early).is_err()
    {
        return;
    }
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}
