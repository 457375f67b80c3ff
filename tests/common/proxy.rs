//! A tiny HTTP CONNECT proxy on `127.0.0.1:0` for the tests, std only, a thread per
//! connection. It records the target of every `CONNECT host:port HTTP/1.1`, never
//! resolves or dials it, and pipes the tunnel to one fixed loopback address instead
//! (the TLS relay), whatever host was asked for. So a test can use a name that does not
//! resolve (`api.test`) and prove the client let the proxy resolve it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
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

/// A loopback port nothing listens on (bound, then released), for a dead proxy.
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
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
