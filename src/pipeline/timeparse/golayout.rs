//! Go reference-time layouts (`02/Jan/2006:15:04:05 -0700`): a layout is split into elements
//! once ([`GoLayout`]), then parses text strictly or formats a zoned time. Also the layout
//! names `datetime` accepts (`RFC3339`, `Kitchen`, ...).

use super::zone::{civil_offset_to_ns, civil_to_ns, current_year, fmt_offset, zone_abbr};
use super::{DAYS, MONTHS, Zone, frac_to_ns, month_from_name, weekday_from_name};

/// One piece of a layout: literal text or a reference-time element.
#[derive(Debug, Clone, PartialEq)]
enum Elem {
    Lit(String),
    Year4,
    Year2,
    MonthNum2,
    MonthNum,
    MonthAbbr,
    MonthFull,
    Day2,
    Day,
    DayUnder,
    YearDay,
    Hour24,
    Hour12_2,
    Hour12,
    Min2,
    Min,
    Sec2,
    Sec,
    PmUpper,
    PmLower,
    WeekAbbr,
    WeekFull,
    ZoneName,
    /// `-0700`, `-07:00`, `-07`, `-070000`, `-07:00:00`; `z` = `Z07...` forms.
    Offset {
        colon: bool,
        secs: bool,
        hours_only: bool,
        z: bool,
    },
    /// `.000` (fixed digits) or `.999` (trimmed); n digits.
    Frac {
        n: usize,
        fixed: bool,
        comma: bool,
    },
}

/// Splits a layout into its elements (longest match first, as Go's `nextStdChunk`).
fn go_layout_elems(layout: &str) -> Vec<Elem> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    let table: &[(&str, Elem)] = &[
        ("January", Elem::MonthFull),
        ("Jan", Elem::MonthAbbr),
        ("Monday", Elem::WeekFull),
        ("Mon", Elem::WeekAbbr),
        ("MST", Elem::ZoneName),
        ("2006", Elem::Year4),
        (
            "Z07:00:00",
            Elem::Offset {
                colon: true,
                secs: true,
                hours_only: false,
                z: true,
            },
        ),
        (
            "Z070000",
            Elem::Offset {
                colon: false,
                secs: true,
                hours_only: false,
                z: true,
            },
        ),
        (
            "Z07:00",
            Elem::Offset {
                colon: true,
                secs: false,
                hours_only: false,
                z: true,
            },
        ),
        (
            "Z0700",
            Elem::Offset {
                colon: false,
                secs: false,
                hours_only: false,
                z: true,
            },
        ),
        (
            "Z07",
            Elem::Offset {
                colon: false,
                secs: false,
                hours_only: true,
                z: true,
            },
        ),
        (
            "-07:00:00",
            Elem::Offset {
                colon: true,
                secs: true,
                hours_only: false,
                z: false,
            },
        ),
        (
            "-070000",
            Elem::Offset {
                colon: false,
                secs: true,
                hours_only: false,
                z: false,
            },
        ),
        (
            "-07:00",
            Elem::Offset {
                colon: true,
                secs: false,
                hours_only: false,
                z: false,
            },
        ),
        (
            "-0700",
            Elem::Offset {
                colon: false,
                secs: false,
                hours_only: false,
                z: false,
            },
        ),
        (
            "-07",
            Elem::Offset {
                colon: false,
                secs: false,
                hours_only: true,
                z: false,
            },
        ),
        ("002", Elem::YearDay),
        ("01", Elem::MonthNum2),
        ("02", Elem::Day2),
        ("03", Elem::Hour12_2),
        ("04", Elem::Min2),
        ("05", Elem::Sec2),
        ("06", Elem::Year2),
        ("_2", Elem::DayUnder),
        ("15", Elem::Hour24),
        ("PM", Elem::PmUpper),
        ("pm", Elem::PmLower),
        ("1", Elem::MonthNum),
        ("2", Elem::Day),
        ("3", Elem::Hour12),
        ("4", Elem::Min),
        ("5", Elem::Sec),
    ];
    'outer: while i < b.len() {
        // Fractional seconds: [.,] followed by 0s or 9s, after a seconds element.
        if (b[i] == b'.' || b[i] == b',')
            && matches!(out.last(), Some(Elem::Sec2 | Elem::Sec))
            && lit.is_empty()
            && i + 1 < b.len()
            && (b[i + 1] == b'0' || b[i + 1] == b'9')
        {
            let d = b[i + 1];
            let mut j = i + 1;
            while j < b.len() && b[j] == d {
                j += 1;
            }
            if j == b.len() || !b[j].is_ascii_digit() {
                out.push(Elem::Frac {
                    n: j - i - 1,
                    fixed: d == b'0',
                    comma: b[i] == b',',
                });
                i = j;
                continue;
            }
        }
        for (pat, el) in table {
            if layout[i..].starts_with(pat) {
                // "Jan"/"Mon" must not be followed by a lower-case letter (as in Go).
                if (*pat == "Jan" || *pat == "Mon")
                    && b.get(i + 3).is_some_and(|c| c.is_ascii_lowercase())
                {
                    continue;
                }
                if !lit.is_empty() {
                    out.push(Elem::Lit(std::mem::take(&mut lit)));
                }
                out.push(el.clone());
                i += pat.len();
                continue 'outer;
            }
        }
        let ch = layout[i..].chars().next().unwrap_or(' ');
        lit.push(ch);
        i += ch.len_utf8();
    }
    if !lit.is_empty() {
        out.push(Elem::Lit(lit));
    }
    out
}

