//! Point validation: the original's "checker", in one place.
//!
//! [`Checker::check`] never refuses a point. Each rule either fixes the point (truncates,
//! renames, converts, adds) or drops one tag or field, and every such outcome is returned as a
//! [`Warn`] whose [`WarnKind::as_str`] is the original's warn type, so callers count them
//! ([`CheckCounts`]) and the write API's `strict` mode can turn any of them into a 400.
//!
//! Rules, in order (the original's `point/check.go`):
//! 1. measurement: empty → `__default`; longer than the limit → truncated (`invalid_measurement`).
//! 2. more fields than the limit → the first N kept (`exceed_max_fields`); more tags than the
//!    limit → the first N kept (`exceed_max_tags`; the original says `exceed_max_fields` here).
//! 3. each key, tags first then fields, in order: too long → truncated; trailing backslashes
//!    stripped and newlines turned to spaces; `.` → `_` where dots are not allowed; dropped when
//!    the new key already exists, when empty or disabled (`tag_disabled`), or when it appears
//!    more than once (`key_name_conflict`, with the original's in-place compaction quirk).
//!    Tag values: trailing backslashes stripped, newlines → spaces, too long → truncated.
//!    Field values: uint where uints are off → int (dropped above `i64::MAX`); ±Inf →
//!    `u64::MAX` / `i64::MIN` as floats; strings and bytes where strings are off → dropped,
//!    too long → truncated; NaN kept (the encoder refuses it).
//! 4. required keys that are missing are added as fields with their default (`add_required_kv`).
//! 5. a point left without fields is noted (`no_field`; the original declares but never emits it).
//!
//! Lengths are in bytes, as the original; a cut never splits a UTF-8 character (the cut moves
//! back to the previous character boundary).

use std::fmt;

use super::{Category, Fields, Point, PointView, Tags, Value, ValueView};

/// The original's warn types (`point/err.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarnKind {
    InvalidMeasurement,
    ExceedMaxTags,
    ExceedMaxFields,
    NoField,
    ExceedMaxTagKeyLen,
    ExceedMaxTagValueLen,
    ExceedMaxFieldKeyLen,
    ExceedMaxFieldValueLen,
    ExceedMaxFieldValueInt,
    ConvertInfToMaxValue,
    ConvertInfToMinValue,
    InvalidTagKey,
    InvalidFieldValueType,
    AddRequiredKv,
    TagDisabled,
    KeyNameConflict,
    DotInKey,
    FoundNewLineOrTailEscape,
}

impl WarnKind {
    pub const ALL: [WarnKind; 18] = [
        WarnKind::InvalidMeasurement,
        WarnKind::ExceedMaxTags,
        WarnKind::ExceedMaxFields,
        WarnKind::NoField,
        WarnKind::ExceedMaxTagKeyLen,
        WarnKind::ExceedMaxTagValueLen,
        WarnKind::ExceedMaxFieldKeyLen,
        WarnKind::ExceedMaxFieldValueLen,
        WarnKind::ExceedMaxFieldValueInt,
        WarnKind::ConvertInfToMaxValue,
        WarnKind::ConvertInfToMinValue,
        WarnKind::InvalidTagKey,
        WarnKind::InvalidFieldValueType,
        WarnKind::AddRequiredKv,
        WarnKind::TagDisabled,
        WarnKind::KeyNameConflict,
        WarnKind::DotInKey,
        WarnKind::FoundNewLineOrTailEscape,
    ];

    /// The original's warn type string (what PBJSON echo and DataWay see).
    pub const fn as_str(self) -> &'static str {
        match self {
            WarnKind::InvalidMeasurement => "invalid_measurement",
            WarnKind::ExceedMaxTags => "exceed_max_tags",
            WarnKind::ExceedMaxFields => "exceed_max_fields",
            WarnKind::NoField => "no_field",
            WarnKind::ExceedMaxTagKeyLen => "exceed_max_tag_key_len",
            WarnKind::ExceedMaxTagValueLen => "exceed_max_tag_value_len",
            WarnKind::ExceedMaxFieldKeyLen => "exceed_max_field_key_len",
            WarnKind::ExceedMaxFieldValueLen => "exceed_max_field_value_len",
            WarnKind::ExceedMaxFieldValueInt => "exceed_max_field_value_int",
            WarnKind::ConvertInfToMaxValue => "convert_inf_to_max_value",
            WarnKind::ConvertInfToMinValue => "convert_inf_to_min_value",
            WarnKind::InvalidTagKey => "invalid_tag_key",
            WarnKind::InvalidFieldValueType => "invalid_field_value_type",
            WarnKind::AddRequiredKv => "add_required_kv",
            WarnKind::TagDisabled => "tag_disabled",
            WarnKind::KeyNameConflict => "key_name_conflict",
            WarnKind::DotInKey => "dot_in_key",
            WarnKind::FoundNewLineOrTailEscape => "found_new_line_or_tail_espace",
        }
    }
}

