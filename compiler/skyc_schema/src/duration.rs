//! Durations: what users write (`"2s"`, `"250ms"`, `"1m30s"`, `"1.5h"`) and the canonical
//! protobuf JSON form (`"90s"`, `"0.250s"`).

use std::fmt;

/// A non-negative or negative span of time, in whole nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub nanos: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const UNITS: &[(&str, i128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Protobuf's limit: ±315,576,000,000 seconds (10,000 years).
const MAX_SECONDS: i128 = 315_576_000_000;

/// Parses a sequence of `<number><unit>` parts (`1h30m`, `0.5s`, `250ms`), optionally signed.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let bad = |why: &str| {
        DurationError(format!(
            "invalid duration `{text}`: {why} (write e.g. \"2s\", \"250ms\", \"1m30s\")"
        ))
    };
    let s = text.trim();
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| bad("a unit is missing"))?;
        if num_len == 0 {
            return Err(bad("a number is missing"));
        }
        let (num, after) = rest.split_at(num_len);
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| after.starts_with(u))
            .max_by_key(|(u, _)| u.len())
            .ok_or_else(|| bad("the unit must be one of h, m, s, ms, us, ns"))?;
        // `m` must not swallow the `m` of `ms`: the longest unit wins above.
        rest = &after[unit.len()..];
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(bad("the number is malformed"));
        }
        let int: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad("the number is too large"))?
        };
        let mut part = int
            .checked_mul(*scale)
            .ok_or_else(|| bad("the number is too large"))?;
        let mut place = *scale;
        for d in frac.chars() {
            place /= 10;
            part += (d as i128 - '0' as i128) * place;
        }
        total = total
            .checked_add(part)
            .ok_or_else(|| bad("the number is too large"))?;
        if total / 1_000_000_000 > MAX_SECONDS {
            return Err(bad("it is longer than 10,000 years"));
        }
    }
    Ok(Duration {
        nanos: if neg { -total } else { total },
    })
}

impl Duration {
    pub fn seconds(self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// The canonical protobuf JSON text: seconds with 0, 3, 6 or 9 fractional digits.
    pub fn to_proto_json(self) -> String {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let n = self.nanos.abs();
        let (secs, frac) = (n / 1_000_000_000, n % 1_000_000_000);
        if frac == 0 {
            format!("{sign}{secs}s")
        } else if frac % 1_000_000 == 0 {
            format!("{sign}{secs}.{:03}s", frac / 1_000_000)
        } else if frac % 1_000 == 0 {
            format!("{sign}{secs}.{:06}s", frac / 1_000)
        } else {
            format!("{sign}{secs}.{frac:09}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        parse_duration(s).unwrap().to_proto_json()
    }

    #[test]
    fn parses_and_canonicalizes() {
        assert_eq!(canon("2s"), "2s");
        assert_eq!(canon("0.25s"), "0.250s");
        assert_eq!(canon("250ms"), "0.250s");
        assert_eq!(canon("1m30s"), "90s");
        assert_eq!(canon("1.5h"), "5400s");
        assert_eq!(canon("1us"), "0.000001s");
        assert_eq!(canon("1ns"), "0.000000001s");
        assert_eq!(canon("-3s"), "-3s");
        assert_eq!(canon(".5s"), "0.500s");
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "2",
            "s",
            "2 s",
            "2x",
            "1.2.3s",
            "99999999999999h",
            "abc",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
