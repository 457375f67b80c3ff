//! Prices (SPEC §4 step 13 and "Dry run"): a server type's gross prices per location
//! (`prices` in `GET /server_types`), the currency and the primary IPv4's monthly price
//! per location (`GET /pricing`), and [`price`], the pure function that puts them
//! together into what the user sees.
//!
//! The API writes prices as decimal strings ("4.1531000000000000"). They are parsed
//! here, once, into an exact [`Decimal`] (never a float); a price that is not a plain
//! decimal makes the whole answer unreadable (SPEC §7), as an address that is not one
//! does.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::Client;
use super::catalog::ServerType;
use crate::error::Result;
use crate::text::Untrusted;

/// An exact non-negative decimal number: its digits as an integer and how many of them
/// are decimals, trailing zeros of the decimals dropped (so equal numbers compare
/// equal). At most [`MAX_DIGITS`] significant digits and decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    digits: u128,
    scale: u32,
}

/// At most this many significant digits, and this many decimals: in hundredths (cents)
/// such a number still fits a `u128`, which holds any number of 38 digits.
const MAX_DIGITS: usize = 36;

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        digits: 0,
        scale: 0,
    };

    /// Parses a plain decimal as the API writes it: ASCII digits, optionally a `.` and
    /// more digits ("4.15", "0.0000000000", "12"). No sign, exponent, spaces or
    /// separators; at most 36 significant digits and 36 decimals (trailing zeros of
    /// the decimals do not count).
    pub fn parse(text: &str) -> std::result::Result<Decimal, String> {
        let shown = || {
            let cut: String = text.chars().take(40).collect();
            let more = if cut.len() < text.len() { "…" } else { "" };
            format!("\"{}{more}\"", crate::text::escape(&cut))
        };
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let frac_ok = !text.contains('.') || !frac.is_empty();
        if int.is_empty() || !frac_ok || !digits_only(int) || !digits_only(frac) {
            return Err(format!("the price {} is not a decimal number", shown()));
        }
        let frac = frac.trim_end_matches('0');
        let all = format!("{int}{frac}");
        let significant = all.trim_start_matches('0');
        if significant.len() > MAX_DIGITS || frac.len() > MAX_DIGITS {
            return Err(format!(
                "the price {} has more digits than a price can have",
                shown()
            ));
        }
        let digits = if significant.is_empty() {
            0
        } else {
            significant
                .parse::<u128>()
                .map_err(|_| format!("the price {} is not a decimal number", shown()))?
        };
        Ok(if digits == 0 {
            Decimal::ZERO
        } else {
            Decimal {
                digits,
                scale: frac.len() as u32,
            }
        })
    }

    /// Rounded to whole hundredths (cents), half up: 4.1531 → 415, 0.595 → 60.
    pub fn cents(self) -> u128 {
        if self.scale <= 2 {
            // At most 36 digits: at most 10^38 hundredths, which fits.
            return self.digits * 10u128.pow(2 - self.scale);
        }
        let unit = 10u128.pow(self.scale - 2);
        let (whole, rest) = (self.digits / unit, self.digits % unit);
        if rest >= unit - rest {
            whole + 1
        } else {
            whole
        }
    }

    /// Rounded to the cent, with two decimals: "4.15".
    pub fn to_cents_string(self) -> String {
        let c = self.cents();
        format!("{}.{:02}", c / 100, c % 100)
    }
}

/// Exact, with at least two decimals: "4.1531", "0.006664", "5.00", "0.00".
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = self.scale as usize;
        let mut s = self.digits.to_string();
        if s.len() <= scale {
            s.insert_str(0, &"0".repeat(scale + 1 - s.len()));
        }
        let (int, frac) = s.split_at(s.len() - scale);
        f.pad(&format!("{int}.{frac:0<2}"))
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Decimal::parse(&text).map_err(de::Error::custom)
    }
}

