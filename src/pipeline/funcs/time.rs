//! Time functions: `default_time`, `default_time_with_fmt`, `datetime`, `parse_date`,
//! `parse_duration`, `duration_precision`, `adjust_timezone`, `timestamp`.

use std::sync::LazyLock;

use super::{Func, func, need};
use crate::clock::now_ns;
use crate::pipeline::ast::{Call, ExprKind, Pos};
use crate::pipeline::compile::{
    CResult, CheckError, Cx, Ex, bind, expr_arg, ident_arg, key_arg, str_lit,
};
use crate::pipeline::runtime::{RResult, Rt, err};
use crate::pipeline::timeparse::{
    GoLayout, Zone, civil_to_ns, go_format, month_from_name, named_layout, now_in, resolve_zone,
    strftime,
};
use crate::pipeline::value::Val;
use crate::point::Value as PValue;

pub use crate::pipeline::timeparse::{dateparse, go_duration};

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `02/Jan/2006:15:04:05 -0700` (nginx/apache access logs) without the general machinery.
fn fast_access_log(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Some(v)
    };
    let d = num(0..2)?;
    let mo = month_from_name(t.get(3..6)?)?;
    let y = num(7..11)?;
    let (h, mi, s) = (num(12..14)?, num(15..17)?, num(18..20)?);
    if b[14] != b':' || b[17] != b':' || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off = sign * (num(22..24)? * 3600 + num(24..26)? * 60);
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    secs.checked_mul(1_000_000_000)
}

/// The fixed layouts `default_time` tries before the generic parser, in order.
static LAYOUTS: LazyLock<Vec<GoLayout>> = LazyLock::new(|| {
    [
        "02/Jan/2006:15:04:05 -0700",
        "02 Jan 2006 15:04:05.000",
        "02 Jan 15:04:05.000",
        "060102 15:04:05",
        "2006/01/02 - 15:04:05",
        "Mon Jan 2 15:04:05.000000 2006",
        "2006-01-02 15:04:05.000 UTC",
    ]
    .iter()
    .map(|l| GoLayout::new(l))
    .collect()
});

/// `default_time`'s conversion: fixed layouts, then the generic parser.
pub fn default_time_ns(text: &str, zone: &Zone, zone_given: bool) -> Result<i64, String> {
    if let Some(ns) = fast_access_log(text) {
        return Ok(ns);
    }
    for l in LAYOUTS.iter() {
        if let Ok(ns) = l.parse(text, zone)
            && ns > 0
        {
            return Ok(ns);
        }
    }
    dateparse(text, zone, zone_given)
}

/// A zone argument resolved at compile time when it is a literal.
enum ZoneArg {
    Fixed(Result<Zone, String>, bool),
    Dynamic(Ex),
}

impl ZoneArg {
    fn compile(
        cx: &mut Cx<'_>,
        e: Option<&crate::pipeline::ast::Expr>,
        aliases: bool,
    ) -> CResult<ZoneArg> {
        Ok(match e {
            None => ZoneArg::Fixed(Ok(Zone::Local), false),
            Some(e) => match &e.kind {
                ExprKind::Str(s) => ZoneArg::Fixed(resolve_zone(s, aliases), !s.is_empty()),
                _ => ZoneArg::Dynamic(cx.expr(e)?),
            },
        })
    }

    fn get(&self, rt: &mut Rt<'_>, aliases: bool) -> RResult<(Result<Zone, String>, bool)> {
        Ok(match self {
            ZoneArg::Fixed(z, given) => (z.clone(), *given),
            ZoneArg::Dynamic(e) => match rt.eval(e)? {
                Val::Str(s) => (resolve_zone(&s, aliases), !s.is_empty()),
                Val::Nil => (Ok(Zone::Local), false),
                other => (
                    Err(format!("time zone must be a str, got {}", other.err_type())),
                    true,
                ),
            },
        })
    }
}

pub fn default_time(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "timezone"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let zone = ZoneArg::compile(cx, b.get(1), false)?;
    Ok(func(move |rt, _| {
        let (zone, given) = zone.get(rt, false)?;
        let r = {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            match &zone {
                Ok(z) => default_time_ns(text.trim(), z, given),
                Err(e) => Err(e.clone()),
            }
        };
        match r {
            Ok(ns) => rt.write(&key.name, PValue::Int(ns)),
            Err(reason) => {
                rt.write(
                    "pl_msg",
                    PValue::Str(format!("time convert failed: {reason}")),
                );
                rt.write(&key.name, PValue::Int(now_ns()));
            }
        }
        Ok(Val::Nil)
    }))
}

pub fn default_time_with_fmt(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "fmt", "timezone"], 2)?;
    let key = ident_arg(cx, need(&b, 0)?)?;
    let layout = GoLayout::new(&str_lit(need(&b, 1)?)?);
    let zone = match b.get(2) {
        Some(e) => resolve_zone(&str_lit(e)?, false).map_err(|m| CheckError::new(e.pos, m))?,
        None => Zone::Local,
    };
    Ok(func(move |rt, _| {
        let r = {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            layout.parse(&text, &zone)
        };
        if let Ok(ns) = r {
            rt.write(&key.name, PValue::Int(ns));
        }
        Ok(Val::Nil)
    }))
}