impl fmt::Display for WarnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule did to the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A name, key or value was changed, or a key was added.
    Fixed,
    /// One or more tags or fields were removed.
    Dropped,
    /// Nothing changed; the point is only noted.
    Noted,
}

/// One outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warn {
    pub kind: WarnKind,
    pub action: Action,
    pub message: String,
}

impl fmt::Display for Warn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// Limits and per-category rules (the original's `point/option.go` and `point/specs.go`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    pub max_tags: usize,
    pub max_fields: usize,
    pub max_tag_key_len: usize,
    pub max_field_key_len: usize,
    pub max_tag_value_len: usize,
    /// Longest string or bytes field value.
    pub max_field_value_len: usize,
    pub max_measurement_len: usize,
    /// When false, `.` in keys becomes `_`.
    pub allow_dot_in_key: bool,
    /// When false, string and bytes fields are dropped.
    pub allow_string_fields: bool,
    /// When false, uint fields become ints (dropped above `i64::MAX`).
    pub allow_uint_fields: bool,
    /// Keys dropped wherever they appear.
    pub disabled_keys: Vec<String>,
    /// Keys added as fields, with this value, when missing.
    pub required_keys: Vec<(String, Value)>,
}

impl Default for CheckOptions {
    /// The original's defaults: 256 tags, 1024 fields, keys up to 256 bytes, tag values up to
    /// 1024, string fields up to 32 MiB, measurement up to 1024; dots, strings and uints allowed.
    fn default() -> Self {
        CheckOptions {
            max_tags: 256,
            max_fields: 1024,
            max_tag_key_len: 256,
            max_field_key_len: 256,
            max_tag_value_len: 1024,
            max_field_value_len: 32 * 1024 * 1024,
            max_measurement_len: 1024,
            allow_dot_in_key: true,
            allow_string_fields: true,
            allow_uint_fields: true,
            disabled_keys: Vec::new(),
            required_keys: Vec::new(),
        }
    }
}

impl CheckOptions {
    /// `DefaultMetricOptions`: string fields dropped.
    pub fn metric() -> CheckOptions {
        CheckOptions {
            allow_string_fields: false,
            ..CheckOptions::default()
        }
    }

    /// `DefaultLoggingOptions`: dots → `_`; `source` and `date` disabled; `status` required
    /// (default `info`).
    pub fn logging() -> CheckOptions {
        CheckOptions {
            allow_dot_in_key: false,
            disabled_keys: vec!["source".into(), "date".into()],
            required_keys: vec![("status".into(), Value::Str("info".into()))],
            ..CheckOptions::default()
        }
    }

    /// `DefaultObjectOptions`: dots → `_`; `class` and `date` disabled; `name` required
    /// (default `default`).
    pub fn object() -> CheckOptions {
        CheckOptions {
            allow_dot_in_key: false,
            disabled_keys: vec!["class".into(), "date".into()],
            required_keys: vec![("name".into(), Value::Str("default".into()))],
            ..CheckOptions::default()
        }
    }

    /// `CommonLoggingOptions` (RUM, tracing, security, events, profiling, network): dots → `_`.
    pub fn common_logging() -> CheckOptions {
        CheckOptions {
            allow_dot_in_key: false,
            ..CheckOptions::default()
        }
    }

    /// `DefaultMetricOptionsForInflux1X`: metric rules plus uints turned into ints.
    pub fn influx1x() -> CheckOptions {
        CheckOptions {
            allow_uint_fields: false,
            ..CheckOptions::metric()
        }
    }

