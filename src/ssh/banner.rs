//! Step 11: wait until SSH answers on the new server (SPEC §4).
//!
//! "Answers" means: a TCP connection to the address and port that sends a first line
//! starting with `SSH-` (the server's version banner, sent before any authentication),
//! the test `ssh-keyscan` uses. Only public unicast and loopback addresses are ever
//! connected to; any other address is skipped, so a documentation or private address
//! never sees a packet from here. No printing: progress goes to a callback.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::Result;

/// A connection attempt gives up after this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The banner must arrive within this long after the connection is made.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How a try that got a non-SSH answer starts its reason.
const OTHER_THAN_SSH: &str = "the port answered with something other than SSH";
/// Pause between tries.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);

/// How long things wait. Tests shorten the pause and the overall limit through
/// `PEGASUS_TEST_SSH_RETRY_MS` and `PEGASUS_TEST_SSH_LIMIT_MS`, honoured only when the
/// address is loopback (never for a real server).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub connect: Duration,
    pub read: Duration,
    pub retry: Duration,
    pub limit: Duration,
}

impl Timing {
    /// The timing for a wait of `limit` on `ip`.
    pub fn for_address(ip: IpAddr, limit: Duration) -> Timing {
        let mut t = Timing {
            connect: CONNECT_TIMEOUT,
            read: READ_TIMEOUT,
            retry: RETRY_EVERY,
            limit,
        };
        if ip.is_loopback() {
            let ms = |name: &str| {
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_millis)
            };
            t.retry = ms("PEGASUS_TEST_SSH_RETRY_MS").unwrap_or(t.retry);
            t.limit = ms("PEGASUS_TEST_SSH_LIMIT_MS").unwrap_or(t.limit);
        }
        t
    }
}

/// Whether pegasus may connect to `ip` at all: public unicast or loopback.
///
/// "Public" follows the IANA special-purpose address registries as the standard
/// library's (unstable) `Ipv4Addr::is_global` / `Ipv6Addr::is_global` encode them, made
/// stricter where a server can never be: multicast and broadcast, the deprecated 6to4
/// relay anycast 192.88.99.0/24, and for IPv6 only global unicast 2000::/3 without the
/// IETF protocol assignments 2001::/23 (Teredo, benchmarking, ORCHID, anycast services),
/// 6to4 2002::/16 and the documentation ranges 2001:db8::/32 and 3fff::/20.
pub fn may_connect(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || public_v4(v4),
            None => v6.is_loopback() || public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    let special = o[0] == 0 // "this network", 0.0.0.0/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space, 100.64.0.0/10
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments, 192.0.0.0/24
        || ip.is_documentation() // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (o[0] == 192 && o[1] == 88 && o[2] == 99) // 6to4 relay anycast (deprecated)
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking, 198.18.0.0/15
        || ip.is_multicast() // 224/4
        || o[0] >= 240; // reserved 240/4, and the broadcast address
    !special
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let global_unicast = (s[0] & 0xe000) == 0x2000; // 2000::/3
    let ietf = s[0] == 0x2001 && s[1] < 0x0200; // 2001::/23
    let six_to_four = s[0] == 0x2002; // 2002::/16
    let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0;
    global_unicast && !ietf && !six_to_four && !documentation
}

/// How the wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A line starting with `SSH-` arrived.
    Ready,
    /// Not tried: the reason, for a note ("203.0.113.10 is not a public address").
    Skipped(String),
    /// Nothing answered in time; the last failure, in words.
    TimedOut(String),
}

/// Try until SSH answers or `timing.limit` has passed (checked before each pause, and
/// no single try outlasts the limit). `sleep` pauses between tries and ends the wait
/// with its error (`signals::sleep`: Ctrl-C); a signal also ends a try that waits for a
/// banner (checked every 100 ms).
pub fn wait(
    addr: SocketAddr,
    timing: Timing,
    sleep: &dyn Fn(Duration) -> Result<()>,
) -> Result<Outcome> {
    if !may_connect(addr.ip()) {
        return Ok(Outcome::Skipped(format!(
            "{} is not a public address",
            addr.ip()
        )));
    }
    let deadline = Instant::now() + timing.limit;
    let mut last = String::from("nothing answered");
    let mut last_was_an_answer = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Outcome::TimedOut(last));
        }
        let (connect, read) = (timing.connect.min(left), timing.read.min(left));
        // On a worker thread: a signal ends the wait at once, even mid-connect.
        match crate::process::wait::interruptible(move || probe(addr, connect, read))? {
            Ok(()) => return Ok(Outcome::Ready),
            // Something other than SSH answered: that stays the reason shown, even if a
            // later try is cut short by the limit.
            Err(why) => {
                let answered = why.starts_with(OTHER_THAN_SSH);
                if answered || !last_was_an_answer {
                    last = why;
                    last_was_an_answer = answered;
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Outcome::TimedOut(last));
        }
        crate::process::signals::check()?;
        sleep(timing.retry.min(left))?;
    }
}

