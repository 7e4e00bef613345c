//! Time text: Go reference-time layouts (parse and format), strftime, DataKit's zone table,
//! and a port of the behaviour of `araddon/dateparse` (the generic parser behind
//! `default_time`), built on jiff.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// A resolved zone argument.
#[derive(Debug, Clone)]
pub enum Zone {
    /// The host's zone (`TZ` honoured).
    Local,
    Tz(TimeZone),
}

impl Zone {
    pub fn tz(&self) -> TimeZone {
        match self {
            Zone::Local => TimeZone::system(),
            Zone::Tz(t) => t.clone(),
        }
    }
}

/// DataKit's `+N`/`-N` zone table (zones with DST, not fixed offsets).
const OFFSET_ZONES: &[(&str, &str)] = &[
    ("-11", "Pacific/Midway"),
    ("-10", "Pacific/Honolulu"),
    ("-9:30", "Pacific/Marquesas"),
    ("-9", "America/Anchorage"),
    ("-8", "America/Los_Angeles"),
    ("-7", "America/Phoenix"),
    ("-6", "America/Chicago"),
    ("-5", "America/New_York"),
    ("-4", "America/Santiago"),
    ("-3:30", "America/St_Johns"),
    ("-3", "America/Sao_Paulo"),
    ("-2", "America/Noronha"),
    ("-1", "America/Scoresbysund"),
    ("+0", "Europe/London"),
    ("+1", "Europe/Vatican"),
    ("+2", "Europe/Kiev"),
    ("+3", "Europe/Moscow"),
    ("+3:30", "Asia/Tehran"),
    ("+4", "Asia/Dubai"),
    ("+4:30", "Asia/Kabul"),
    ("+5", "Asia/Samarkand"),
    ("+5:30", "Asia/Kolkata"),
    ("+5:45", "Asia/Kathmandu"),
    ("+6", "Asia/Almaty"),
    ("+6:30", "Asia/Yangon"),
    ("+7", "Asia/Jakarta"),
    ("+8", "Asia/Shanghai"),
    ("+8:45", "Australia/Eucla"),
    ("+9", "Asia/Tokyo"),
    ("+9:30", "Australia/Darwin"),
    ("+10", "Australia/Sydney"),
    ("+10:30", "Australia/Lord_Howe"),
    ("+11", "Pacific/Guadalcanal"),
    ("+12", "Pacific/Auckland"),
    ("+12:45", "Pacific/Chatham"),
    ("+13", "Pacific/Apia"),
    ("+14", "Pacific/Kiritimati"),
];

/// Resolves a zone argument: `""` = local, `+8`/`-5` from the table, else an IANA name.
/// `extra_aliases` adds `CST` and `UTC` (parse_date only).
pub fn resolve_zone(name: &str, extra_aliases: bool) -> Result<Zone, String> {
    if name.is_empty() {
        return Ok(Zone::Local);
    }
    let iana = if name.starts_with(['+', '-']) {
        match OFFSET_ZONES.iter().find(|(k, _)| *k == name) {
            Some((_, z)) => *z,
            None => return Err(format!("unknown time zone {name}")),
        }
    } else if extra_aliases && name == "CST" {
        "Asia/Shanghai"
    } else if extra_aliases && name == "UTC" {
        "Europe/London"
    } else {
        name
    };
    TimeZone::get(iana)
        .map(Zone::Tz)
        .map_err(|_| format!("unknown time zone {name}"))
}