/// As its exact text, a JSON string ("4.1531").
impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The currency of `GET /pricing` (ISO 4217). Euro is shown as `€`; any other code is
/// shown as it came, escaped, before the amount ("USD 4.15").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Currency {
    Euro,
    Other(Untrusted),
}

impl Currency {
    pub fn from_code(code: &str) -> Currency {
        match code {
            "EUR" => Currency::Euro,
            other => Currency::Other(Untrusted::new(other)),
        }
    }

    /// The ISO code as the API sent it (for JSON).
    pub fn code(&self) -> &str {
        match self {
            Currency::Euro => "EUR",
            Currency::Other(code) => code.raw(),
        }
    }

    /// An amount in this currency, rounded to the cent: "€4.15", "USD 4.15".
    pub fn cents(&self, amount: Decimal) -> String {
        self.amount(&amount.to_cents_string())
    }

    /// An amount in this currency, exact: "€0.006664".
    pub fn exact(&self, amount: Decimal) -> String {
        self.amount(&amount.to_string())
    }

    fn amount(&self, number: &str) -> String {
        match self {
            Currency::Euro => format!("€{number}"),
            Currency::Other(code) => format!("{code} {number}"),
        }
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A gross price in one location (an item of a type's `prices`, or of a primary IP
/// type's in `GET /pricing`). The net prices are not read.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LocationPrice {
    pub location: String,
    #[serde(rename = "price_hourly", deserialize_with = "gross")]
    pub hourly: Decimal,
    #[serde(rename = "price_monthly", deserialize_with = "gross")]
    pub monthly: Decimal,
}

fn gross<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    struct Gross {
        gross: Decimal,
    }
    Ok(Gross::deserialize(d)?.gross)
}

/// What `GET /pricing` says that a price needs: the currency, and the primary IPv4's
/// gross prices per location.
#[derive(Clone, Debug, PartialEq)]
pub struct Pricing {
    pub currency: Currency,
    pub ipv4: Vec<LocationPrice>,
}

impl Pricing {
    /// The primary IPv4's gross monthly price in `location`, if the API gives one.
    pub fn ipv4_monthly(&self, location: &str) -> Option<Decimal> {
        self.ipv4
            .iter()
            .find(|p| p.location == location)
            .map(|p| p.monthly)
    }

    fn decode(body: &str) -> Result<Pricing> {
        #[derive(Deserialize)]
        struct Answer {
            pricing: Raw,
        }
        #[derive(Deserialize)]
        struct Raw {
            currency: String,
            #[serde(default)]
            primary_ips: Vec<PrimaryIp>,
        }
        #[derive(Deserialize)]
        struct PrimaryIp {
            #[serde(rename = "type")]
            kind: IpKind,
            prices: Vec<LocationPrice>,
        }
        #[derive(Deserialize, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum IpKind {
            Ipv4,
            #[serde(other)]
            Other,
        }
        let raw = super::decode::<Answer>(body)?.pricing;
        let ipv4 = raw
            .primary_ips
            .into_iter()
            .filter(|p| p.kind == IpKind::Ipv4)
            .flat_map(|p| p.prices)
            .collect();
        Ok(Pricing {
            currency: Currency::from_code(&raw.currency),
            ipv4,
        })
    }
}

/// The IPv4 part of a price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Price {
    /// The server gets no primary IPv4.
    None,
    /// It gets one, but the API gives no price for it in that location.
    Unknown,
    Monthly(Decimal),
}

/// What a server costs, gross (VAT at the account's rate, as the API computes it): the
/// type's price in the location per month and per hour, plus the primary IPv4's
/// monthly price. `Display` is the human form, "€4.15/month + €0.61 IPv4"; the JSON
/// form is `{"currency", "monthly", "hourly", "ipv4_monthly"}` with exact decimal
/// strings (`ipv4_monthly` null without an IPv4 or its price).
#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    pub currency: Currency,
    pub monthly: Decimal,
    pub hourly: Decimal,
    pub ipv4: Ipv4Price,
}

