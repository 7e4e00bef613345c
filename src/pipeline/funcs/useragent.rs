//! User-Agent parsing with the rules of `mssola/user_agent` (MIT), which DataKit's
//! `user_agent()` uses, so browser, engine and OS names come out the same.
//!
//! A UA is a list of sections `Name/Version (comment; parts)`. The browser is read from the
//! engine section and the ones after it, the OS from the comment of the first section, and
//! anything without the usual `Mozilla/...` shape is checked for being a bot.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserAgent {
    pub mozilla: String,
    pub platform: String,
    pub os: String,
    pub localization: String,
    pub browser: String,
    pub browser_version: String,
    pub engine: String,
    pub engine_version: String,
    pub bot: bool,
    pub mobile: bool,
    undecided: bool,
    ua: String,
}

#[derive(Debug, Default, Clone)]
struct Section {
    name: String,
    version: String,
    comment: Vec<String>,
}

/// Reads up to `delim` (nested parentheses counted when `nested`), moving `i` past it.
fn read_until(ua: &[u8], i: &mut usize, delim: u8, nested: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut depth = 0;
    let mut j = *i;
    while j < ua.len() {
        let c = ua[j];
        if c == delim {
            if depth == 0 {
                *i = j + 1;
                return buf;
            }
            depth -= 1;
        } else if nested && c == b'(' {
            depth += 1;
        }
        buf.push(c);
        j += 1;
    }
    *i = j + 1;
    buf
}

fn parse_product(p: &[u8]) -> (String, String) {
    let s = String::from_utf8_lossy(p);
    match s.split_once('/') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => (s.into_owned(), String::new()),
    }
}

fn parse_section(ua: &[u8], i: &mut usize) -> Section {
    let mut s = Section::default();
    if *i < ua.len() && ua[*i] != b'(' && ua[*i] != b'[' {
        let buf = read_until(ua, i, b' ', false);
        (s.name, s.version) = parse_product(&buf);
    }
    if *i < ua.len() && ua[*i] == b'(' {
        *i += 1;
        let buf = read_until(ua, i, b')', true);
        s.comment = String::from_utf8_lossy(&buf)
            .split("; ")
            .map(str::to_string)
            .collect();
        *i += 1;
    }
    if *i < ua.len() && ua[*i] == b'[' {
        *i += 1;
        read_until(ua, i, b']', true);
        *i += 1;
    }
    s
}

fn normalize_os(name: &str) -> String {
    let sp: Vec<&str> = name.splitn(3, ' ').collect();
    if sp.len() != 3 || sp[1] != "NT" {
        return name.to_string();
    }
    match sp[2] {
        "5.0" => "Windows 2000",
        "5.01" => "Windows 2000, Service Pack 1 (SP1)",
        "5.1" => "Windows XP",
        "5.2" => "Windows XP x64 Edition",
        "6.0" => "Windows Vista",
        "6.1" => "Windows 7",
        "6.2" => "Windows 8",
        "6.3" => "Windows 8.1",
        "10.0" => "Windows 10",
        _ => return name.to_string(),
    }
    .to_string()
}

fn platform_of(comment: &[String]) -> String {
    match comment.first() {
        Some(c0) if c0 != "compatible" => {
            if c0.starts_with("Windows") {
                "Windows".into()
            } else if c0.starts_with("Symbian") {
                "Symbian".into()
            } else if c0.starts_with("webOS") {
                "webOS".into()
            } else if c0 == "BB10" {
                "BlackBerry".into()
            } else {
                c0.clone()
            }
        }
        _ => String::new(),
    }
}

/// Does `s` contain `http(s)://<something>.<word>`?
fn site_match(s: &str) -> Option<&str> {
    let start = s.find("http://").or_else(|| s.find("https://"))?;
    let rest = &s[start..];
    let after = rest.find("://")? + 3;
    let tail = &rest[after..];
    // ".+\.\w+": the last '.' followed by word characters.
    let dot = tail.rfind('.')?;
    if dot == 0 {
        return None;
    }
    let word_len = tail[dot + 1..]
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    if word_len == 0 {
        return None;
    }
    Some(&rest[..after + dot + 1 + word_len])
}

fn from_site(comment: &[String]) -> String {
    if comment.is_empty() {
        return String::new();
    }
    let idx = if comment.len() < 3 {
        0
    } else if comment.len() == 4 {
        3
    } else {
        2
    };
    match site_match(&comment[idx]) {
        Some(m) if idx == 0 => m.to_string(),
        Some(_) => comment[idx - 1].trim().to_string(),
        None => String::new(),
    }
}

