//! Small self-contained helpers for the fake Hetzner API: MD5, base64, SSH public
//! key parsing, RFC 3339 time, query strings, hostname/label validation and label
//! selectors. std only.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// MD5 (RFC 1321)

const MD5_S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (word, bytes) in m.iter_mut().zip(chunk.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let [mut a, mut b, mut c, mut d] = h;
        for (i, (&k, &s)) in MD5_K.iter().zip(MD5_S.iter()).enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s));
        }
        for (acc, v) in h.iter_mut().zip([a, b, c, d]) {
            *acc = acc.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (dst, word) in out.chunks_exact_mut(4).zip(h) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// Lowercase hex of `bytes`, the pairs joined by `sep` (e.g. ":" for fingerprints).
pub fn hex_join(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

// ---------------------------------------------------------------------------
// base64 (standard alphabet)

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes standard base64; trailing `=` padding is optional. `None` on any invalid input.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let data = s.trim_end_matches('=');
    let padding = s.len() - data.len();
    if padding > 2 || (padding > 0 && s.len() % 4 != 0) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in data.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encodes standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(B64[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// SSH public keys

const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Parses an authorized_keys line `<type> <base64> [comment]` strictly: the type must be
/// a known key type and the blob must start with the same type string (length-prefixed),
/// as OpenSSH and the real API require. Returns the decoded blob.
pub fn parse_public_key(line: &str) -> Option<Vec<u8>> {
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let blob = base64_decode(parts.next()?)?;
    if !KEY_TYPES.contains(&kind) || blob.len() < 4 {
        return None;
    }
    let n = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    (blob.get(4..4 + n)? == kind.as_bytes()).then_some(blob)
}

/// The legacy MD5 fingerprint (`aa:bb:…`) of a public key line, `None` if it does not parse.
pub fn fingerprint(public_key: &str) -> Option<String> {
    parse_public_key(public_key.trim()).map(|blob| hex_join(&md5(&blob), ":"))
}

/// Fingerprint used by the `add_ssh_key` helper: like [`fingerprint`], but never fails:
/// an undecodable key is fingerprinted over its trimmed text.
pub fn lenient_fingerprint(public_key: &str) -> String {
    let line = public_key.trim();
    let blob = line
        .split_whitespace()
        .nth(1)
        .and_then(base64_decode)
        .unwrap_or_else(|| line.as_bytes().to_vec());
    hex_join(&md5(&blob), ":")
}

/// A structurally valid `ssh-ed25519` public key line derived from `seed`
/// (different seeds give different keys and fingerprints).
pub fn ed25519_key(seed: &str, comment: &str) -> String {
    let first = md5(seed.as_bytes());
    let second = md5(&first);
    let mut blob = Vec::with_capacity(51);
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend_from_slice(&first);
    blob.extend_from_slice(&second);
    let key = format!("ssh-ed25519 {}", base64_encode(&blob));
    if comment.is_empty() {
        key
    } else {
        format!("{key} {comment}")
    }
}

// ---------------------------------------------------------------------------
// Time

/// Seconds since the Unix epoch of `t` (0 before the epoch).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 with a `+00:00` offset, whole seconds, as the real API writes server and
/// action timestamps: `2026-11-25T17:46:35+00:00`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = unix(t) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `+00:00` into a `SystemTime`.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let secs = days * 86400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    if !matches!(s.get(19..), Some("Z" | "+00:00")) {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

// ---------------------------------------------------------------------------
// Query strings

/// Decodes `%XX` escapes and `+` (space); invalid escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a raw query string into decoded `(key, value)` pairs, in order.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Validation

/// RFC 1123 hostname: dot-separated labels of 1–63 chars from `[A-Za-z0-9-]`, no label
/// starting or ending with `-`, 253 chars at most.
pub fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

fn label_name_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Label key: optional DNS-subdomain prefix plus `/`, then a name of ≤63 chars that starts
/// and ends alphanumeric with `-_.` between. The `hetzner.cloud/` prefix is reserved.
pub fn valid_label_key(key: &str) -> bool {
    match key.rsplit_once('/') {
        Some((prefix, name)) => {
            prefix != "hetzner.cloud"
                && !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(label_name_ok)
                && label_name_ok(name)
        }
        None => label_name_ok(key),
    }
}

/// Label value: empty, or ≤63 chars starting and ending alphanumeric with `-_.` between.
pub fn valid_label_value(value: &str) -> bool {
    value.is_empty() || label_name_ok(value)
}

// ---------------------------------------------------------------------------
// Label selectors

/// One term of a label selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// `k=v` or `k==v`
    Eq(String, String),
    /// `k!=v`
    Ne(String, String),
    /// `k`
    Has(String),
    /// `!k`
    NotHas(String),
    /// `k in (a,b)`
    In(String, Vec<String>),
    /// `k notin (a,b)`
    NotIn(String, Vec<String>),
}

/// Parses a label selector (terms joined by commas outside parentheses). `None` if invalid.
pub fn parse_selector(s: &str) -> Option<Vec<Selector>> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    terms.push(&s[start..]);
    terms.into_iter().map(|t| parse_term(t.trim())).collect()
}

fn parse_term(t: &str) -> Option<Selector> {
    let key_ok = |k: &str| valid_label_key(k).then(|| k.to_string());
    if let Some(k) = t.strip_prefix('!') {
        return Some(Selector::NotHas(key_ok(k.trim())?));
    }
    if let Some((k, rest)) = t.split_once(char::is_whitespace) {
        let rest = rest.trim_start();
        let (op, list) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let inner = list.trim().strip_prefix('(')?.strip_suffix(')')?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
        return match op {
            "in" => Some(Selector::In(key_ok(k)?, values)),
            "notin" => Some(Selector::NotIn(key_ok(k)?, values)),
            _ => None,
        };
    }
    if let Some((k, v)) = t.split_once("!=") {
        return Some(Selector::Ne(key_ok(k)?, v.to_string()));
    }
    if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
        return Some(Selector::Eq(key_ok(k)?, v.to_string()));
    }
    Some(Selector::Has(key_ok(t)?))
}

/// Whether `labels` (string values) satisfy every term.
pub fn selector_matches(terms: &[Selector], labels: &Map<String, Value>) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    terms.iter().all(|t| match t {
        Selector::Eq(k, v) => get(k) == Some(v.as_str()),
        Selector::Ne(k, v) => get(k) != Some(v.as_str()),
        Selector::Has(k) => get(k).is_some(),
        Selector::NotHas(k) => get(k).is_none(),
        Selector::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Selector::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
    })
}

// ---------------------------------------------------------------------------
// Misc

/// Orders two JSON values for `sort=`: null first, numbers numerically, strings
/// lexicographically (RFC 3339 timestamps in one format sort chronologically).
pub fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// SplitMix64 step: a small deterministic mixer for ids, correlation ids and passwords.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}