    /// The rule set the original's inputs use for a category.
    pub fn for_category(category: Category) -> CheckOptions {
        match category {
            Category::Metric => CheckOptions::metric(),
            Category::Logging => CheckOptions::logging(),
            Category::Object | Category::CustomObject => CheckOptions::object(),
            Category::Network
            | Category::KeyEvent
            | Category::Tracing
            | Category::Rum
            | Category::Security
            | Category::Profiling => CheckOptions::common_logging(),
            Category::DialTesting | Category::ObjectChange | Category::DynamicDw => {
                CheckOptions::default()
            }
        }
    }

    /// The rule set the original's `POST /v1/write/:category` applies: only metric, logging
    /// and object get their own set; every other category gets the defaults.
    pub fn for_write_api(category: Category) -> CheckOptions {
        match category {
            Category::Metric => CheckOptions::metric(),
            Category::Logging => CheckOptions::logging(),
            Category::Object => CheckOptions::object(),
            _ => CheckOptions::default(),
        }
    }
}

/// Counts of check outcomes, by warn type, for self-metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Points checked.
    pub points: u64,
    /// Points that got at least one warning.
    pub points_with_warnings: u64,
    /// Warnings, indexed like [`WarnKind::ALL`].
    pub by_kind: [u64; WarnKind::ALL.len()],
}

impl CheckCounts {
    /// Adds the outcome of checking one point.
    pub fn record(&mut self, warns: &[Warn]) {
        self.points += 1;
        if !warns.is_empty() {
            self.points_with_warnings += 1;
        }
        for w in warns {
            self.by_kind[w.kind as usize] += 1;
        }
    }

    pub fn get(&self, kind: WarnKind) -> u64 {
        self.by_kind[kind as usize]
    }

    /// Non-zero counts, by warn type string.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        WarnKind::ALL
            .iter()
            .zip(self.by_kind.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.as_str(), *n))
    }

    pub fn merge(&mut self, other: &CheckCounts) {
        self.points += other.points;
        self.points_with_warnings += other.points_with_warnings;
        for (a, b) in self.by_kind.iter_mut().zip(other.by_kind.iter()) {
            *a += b;
        }
    }
}

/// Checks points with one set of options.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    opts: CheckOptions,
}

/// A key/value of the point while it is checked (the original checks one list of KVs).
#[derive(Debug)]
enum Kv {
    Tag(String, String),
    Field(String, Value),
}

impl Kv {
    fn key(&self) -> &str {
        match self {
            Kv::Tag(k, _) | Kv::Field(k, _) => k,
        }
    }
    fn key_mut(&mut self) -> &mut String {
        match self {
            Kv::Tag(k, _) | Kv::Field(k, _) => k,
        }
    }
}

/// `DefaultMeasurementName`.
pub const DEFAULT_MEASUREMENT: &str = "__default";

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let cut = s.floor_char_boundary(max);
        s.truncate(cut);
    }
}

/// Trailing backslashes removed, newlines turned to spaces (`adjustKV`).
fn adjust(s: &str) -> Option<String> {
    let trimmed = s.trim_end_matches('\\');
    if trimmed.len() == s.len() && !s.contains('\n') {
        return None;
    }
    Some(trimmed.replace('\n', " "))
}

impl Checker {
    pub fn new(opts: CheckOptions) -> Checker {
        Checker { opts }
    }

    pub fn options(&self) -> &CheckOptions {
        &self.opts
    }

    /// Checks and fixes `p`; returns what was done.
    pub fn check(&self, p: &mut Point) -> Vec<Warn> {
        let mut warns = Vec::new();
        self.check_into(p, &mut warns);
        warns
    }

    /// [`Checker::check`], appending to `warns`.
    pub fn check_into(&self, p: &mut Point, warns: &mut Vec<Warn>) {
        if !self.is_clean(p) {
            self.check_all(p, warns);
        }
    }

