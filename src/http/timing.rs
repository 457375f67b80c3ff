//! How long things wait: back-off, the rate-limit wait, action polls. Tests shorten
//! these through `PEGASUS_TEST_*` variables, honoured only for a loopback endpoint, so
//! the real API is never called faster than the contract allows.

use std::time::Duration;

use super::Endpoint;

/// A back-off step never exceeds this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// A 429 never waits longer than this at a time.
pub const RATE_LIMIT_WAIT_CAP: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First back-off after a retryable failure (also the wait before the one retry of
    /// a refused connection).
    pub backoff: Duration,
    /// Base interval between action polls.
    pub poll: Duration,
    /// Give up waiting for an action after this long.
    pub wait_limit: Duration,
    /// Retry waits are slept this many millionths as long as announced (all of it
    /// outside tests; `PEGASUS_TEST_SLEEP_SCALE`, so a test sees a 60 s rate-limit wait
    /// announced without sleeping it).
    pub sleep_scale: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            backoff: Duration::from_secs(1),
            poll: Duration::from_millis(500),
            wait_limit: Duration::from_secs(600),
            sleep_scale: MILLION,
        }
    }
}

impl Timing {
    pub fn for_endpoint(endpoint: &Endpoint) -> Timing {
        Timing::from_knobs(endpoint, &|name| std::env::var(name).ok())
    }

    /// The knobs read through `var`, only for a loopback endpoint.
    fn from_knobs(endpoint: &Endpoint, var: &dyn Fn(&str) -> Option<String>) -> Timing {
        let mut t = Timing::default();
        if !endpoint.loopback {
            return t;
        }
        let ms = |name: &str| {
            var(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        t.backoff = ms("PEGASUS_TEST_BACKOFF_MS").unwrap_or(t.backoff);
        t.poll = ms("PEGASUS_TEST_POLL_MS").unwrap_or(t.poll);
        t.wait_limit = ms("PEGASUS_TEST_WAIT_LIMIT_MS").unwrap_or(t.wait_limit);
        t.sleep_scale = var("PEGASUS_TEST_SLEEP_SCALE")
            .and_then(|v| millionths(v.trim()))
            .filter(|m| *m <= MILLION)
            .unwrap_or(t.sleep_scale);
        t
    }

    /// The wait before try number `attempt + 1` (attempt counts from 1): doubling from
    /// the base, capped at 30 s, with up to 25% taken off at random.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        self.backoff_step(attempt).mul_f64(1.0 - 0.25 * jitter())
    }

    /// The back-off step without jitter.
    fn backoff_step(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor).min(BACKOFF_CAP)
    }

    /// The wait after a 429 (SPEC §7): until `RateLimit-Reset` (a UNIX time, `reset`),
    /// but never shorter than this try's back-off step nor longer than 60 s. A reset in
    /// the past, or none, is the back-off step; a reset beyond any clock is 60 s.
    pub fn rate_limit_wait(&self, attempt: u32, reset: Option<u64>, now_unix: i64) -> Duration {
        let step = self.backoff_step(attempt).min(RATE_LIMIT_WAIT_CAP);
        let Some(reset) = reset else {
            return step;
        };
        let now = u64::try_from(now_unix).unwrap_or(0);
        Duration::from_secs(reset.saturating_sub(now))
            .max(step)
            .min(RATE_LIMIT_WAIT_CAP)
    }

    /// Sleep for a retry wait (scaled in tests); a signal ends it early (SPEC §8).
    pub fn sleep(&self, wait: Duration) -> crate::error::Result<()> {
        let scaled = wait.as_nanos() * u128::from(self.sleep_scale) / u128::from(MILLION);
        crate::process::signals::sleep(Duration::from_nanos(
            u64::try_from(scaled).unwrap_or(u64::MAX),
        ))
    }
}

const MILLION: u32 = 1_000_000;

/// A factor written as a plain decimal ("1", "0.01", ".5"), in millionths (digits past
/// the sixth decimal are dropped); `None` for anything else. Parsed by hand: a float
/// parser would add 15 KB to the binary for one test knob (SPEC §1).
fn millionths(text: &str) -> Option<u32> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    // (At most 3 digits before the point: 999.999999 still fits.)
    if whole.len() + frac.len() == 0 || !digits(whole) || !digits(frac) || whole.len() > 3 {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac = frac.bytes().chain(std::iter::repeat(b'0')).take(6);
    Some(frac.fold(whole, |n, b| n * 10 + u32::from(b - b'0')))
}

