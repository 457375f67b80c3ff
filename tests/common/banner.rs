//! A tiny SSH banner server on loopback for the SSH-wait tests: it sends a version line
//! the way sshd does, after a delay or some closed connections, never, or a wrong one. It
//! counts connections, so a test can prove that pegasus did (or did not) try to connect.

#![allow(dead_code)]

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// The banner on every connection.
    AtOnce,
    /// Connections are closed without a word until this long after `start`, then the
    /// banner (sshd not up yet, then up).
    After(Duration),
    /// The first this many connections are closed without a word, then the banner on every
    /// later one, whenever they come (the same, counted in tries rather than time).
    AfterConnections(usize),
    /// Connections are accepted and held open in silence.
    Never,
    /// Something that is not SSH (an HTTP answer), then close.
    Wrong,
}

struct Shared {
    connections: AtomicUsize,
    first_banner: Mutex<Option<Instant>>,
    held: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

pub struct Banner {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// When it sends (or would send) its first banner.
    answers_from: Option<Instant>,
}

impl Banner {
    /// Listen on `ip` (e.g. `127.0.0.10`, `::1`) on a free port.
    pub fn start(ip: &str, mode: Mode) -> Banner {
        let ip: IpAddr = ip.parse().expect("banner: IP address");
        assert!(ip.is_loopback(), "banner servers run on loopback only");
        Banner::start_at(SocketAddr::new(ip, 0), mode)
    }

    /// Listen on exactly `addr` (port 0: a free one).
    pub fn start_at(addr: SocketAddr, mode: Mode) -> Banner {
        Banner::try_start_at(addr, mode).unwrap_or_else(|e| panic!("banner: bind {addr}: {e}"))
    }

    /// Like [`Banner::start_at`], with the error when `addr` cannot be bound.
    pub fn try_start_at(addr: SocketAddr, mode: Mode) -> std::io::Result<Banner> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            connections: AtomicUsize::new(0),
            first_banner: Mutex::new(None),
            held: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let started = Instant::now();
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                let n = s.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let banner = match mode {
                    Mode::AtOnce => true,
                    Mode::After(d) => started.elapsed() >= d,
                    Mode::AfterConnections(k) => n > k,
                    Mode::Never => {
                        s.held.lock().unwrap().push(stream);
                        continue;
                    }
                    Mode::Wrong => {
                        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
                        continue;
                    }
                };
                if banner {
                    s.first_banner
                        .lock()
                        .unwrap()
                        .get_or_insert_with(Instant::now);
                    let _ = stream.write_all(SSH_BANNER);
                    // Keep it open a moment, as sshd waits for the client's version.
                    s.held.lock().unwrap().push(stream);
                }
            }
        });
        let answers_from = match mode {
            Mode::AtOnce => Some(started),
            Mode::After(d) => Some(started + d),
            Mode::AfterConnections(_) | Mode::Never | Mode::Wrong => None,
        };
        Ok(Banner {
            addr,
            shared,
            answers_from,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// From when a connection gets the banner (`None`: never).
    pub fn answers_from(&self) -> Option<Instant> {
        self.answers_from
    }

    /// When the first banner was sent.
    pub fn first_banner(&self) -> Option<Instant> {
        *self.shared.first_banner.lock().unwrap()
    }
}

impl Drop for Banner {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