enum Fmt {
    Layout(String),
    Strftime(String),
}

pub fn datetime(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "precision", "fmt", "tz"], 3)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let precision = str_lit(need(&b, 1)?)?;
    let fmt_s = str_lit(need(&b, 2)?)?;
    let fmt = match named_layout(&fmt_s) {
        Some(l) => Fmt::Layout(l.to_string()),
        None => Fmt::Strftime(fmt_s),
    };
    let zone = ZoneArg::compile(cx, b.get(3), false)?;
    let scale: i64 = match precision.as_str() {
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" => 1_000,
        _ => 1,
    };
    Ok(func(move |rt, pos| {
        let v = rt.read(&key);
        let n: i64 = match &v {
            Val::Int(i) => *i,
            Val::Float(f) => *f as i64,
            Val::Str(s) => match s.trim().parse() {
                Ok(i) => i,
                Err(_) => return Ok(Val::Nil),
            },
            _ => return Ok(Val::Nil),
        };
        let (zone, _) = zone.get(rt, false)?;
        let zone = match zone {
            Ok(z) => z,
            Err(e) => return err(pos, e),
        };
        let ns = (n as i128) * scale as i128;
        let Ok(ts) = jiff::Timestamp::from_nanosecond(ns) else {
            return err(pos, format!("datetime: {n} is out of range"));
        };
        let z = ts.to_zoned_datetime(zone.tz());
        let out = match &fmt {
            Fmt::Layout(l) => go_format(&z, l),
            Fmt::Strftime(f) => strftime(&z, f),
        };
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

pub fn parse_date(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let names = [
        "key", "yy", "MM", "dd", "hh", "mm", "ss", "ms", "us", "ns", "zone",
    ];
    let b = bind(call, pos, &names, 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let mut parts: Vec<Option<Ex>> = Vec::new();
    for i in 1..10 {
        parts.push(expr_arg(cx, b.get(i))?);
    }
    let zone = match b.get(10) {
        None => ZoneArg::Fixed(Ok(Zone::Tz(jiff::tz::TimeZone::UTC)), false),
        Some(e) => match &e.kind {
            ExprKind::Str(s) if s.is_empty() => {
                ZoneArg::Fixed(Ok(Zone::Tz(jiff::tz::TimeZone::UTC)), false)
            }
            _ => ZoneArg::compile(cx, Some(e), true)?,
        },
    };
    Ok(func(move |rt, pos| {
        let mut vals: [Option<String>; 9] = Default::default();
        for (i, p) in parts.iter().enumerate() {
            if let Some(e) = p {
                vals[i] = match rt.eval(e)? {
                    Val::Str(s) if !s.is_empty() => Some(s.to_string()),
                    Val::Int(n) => Some(n.to_string()),
                    _ => None,
                };
            }
        }
        let (zone, _) = zone.get(rt, true)?;
        let zone = match zone {
            Ok(Zone::Local) => Zone::Tz(jiff::tz::TimeZone::UTC),
            Ok(z) => z,
            Err(e) => return err(pos, e),
        };
        let tz = zone.tz();
        let now = now_in(&tz);
        let num = |i: usize, what: &str| -> RResult<Option<i64>> {
            match &vals[i] {
                None => Ok(None),
                Some(s) => match s.trim().parse::<i64>() {
                    Ok(n) => Ok(Some(n)),
                    Err(_) => err(pos, format!("parse_date: invalid {what} {s:?}")),
                },
            }
        };
        let year = match num(0, "year")? {
            None => now.year() as i64,
            Some(y) if vals[0].as_deref().is_some_and(|s| s.trim().len() <= 2) => {
                (now.year() as i64 / 100) * 100 + y
            }
            Some(y) => y,
        };
        let month = match &vals[1] {
            None => now.month() as i64,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(m) => m,
                Err(_) => match month_from_name(s.trim()) {
                    Some(m) => m,
                    None => return err(pos, format!("parse_date: invalid month {s:?}")),
                },
            },
        };
        let day = num(2, "day")?.unwrap_or(now.day() as i64);
        let hour = num(3, "hour")?.unwrap_or(now.hour() as i64);
        let minute = num(4, "minute")?.unwrap_or(now.minute() as i64);
        let second = num(5, "second")?.unwrap_or(0);
        let frac = num(6, "millisecond")?.unwrap_or(0) * 1_000_000
            + num(7, "microsecond")?.unwrap_or(0) * 1_000
            + num(8, "nanosecond")?.unwrap_or(0);
        if !(0..1_000_000_000).contains(&frac) {
            return err(pos, "parse_date: sub-second parts out of range");
        }
        match civil_to_ns(&tz, year, month, day, hour, minute, second, frac) {
            Ok(ns) => {
                rt.write(&key.name, PValue::Int(ns));
                Ok(Val::Nil)
            }
            Err(e) => err(pos, format!("parse_date: {e}")),
        }
    }))
}

pub fn parse_duration(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let Val::Str(s) = rt.read(&key) else {
            return Ok(Val::Nil);
        };
        if let Some(ns) = go_duration(&s) {
            rt.write(&key.name, PValue::Int(ns));
        }
        Ok(Val::Nil)
    }))
}