    /// Every rule, in order.
    fn check_all(&self, p: &mut Point, warns: &mut Vec<Warn>) {
        let o = &self.opts;
        let mut warn = |kind, action, message: String| {
            warns.push(Warn {
                kind,
                action,
                message,
            })
        };

        // 1. Measurement.
        if p.name.is_empty() {
            warn(
                WarnKind::InvalidMeasurement,
                Action::Fixed,
                format!("empty measurement, use {DEFAULT_MEASUREMENT}"),
            );
            p.name = DEFAULT_MEASUREMENT.to_string();
        }
        if o.max_measurement_len > 0 && p.name.len() > o.max_measurement_len {
            warn(
                WarnKind::InvalidMeasurement,
                Action::Fixed,
                format!(
                    "exceed max measurement length({}), got length {}, trimmed",
                    o.max_measurement_len,
                    p.name.len()
                ),
            );
            truncate(&mut p.name, o.max_measurement_len);
        }

        // 2. Counts.
        if o.max_fields > 0 && p.fields.len() > o.max_fields {
            warn(
                WarnKind::ExceedMaxFields,
                Action::Dropped,
                format!(
                    "exceed max field count({}), got {} fields, extra fields deleted",
                    o.max_fields,
                    p.fields.len()
                ),
            );
            p.fields.truncate(o.max_fields);
        }
        if o.max_tags > 0 && p.tags.len() > o.max_tags {
            warn(
                WarnKind::ExceedMaxTags,
                Action::Dropped,
                format!(
                    "exceed max tag count({}), got {} tags, extra tags deleted",
                    o.max_tags,
                    p.tags.len()
                ),
            );
            p.tags.truncate(o.max_tags);
        }

        // 3. Keys and values.
        if self.keys_need_work(p) {
            self.check_kvs_exact(p, &mut warn);
        } else {
            for (k, v) in p.tags.iter_mut() {
                self.check_tag_value(k, v, &mut warn);
            }
            let mut i = 0;
            while i < p.fields.len() {
                let (k, v) = &mut p.fields[i];
                if self.check_field_value(k, v, &mut warn) {
                    i += 1;
                } else {
                    p.fields.remove(i);
                }
            }
        }

        // 4. Required keys.
        for (k, def) in &o.required_keys {
            if !p.contains(k) {
                warn(
                    WarnKind::AddRequiredKv,
                    Action::Fixed,
                    format!("add required key-value {k:?}: {def:?}"),
                );
                p.fields.push((k.clone(), def.clone()));
            }
        }

        // 5. Nothing left to store.
        if p.fields.is_empty() {
            warn(
                WarnKind::NoField,
                Action::Noted,
                format!("point {:?} has no fields", p.name),
            );
        }
    }

    /// Whether a key must change or go.
    #[inline(always)]
    fn bad_key(&self, k: &str, max: usize) -> bool {
        let o = &self.opts;
        k.is_empty()
            || (max > 0 && k.len() > max)
            || !plain_text(k.as_bytes(), !o.allow_dot_in_key)
            || (!o.disabled_keys.is_empty() && o.disabled_keys.iter().any(|d| d == k))
    }

    /// True when some key must change or go (then the exact, slower model runs).
    fn keys_need_work(&self, p: &(impl PointView + ?Sized)) -> bool {
        let o = &self.opts;
        if p.tags().any(|(k, _)| self.bad_key(k, o.max_tag_key_len))
            || p.fields()
                .any(|(k, _)| self.bad_key(k, o.max_field_key_len))
        {
            return true;
        }
        has_repeated_key(p.keys())
    }

    /// True when checking `p` would change nothing and warn of nothing: such a point can be
    /// encoded as it is, borrowed from the request body. [`Checker::check_into`] starts here.
    pub fn is_clean(&self, p: &(impl PointView + ?Sized)) -> bool {
        self.scan(p, false)
    }

    /// [`Checker::is_clean`] for a point whose keys are known to be distinct, tags and fields
    /// together, as in every line [`Lines`](crate::point::lp::Lines) decodes.
    pub fn is_clean_distinct(&self, p: &(impl PointView + ?Sized)) -> bool {
        self.scan(p, true)
    }