fn is_botish(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    [
        "bot", "crawler", "spider", "spyder", "search", "worm", "fetch", "nutch",
    ]
    .iter()
    .any(|w| l.contains(w))
}

impl UserAgent {
    pub fn parse(ua: &str) -> UserAgent {
        let mut p = UserAgent {
            ua: ua.to_string(),
            ..UserAgent::default()
        };
        let b = ua.as_bytes();
        let mut sections = Vec::new();
        let mut i = 0;
        while i < b.len() && sections.len() < 64 {
            let s = parse_section(b, &mut i);
            if !p.mobile && s.name == "Mobile" {
                p.mobile = true;
            }
            sections.push(s);
        }
        if !sections.is_empty() {
            if sections[0].name == "Mozilla" {
                p.mozilla = sections[0].version.clone();
            }
            p.detect_browser(&sections);
            let first = sections[0].clone();
            p.detect_os(&first);
            if p.undecided {
                p.check_bot(&sections);
            }
        }
        p
    }

    fn detect_browser(&mut self, s: &[Section]) {
        let n = s.len();
        if s[0].name == "Opera" {
            self.browser = "Opera".into();
            self.browser_version = s[0].version.clone();
            self.engine = "Presto".into();
            if n > 1 {
                self.engine_version = s[1].version.clone();
            }
        } else if s[0].name == "Dalvik" {
            self.mozilla = "5.0".into();
        } else if n > 1 {
            let engine = &s[1];
            self.engine = engine.name.clone();
            self.engine_version = engine.version.clone();
            if n > 2 {
                let mut si = 2;
                if s[2].version.is_empty() && n > 3 {
                    si = 3;
                }
                self.browser_version = s[si].version.clone();
                if engine.name == "AppleWebKit" {
                    match s[n - 1].name.as_str() {
                        "Edge" => {
                            self.browser = "Edge".into();
                            self.browser_version = s[n - 1].version.clone();
                            self.engine = "EdgeHTML".into();
                            self.engine_version.clear();
                        }
                        "OPR" => {
                            self.browser = "Opera".into();
                            self.browser_version = s[n - 1].version.clone();
                        }
                        _ => {
                            if s[n - 3].name == "YaBrowser" {
                                self.browser = "YaBrowser".into();
                                self.browser_version = s[n - 3].version.clone();
                            } else if s[n - 2].name == "Electron" {
                                self.browser = "Electron".into();
                                self.browser_version = s[n - 2].version.clone();
                            } else {
                                self.browser = match s[si].name.as_str() {
                                    "Chrome" | "CriOS" => "Chrome",
                                    "Chromium" => "Chromium",
                                    "FxiOS" => "Firefox",
                                    _ => "Safari",
                                }
                                .into();
                            }
                            if engine.comment.iter().any(|c| {
                                c.len() > 5
                                    && (c.starts_with("Googlebot") || c.starts_with("bingbot"))
                            }) {
                                self.undecided = true;
                            }
                        }
                    }
                } else if engine.name == "Gecko" {
                    let mut name = s[2].name.clone();
                    if name == "MRA" && n > 4 {
                        name = s[4].name.clone();
                        self.browser_version = s[4].version.clone();
                    }
                    self.browser = name;
                } else if engine.name == "like" && s[2].name == "Gecko" {
                    self.engine = "Trident".into();
                    self.browser = "Internet Explorer".into();
                    self.browser_version = s[0]
                        .comment
                        .iter()
                        .find_map(|c| c.strip_prefix("rv:").map(str::to_string))
                        .unwrap_or_default();
                }
            }
        } else if n == 1 && s[0].comment.len() > 1 {
            let c = &s[0].comment;
            if c[0] == "compatible" && c[1].starts_with("MSIE") {
                self.engine = "Trident".into();
                self.browser = "Internet Explorer".into();
                if let Some(t) = c.iter().find_map(|v| v.strip_prefix("Trident/")) {
                    self.browser_version = match t {
                        "4.0" => "8.0",
                        "5.0" => "9.0",
                        "6.0" => "10.0",
                        _ => "",
                    }
                    .into();
                }
                if self.browser_version.is_empty() {
                    self.browser_version = c[1].get(4..).unwrap_or("").trim().to_string();
                }
            }
        }
    }

    fn google_or_bing_bot(&mut self) -> bool {
        if self.ua.contains("Google") || self.ua.contains("bingbot") {
            self.platform.clear();
            self.undecided = true;
        }
        self.undecided
    }

    fn imessage_preview(&mut self) -> bool {
        if !self.ua.contains("facebookexternalhit") || !self.ua.contains("Twitterbot") {
            return false;
        }
        self.bot = true;
        self.browser = "iMessage-Preview".into();
        self.engine.clear();
        self.engine_version.clear();
        true
    }

