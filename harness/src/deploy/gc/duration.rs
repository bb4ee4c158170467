//! Age thresholds and ages as people write and read them: `--older-than 2h` is parsed
//! here, and gc reports ages such as `1d 2h`.

use std::time::Duration;

/// Parses an age threshold: whole numbers with a unit, `s`, `m`, `h`, `d` or `w`, e.g. `30m`,
/// `2h`, `1d`, `1h30m`; a bare `0` is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!(
            "invalid duration `{text}`: {why}; expected a whole number and a unit \
             (s, m, h, d or w), e.g. 30m, 2h, 1d or 1h30m"
        )
    };
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad(&format!("`{c}` is not a unit"))),
        };
        if digits.is_empty() {
            return Err(bad(&format!("no number before `{c}`")));
        }
        let seconds = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| bad("it is too large"))?;
        total = seconds;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad(&format!("`{digits}` has no unit")));
    }
    Ok(Duration::from_secs(total))
}

/// An age for people: the two largest units, e.g. `1d 2h`, `3h 5m`, `4m 10s`, `42s`, `2h`.
pub fn format_age(age: Duration) -> String {
    let s = age.as_secs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60);
    let (major, minor) = match (d, h, m) {
        (0, 0, 0) => return format!("{sec}s"),
        (0, 0, _) => (format!("{m}m"), (sec, "s")),
        (0, _, _) => (format!("{h}h"), (m, "m")),
        _ => (format!("{d}d"), (h, "h")),
    };
    match minor {
        (0, _) => major,
        (n, unit) => format!("{major} {n}{unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("0s"), Ok(0));
        assert_eq!(secs("45s"), Ok(45));
        assert_eq!(secs("30m"), Ok(1_800));
        assert_eq!(secs("2h"), Ok(7_200));
        assert_eq!(secs("1d"), Ok(86_400));
        assert_eq!(secs("1w"), Ok(604_800));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs(" 2h "), Ok(7_200));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("2", "`2` has no unit"),
            ("h", "no number before `h`"),
            ("2x", "`x` is not a unit"),
            ("2 h", "` ` is not a unit"),
            ("-1h", "`-` is not a unit"),
            ("1.5h", "`.` is not a unit"),
            ("2H", "`H` is not a unit"),
            ("99999999999999999999d", "too large"),
        ] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
            assert!(error.contains("e.g. 30m, 2h, 1d"), "{error}");
        }
    }

    #[test]
    fn ages_read_well() {
        let f = |s| format_age(Duration::from_secs(s));
        assert_eq!(f(42), "42s");
        assert_eq!(f(250), "4m 10s");
        assert_eq!(f(3 * 3_600 + 5 * 60 + 9), "3h 5m");
        assert_eq!(f(86_400 + 2 * 3_600), "1d 2h");
        assert_eq!(f(0), "0s");
        assert_eq!(f(7_200), "2h");
        assert_eq!(f(86_400), "1d");
    }
}