    fn scan(&self, p: &(impl PointView + ?Sized), distinct: bool) -> bool {
        let o = &self.opts;
        let name = p.name();
        let over = |len: usize, max: usize| max > 0 && len > max;
        if name.is_empty()
            || over(name.len(), o.max_measurement_len)
            || p.field_count() == 0
            || over(p.field_count(), o.max_fields)
            || over(p.tag_count(), o.max_tags)
        {
            return false;
        }
        let tags_ok = p.tags().all(|(k, v)| {
            !self.bad_key(k, o.max_tag_key_len)
                && plain_text(v.as_bytes(), false)
                && !over(v.len(), o.max_tag_value_len)
        });
        let fields_ok = tags_ok
            && p.fields().all(|(k, v)| {
                !self.bad_key(k, o.max_field_key_len)
                    && match v {
                        ValueView::Uint(_) => o.allow_uint_fields,
                        ValueView::Float(f) => !f.is_infinite(),
                        ValueView::Str(s) => {
                            o.allow_string_fields && !over(s.len(), o.max_field_value_len)
                        }
                        ValueView::Bytes(b) => {
                            o.allow_string_fields && !over(b.len(), o.max_field_value_len)
                        }
                        _ => true,
                    }
            });
        fields_ok
            && (distinct || !has_repeated_key(p.keys()))
            && o.required_keys.iter().all(|(k, _)| p.has_key(k))
    }

    fn check_tag_value(
        &self,
        key: &str,
        v: &mut String,
        warn: &mut impl FnMut(WarnKind, Action, String),
    ) {
        let o = &self.opts;
        if let Some(fixed) = adjust(v) {
            warn(
                WarnKind::FoundNewLineOrTailEscape,
                Action::Fixed,
                format!("invalid tag value {v:?} of {key:?}, found \\n or tail \\"),
            );
            *v = fixed;
        }
        if o.max_tag_value_len > 0 && v.len() > o.max_tag_value_len {
            warn(
                WarnKind::ExceedMaxTagValueLen,
                Action::Fixed,
                format!(
                    "exceed max tag value length({}), got {}, value truncated",
                    o.max_tag_value_len,
                    v.len()
                ),
            );
            truncate(v, o.max_tag_value_len);
        }
    }

    /// Fixes a field value; false when the field must be dropped.
    fn check_field_value(
        &self,
        key: &str,
        v: &mut Value,
        warn: &mut impl FnMut(WarnKind, Action, String),
    ) -> bool {
        let o = &self.opts;
        match v {
            Value::Uint(u) if !o.allow_uint_fields => {
                if *u > i64::MAX as u64 {
                    warn(
                        WarnKind::ExceedMaxFieldValueInt,
                        Action::Dropped,
                        format!("too large int field: key={key}, value={u}(> {})", i64::MAX),
                    );
                    return false;
                }
                *v = Value::Int(*u as i64);
            }
            Value::Float(f) if f.is_infinite() => {
                if *f > 0.0 {
                    warn(
                        WarnKind::ConvertInfToMaxValue,
                        Action::Fixed,
                        format!("+inf value from {key:?} convert to max-uint64"),
                    );
                    *f = u64::MAX as f64;
                } else {
                    warn(
                        WarnKind::ConvertInfToMinValue,
                        Action::Fixed,
                        format!("-inf value from {key:?} convert to min-int64"),
                    );
                    *f = i64::MIN as f64;
                }
            }
            Value::Str(_) | Value::Bytes(_) if !o.allow_string_fields => {
                warn(
                    WarnKind::InvalidFieldValueType,
                    Action::Dropped,
                    format!(
                        "field({key}) dropped with string value, when [DisableStringField] enabled"
                    ),
                );
                return false;
            }
            Value::Str(s) if o.max_field_value_len > 0 && s.len() > o.max_field_value_len => {
                warn(
                    WarnKind::ExceedMaxFieldValueLen,
                    Action::Fixed,
                    format!(
                        "field ({key}) exceed max field value length({}), got {}, value truncated",
                        o.max_field_value_len,
                        s.len()
                    ),
                );
                truncate(s, o.max_field_value_len);
            }
            Value::Bytes(b) if o.max_field_value_len > 0 && b.len() > o.max_field_value_len => {
                warn(
                    WarnKind::ExceedMaxFieldValueLen,
                    Action::Fixed,
                    format!(
                        "field ({key}) exceed max field value length({}), got {}, value truncated",
                        o.max_field_value_len,
                        b.len()
                    ),
                );
                b.truncate(o.max_field_value_len);
            }
            _ => {}
        }
        true
    }

