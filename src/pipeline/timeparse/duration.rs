//! Go duration text (`1h30m`, `1.5s`, `-2ms`), as Go's `time.ParseDuration` reads it.

/// Go's `time.ParseDuration`.
pub fn go_duration(s: &str) -> Option<i64> {
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
    i64::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration("-2ms"), Some(-2_000_000));
        assert_eq!(go_duration("10µs"), Some(10_000));
        assert_eq!(go_duration("10"), None);
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("0"), Some(0));
    }
}
