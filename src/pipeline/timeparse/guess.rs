//! Date text of unknown layout, read the way `araddon/dateparse` reads it (month first when
//! ambiguous): the fallback of `default_time`. All-digit text is a Unix time by its length or
//! a compact date; other text is split into numbers, words and separators and read in one pass.

use jiff::tz::TimeZone;

use super::zone::{civil_offset_to_ns, civil_to_ns, current_year};
use super::{Zone, frac_to_ns, month_from_name, weekday_from_name};

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

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;
    use crate::pipeline::timeparse::resolve_zone;

    fn utc() -> Zone {
        Zone::Tz(TimeZone::UTC)
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
}