    /// The original's KV loop, step for step: one list (tags, then fields), checked in order
    /// and compacted in place, where "already exists" and "appears twice" look at the whole
    /// list as it is at that moment (kept entries, stale slots and unchecked entries).
    fn check_kvs_exact(&self, p: &mut Point, warn: &mut impl FnMut(WarnKind, Action, String)) {
        let mut kvs: Vec<Option<Kv>> = Vec::with_capacity(p.tags.len() + p.fields.len());
        kvs.extend(p.tags.drain(..).map(|(k, v)| Some(Kv::Tag(k, v))));
        kvs.extend(p.fields.drain(..).map(|(k, v)| Some(Kv::Field(k, v))));
        let exists = |kvs: &[Option<Kv>], key: &str| kvs.iter().flatten().any(|kv| kv.key() == key);
        let mut idx = 0;
        for i in 0..kvs.len() {
            let Some(mut kv) = kvs[i].take() else {
                continue;
            };
            let keep = match &mut kv {
                Kv::Tag(..) => self.check_tag_key(&mut kv, &kvs, exists, warn),
                Kv::Field(..) => self.check_field_key(&mut kv, &kvs, exists, warn),
            };
            // Key conflict counts this entry too.
            let keep = keep && {
                let key = kv.key();
                let others = kvs.iter().flatten().filter(|x| x.key() == key).count();
                if others >= 1 {
                    warn(
                        WarnKind::KeyNameConflict,
                        Action::Dropped,
                        format!("same key ({key:?})"),
                    );
                    false
                } else {
                    true
                }
            };
            let keep = keep
                && match &mut kv {
                    Kv::Tag(k, v) => {
                        self.check_tag_value(k, v, warn);
                        true
                    }
                    Kv::Field(k, v) => self.check_field_value(k, v, warn),
                };
            if keep {
                // The original copies the kept entry to slot `idx`; slot `i` keeps a stale copy
                // until it is overwritten.
                let copy = match &kv {
                    Kv::Tag(k, v) => Kv::Tag(k.clone(), v.clone()),
                    Kv::Field(k, v) => Kv::Field(k.clone(), v.clone()),
                };
                kvs[idx] = Some(kv);
                if idx != i {
                    kvs[i] = Some(copy);
                }
                idx += 1;
            } else {
                kvs[i] = Some(kv);
            }
        }
        let mut tags = Tags::new();
        let mut fields = Fields::new();
        for kv in kvs.into_iter().take(idx).flatten() {
            match kv {
                Kv::Tag(k, v) => tags.push((k, v)),
                Kv::Field(k, v) => fields.push((k, v)),
            }
        }
        p.tags = tags;
        p.fields = fields;
    }

    fn check_tag_key(
        &self,
        kv: &mut Kv,
        kvs: &[Option<Kv>],
        exists: impl Fn(&[Option<Kv>], &str) -> bool,
        warn: &mut impl FnMut(WarnKind, Action, String),
    ) -> bool {
        let o = &self.opts;
        let key = kv.key_mut();
        if o.max_tag_key_len > 0 && key.len() > o.max_tag_key_len {
            warn(
                WarnKind::ExceedMaxTagKeyLen,
                Action::Fixed,
                format!(
                    "exceed max tag key length({}), got {}, key truncated",
                    o.max_tag_key_len,
                    key.len()
                ),
            );
            let mut new = key.clone();
            truncate(&mut new, o.max_tag_key_len);
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("tag key {new:?} exist after truncate"),
                );
                return false;
            }
            *key = new;
        }
        if let Some(new) = adjust(key) {
            warn(
                WarnKind::InvalidTagKey,
                Action::Fixed,
                format!("invalid tag key {key:?}, replace \\ or \\n with ''"),
            );
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("tag key {new:?} exist after adjust"),
                );
                return false;
            }
            *key = new;
        }
        if !o.allow_dot_in_key && key.contains('.') {
            warn(
                WarnKind::InvalidTagKey,
                Action::Fixed,
                format!("invalid tag key `{key}': found `.'"),
            );
            let new = key.replace('.', "_");
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("tag key {new:?} exist after adjust"),
                );
                return false;
            }
            *key = new;
        }
        !self.key_disabled(key, warn)
    }

    fn check_field_key(
        &self,
        kv: &mut Kv,
        kvs: &[Option<Kv>],
        exists: impl Fn(&[Option<Kv>], &str) -> bool,
        warn: &mut impl FnMut(WarnKind, Action, String),
    ) -> bool {
        let o = &self.opts;
        let key = kv.key_mut();
        if o.max_field_key_len > 0 && key.len() > o.max_field_key_len {
            warn(
                WarnKind::ExceedMaxFieldKeyLen,
                Action::Fixed,
                format!(
                    "exceed max field key length({}), got length {}, key truncated",
                    o.max_field_key_len,
                    key.len()
                ),
            );
            let mut new = key.clone();
            truncate(&mut new, o.max_field_key_len);
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("field key {new:?} exist after truncate"),
                );
                return false;
            }
            *key = new;
        }
        if !o.allow_dot_in_key && key.contains('.') {
            warn(
                WarnKind::DotInKey,
                Action::Fixed,
                format!("invalid field key `{key}': found `.'"),
            );
            let new = key.replace('.', "_");
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("field key {new:?} exist after adjust"),
                );
                return false;
            }
            *key = new;
        }
        if let Some(new) = adjust(key) {
            warn(
                WarnKind::FoundNewLineOrTailEscape,
                Action::Fixed,
                format!("invalid field key {key:?}: found \\n, replaced with ' '"),
            );
            if exists(kvs, &new) {
                warn(
                    WarnKind::InvalidTagKey,
                    Action::Dropped,
                    format!("field key {new:?} exist after adjust"),
                );
                return false;
            }
            *key = new;
        }
        !self.key_disabled(key, warn)
    }

    fn key_disabled(&self, key: &str, warn: &mut impl FnMut(WarnKind, Action, String)) -> bool {
        if key.is_empty() {
            warn(
                WarnKind::TagDisabled,
                Action::Dropped,
                "empty tag key disabled".to_string(),
            );
            return true;
        }
        if self.opts.disabled_keys.iter().any(|d| d == key) {
            warn(
                WarnKind::TagDisabled,
                Action::Dropped,
                format!("tag key {key:?} disabled"),
            );
            return true;
        }
        false
    }
}