/// Go layout names accepted by `datetime`.
pub fn named_layout(name: &str) -> Option<&'static str> {
    Some(match name {
        "ANSIC" => "Mon Jan _2 15:04:05 2006",
        "UnixDate" => "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate" => "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822" => "02 Jan 06 15:04 MST",
        "RFC822Z" => "02 Jan 06 15:04 -0700",
        "RFC850" => "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z" => "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339" => "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano" => "2006-01-02T15:04:05.999999999Z07:00",
        "Kitchen" => "3:04PM",
        "Stamp" => "Jan _2 15:04:05",
        "StampMilli" => "Jan _2 15:04:05.000",
        "StampMicro" => "Jan _2 15:04:05.000000",
        "StampNano" => "Jan _2 15:04:05.000000000",
        "DateTime" => "2006-01-02 15:04:05",
        "DateOnly" => "2006-01-02",
        "TimeOnly" => "15:04:05",
        _ => return None,
    })
}

/// Formats a zoned time with a Go layout.
pub fn go_format(z: &jiff::ZonedDateTime, layout: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let hour = z.hour() as i32;
    for el in go_layout_elems(layout) {
        match el {
            Elem::Lit(s) => out.push_str(&s),
            Elem::Year4 => {
                let _ = write!(out, "{:04}", z.year());
            }
            Elem::Year2 => {
                let _ = write!(out, "{:02}", z.year().rem_euclid(100));
            }
            Elem::MonthNum2 => {
                let _ = write!(out, "{:02}", z.month());
            }
            Elem::MonthNum => {
                let _ = write!(out, "{}", z.month());
            }
            Elem::MonthAbbr => out.push_str(&MONTHS[(z.month() - 1) as usize][..3]),
            Elem::MonthFull => out.push_str(MONTHS[(z.month() - 1) as usize]),
            Elem::Day2 => {
                let _ = write!(out, "{:02}", z.day());
            }
            Elem::Day => {
                let _ = write!(out, "{}", z.day());
            }
            Elem::DayUnder => {
                let _ = write!(out, "{:>2}", z.day());
            }
            Elem::YearDay => {
                let _ = write!(out, "{:03}", z.day_of_year());
            }
            Elem::Hour24 => {
                let _ = write!(out, "{hour:02}");
            }
            Elem::Hour12_2 => {
                let h = if hour % 12 == 0 { 12 } else { hour % 12 };
                let _ = write!(out, "{h:02}");
            }
            Elem::Hour12 => {
                let h = if hour % 12 == 0 { 12 } else { hour % 12 };
                let _ = write!(out, "{h}");
            }
            Elem::Min2 => {
                let _ = write!(out, "{:02}", z.minute());
            }
            Elem::Min => {
                let _ = write!(out, "{}", z.minute());
            }
            Elem::Sec2 => {
                let _ = write!(out, "{:02}", z.second());
            }
            Elem::Sec => {
                let _ = write!(out, "{}", z.second());
            }
            Elem::PmUpper => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Elem::PmLower => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Elem::WeekAbbr => {
                out.push_str(&DAYS[z.weekday().to_sunday_zero_offset() as usize][..3])
            }
            Elem::WeekFull => out.push_str(DAYS[z.weekday().to_sunday_zero_offset() as usize]),
            Elem::ZoneName => out.push_str(&zone_abbr(z)),
            Elem::Offset {
                colon,
                secs,
                hours_only,
                z: zz,
            } => fmt_offset(&mut out, z.offset().seconds(), colon, secs, hours_only, zz),
            Elem::Frac { n, fixed, comma } => {
                let ns = z.subsec_nanosecond();
                let digits = format!("{ns:09}");
                let mut d = &digits[..n.min(9)];
                if !fixed {
                    d = d.trim_end_matches('0');
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(if comma { ',' } else { '.' });
                out.push_str(d);
            }
        }
    }
    out
}

/// A Go layout, split into its elements once.
#[derive(Debug, Clone)]
pub struct GoLayout {
    text: String,
    elems: Vec<Elem>,
}

impl GoLayout {
    pub fn new(layout: &str) -> GoLayout {
        GoLayout {
            text: layout.to_string(),
            elems: go_layout_elems(layout),
        }
    }

    /// Parses `value` strictly in `zone`; returns Unix ns.
    pub fn parse(&self, value: &str, zone: &Zone) -> Result<i64, String> {
        parse_elems(&self.elems, &self.text, value, zone)
    }
}

/// Parses `value` against the elements of `layout` in `zone`; returns Unix ns.
fn parse_elems(elems: &[Elem], layout: &str, value: &str, zone: &Zone) -> Result<i64, String> {
    let mut v = value;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) =
        (None, None, None, 0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut offset: Option<i32> = None;
    let mut yday: Option<i64> = None;
    let bad = || format!("cannot parse {value:?} as {layout:?}");
    fn digits(v: &str, min: usize, max: usize) -> Option<(i64, &str)> {
        let n = v.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n < min {
            return None;
        }
        Some((v[..n].parse().ok()?, &v[n..]))
    }
    for (idx, el) in elems.iter().enumerate() {
        match el {
            Elem::Lit(l) => {
                v = v.strip_prefix(l.as_str()).ok_or_else(bad)?;
            }
            Elem::Year4 => {
                let (n, r) = digits(v, 4, 4).ok_or_else(bad)?;
                y = Some(n);
                v = r;
            }
            Elem::Year2 => {
                let (n, r) = digits(v, 2, 2).ok_or_else(bad)?;
                y = Some(if n >= 69 { 1900 + n } else { 2000 + n });
                v = r;
            }
            Elem::MonthNum2 => {
                let (n, r) = digits(v, 2, 2).ok_or_else(bad)?;
                mo = Some(n);
                v = r;
            }
            Elem::MonthNum => {
                let (n, r) = digits(v, 1, 2).ok_or_else(bad)?;
                mo = Some(n);
                v = r;
            }
            Elem::MonthAbbr | Elem::MonthFull => {
                let n = v.bytes().take_while(u8::is_ascii_alphabetic).count();
                let name = &v[..n];
                if matches!(el, Elem::MonthAbbr) && n != 3 {
                    return Err(bad());
                }
                mo = Some(month_from_name(name).ok_or_else(bad)?);
                v = &v[n..];
            }
            Elem::Day2 => {
                let (n, r) = digits(v, 2, 2).ok_or_else(bad)?;
                d = Some(n);
                v = r;
            }
            Elem::Day | Elem::DayUnder => {
                if matches!(el, Elem::DayUnder) {
                    v = v.strip_prefix(' ').unwrap_or(v);
                }
                let (n, r) = digits(v, 1, 2).ok_or_else(bad)?;
                d = Some(n);
                v = r;
            }
            Elem::YearDay => {
                let (n, r) = digits(v, 3, 3).ok_or_else(bad)?;
                yday = Some(n);
                v = r;
            }
            Elem::Hour24 => {
                let (n, r) = digits(v, 1, 2).ok_or_else(bad)?;
                h = n;
                v = r;
            }
            Elem::Hour12_2 | Elem::Hour12 => {
                let min = if matches!(el, Elem::Hour12_2) { 2 } else { 1 };
                let (n, r) = digits(v, min, 2).ok_or_else(bad)?;
                h = n;
                v = r;
            }
            Elem::Min2 | Elem::Min => {
                let min = if matches!(el, Elem::Min2) { 2 } else { 1 };
                let (n, r) = digits(v, min, 2).ok_or_else(bad)?;
                mi = n;
                v = r;
            }
            Elem::Sec2 | Elem::Sec => {
                let min = if matches!(el, Elem::Sec2) { 2 } else { 1 };
                let (n, r) = digits(v, min, 2).ok_or_else(bad)?;
                s = n;
                v = r;
                // A fraction may follow even if the layout has none.
                if !matches!(elems.get(idx + 1), Some(Elem::Frac { .. }))
                    && v.len() > 1
                    && (v.starts_with('.') || v.starts_with(','))
                    && v.as_bytes()[1].is_ascii_digit()
                {
                    let n = v[1..].bytes().take_while(u8::is_ascii_digit).count();
                    ns = frac_to_ns(&v[1..1 + n]);
                    v = &v[1 + n..];
                }
            }
            Elem::Frac { n, fixed, .. } => {
                if !(v.starts_with('.') || v.starts_with(',')) {
                    if *fixed {
                        return Err(bad());
                    }
                    continue;
                }
                let k = v[1..].bytes().take_while(u8::is_ascii_digit).count();
                if *fixed && k != *n {
                    return Err(bad());
                }
                ns = frac_to_ns(&v[1..1 + k]);
                v = &v[1 + k..];
            }
            Elem::PmUpper | Elem::PmLower => {
                let t = v.get(..2).ok_or_else(bad)?;
                pm = Some(match t.to_ascii_uppercase().as_str() {
                    "PM" => true,
                    "AM" => false,
                    _ => return Err(bad()),
                });
                v = &v[2..];
            }
            Elem::WeekAbbr | Elem::WeekFull => {
                let n = v.bytes().take_while(u8::is_ascii_alphabetic).count();
                if !weekday_from_name(&v[..n]) {
                    return Err(bad());
                }
                v = &v[n..];
            }
            Elem::ZoneName => {
                let n = v.bytes().take_while(|c| c.is_ascii_uppercase()).count();
                if n < 3 {
                    return Err(bad());
                }
                if matches!(&v[..n], "UTC" | "GMT") {
                    offset = Some(0);
                }
                v = &v[n..];
            }
            Elem::Offset {
                colon,
                secs,
                hours_only,
                z,
            } => {
                if *z && v.starts_with('Z') {
                    offset = Some(0);
                    v = &v[1..];
                    continue;
                }
                let sign = match v.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad()),
                };
                v = &v[1..];
                let (hh, r) = digits(v, 2, 2).ok_or_else(bad)?;
                v = r;
                let mut off = hh * 3600;
                if !*hours_only {
                    if *colon {
                        v = v.strip_prefix(':').ok_or_else(bad)?;
                    }
                    let (mm, r) = digits(v, 2, 2).ok_or_else(bad)?;
                    v = r;
                    off += mm * 60;
                    if *secs {
                        if *colon {
                            v = v.strip_prefix(':').ok_or_else(bad)?;
                        }
                        let (ss, r) = digits(v, 2, 2).ok_or_else(bad)?;
                        v = r;
                        off += ss;
                    }
                }
                offset = Some((sign * off) as i32);
            }
        }
    }
    if !v.is_empty() {
        return Err(format!("extra text: {v:?}"));
    }
    if let Some(p) = pm {
        if h > 12 {
            return Err(bad());
        }
        if p && h < 12 {
            h += 12;
        } else if !p && h == 12 {
            h = 0;
        }
    }
    let tz = zone.tz();
    let y = y.unwrap_or_else(|| if mo.is_some() { current_year(&tz) } else { 0 });
    let (mo, d) = match yday {
        Some(yd) if mo.is_none() => {
            let date = jiff::civil::Date::new(y as i16, 1, 1).map_err(|e| e.to_string())?;
            let date = date
                .checked_add(jiff::Span::new().days(yd - 1))
                .map_err(|e| e.to_string())?;
            (date.month() as i64, date.day() as i64)
        }
        _ => (mo.unwrap_or(1), d.unwrap_or(1)),
    };
    match offset {
        Some(off) => civil_offset_to_ns(off, y, mo, d, h, mi, s, ns),
        None => civil_to_ns(&tz, y, mo, d, h, mi, s, ns),
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn utc() -> Zone {
        Zone::Tz(TimeZone::UTC)
    }

    fn go_parse(layout: &str, value: &str, zone: &Zone) -> Result<i64, String> {
        GoLayout::new(layout).parse(value, zone)
    }

    #[test]
    fn go_layouts_parse_and_format() {
        let ns = go_parse(
            "02/Jan/2006:15:04:05 -0700",
            "24/Mar/2021:13:54:19 +0800",
            &utc(),
        )
        .unwrap();
        assert_eq!(ns, 1_616_565_259_000_000_000);
        let ns = go_parse(
            "2006-01-02 15:04:05.000 UTC",
            "2024-02-03 08:15:00.250 UTC",
            &utc(),
        )
        .unwrap();
        assert_eq!(ns, 1_706_948_100_250_000_000);
        assert!(
            go_parse(
                "02 Jan 2006 15:04:05.000",
                "03 Feb 2024 08:15:00.25",
                &utc()
            )
            .is_err()
        );
        let ns = go_parse(
            "Mon Jan 2 15:04:05.000000 2006",
            "Sat Feb 3 08:15:00.000000 2024",
            &utc(),
        )
        .unwrap();
        assert_eq!(ns, 1_706_948_100_000_000_000);
        let z = jiff::Timestamp::from_second(1706948100)
            .unwrap()
            .to_zoned_datetime(TimeZone::UTC);
        assert_eq!(
            go_format(&z, "2006-01-02T15:04:05Z07:00"),
            "2024-02-03T08:15:00Z"
        );
        assert_eq!(
            go_format(&z, named_layout("ANSIC").unwrap()),
            "Sat Feb  3 08:15:00 2024"
        );
        assert_eq!(go_format(&z, named_layout("Kitchen").unwrap()), "8:15AM");
        let z = jiff::Timestamp::from_second(1706948100)
            .unwrap()
            .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(
            go_format(&z, "2006-01-02T15:04:05Z07:00"),
            "2024-02-03T16:15:00+08:00"
        );
    }
}