    fn webkit(&mut self, c: &[String]) {
        if self.platform == "webOS" {
            self.browser = self.platform.clone();
            self.os = "Palm".into();
            if c.len() > 2 {
                self.localization = c[2].clone();
            }
            self.mobile = true;
        } else if self.platform == "Symbian" {
            self.mobile = true;
            self.browser = self.platform.clone();
            self.os = c.first().cloned().unwrap_or_default();
        } else if self.platform == "Linux" {
            self.mobile = true;
            if self.browser == "Safari" {
                self.browser = "Android".into();
            }
            if c.len() > 1 {
                if c[1] == "U" || c[1] == "arm_64" {
                    if c.len() > 2 {
                        self.os = c[2].clone();
                    } else {
                        self.mobile = false;
                        self.os = c[0].clone();
                    }
                } else {
                    self.os = c[1].clone();
                }
            }
            if c.len() > 3 {
                self.localization = c[3].clone();
            } else if c.len() == 3 {
                self.google_or_bing_bot();
            }
        } else if !c.is_empty() {
            if c.len() > 3 {
                self.localization = c[3].clone();
            }
            if c[0].starts_with("Windows NT") {
                self.os = normalize_os(&c[0]);
            } else if c.len() < 2 {
                self.localization = c[0].clone();
            } else if c.len() < 3 {
                if !self.google_or_bing_bot() && !self.imessage_preview() {
                    self.os = normalize_os(&c[1]);
                }
            } else {
                self.os = normalize_os(&c[2]);
            }
            if self.platform == "BlackBerry" {
                self.browser = self.platform.clone();
                if self.os == "Touch" {
                    self.os = self.platform.clone();
                }
            }
        }
        if self.platform == "Macintosh" && self.engine == "AppleWebKit" && self.browser == "Firefox"
        {
            self.platform = "iPad".into();
            self.mobile = true;
        }
    }

    fn gecko(&mut self, c: &[String]) {
        if c.len() > 1 {
            if c[1] == "U" || c[1] == "arm_64" {
                self.os = normalize_os(if c.len() > 2 { &c[2] } else { &c[1] });
            } else if self.platform.contains("Android") {
                self.mobile = true;
                let os = std::mem::take(&mut self.platform);
                self.platform = normalize_os(&c[1]);
                self.os = os;
            } else if c[0] == "Mobile" || c[0] == "Tablet" {
                self.mobile = true;
                self.os = "FirefoxOS".into();
            } else if self.os.is_empty() {
                self.os = normalize_os(&c[1]);
            }
            if c.len() > 3 && !c[3].starts_with("rv:") {
                self.localization = c[3].clone();
            }
        }
    }

    fn trident(&mut self, c: &[String]) {
        self.platform = "Windows".into();
        if self.os.is_empty() {
            self.os = if c.len() > 2 {
                normalize_os(&c[2])
            } else {
                "Windows NT 4.0".into()
            };
        }
        if c.iter().any(|v| v.starts_with("IEMobile")) {
            self.mobile = true;
        }
    }

    fn opera(&mut self, c: &[String]) {
        let n = c.len();
        if c[0].starts_with("Windows") {
            self.platform = "Windows".into();
            self.os = normalize_os(&c[0]);
            if n > 2 {
                self.localization = if n > 3 && c[2].starts_with("MRA") {
                    c[3].clone()
                } else {
                    c[2].clone()
                };
            }
        } else {
            if c[0].starts_with("Android") {
                self.mobile = true;
            }
            self.platform = c[0].clone();
            if n > 1 {
                self.os = c[1].clone();
                if n > 3 {
                    self.localization = c[3].clone();
                }
            } else {
                self.os = c[0].clone();
            }
        }
    }

    fn dalvik(&mut self, c: &[String]) {
        if c[0].starts_with("Linux") {
            self.platform = c[0].clone();
            if c.len() > 2 {
                self.os = c[2].clone();
            }
            self.mobile = true;
        }
    }

    fn detect_os(&mut self, s: &Section) {
        match s.name.as_str() {
            "Mozilla" => {
                self.platform = platform_of(&s.comment);
                if self.platform == "Windows" && !s.comment.is_empty() {
                    self.os = normalize_os(&s.comment[0]);
                }
                match self.engine.as_str() {
                    "" => self.undecided = true,
                    "Gecko" => self.gecko(&s.comment),
                    "AppleWebKit" => self.webkit(&s.comment),
                    "Trident" => self.trident(&s.comment),
                    _ => {}
                }
            }
            "Opera" => {
                if !s.comment.is_empty() {
                    self.opera(&s.comment);
                }
            }
            "Dalvik" => {
                if !s.comment.is_empty() {
                    self.dalvik(&s.comment);
                }
            }
            "okhttp" => {
                self.mobile = true;
                self.browser = "OkHttp".into();
                self.browser_version = s.version.clone();
            }
            _ => self.undecided = true,
        }
    }

