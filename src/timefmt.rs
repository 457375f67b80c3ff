//! The little time arithmetic the tool needs: RFC 3339 timestamps from the API to
//! Unix seconds, and compact ages (`45s`, `12m`, `5h`, `3d`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    }
}

/// Parse `2025-12-31T23:59:59Z`, `2016-01-30T23:55:00+00:00` or with fractional seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date part (`2025-12-31`) of an RFC 3339 timestamp, for messages.
pub fn date_part(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

/// A compact age: `45s`, `12m`, `5h`, `3d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2025-12-31T23:59:59Z"), Some(1_767_225_599));
        assert_eq!(
            parse_rfc3339("2016-01-30T23:55:00+00:00"),
            Some(1_454_198_100)
        );
        assert_eq!(
            parse_rfc3339("2016-01-31T01:55:00+02:00"),
            Some(1_454_198_100)
        );
        assert_eq!(
            parse_rfc3339("2016-01-30T23:55:00.123456Z"),
            Some(1_454_198_100)
        );
        for bad in [
            "",
            "2016-01-30",
            "garbage-garbage-garbage",
            "2016-13-30T23:55:00Z",
            "2016-01-30T23:55:00+0",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(12 * 60 + 5), "12m");
        assert_eq!(age(5 * 3600), "5h");
        assert_eq!(age(3 * 86_400 + 7), "3d");
        assert_eq!(age(-5), "0s");
    }
}