fn unit_exp(u: &str) -> Option<i32> {
    Some(match u {
        "s" => 0,
        "ms" => 3,
        "us" => 6,
        "ns" => 9,
        _ => return None,
    })
}

pub fn duration_precision(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "old_precision", "new_precision"], 3)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let unit = |i: usize| -> CResult<i32> {
        let e = need(&b, i)?;
        let s = str_lit(e)?;
        unit_exp(&s).ok_or_else(|| {
            CheckError::new(e.pos, format!("unknown precision {s:?} (s, ms, us or ns)"))
        })
    };
    let (old, new) = (unit(1)?, unit(2)?);
    Ok(func(move |rt, pos| {
        if !rt.exists(&key) {
            return Ok(Val::Nil);
        }
        let Val::Int(v) = rt.read(&key) else {
            return err(pos, "duration_precision: the value is not an int");
        };
        let d = new - old;
        let out = if d >= 0 {
            v.wrapping_mul(10i64.pow(d as u32))
        } else {
            v / 10i64.pow((-d) as u32)
        };
        rt.write(&key.name, PValue::Int(out));
        Ok(Val::Nil)
    }))
}

const HOUR_NS: i64 = 3_600_000_000_000;

/// Shifts `v` by whole hours so it lands within the hour before `now` (+2 minutes slack).
pub fn adjust_to_now(v: i64, now: i64) -> i64 {
    let slack = 2 * 60 * 1_000_000_000;
    let mut v = v;
    if v > now + slack {
        let k = (v - now - slack + HOUR_NS - 1) / HOUR_NS;
        v -= k * HOUR_NS;
    }
    if v < now - HOUR_NS {
        let k = (now - HOUR_NS - v + HOUR_NS - 1) / HOUR_NS;
        v += k * HOUR_NS;
    }
    v
}

pub fn adjust_timezone(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        if let Val::Int(v) = rt.read(&key) {
            rt.write(&key.name, PValue::Int(adjust_to_now(v, now_ns())));
        }
        Ok(Val::Nil)
    }))
}

pub fn timestamp(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["precision"], 0)?;
    let p = expr_arg(cx, b.get(0))?;
    Ok(func(move |rt, _| {
        let unit = match &p {
            Some(e) => match rt.eval(e)? {
                Val::Str(s) => s.to_string(),
                _ => "ns".into(),
            },
            None => "ns".into(),
        };
        let now = now_ns();
        Ok(Val::Int(match unit.as_str() {
            "s" => now / 1_000_000_000,
            "ms" => now / 1_000_000,
            "us" => now / 1_000,
            _ => now,
        }))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_fast_path_agrees_with_the_layout() {
        let t = "24/Mar/2021:13:54:19 +0800";
        let slow = GoLayout::new("02/Jan/2006:15:04:05 -0700")
            .parse(t, &Zone::Local)
            .unwrap();
        assert_eq!(fast_access_log(t), Some(slow));
        assert_eq!(fast_access_log("24/Foo/2021:13:54:19 +0800"), None);
    }

    #[test]
    fn default_time_layouts() {
        let utc = Zone::Tz(jiff::tz::TimeZone::UTC);
        let base = 1_706_948_100_000_000_000_i64;
        assert_eq!(
            default_time_ns("03 Feb 2024 08:15:00.000", &utc, false),
            Ok(base)
        );
        assert!(default_time_ns("240203  8:15:00", &utc, false).is_err());
        assert_eq!(default_time_ns("240203 08:15:00", &utc, false), Ok(base));
        assert_eq!(
            default_time_ns("2024/02/03 - 08:15:00", &utc, false),
            Ok(base)
        );
        assert_eq!(
            default_time_ns("2024-02-03 08:15:00.000 UTC", &utc, false),
            Ok(base)
        );
        let ny = crate::pipeline::timeparse::resolve_zone("-5", false).unwrap();
        assert_eq!(default_time_ns("2024-02-03 03:15:00", &ny, true), Ok(base));
    }

    #[test]
    fn adjust_timezone_shifts_by_hours() {
        let now = 1_000 * HOUR_NS;
        assert_eq!(adjust_to_now(now + 8 * HOUR_NS, now), now);
        assert_eq!(adjust_to_now(now - 8 * HOUR_NS - 5, now), now - 5);
        assert_eq!(adjust_to_now(now - 10, now), now - 10);
    }
}
