//! Cron schedules as Kubernetes CronJobs accept them: five fields (minute, hour, day of month,
//! month, day of week) with `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`,
//! month and weekday names, `?` for the day fields, and the macros `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`. Errors name the field and the bad
//! value.

const FIELDS: &[(&str, u32, u32, &[&str])] = &[
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    ),
];

const MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Checks a CronJob's `timeZone`: a name from the IANA time zone database, as the API server
/// checks it (`Local` is refused: the controller's own zone is not an explicit one). On error,
/// returns the reason and the closest known name, if any.
pub fn check_time_zone(zone: &str) -> Result<(), (String, Option<&'static str>)> {
    if zone.eq_ignore_ascii_case("local") {
        return Err((
            "`Local` is the controller's own time zone, not an explicit one".into(),
            None,
        ));
    }
    if zone.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(());
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let hint = skyc_diag::did_you_mean(zone, names).or_else(|| {
        // `Berlin` for `Europe/Berlin`: the city alone names exactly one zone.
        let mut by_city = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|n| {
                n.rsplit('/')
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(zone))
            });
        match (by_city.next(), by_city.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    });
    Err((
        format!("`{zone}` is not a time zone of the IANA database"),
        hint,
    ))
}

/// Checks a schedule; the error says which field is wrong and why.
pub fn check_schedule(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with('@') {
        return if MACROS.contains(&s.to_ascii_lowercase().as_str()) {
            Ok(())
        } else {
            Err(format!(
                "`{s}` is not a schedule macro (use one of {})",
                MACROS.join(", ")
            ))
        };
    }
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err(
            "time zones in the schedule are not supported by Kubernetes; set `timeZone`".into(),
        );
    }
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "a schedule has 5 fields (minute hour day-of-month month day-of-week), `{s}` has {}",
            parts.len()
        ));
    }
    for (part, (name, min, max, names)) in parts.iter().zip(FIELDS) {
        check_field(part, name, *min, *max, names)?;
    }
    Ok(())
}

fn value(v: &str, name: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
        // Month names count from 1, weekday names from 0.
        return Ok(i as u32 + min);
    }
    let n: u32 = v.parse().map_err(|_| {
        if names.is_empty() {
            format!("the {name} field has `{v}`, which is not a number")
        } else {
            format!(
                "the {name} field has `{v}`, which is neither a number nor one of {}",
                names.join(", ")
            )
        }
    })?;
    if n < min || n > max {
        return Err(format!("the {name} field has {n}, outside {min}-{max}"));
    }
    Ok(n)
}

fn check_field(field: &str, name: &str, min: u32, max: u32, names: &[&str]) -> Result<(), String> {
    for item in field.split(',') {
        if item.is_empty() {
            return Err(format!("the {name} field `{field}` has an empty list item"));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            let n: u32 = step.parse().map_err(|_| {
                format!("the {name} field has step `{step}`, which is not a number")
            })?;
            if n == 0 || n > max.max(1) {
                return Err(format!("the {name} field has step {n}, outside 1-{max}"));
            }
        }
        if range == "*" || (range == "?" && name.starts_with("day")) {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (
                    value(a, name, min, max, names)?,
                    value(b, name, min, max, names)?,
                );
                if a > b {
                    return Err(format!(
                        "the {name} field has the range {range}, which runs backwards"
                    ));
                }
            }
            None => {
                value(range, name, min, max, names)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_schedule as c;

    #[test]
    fn accepts_what_kubernetes_accepts() {
        for s in [
            "* * * * *",
            "*/5 * * * *",
            "0 3 * * 1-5",
            "15,45 9-17 * JAN-MAR MON,FRI",
            "0 0 1 */2 ?",
            "@hourly",
            "@Daily",
            "0 0 * * 7",
            "5-55/10 * * * *",
        ] {
            assert!(c(s).is_ok(), "{s}: {:?}", c(s));
        }
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            c("60 * * * *").unwrap_err(),
            "the minute field has 60, outside 0-59"
        );
        assert!(c("* * * *").unwrap_err().contains("has 4"));
        assert!(c("0 25 * * *").unwrap_err().contains("hour field has 25"));
        assert!(c("0 0 * FOO *")
            .unwrap_err()
            .contains("month field has `FOO`"));
        assert!(c("*/0 * * * *").unwrap_err().contains("step 0"));
        assert!(c("0 0 5-1 * *").unwrap_err().contains("runs backwards"));
        assert!(c("@often").unwrap_err().contains("not a schedule macro"));
        assert!(c("0 0 * * 1,,2").unwrap_err().contains("empty list item"));
        assert!(c("CRON_TZ=UTC 0 0 * * *").unwrap_err().contains("timeZone"));
    }
}
