//! Unix seconds to and from UTC calendar dates, for the screens and the
//! command line (Howard Hinnant's `civil_from_days` and `days_from_civil`,
//! proleptic Gregorian calendar).

/// A moment in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: i64,
    /// Day of the month, 1 to 31.
    pub day: i64,
    /// Seconds since midnight.
    pub seconds: i64,
}

/// The calendar date and time of a unix time.
pub fn from_unix(unix: i64) -> Utc {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    Utc {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
        seconds: unix.rem_euclid(86_400),
    }
}

/// Unix seconds at the start of `YYYY-MM-DD` (UTC), if it is a date.
pub fn day_start(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

impl Utc {
    /// `2026-11-27 07:45` (minutes).
    pub fn minutes(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year,
            self.month,
            self.day,
            self.seconds / 3_600,
            self.seconds % 3_600 / 60
        )
    }

    /// `2026-11-27 07:45:12` (seconds).
    pub fn full(&self) -> String {
        format!("{}:{:02}", self.minutes(), self.seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways() {
        assert_eq!(from_unix(0).full(), "1970-01-01 00:00:00");
        assert_eq!(from_unix(1_795_765_512).full(), "2026-11-27 07:45:12");
        assert_eq!(from_unix(951_782_400).minutes(), "2000-02-29 00:00");
        assert_eq!(day_start("1970-01-01"), Some(0));
        assert_eq!(day_start("2026-11-27"), Some(1_795_737_600));
        assert_eq!(day_start("2000-03-01"), Some(951_868_800));
        assert_eq!(day_start("2026-13-01"), None);
        assert_eq!(day_start("yesterday"), None);
        for t in [0, 951_782_400, 1_795_737_600] {
            assert_eq!(day_start(&from_unix(t).minutes()[..10]), Some(t));
        }
    }
}