/// One try: connect, read the first line, check that it starts with `SSH-`.
pub fn probe(addr: SocketAddr, connect: Duration, read: Duration) -> Result<(), String> {
    const SLICE: Duration = Duration::from_millis(100);
    if connect.is_zero() || read.is_zero() {
        return Err("no time left".into());
    }
    let mut stream = TcpStream::connect_timeout(&addr, connect).map_err(|e| match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            "the connection timed out".to_string()
        }
        std::io::ErrorKind::ConnectionRefused => "the connection was refused".to_string(),
        _ => crate::error::io_reason(&e),
    })?;
    let until = Instant::now() + read;
    let mut line = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(banner_error(&line, "no SSH banner arrived"));
        }
        stream
            .set_read_timeout(Some(left.min(SLICE)))
            .map_err(|e| e.to_string())?;
        let n = match stream.read(&mut buf) {
            Ok(0) => {
                return Err(banner_error(
                    &line,
                    "the connection closed before an SSH banner",
                ));
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if crate::process::signals::pending().is_some() {
                    return Err("interrupted".into());
                }
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(crate::error::io_reason(&e)),
        };
        line.extend_from_slice(&buf[..n]);
        // The banner may come after other lines (RFC 4253 §4.2), but pegasus keeps to the
        // simple rule: the first line decides.
        if line.starts_with(b"SSH-") {
            return Ok(());
        }
        if !b"SSH-".starts_with(&line) {
            return Err(banner_error(&line, ""));
        }
    }
}

fn banner_error(line: &[u8], fallback: &str) -> String {
    if line.is_empty() {
        return fallback.to_string();
    }
    let end = line
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(line.len())
        .min(60);
    let shown = String::from_utf8_lossy(&line[..end]);
    format!("{OTHER_THAN_SSH} ({:?})", crate::ui::escape(&shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_and_loopback_only() {
        for ok in [
            "8.8.8.8",
            "95.216.1.2",
            "2001:200::1",
            "2a01:4f8::1",
            "127.0.0.1",
            "127.0.0.9",
            "::1",
            "2a01:4f8:1c1c::1",
            "::ffff:95.216.1.2",
        ] {
            assert!(may_connect(ip(ok)), "{ok}");
        }
        for skip in [
            "203.0.113.10",
            "198.51.100.1",
            "192.0.2.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "240.0.0.1",
            "198.18.0.1",
            "2001:db8:1::1",
            "3fff::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::",
            "::ffff:10.0.0.1",
            "100::1",
            // Issue 18: the ranges the first tables missed.
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:1ff::1",
            "2002:c000:204::1",
            "192.88.99.1",
            "192.0.0.9",
            "64:ff9b::808:808",
            "5f00::1",
        ] {
            assert!(!may_connect(ip(skip)), "{skip}");
        }
    }

    fn nap(d: Duration) -> Result<()> {
        std::thread::sleep(d);
        Ok(())
    }

    fn timing(limit_ms: u64) -> Timing {
        Timing {
            connect: Duration::from_millis(500),
            read: Duration::from_millis(300),
            retry: Duration::from_millis(20),
            limit: Duration::from_millis(limit_ms),
        }
    }

    fn serve_once(reply: &'static [u8]) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = s.write_all(reply);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        addr
    }

    #[test]
    fn banner_is_ready() {
        let addr = serve_once(b"SSH-2.0-OpenSSH_9.6\r\n");
        assert_eq!(wait(addr, timing(2000), &nap).unwrap(), Outcome::Ready);
    }

    #[test]
    fn wrong_banner_is_named() {
        let addr = serve_once(b"HTTP/1.1 400 Bad Request\r\n");
        let err = probe(addr, Duration::from_secs(1), Duration::from_secs(1)).unwrap_err();
        assert!(err.contains("HTTP/1.1 400"), "{err}");
    }

    #[test]
    fn documentation_address_is_skipped_without_sleeping() {
        let addr: SocketAddr = "203.0.113.10:22".parse().unwrap();
        let slept = std::cell::Cell::new(false);
        let out = wait(addr, timing(10_000), &|_| {
            slept.set(true);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            out,
            Outcome::Skipped("203.0.113.10 is not a public address".into())
        );
        assert!(!slept.get());
    }

    #[test]
    fn refused_times_out_within_the_limit() {
        // A port held by a socket that is bound but not listening: connections are
        // refused, and no other process can take the port while the test runs.
        // SAFETY: plain socket calls on a zeroed sockaddr_in; the fd is closed below.
        let (fd, port) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let mut sa: libc::sockaddr_in = std::mem::zeroed();
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, (&raw const sa).cast(), len), 0);
            let mut got: libc::sockaddr_in = std::mem::zeroed();
            let mut got_len = len;
            assert_eq!(
                libc::getsockname(fd, (&raw mut got).cast(), &mut got_len),
                0
            );
            (fd, u16::from_be(got.sin_port))
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let out = wait(addr, timing(200), &nap).unwrap();
        match out {
            Outcome::TimedOut(why) => assert_eq!(why, "the connection was refused"),
            other => panic!("{other:?}"),
        }
        // SAFETY: the fd opened above.
        unsafe { libc::close(fd) };
    }
}
