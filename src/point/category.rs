//! Data categories, their names, aliases and write URLs (the original's enum order is kept:
//! it is persisted in the original's on-disk queue).

use std::fmt;
use std::str::FromStr;

/// The kind of data a point is; it decides validation rules and the DataWay URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Metric,
    Network,
    KeyEvent,
    Object,
    CustomObject,
    Logging,
    Tracing,
    Rum,
    Security,
    Profiling,
    DialTesting,
    /// Deprecated in the original; accepted and routed as objects.
    ObjectChange,
    /// Dial-testing bodies sent to a per-task URL; batched like logging.
    DynamicDw,
}

impl Category {
    /// Every category, in a stable order (the order of queues and stats).
    pub const ALL: [Category; 13] = [
        Category::Metric,
        Category::Network,
        Category::KeyEvent,
        Category::Object,
        Category::CustomObject,
        Category::Logging,
        Category::Tracing,
        Category::Rum,
        Category::Security,
        Category::Profiling,
        Category::DialTesting,
        Category::ObjectChange,
        Category::DynamicDw,
    ];

    /// Position in [`Category::ALL`], for per-category arrays.
    pub const fn index(self) -> usize {
        match self {
            Category::Metric => 0,
            Category::Network => 1,
            Category::KeyEvent => 2,
            Category::Object => 3,
            Category::CustomObject => 4,
            Category::Logging => 5,
            Category::Tracing => 6,
            Category::Rum => 7,
            Category::Security => 8,
            Category::Profiling => 9,
            Category::DialTesting => 10,
            Category::ObjectChange => 11,
            Category::DynamicDw => 12,
        }
    }

    /// The name used in URLs, directories and labels (`metric`, `logging`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Metric => "metric",
            Category::Network => "network",
            Category::KeyEvent => "keyevent",
            Category::Object => "object",
            Category::CustomObject => "custom_object",
            Category::Logging => "logging",
            Category::Tracing => "tracing",
            Category::Rum => "rum",
            Category::Security => "security",
            Category::Profiling => "profiling",
            Category::DialTesting => "dialtesting",
            Category::ObjectChange => "object_change",
            Category::DynamicDw => "dynamic_dw",
        }
    }

    /// The original's enum value (`point.Category`), persisted in its on-disk queue records:
    /// 0 unknown, 1 dynamic_dw, 2 metrics (deprecated), 3 metric, ... 14 dialtesting.
    pub const fn code(self) -> u8 {
        match self {
            Category::DynamicDw => 1,
            Category::Metric => 3,
            Category::Network => 4,
            Category::KeyEvent => 5,
            Category::Object => 6,
            Category::ObjectChange => 7,
            Category::CustomObject => 8,
            Category::Logging => 9,
            Category::Tracing => 10,
            Category::Rum => 11,
            Category::Security => 12,
            Category::Profiling => 13,
            Category::DialTesting => 14,
        }
    }

    /// The category of an enum value of the original; the deprecated `metrics` (2) maps to
    /// [`Category::Metric`], `unknown` (0) and out-of-range values to `None`.
    pub fn from_code(code: u8) -> Option<Category> {
        if code == 2 {
            return Some(Category::Metric);
        }
        Category::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The short alias the original uses in metrics and the monitor (`M`, `L`, `O`, ...).
    pub const fn alias(self) -> &'static str {
        match self {
            Category::Metric => "M",
            Category::Network => "N",
            Category::KeyEvent => "E",
            Category::Object => "O",
            Category::CustomObject => "CO",
            Category::Logging => "L",
            Category::Tracing => "T",
            Category::Rum => "R",
            Category::Security => "S",
            Category::Profiling => "P",
            Category::DialTesting => "DT",
            Category::ObjectChange => "OCH",
            Category::DynamicDw => "DYNAMIC_DW",
        }
    }

    /// The DataWay / HTTP API write path: `/v1/write/<name>`.
    pub const fn url_path(self) -> &'static str {
        match self {
            Category::Metric => "/v1/write/metric",
            Category::Network => "/v1/write/network",
            Category::KeyEvent => "/v1/write/keyevent",
            Category::Object => "/v1/write/object",
            Category::CustomObject => "/v1/write/custom_object",
            Category::Logging => "/v1/write/logging",
            Category::Tracing => "/v1/write/tracing",
            Category::Rum => "/v1/write/rum",
            Category::Security => "/v1/write/security",
            Category::Profiling => "/v1/write/profiling",
            Category::DialTesting => "/v1/write/dialtesting",
            Category::ObjectChange => "/v1/write/object_change",
            Category::DynamicDw => "/v1/write/dynamic_dw",
        }
    }

    /// Parses a name (`metric`, also the deprecated `metrics`), an alias (`M`) or a URL path.
    pub fn parse(s: &str) -> Option<Category> {
        let s = s.strip_prefix("/v1/write/").unwrap_or(s);
        if s == "metrics" {
            return Some(Category::Metric);
        }
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.alias() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name that is not one of [`Category::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category `{0}` (expected one of: metric, network, keyevent, object, custom_object, logging, tracing, rum, security, profiling, dialtesting, object_change, dynamic_dw)"
)]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::parse(s).ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_paths_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(Category::parse(c.alias()), Some(c));
            assert_eq!(Category::parse(c.url_path()), Some(c));
            assert_eq!(c.url_path(), format!("/v1/write/{}", c.as_str()));
            assert_eq!(Category::ALL[c.index()], c);
        }
        assert_eq!(Category::parse("metrics"), Some(Category::Metric));
        assert_eq!(Category::parse("/v1/write/metrics"), Some(Category::Metric));
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
        }
        assert_eq!(Category::from_code(2), Some(Category::Metric));
        assert_eq!(Category::from_code(0), None);
        assert_eq!(Category::from_code(15), None);
        assert_eq!(Category::Logging.code(), 9);
        assert!("nope".parse::<Category>().is_err());
    }
}
