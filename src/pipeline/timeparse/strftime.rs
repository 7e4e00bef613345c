//! strftime-style formatting (`%Y-%m-%d %H:%M:%S`), with the directives of
//! itchyny/timefmt-go, which DataKit's `datetime` uses. Unknown directives are written as they are.

use super::zone::{fmt_offset, zone_abbr};
use super::{DAYS, MONTHS};

/// Formats a zoned time with strftime directives.
pub fn strftime(z: &jiff::ZonedDateTime, fmt: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut it = fmt.chars();
    let hour = z.hour() as i32;
    let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let wd = z.weekday().to_sunday_zero_offset() as usize;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(d) = it.next() else {
            out.push('%');
            break;
        };
        let _ = match d {
            'Y' => write!(out, "{:04}", z.year()),
            'C' => write!(out, "{:02}", z.year() / 100),
            'y' => write!(out, "{:02}", z.year().rem_euclid(100)),
            'm' => write!(out, "{:02}", z.month()),
            'B' => write!(out, "{}", MONTHS[(z.month() - 1) as usize]),
            'b' | 'h' => write!(out, "{}", &MONTHS[(z.month() - 1) as usize][..3]),
            'd' => write!(out, "{:02}", z.day()),
            'e' => write!(out, "{:>2}", z.day()),
            'j' => write!(out, "{:03}", z.day_of_year()),
            'H' => write!(out, "{hour:02}"),
            'k' => write!(out, "{hour:>2}"),
            'I' => write!(out, "{h12:02}"),
            'l' => write!(out, "{h12:>2}"),
            'M' => write!(out, "{:02}", z.minute()),
            'S' => write!(out, "{:02}", z.second()),
            'f' => write!(out, "{:06}", z.subsec_nanosecond() / 1000),
            'L' => write!(out, "{:03}", z.subsec_nanosecond() / 1_000_000),
            'N' => write!(out, "{:09}", z.subsec_nanosecond()),
            'p' => write!(out, "{}", if hour >= 12 { "PM" } else { "AM" }),
            'P' => write!(out, "{}", if hour >= 12 { "pm" } else { "am" }),
            'A' => write!(out, "{}", DAYS[wd]),
            'a' => write!(out, "{}", &DAYS[wd][..3]),
            'u' => write!(out, "{}", if wd == 0 { 7 } else { wd }),
            'w' => write!(out, "{wd}"),
            'Z' => write!(out, "{}", zone_abbr(z)),
            'z' => {
                fmt_offset(&mut out, z.offset().seconds(), false, false, false, false);
                Ok(())
            }
            's' => write!(out, "{}", z.timestamp().as_second()),
            'F' => write!(out, "{:04}-{:02}-{:02}", z.year(), z.month(), z.day()),
            'T' => write!(out, "{hour:02}:{:02}:{:02}", z.minute(), z.second()),
            'R' => write!(out, "{hour:02}:{:02}", z.minute()),
            'D' => write!(
                out,
                "{:02}/{:02}/{:02}",
                z.month(),
                z.day(),
                z.year().rem_euclid(100)
            ),
            'n' => out.write_char('\n'),
            't' => out.write_char('\t'),
            '%' => out.write_char('%'),
            ':' if it.clone().next() == Some('z') => {
                it.next();
                fmt_offset(&mut out, z.offset().seconds(), true, false, false, false);
                Ok(())
            }
            other => write!(out, "%{other}"),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    #[test]
    fn strftime_directives() {
        let z = jiff::Timestamp::from_second(1706948100)
            .unwrap()
            .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(strftime(&z, "%Y/%m/%d %H:%M:%S"), "2024/02/03 16:15:00");
    }
}