/// Civil fields to Unix nanoseconds in `tz`.
#[allow(clippy::too_many_arguments)]
pub fn civil_to_ns(
    tz: &TimeZone,
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    ns: i64,
) -> Result<i64, String> {
    let conv = |v: i64, what: &str| -> Result<i8, String> {
        i8::try_from(v).map_err(|_| format!("{what} out of range"))
    };
    let year = i16::try_from(y).map_err(|_| "year out of range".to_string())?;
    let dt = DateTime::new(
        year,
        conv(mo, "month")?,
        conv(d, "day")?,
        conv(h, "hour")?,
        conv(mi, "minute")?,
        conv(s, "second")?,
        i32::try_from(ns).map_err(|_| "nanosecond out of range".to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let z = dt
        .to_zoned_datetime(tz.clone())
        .map_err(|e| e.to_string())?;
    i64::try_from(z.timestamp().as_nanosecond()).map_err(|_| "time out of range".to_string())
}

/// Civil fields with a fixed UTC offset (seconds east) to Unix nanoseconds.
#[allow(clippy::too_many_arguments)]
pub fn civil_offset_to_ns(
    off_secs: i32,
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    ns: i64,
) -> Result<i64, String> {
    let off = Offset::from_seconds(off_secs).map_err(|e| e.to_string())?;
    civil_to_ns(&TimeZone::fixed(off), y, mo, d, h, mi, s, ns)
}

/// The current time in `tz`, from the agent's clock ([`crate::clock::now_ns`]).
pub fn now_in(tz: &TimeZone) -> jiff::ZonedDateTime {
    jiff::Timestamp::from_nanosecond(i128::from(crate::clock::now_ns()))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(tz.clone())
}

fn current_year(tz: &TimeZone) -> i64 {
    now_in(tz).year() as i64
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A month from its English name or 3-letter abbreviation (any case).
pub fn month_from_name(s: &str) -> Option<i64> {
    // Without allocating: this runs for every line a time-parsing script sees.
    if s.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| name_matches(m, s) || (s.eq_ignore_ascii_case("sept") && *m == "September"))
        .map(|i| i as i64 + 1)
}

/// `s` is `full` or (with exactly 3 letters) its abbreviation, in any case.
fn name_matches(full: &str, s: &str) -> bool {
    full.eq_ignore_ascii_case(s)
        || (s.len() == 3 && full.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(s)))
}

fn weekday_from_name(s: &str) -> bool {
    s.len() >= 3 && DAYS.iter().any(|d| name_matches(d, s))
}

// ---- Go layouts ----------------------------------------------------------------------------

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

fn fmt_offset(
    out: &mut String,
    secs: i32,
    colon: bool,
    with_secs: bool,
    hours_only: bool,
    z: bool,
) {
    use std::fmt::Write;
    if z && secs == 0 {
        out.push('Z');
        return;
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    let _ = write!(out, "{sign}{h:02}");
    if hours_only {
        return;
    }
    if colon {
        out.push(':');
    }
    let _ = write!(out, "{m:02}");
    if with_secs {
        if colon {
            out.push(':');
        }
        let _ = write!(out, "{s:02}");
    }
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

fn zone_abbr(z: &jiff::ZonedDateTime) -> String {
    let info = z.time_zone().to_offset_info(z.timestamp());
    let a = info.abbreviation();
    if a.is_empty() {
        let mut s = String::new();
        fmt_offset(&mut s, z.offset().seconds(), false, false, false, false);
        s
    } else {
        a.to_string()
    }
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

/// Parses `value` strictly with a Go layout in `zone`; returns Unix ns.
pub fn go_parse(layout: &str, value: &str, zone: &Zone) -> Result<i64, String> {
    parse_elems(&go_layout_elems(layout), layout, value, zone)
}

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

fn frac_to_ns(d: &str) -> i64 {
    let mut ns = 0i64;
    for (i, c) in d.bytes().take(9).enumerate() {
        ns += (c - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    ns
}

// ---- strftime (itchyny/timefmt-go directives) ----------------------------------------------

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

// ---- generic parsing (dateparse behaviour) -------------------------------------------------

/// Parses date/time text the way DataKit's `default_time` falls back to (araddon/dateparse,
/// month-first): returns Unix ns. `zone_given` is whether the script passed a zone (some zone
/// words in the text are then ignored, as in the original).
pub fn dateparse(text: &str, zone: &Zone, zone_given: bool) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty time text".into());
    }
    let tz = zone.tz();
    if t.bytes().all(|c| c.is_ascii_digit()) {
        return all_digits(t, &tz);
    }
    let mut p = Parts::default();
    let toks = tokenize(t);
    p.read(&toks, t)?;
    p.finish(&tz, zone_given, t)
}

fn all_digits(t: &str, tz: &TimeZone) -> Result<i64, String> {
    let n: i64 = t.parse().map_err(|_| format!("invalid number {t:?}"))?;
    let d = |s: &str| s.parse::<i64>().unwrap_or(0);
    match t.len() {
        10 => Ok(n.saturating_mul(1_000_000_000)),
        13 => Ok(n.saturating_mul(1_000_000)),
        16 => Ok(n.saturating_mul(1_000)),
        19 => Ok(n),
        8 => civil_to_ns(tz, d(&t[..4]), d(&t[4..6]), d(&t[6..8]), 0, 0, 0, 0),
        12 => civil_to_ns(
            tz,
            d(&t[..4]),
            d(&t[4..6]),
            d(&t[6..8]),
            d(&t[8..10]),
            d(&t[10..12]),
            0,
            0,
        ),
        14 => civil_to_ns(
            tz,
            d(&t[..4]),
            d(&t[4..6]),
            d(&t[6..8]),
            d(&t[8..10]),
            d(&t[10..12]),
            d(&t[12..14]),
            0,
        ),
        4 => civil_to_ns(tz, n, 1, 1, 0, 0, 0, 0),
        6 => civil_to_ns(tz, d(&t[..4]), d(&t[4..6]), 1, 0, 0, 0, 0),
        _ => Err(format!("unrecognised all-digit time {t:?}")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tk<'a> {
    Num(&'a str),
    Word(&'a str),
    Sep(char),
}

fn tokenize(t: &str) -> Vec<Tk<'_>> {
    let mut out = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tk::Num(&t[s..i]));
        } else if c.is_ascii_alphabetic() {
            let s = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Tk::Word(&t[s..i]));
        } else {
            let ch = t[i..].chars().next().unwrap_or(' ');
            let ch = match ch {
                '年' | '月' => '-',
                '日' => ' ',
                c => c,
            };
            out.push(Tk::Sep(ch));
            i += t[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

#[derive(Default, Debug)]
struct Parts {
    y: Option<i64>,
    mo: Option<i64>,
    d: Option<i64>,
    h: Option<i64>,
    mi: Option<i64>,
    s: Option<i64>,
    ns: i64,
    has_frac: bool,
    pm: Option<bool>,
    /// Explicit numeric offset (seconds east).
    offset: Option<i32>,
    /// A `Z` suffix.
    z: bool,
    /// A zone word (`UTC`, `GMT`, `CST`, ...).
    zone_word: Option<String>,
}

impl Parts {
    fn read(&mut self, toks: &[Tk<'_>], text: &str) -> Result<(), String> {
        let bad = || format!("unrecognised time text {text:?}");
        let mut i = 0;
        let num = |i: usize| match toks.get(i) {
            Some(Tk::Num(n)) => Some(*n),
            _ => None,
        };
        let sep = |i: usize| match toks.get(i) {
            Some(Tk::Sep(c)) => Some(*c),
            _ => None,
        };
        while i < toks.len() {
            match &toks[i] {
                Tk::Sep(' ' | ',' | '\t') => i += 1,
                // Between date parts (`06-Sep-2021`).
                Tk::Sep('-' | '/' | '.') if self.h.is_none() && self.d.is_some() => i += 1,
                Tk::Num(n) => {
                    let n = *n;
                    // Time: HH:MM[:SS[.frac]]
                    if sep(i + 1) == Some(':')
                        && num(i + 2).is_some()
                        && self.h.is_none()
                        && n.len() <= 2
                    {
                        self.h = Some(n.parse().map_err(|_| bad())?);
                        self.mi = Some(num(i + 2).unwrap_or("0").parse().map_err(|_| bad())?);
                        i += 3;
                        if sep(i) == Some(':') && num(i + 1).is_some() {
                            self.s = Some(num(i + 1).unwrap_or("0").parse().map_err(|_| bad())?);
                            i += 2;
                            if matches!(sep(i), Some('.' | ','))
                                && let Some(f) = num(i + 1)
                            {
                                self.ns = frac_to_ns(f);
                                self.has_frac = true;
                                i += 2;
                            }
                        }
                        continue;
                    }
                    // Date with separators: Y-M-D, Y/M/D, Y.M.D, M/D/Y, D-M-Y.
                    if let (Some(s1), Some(b)) = (sep(i + 1), num(i + 2))
                        && matches!(s1, '-' | '/' | '.')
                        && self.d.is_none()
                    {
                        let c = if sep(i + 3) == Some(s1) {
                            num(i + 4)
                        } else {
                            None
                        };
                        let mut adv = 3;
                        if n.len() == 4 {
                            self.y = Some(n.parse().map_err(|_| bad())?);
                            self.mo = Some(b.parse().map_err(|_| bad())?);
                            if let Some(c) = c {
                                self.d = Some(c.parse().map_err(|_| bad())?);
                                adv = 5;
                            } else {
                                self.d = Some(1);
                            }
                        } else if let Some(c) = c {
                            // Month first when ambiguous (dateparse's default).
                            let (a, bb) = (
                                n.parse::<i64>().map_err(|_| bad())?,
                                b.parse::<i64>().map_err(|_| bad())?,
                            );
                            let year: i64 = c.parse().map_err(|_| bad())?;
                            let year = if c.len() == 2 { 2000 + year } else { year };
                            if a > 12 && bb <= 12 {
                                self.d = Some(a);
                                self.mo = Some(bb);
                            } else {
                                self.mo = Some(a);
                                self.d = Some(bb);
                            }
                            self.y = Some(year);
                            adv = 5;
                        } else {
                            return Err(bad());
                        }
                        i += adv;
                        continue;
                    }
                    // D-Mon-YYYY / D Mon YYYY
                    let wi = match (toks.get(i + 1), toks.get(i + 2)) {
                        (Some(Tk::Word(_)), _) => Some(i + 1),
                        (Some(Tk::Sep(' ' | '-' | '/')), Some(Tk::Word(_))) => Some(i + 2),
                        _ => None,
                    };
                    if let Some(wi) = wi
                        && let Some(Tk::Word(w)) = toks.get(wi)
                        && let Some(m) = month_from_name(w)
                        && self.d.is_none()
                        && n.len() <= 2
                    {
                        self.d = Some(n.parse().map_err(|_| bad())?);
                        self.mo = Some(m);
                        i = wi + 1;
                        continue;
                    }
                    // A lone 4-digit number is the year; a 1-2 digit number after a month is the day.
                    if n.len() == 4 && self.y.is_none() {
                        self.y = Some(n.parse().map_err(|_| bad())?);
                    } else if n.len() <= 2 && self.mo.is_some() && self.d.is_none() {
                        self.d = Some(n.parse().map_err(|_| bad())?);
                    } else if n.len() <= 2
                        && self.d.is_some()
                        && self.y.is_none()
                        && self.h.is_none()
                    {
                        self.y = Some(2000 + n.parse::<i64>().map_err(|_| bad())?);
                    } else {
                        return Err(bad());
                    }
                    i += 1;
                }
                Tk::Word(w) => {
                    let w = *w;
                    if let Some(m) = month_from_name(w) {
                        self.mo = Some(m);
                    } else if weekday_from_name(w)
                        || (w.eq_ignore_ascii_case("T") && self.h.is_none())
                    {
                        // Weekday names and the `T` separator carry nothing.
                    } else if w.eq_ignore_ascii_case("AM") || w.eq_ignore_ascii_case("PM") {
                        self.pm = Some(w.eq_ignore_ascii_case("PM"));
                    } else if w == "Z" {
                        self.z = true;
                    } else if w.len() >= 2
                        && w.len() <= 5
                        && w.bytes().all(|c| c.is_ascii_uppercase())
                    {
                        self.zone_word = Some(w.to_string());
                    } else if w.len() > 1
                        && w.starts_with('T')
                        && w[1..].bytes().all(|c| c.is_ascii_uppercase())
                    {
                        self.zone_word = Some(w[1..].to_string());
                    } else {
                        return Err(bad());
                    }
                    i += 1;
                }
                Tk::Sep(c @ ('+' | '-')) if self.h.is_some() => {
                    // Numeric offset: ±hh[:mm] / ±hhmm.
                    let sign = if *c == '-' { -1 } else { 1 };
                    let Some(a) = num(i + 1) else {
                        return Err(bad());
                    };
                    let (hh, mm, adv) = if a.len() == 4 {
                        (&a[..2], &a[2..], 2)
                    } else if sep(i + 2) == Some(':') && num(i + 3).is_some() {
                        (a, num(i + 3).unwrap_or("0"), 4)
                    } else {
                        (a, "0", 2)
                    };
                    let hh: i32 = hh.parse().map_err(|_| bad())?;
                    let mm: i32 = mm.parse().map_err(|_| bad())?;
                    self.offset = Some(sign * (hh * 3600 + mm * 60));
                    i += adv;
                }
                Tk::Sep('(') => {
                    // "(UTC)" style annotations are skipped.
                    while i < toks.len() && toks[i] != Tk::Sep(')') {
                        i += 1;
                    }
                    i += 1;
                }
                _ => return Err(bad()),
            }
        }
        Ok(())
    }

    fn finish(mut self, tz: &TimeZone, zone_given: bool, text: &str) -> Result<i64, String> {
        if self.mo.is_none() && self.y.is_none() && self.d.is_none() {
            return Err(format!("no date in time text {text:?}"));
        }
        let y = match self.y {
            Some(y) => y,
            // A syslog timestamp without a year: take the current one (the original
            // overflows to a huge negative time here).
            None => current_year(tz),
        };
        let mut h = self.h.unwrap_or(0);
        if let Some(pm) = self.pm {
            if pm && h < 12 {
                h += 12;
            } else if !pm && h == 12 {
                h = 0;
            }
        }
        let (mo, d, mi, s) = (
            self.mo.unwrap_or(1),
            self.d.unwrap_or(1),
            self.mi.unwrap_or(0),
            self.s.unwrap_or(0),
        );
        // Zones: an explicit offset wins; `Z` counts only without a fraction (quirk of the
        // original); UTC is honoured; GMT only when no zone argument was given.
        if self.z && !self.has_frac {
            self.offset = Some(0);
        }
        if self.offset.is_none() {
            match self.zone_word.as_deref() {
                Some("UTC") => self.offset = Some(0),
                Some("GMT") if !zone_given => self.offset = Some(0),
                _ => {}
            }
        }
        match self.offset {
            Some(off) => civil_offset_to_ns(off, y, mo, d, h, mi, s, self.ns),
            None => civil_to_ns(tz, y, mo, d, h, mi, s, self.ns),
        }
    }
}

/// Go's `time.ParseDuration`.
pub fn go_duration(s: &str) -> Option<i64> {
    let orig = s;
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut total_i: i128 = 0;
    while !s.is_empty() {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..n];
        s = &s[n..];
        let mut frac_part = "";
        if let Some(r) = s.strip_prefix('.') {
            let k = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..k];
            s = &r[k..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let u = s
            .bytes()
            .take_while(|c| !c.is_ascii_digit() && *c != b'.')
            .count();
        let unit = &s[..u];
        s = &s[u..];
        let mult: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let iv: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        total_i = total_i.checked_add(iv.checked_mul(mult)?)?;
        if !frac_part.is_empty() {
            let f: f64 = format!("0.{frac_part}").parse().ok()?;
            total += f * mult as f64;
        }
    }
    let v = total_i + total as i128;
    let v = if neg { -v } else { v };
    let _ = orig;
    i64::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::Tz(TimeZone::UTC)
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
        assert_eq!(strftime(&z, "%Y/%m/%d %H:%M:%S"), "2024/02/03 16:15:00");
        assert_eq!(
            go_format(&z, "2006-01-02T15:04:05Z07:00"),
            "2024-02-03T16:15:00+08:00"
        );
    }

    #[test]
    fn dateparse_forms() {
        let z = utc();
        let p = |t: &str| dateparse(t, &z, false).unwrap();
        let base = 1_706_948_100_000_000_000_i64; // 2024-02-03 08:15:00 UTC
        assert_eq!(p("2024-02-03T08:15:00Z"), base);
        assert_eq!(p("2024-02-03T08:15:00+00:00"), base);
        assert_eq!(p("2024-02-03T16:15:00+08:00"), base);
        assert_eq!(p("2024-02-03T08:15:00.123456789Z"), base + 123456789);
        assert_eq!(p("2024-02-03 08:15:00"), base);
        assert_eq!(p("2024-02-03 08:15:00,250"), base + 250_000_000);
        assert_eq!(p("2024-02-03 16:15:00 +0800"), base);
        assert_eq!(p("2024/02/03 08:15:00"), base);
        assert_eq!(p("02/03/2024 08:15:00"), base);
        assert_eq!(p("Feb 3, 2024 8:15:00 AM"), base);
        assert_eq!(p("Sat, 03 Feb 2024 08:15:00 +0000"), base);
        assert_eq!(p("Sat, 03 Feb 2024 08:15:00 GMT"), base);
        assert_eq!(p("Sat Feb 3 08:15:00 UTC 2024"), base);
        assert_eq!(p("2024-02-03"), base - 29_700_000_000_000);
        assert_eq!(p("20240203"), base - 29_700_000_000_000);
        assert_eq!(p("2024年02月03日"), base - 29_700_000_000_000);
        assert_eq!(p("1706948100"), base);
        assert_eq!(p("1706948100000"), base);
        assert_eq!(p("1706948100000000"), base);
        assert_eq!(p("1706948100000000000"), base);
        assert_eq!(p("03-Feb-2024 08:15:00.000"), base);
        assert!(dateparse("not a time", &z, false).is_err());
        // The fraction + Z quirk: Z ignored, the zone applies.
        let sh = resolve_zone("Asia/Shanghai", false).unwrap();
        assert_eq!(
            dateparse("2024-02-03T16:15:00.000Z", &sh, true).unwrap(),
            base
        );
        // GMT ignored when a zone is given.
        assert_eq!(
            dateparse("Sat, 03 Feb 2024 16:15:00 GMT", &sh, true).unwrap(),
            base
        );
    }

    #[test]
    fn zones_and_durations() {
        assert!(resolve_zone("+8", false).is_ok());
        assert!(resolve_zone("+09:00", false).is_err());
        assert!(resolve_zone("CST", false).is_err());
        assert!(resolve_zone("CST", true).is_ok());
        assert!(resolve_zone("Nope/Zone", false).is_err());
        assert_eq!(go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration("-2ms"), Some(-2_000_000));
        assert_eq!(go_duration("10µs"), Some(10_000));
        assert_eq!(go_duration("10"), None);
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("0"), Some(0));
    }
}
