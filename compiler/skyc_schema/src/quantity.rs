//! Kubernetes resource quantities: `<signedNumber><suffix>` with binary (`Ki`…`Ei`), decimal
//! (`m`, `k`, `M`…`E`) or exponent (`e3`) suffixes.

use std::fmt;

/// A parsed quantity: its text as written and its approximate numeric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub text: String,
    /// The value in base units (cores, bytes), for comparisons.
    pub value: f64,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a quantity string is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a quantity with the grammar of `k8s.io/apimachinery/pkg/api/resource`.
pub fn parse_quantity(text: &str) -> Result<Quantity, QuantityError> {
    let err = |why: &str| Err(QuantityError(format!("invalid quantity `{text}`: {why}")));
    if text.is_empty() {
        return err("it is empty");
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes[0], b'+' | b'-') {
        i += 1;
    }
    let num_start = i;
    let mut seen_digit = false;
    let mut seen_dot = false;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if !seen_digit {
        return err("it must start with a number");
    }
    let number: f64 = match text[..i].parse() {
        Ok(n) => n,
        Err(_) => return err("the number is malformed"),
    };
    let _ = num_start;
    let suffix = &text[i..];
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp = &s[1..];
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return err("the exponent must be an integer, as in `1e3`");
            }
            match exp.parse::<i32>() {
                Ok(e) => 10f64.powi(e),
                Err(_) => return err("the exponent is out of range"),
            }
        }
        other => {
            return Err(QuantityError(format!(
                "invalid quantity `{text}`: unknown suffix `{other}` (use m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e3)"
            )))
        }
    };
    let value = number * factor;
    if !value.is_finite() || value.abs() > 9.223_372_036_854_776e18 {
        return err("it is larger than 2^63-1");
    }
    Ok(Quantity {
        text: text.to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        for (s, v) in [
            ("500m", 0.5),
            ("4", 4.0),
            ("1.5", 1.5),
            ("16Gi", 16.0 * 1024f64.powi(3)),
            ("128Mi", 128.0 * 1024f64.powi(2)),
            ("1e3", 1000.0),
            ("+2k", 2000.0),
            (".5", 0.5),
            ("-1", -1.0),
        ] {
            assert_eq!(parse_quantity(s).unwrap().value, v, "{s}");
        }
    }

    #[test]
    fn invalid() {
        for s in ["", "16 GB", "Gi", "1.2.3", "5x", "1e", "1e+", "--1", "1GB"] {
            assert!(parse_quantity(s).is_err(), "{s}");
        }
    }
}
