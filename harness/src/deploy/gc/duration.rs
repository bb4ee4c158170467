//! Age thresholds and ages as people write and read them: `--older-than 2h` is parsed by
//! humantime, and gc reports ages such as `1d 2h` (the two largest units; humantime's own
//! format prints every unit, `1day 2h 3m 4s`, which reads worse in a table of ages).

use std::time::Duration;

/// Parses an age threshold as humantime does (`30m`, `2h`, `1d`, `1h30m`, `2 weeks`; a bare
/// `0` is zero); an error says what is wrong and gives examples.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration `{text}`: {e}; expected a number and a unit, e.g. 30m, 2h, 1d or 1h30m")
    })
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
        assert_eq!(secs("1.5h"), Ok(5_400));
        assert_eq!(secs("2 weeks"), Ok(1_209_600));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("2", "time unit needed"),
            ("h", "expected number"),
            ("2x", "unknown time unit \"x\""),
            ("-1h", "expected number"),
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
