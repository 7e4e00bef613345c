//! Zones: what a script's zone argument names, civil fields in a zone as Unix nanoseconds,
//! the current time in a zone, and a zone's offset or abbreviation as text.

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

/// The current year in `tz` (for dates written without one).
pub(super) fn current_year(tz: &TimeZone) -> i64 {
    now_in(tz).year() as i64
}

/// Writes a UTC offset of `secs` seconds east: `+0800`, `+08:00`, `+08`, `+080000`, or `Z`
/// for zero when `z`.
pub(super) fn fmt_offset(
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

/// The zone's abbreviation at that instant (`CST`), or its offset (`+0800`) when it has none.
pub(super) fn zone_abbr(z: &jiff::ZonedDateTime) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        assert!(resolve_zone("+8", false).is_ok());
        assert!(resolve_zone("+09:00", false).is_err());
        assert!(resolve_zone("CST", false).is_err());
        assert!(resolve_zone("CST", true).is_ok());
        assert!(resolve_zone("Nope/Zone", false).is_err());
    }
}