impl Price {
    /// Per hour, exactly as the API gives it: "€0.006664/hour".
    pub fn per_hour(&self) -> String {
        format!("{}/hour", self.currency.exact(self.hourly))
    }
}

/// "€4.15/month + €0.61 IPv4"; "€4.15/month" without an IPv4; "€4.15/month + IPv4
/// (price unknown)" when the API gives no IPv4 price for the location.
impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/month", self.currency.cents(self.monthly))?;
        match self.ipv4 {
            Ipv4Price::None => Ok(()),
            Ipv4Price::Unknown => f.write_str(" + IPv4 (price unknown)"),
            Ipv4Price::Monthly(m) => write!(f, " + {} IPv4", self.currency.cents(m)),
        }
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            currency: &'a Currency,
            monthly: Decimal,
            hourly: Decimal,
            ipv4_monthly: Option<Decimal>,
        }
        Out {
            currency: &self.currency,
            monthly: self.monthly,
            hourly: self.hourly,
            ipv4_monthly: match self.ipv4 {
                Ipv4Price::Monthly(m) => Some(m),
                Ipv4Price::None | Ipv4Price::Unknown => None,
            },
        }
        .serialize(s)
    }
}

/// What a server of type `stype` in `location` costs, with a primary IPv4 when `ipv4`.
/// `None` when the type has no price for that location.
pub fn price(stype: &ServerType, pricing: &Pricing, location: &str, ipv4: bool) -> Option<Price> {
    let here = stype.prices.iter().find(|p| p.location == location)?;
    Some(Price {
        currency: pricing.currency.clone(),
        monthly: here.monthly,
        hourly: here.hourly,
        ipv4: match (ipv4, pricing.ipv4_monthly(location)) {
            (false, _) => Ipv4Price::None,
            (true, None) => Ipv4Price::Unknown,
            (true, Some(m)) => Ipv4Price::Monthly(m),
        },
    })
}