/// `RateLimit-Reset` as a UNIX time: digits only; too many digits is the far future.
pub fn parse_reset(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// A number in [0, 1) that differs between calls and processes; good enough for jitter.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::timefmt::now_unix() as u64);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let t = Timing::default();
        let first = t.backoff_for(1);
        assert!(first <= Duration::from_secs(1) && first >= Duration::from_millis(750));
        let third = t.backoff_for(3);
        assert!(third <= Duration::from_secs(4) && third >= Duration::from_secs(3));
        assert!(t.backoff_for(30) <= BACKOFF_CAP);
    }

    #[test]
    fn rate_limit_wait_is_between_the_step_and_a_minute() {
        let t = Timing::default();
        let now = 1_800_000_000;
        let s = Duration::from_secs;
        // In the past, now, or absent: the back-off step, never 0.
        assert_eq!(t.rate_limit_wait(1, Some(now as u64 - 30), now), s(1));
        assert_eq!(t.rate_limit_wait(1, Some(0), now), s(1));
        assert_eq!(t.rate_limit_wait(3, Some(now as u64), now), s(4));
        assert_eq!(t.rate_limit_wait(2, None, now), s(2));
        // Ahead: the difference, up to 60 s.
        assert_eq!(t.rate_limit_wait(1, Some(now as u64 + 7), now), s(7));
        assert_eq!(t.rate_limit_wait(1, Some(now as u64 + 90), now), s(60));
        assert_eq!(t.rate_limit_wait(1, Some(now as u64 + 3600), now), s(60));
        // No overflow at the edges of the clock or the header.
        assert_eq!(t.rate_limit_wait(1, Some(u64::MAX), now), s(60));
        assert_eq!(t.rate_limit_wait(1, Some(u64::MAX), i64::MIN), s(60));
        assert_eq!(t.rate_limit_wait(1, Some(5), i64::MAX), s(1));
        assert_eq!(t.rate_limit_wait(40, Some(0), now), BACKOFF_CAP);
    }

    #[test]
    fn sleep_scale_in_millionths() {
        assert_eq!(millionths("1"), Some(1_000_000));
        assert_eq!(millionths("0.01"), Some(10_000));
        assert_eq!(millionths(".5"), Some(500_000));
        assert_eq!(millionths("0"), Some(0));
        assert_eq!(millionths("0.1234567"), Some(123_456));
        assert_eq!(millionths("999.9999999"), Some(999_999_999));
        for bad in ["", ".", "-0.5", "1e-2", "0,5", "x", "1000"] {
            assert_eq!(millionths(bad), None, "{bad}");
        }
    }

    #[test]
    fn reset_header_values() {
        assert_eq!(parse_reset(" 1800000000 "), Some(1_800_000_000));
        assert_eq!(parse_reset("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_reset("-5"), None);
        assert_eq!(parse_reset("soon"), None);
        assert_eq!(parse_reset(""), None);
    }

    /// The knobs change the timing for a loopback endpoint and do nothing for any other:
    /// both halves are checked with the knobs set, so the test fails if either breaks.
    #[test]
    fn test_knobs_only_for_loopback() {
        let knobs = |name: &str| match name {
            "PEGASUS_TEST_BACKOFF_MS" => Some("7".to_string()),
            "PEGASUS_TEST_POLL_MS" => Some("3".to_string()),
            "PEGASUS_TEST_WAIT_LIMIT_MS" => Some("50".to_string()),
            "PEGASUS_TEST_SLEEP_SCALE" => Some("0.01".to_string()),
            _ => None,
        };
        let local = Timing::from_knobs(&endpoint("http://127.0.0.1:9/v1"), &knobs);
        assert_eq!(local.backoff, Duration::from_millis(7));
        assert_eq!(local.poll, Duration::from_millis(3));
        assert_eq!(local.wait_limit, Duration::from_millis(50));
        assert_eq!(local.sleep_scale, 10_000);
        for remote in [
            "https://api.hetzner.cloud/v1",
            "https://127.0.0.1.example.com/v1",
        ] {
            let t = Timing::from_knobs(&endpoint(remote), &knobs);
            let d = Timing::default();
            assert_eq!(
                (t.backoff, t.poll, t.wait_limit, t.sleep_scale),
                (d.backoff, d.poll, d.wait_limit, d.sleep_scale),
                "{remote}"
            );
        }
    }
}