/// True when `b` holds no `\n` (and no `.` with `no_dot`) and does not end with a backslash:
/// a key or tag value the checker leaves alone. Read a word at a time: keys and tag values are
/// mostly short, where this beats calls into `memchr`.
#[inline]
fn plain_text(b: &[u8], no_dot: bool) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    if b.last() == Some(&b'\\') {
        return false;
    }
    let n = b.len();
    if n < 8 {
        return !b.iter().any(|&c| c == b'\n' || (no_dot && c == b'.'));
    }
    let nl = LO * u64::from(b'\n');
    let dot = LO * u64::from(if no_dot { b'.' } else { b'\n' });
    let has = |w: u64, pat: u64| {
        let x = w ^ pat;
        x.wrapping_sub(LO) & !x & HI != 0
    };
    let word = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let bad = |w: u64| has(w, nl) || has(w, dot);
    let mut i = 0;
    while i + 8 <= n {
        if bad(word(i)) {
            return false;
        }
        i += 8;
    }
    // The tail, as the last 8 bytes (overlapping what was read).
    i == n || !bad(word(n - 8))
}

/// Past this many keys, [`has_repeated_key`] uses a hash set.
const MANY_KEYS: usize = 64;

/// Whether two of `keys` are equal. Each key is first reduced to a word (its length and up to
/// its first 7 bytes) and only keys with equal words are compared: for the dozen or so keys of
/// a point that is a few dozen integer comparisons, where sorting the keys cost a sort and a
/// `memcmp` per comparison.
fn has_repeated_key<'a>(keys: impl Iterator<Item = &'a str>) -> bool {
    let mut seen: smallvec::SmallVec<[(u64, &str); 32]> = smallvec::SmallVec::new();
    let mut keys = keys;
    for k in keys.by_ref() {
        if seen.len() == MANY_KEYS {
            // A point with very many keys: a set keeps the test linear.
            let mut set: std::collections::HashSet<&str> = seen.iter().map(|(_, k)| *k).collect();
            return !set.insert(k) || keys.any(|k| !set.insert(k));
        }
        let b = k.as_bytes();
        let mut w = (b.len() as u64) << 56;
        for (i, c) in b.iter().take(7).enumerate() {
            w |= (*c as u64) << (8 * i);
        }
        if seen
            .iter()
            .any(|(sw, sk)| *sw == w && (b.len() <= 7 || *sk == k))
        {
            return true;
        }
        seen.push((w, k));
    }
    false
}

#[cfg(test)]
mod tests;