impl Client<'_> {
    /// `GET /pricing`: the currency and the primary IPv4's prices.
    pub fn pricing(&self) -> Result<Pricing> {
        self.http
            .get_with("/pricing", &mut |text| Pricing::decode(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(dec("4.1531000000000000").to_string(), "4.1531");
        assert_eq!(dec("0.0066640000000000").to_string(), "0.006664");
        assert_eq!(dec("0.0000000000"), Decimal::ZERO);
        assert_eq!(dec("0.0000000000").to_string(), "0.00");
        assert_eq!(dec("0").to_string(), "0.00");
        assert_eq!(dec("5").to_string(), "5.00");
        assert_eq!(dec("5.1").to_string(), "5.10");
        assert_eq!(dec("007.50"), dec("7.5"));
        // Many decimals: trailing zeros do not count, significant ones are kept.
        let long = format!("1.{}", "0".repeat(200));
        assert_eq!(dec(&long).to_string(), "1.00");
        let fine = format!("0.{}1", "0".repeat(35));
        assert_eq!(dec(&fine).to_string(), fine);
        let big = "9".repeat(36);
        assert_eq!(dec(&big).to_string(), format!("{big}.00"));
        assert_eq!(dec(&big).to_cents_string(), format!("{big}.00"));
    }

    #[test]
    fn malformed_prices_are_errors_not_panics() {
        for bad in [
            "",
            ".",
            "4.",
            ".5",
            "-1.00",
            "+1",
            "1e3",
            "4,15",
            " 4.15",
            "4.15 ",
            "1.2.3",
            "€4",
            "NaN",
            "0x10",
            "٤.١٥",
            "4.1\u{1b}",
        ] {
            let e = Decimal::parse(bad).unwrap_err();
            assert!(e.contains("is not a decimal number"), "{bad:?}: {e}");
        }
        let e = Decimal::parse("4.1\u{1b}[2J").unwrap_err();
        assert_eq!(e, "the price \"4.1\\x1b[2J\" is not a decimal number");
        // More digits than fit: 37 significant digits, or 37 decimals.
        let e = Decimal::parse(&"1".repeat(37)).unwrap_err();
        assert!(e.contains("more digits than a price can have"), "{e}");
        let e = Decimal::parse(&format!("0.{}1", "0".repeat(36))).unwrap_err();
        assert!(e.contains("more digits"), "{e}");
        let e = Decimal::parse(&"9".repeat(100)).unwrap_err();
        assert!(
            e.ends_with("…\" has more digits than a price can have"),
            "{e}"
        );
    }

    #[test]
    fn cents_round_half_up() {
        let c = |s: &str| dec(s).to_cents_string();
        assert_eq!(c("4.1531000000000000"), "4.15");
        assert_eq!(c("0.6069000000000000"), "0.61");
        assert_eq!(c("0.5950000000000000"), "0.60");
        assert_eq!(c("0.5949999999999999"), "0.59");
        assert_eq!(c("0.005"), "0.01");
        assert_eq!(c("0.0049"), "0.00");
        assert_eq!(c("0.0000000000"), "0.00");
        assert_eq!(c("9.995"), "10.00");
        assert_eq!(c("7"), "7.00");
        assert_eq!(c("7.5"), "7.50");
        assert_eq!(
            c(&format!("{}.995", "9".repeat(33))),
            format!("1{}.00", "0".repeat(33))
        );
        assert_eq!(c(&format!("0.{}1", "0".repeat(35))), "0.00");
    }

    fn stype(prices: &str) -> ServerType {
        serde_json::from_str(&format!(r#"{{"name":"cx23","prices":{prices}}}"#)).unwrap()
    }

    fn loc(location: &str, hourly: &str, monthly: &str) -> String {
        format!(
            r#"{{"location":"{location}","price_hourly":{{"net":"1","gross":"{hourly}"}},
                "price_monthly":{{"net":"1","gross":"{monthly}"}},"included_traffic":1,
                "price_per_tb_traffic":{{"net":"1","gross":"1"}}}}"#
        )
    }

    fn pricing(currency: &str, ipv4: &[(&str, &str)]) -> Pricing {
        let prices: Vec<String> = ipv4
            .iter()
            .map(|(l, m)| {
                format!(
                    r#"{{"location":"{l}","price_hourly":{{"net":"1","gross":"0.0010"}},
                        "price_monthly":{{"net":"1","gross":"{m}"}}}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"pricing":{{"currency":"{currency}","vat_rate":"19.00",
                "primary_ips":[{{"type":"ipv6","prices":[{}]}},{{"type":"ipv4","prices":[{}]}}],
                "server_types":[]}}}}"#,
            loc("nbg1", "0", "0"),
            prices.join(",")
        );
        Pricing::decode(&body).unwrap()
    }

    #[test]
    fn the_price_the_user_sees() {
        let t = stype(&format!(
            "[{},{}]",
            loc("nbg1", "0.0066640000000000", "4.1531000000000000"),
            loc("ash", "0.0083300000000000", "5.1765000000000000")
        ));
        let p = pricing(
            "EUR",
            &[
                ("nbg1", "0.6069000000000000"),
                ("ash", "0.7140000000000000"),
            ],
        );
        let nbg1 = price(&t, &p, "nbg1", true).unwrap();
        assert_eq!(nbg1.to_string(), "€4.15/month + €0.61 IPv4");
        assert_eq!(nbg1.per_hour(), "€0.006664/hour");
        assert_eq!(
            serde_json::to_string(&nbg1).unwrap(),
            r#"{"currency":"EUR","monthly":"4.1531","hourly":"0.006664","ipv4_monthly":"0.6069"}"#
        );
        // The price follows the location.
        let ash = price(&t, &p, "ash", true).unwrap();
        assert_eq!(ash.to_string(), "€5.18/month + €0.71 IPv4");
        // No primary IPv4: no IPv4 part, and null in JSON.
        let v6 = price(&t, &p, "nbg1", false).unwrap();
        assert_eq!(v6.to_string(), "€4.15/month");
        assert_eq!(
            serde_json::to_string(&v6).unwrap(),
            r#"{"currency":"EUR","monthly":"4.1531","hourly":"0.006664","ipv4_monthly":null}"#
        );
        // A location the type has no price for: no price at all.
        assert_eq!(price(&t, &p, "sin", true), None);
        // A location with a type price but no IPv4 price.
        let t2 = stype(&format!(
            "[{}]",
            loc("hel1", "0.0066640000000000", "4.1531")
        ));
        assert_eq!(
            price(&t2, &p, "hel1", true).unwrap().to_string(),
            "€4.15/month + IPv4 (price unknown)"
        );
        // Free is shown as free, exactly.
        let zero = stype(&format!(
            "[{}]",
            loc("nbg1", "0.0000000000", "0.0000000000")
        ));
        let z = price(&zero, &p, "nbg1", true).unwrap();
        assert_eq!(z.to_string(), "€0.00/month + €0.61 IPv4");
        assert_eq!(z.per_hour(), "€0.00/hour");
    }

    #[test]
    fn other_currencies_show_their_escaped_code() {
        let t = stype(&format!("[{}]", loc("ash", "0.0083", "5.1765")));
        let usd = price(&t, &pricing("USD", &[("ash", "0.6")]), "ash", true).unwrap();
        assert_eq!(usd.to_string(), "USD 5.18/month + USD 0.60 IPv4");
        assert_eq!(usd.per_hour(), "USD 0.0083/hour");
        let evil = pricing("\\u001b[31mEUR", &[("ash", "0.6")]);
        let p = price(&t, &evil, "ash", false).unwrap();
        assert_eq!(p.to_string(), "\\x1b[31mEUR 5.18/month");
        assert_eq!(
            serde_json::to_value(&p).unwrap()["currency"],
            "\u{1b}[31mEUR"
        );
    }

    #[test]
    fn unreadable_answers() {
        // A malformed price anywhere in a type's prices makes the answer unreadable.
        let bad = format!(
            r#"{{"name":"cx23","prices":[{}]}}"#,
            loc("nbg1", "4,15", "1")
        );
        let e = serde_json::from_str::<ServerType>(&bad).unwrap_err();
        assert!(e.to_string().contains("is not a decimal number"), "{e}");
        // A number where a string belongs.
        let num = r#"{"name":"cx23","prices":[{"location":"nbg1","price_hourly":{"gross":0.1},"price_monthly":{"gross":"1"}}]}"#;
        assert!(serde_json::from_str::<ServerType>(num).is_err());
        for body in [
            r#"{"pricing":{"currency":"EUR","primary_ips":[{"type":"ipv4","prices":[{"location":"nbg1","price_hourly":{"gross":"0.001"},"price_monthly":{"gross":"-0.5"}}]}]}}"#,
            r#"{"pricing":{"primary_ips":[]}}"#,
            r#"{"pricing":{"currency":"EUR","primary_ips":[{"type":"ipv4"}]}}"#,
            r#"{"pricing":"#,
        ] {
            let e = Pricing::decode(body).unwrap_err().to_string();
            assert!(e.contains("does not understand"), "{body}: {e}");
        }
        // An IP type the program does not know is skipped, not an error.
        let future =
            r#"{"pricing":{"currency":"EUR","primary_ips":[{"type":"ipv5","prices":[]}]}}"#;
        assert_eq!(Pricing::decode(future).unwrap().ipv4, vec![]);
        // A type without prices (an older answer) has no price.
        let t: ServerType = serde_json::from_str(r#"{"name":"cx23"}"#).unwrap();
        assert_eq!(price(&t, &pricing("EUR", &[]), "nbg1", true), None);
    }
}