    fn set_simple(&mut self, name: &str, version: &str, bot: bool) {
        self.bot = bot;
        if !bot {
            self.mozilla.clear();
        }
        self.browser = name.to_string();
        self.browser_version = version.to_string();
        self.engine.clear();
        self.engine_version.clear();
        self.os.clear();
        self.localization.clear();
    }

    fn check_bot(&mut self, s: &[Section]) {
        if s.len() == 1 && s[0].name != "Mozilla" {
            self.mozilla.clear();
            if is_botish(&s[0].name) {
                let n = s[0].name.clone();
                self.set_simple(&n, "", true);
                return;
            }
            let (n, v) = (s[0].name.clone(), s[0].version.clone());
            if !from_site(&s[0].comment).is_empty() {
                self.set_simple(&n, &v, true);
                return;
            }
            self.set_simple(&n, &v, false);
        } else {
            for sec in s {
                let name = from_site(&sec.comment);
                if !name.is_empty() {
                    let (n, v) = match name.split_once('/') {
                        Some((n, v)) => (n.to_string(), v.to_string()),
                        None => (name.clone(), String::new()),
                    };
                    self.set_simple(&n, &v, true);
                    return;
                }
            }
            self.browser = s[0].name.clone();
            self.browser_version = s[0].version.clone();
            self.mozilla.clear();
        }
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<UserAgent>>> = RefCell::new(HashMap::new());
}

/// Parses with a small per-thread cache (UAs repeat heavily in access logs).
pub fn parse_cached(ua: &str) -> Rc<UserAgent> {
    CACHE.with(|c| {
        if let Some(hit) = c.borrow().get(ua) {
            return Rc::clone(hit);
        }
        let parsed = Rc::new(UserAgent::parse(ua));
        let mut m = c.borrow_mut();
        if m.len() >= 1024 {
            m.clear();
        }
        if ua.len() <= 1024 {
            m.insert(ua.to_string(), Rc::clone(&parsed));
        }
        parsed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ua: &str) -> UserAgent {
        UserAgent::parse(ua)
    }

    #[test]
    fn chrome_on_windows() {
        let u = p(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        );
        assert_eq!(u.browser, "Chrome");
        assert_eq!(u.browser_version, "120.0.0.0");
        assert_eq!(u.engine, "AppleWebKit");
        assert_eq!(u.engine_version, "537.36");
        assert_eq!(u.os, "Windows 10");
        assert_eq!(u.platform, "Windows");
        assert!(!u.mobile && !u.bot);
    }

    #[test]
    fn edge_iphone_android_firefox() {
        let u = p(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.18363",
        );
        assert_eq!(
            (u.browser.as_str(), u.browser_version.as_str()),
            ("Edge", "18.18363")
        );
        let u = p(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(u.os, "CPU iPhone OS 17_1 like Mac OS X");
        assert_eq!(u.platform, "iPhone");
        assert!(u.mobile);
        assert_eq!(u.browser, "Safari");
        let u = p(
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        );
        assert_eq!(u.os, "Android 13");
        assert_eq!(u.platform, "Linux");
        assert!(u.mobile);
        let u = p("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
        assert_eq!(u.os, "Linux x86_64");
        assert_eq!(u.platform, "X11");
        assert_eq!(
            (u.engine.as_str(), u.engine_version.as_str()),
            ("Gecko", "20100101")
        );
        assert_eq!(
            (u.browser.as_str(), u.browser_version.as_str()),
            ("Firefox", "120.0")
        );
    }

    #[test]
    fn bots_and_tools() {
        let u = p("Googlebot/2.1 (+http://www.google.com/bot.html)");
        assert_eq!(u.browser, "Googlebot");
        assert!(u.bot);
        assert_eq!(u.os, "");
        assert_eq!(u.browser_version, "");
        let u = p("curl/7.81.0");
        assert_eq!(
            (u.browser.as_str(), u.browser_version.as_str()),
            ("curl", "7.81.0")
        );
        assert!(!u.bot);
        let u = p("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)");
        assert!(u.bot);
        assert_eq!(u.browser, "bingbot");
        assert_eq!(p(""), UserAgent::default());
    }
}
