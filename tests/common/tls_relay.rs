//! TLS for the tests: a certificate authority made at test time, and a relay that
//! terminates TLS on `127.0.0.1:0` and forwards the plain bytes to the fake API, so the
//! whole API works over `https://localhost:PORT/v1` (or `https://api.test/v1` through a
//! proxy). Threads, std and rustls only; nothing connects anywhere but loopback.
//!
//! The relay's certificate is valid for `localhost`, `api.test` and `127.0.0.1`, issued by
//! [`TestCa`]; a client trusts it only if it trusts that CA (`SSL_CERT_FILE`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConnection;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the relay's certificate is valid for. `0.0.0.0` is not loopback by SPEC §3's
/// rule (so the proxy variables apply to it), yet a connection to it reaches this
/// machine: a test's way to a non-loopback endpoint that works without DNS.
pub const CERT_NAMES: &[&str] = &["localhost", "api.test", "127.0.0.1", "0.0.0.0"];

/// A throw-away certificate authority and one server certificate it issued.
pub struct TestCa {
    /// The CA certificate, PEM (what `SSL_CERT_FILE` should hold).
    pub ca_pem: String,
    /// The server certificate chain (leaf first) and its key, for the relay.
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl TestCa {
    /// A new CA (ECDSA P-256) and a leaf for [`CERT_NAMES`], valid for server auth.
    pub fn new() -> TestCa {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "pegasus test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let names: Vec<String> = CERT_NAMES.iter().map(|s| s.to_string()).collect();
        let mut leaf_params = CertificateParams::new(names).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

        TestCa {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: leaf_key.serialize_der(),
        }
    }

    /// Write the CA certificate as `ca.pem` into `dir`; returns the path.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .unwrap();
        Arc::new(config)
    }
}

#[derive(Default)]
struct Log {
    /// Connections accepted.
    connections: usize,
    /// The SNI name of each completed handshake (`""` when the client sent none).
    handshakes: Vec<String>,
    /// Handshakes that failed (e.g. the client rejected the certificate).
    failures: Vec<String>,
    /// Connections whose client side is still being served.
    active: usize,
}

/// A TLS-terminating relay in front of a plain TCP backend (the fake API).
pub struct TlsRelay {
    addr: SocketAddr,
    log: Arc<(Mutex<Log>, Condvar)>,
}

impl TlsRelay {
    /// Listen on `127.0.0.1:0`; every connection gets a TLS handshake with the CA's
    /// certificate, then its plain bytes go to `backend` and back (a thread pair each).
    pub fn start(ca: &TestCa, backend: SocketAddr) -> TlsRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("tls relay: bind");
        let addr = listener.local_addr().unwrap();
        let config = ca.server_config();
        let log = Arc::new((Mutex::new(Log::default()), Condvar::new()));
        let accept_log = Arc::clone(&log);
        thread::Builder::new()
            .name("tls-relay-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    {
                        let mut l = lock(&accept_log.0);
                        l.connections += 1;
                        l.active += 1;
                    }
                    let config = Arc::clone(&config);
                    let log = Arc::clone(&accept_log);
                    thread::spawn(move || {
                        relay(stream, config, backend, &log.0);
                        lock(&log.0).active -= 1;
                        log.1.notify_all();
                    });
                }
            })
            .unwrap();
        TlsRelay { addr, log }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://localhost:PORT/v1`.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}/v1", self.port())
    }

    /// Wait (at most 10 s) until every accepted connection has been closed by its
    /// client and fully handled. Call it after the client process exited: every
    /// connection it made was accepted (its TLS handshake needed this side), so then
    /// the log below is complete.
    pub fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let (m, cv) = &*self.log;
        let mut l = lock(m);
        while l.active > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "tls relay: connections still open after 10 s"
            );
            l = cv
                .wait_timeout(l, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.log.0).connections
    }

    /// The SNI name of every completed handshake, in order.
    pub fn handshakes(&self) -> Vec<String> {
        lock(&self.log.0).handshakes.clone()
    }

    /// Failed handshakes: rustls' words for an alert or a bad message, or a note that
    /// the client hung up before the handshake was done.
    pub fn failures(&self) -> Vec<String> {
        lock(&self.log.0).failures.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One connection. The reading side of each direction blocks without holding the TLS
/// state; the state is locked only to feed it bytes or take bytes out, so the two
/// directions never wait on each other.
fn relay(
    client: TcpStream,
    config: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
    log: &Mutex<Log>,
) {
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let conn = Arc::new(Mutex::new(conn));
    let Ok(mut client_w) = client.try_clone() else {
        return;
    };
    // Connect to the backend only once the handshake is done (so a rejected certificate
    // never touches the fake).
    let mut backend_w: Option<TcpStream> = None;
    let mut client_r = client;
    let mut buf = vec![0u8; 16 * 1024];
    let mut plain = Vec::new();
    let mut recorded = false;
    loop {
        let n = match client_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        plain.clear();
        {
            let mut c = lock(&conn);
            let mut input = &buf[..n];
            let mut failed = None;
            while !input.is_empty() {
                if c.read_tls(&mut input).is_err() {
                    failed = Some("read_tls failed".to_string());
                    break;
                }
                match c.process_new_packets() {
                    Ok(_) => drain_plaintext(&mut c, &mut plain),
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            // Handshake messages, or the alert for a failure.
            while c.wants_write() {
                if c.write_tls(&mut client_w).is_err() {
                    break;
                }
            }
            if let Some(why) = failed {
                if !recorded {
                    lock(log).failures.push(why);
                    recorded = true;
                }
                break;
            }
            if !recorded && !c.is_handshaking() {
                recorded = true;
                let sni = c.server_name().unwrap_or("").to_string();
                lock(log).handshakes.push(sni);
            }
        }
        if !recorded && plain.is_empty() {
            continue;
        }
        if backend_w.is_none() {
            let Ok(b) = TcpStream::connect(backend) else {
                break;
            };
            let (Ok(b_r), Ok(c_w)) = (b.try_clone(), client_w.try_clone()) else {
                break;
            };
            let conn = Arc::clone(&conn);
            thread::spawn(move || backend_to_client(b_r, c_w, conn));
            backend_w = Some(b);
        }
        if !plain.is_empty() {
            let b = backend_w.as_mut().unwrap();
            if b.write_all(&plain).is_err() {
                break;
            }
        }
    }
    if !recorded {
        // A client that rejects the certificate may just hang up without an alert.
        lock(log)
            .failures
            .push("the client closed the connection during the handshake".into());
    }
    // The client is gone (or failed): let the backend see the end of the requests.
    if let Some(b) = backend_w {
        let _ = b.shutdown(Shutdown::Write);
    }
    let _ = client_w.shutdown(Shutdown::Both);
}

fn drain_plaintext(c: &mut ServerConnection, out: &mut Vec<u8>) {
    let mut chunk = [0u8; 8192];
    loop {
        match c.reader().read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) => break,
        }
    }
}

fn backend_to_client(
    mut backend: TcpStream,
    mut client: TcpStream,
    conn: Arc<Mutex<ServerConnection>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match backend.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut c = lock(&conn);
        if c.writer().write_all(&buf[..n]).is_err() {
            break;
        }
        while c.wants_write() {
            if c.write_tls(&mut client).is_err() {
                return;
            }
        }
    }
    // The backend closed: close the TLS session cleanly.
    let mut c = lock(&conn);
    c.send_close_notify();
    while c.wants_write() {
        if c.write_tls(&mut client).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
}
