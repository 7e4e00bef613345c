//! Configuration structs described as data.
//!
//! [`config_struct!`](crate::config_struct) declares a config section once: its fields, their
//! defaults, their documentation and the `ENV_*` variables that override them. From that one
//! declaration come the serde impls, the `Default` impl, the commented sample file, the
//! `datakit doc config` reference, the "did you mean" list for unknown keys and the
//! environment overrides.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

use super::decode::{DecodeCx, Seg, decode_with_serde};
use super::duration::Dur;

/// Documentation of one key of a section.
#[derive(Debug)]
pub struct KeyDoc {
    /// The key as written in TOML.
    pub name: &'static str,
    /// One or more sentences for users.
    pub doc: &'static str,
    /// Human type name (`string`, `duration`, `array of string`, ...).
    pub type_name: fn() -> String,
    /// Environment variables that override the key, highest precedence first.
    pub env: &'static [&'static str],
    /// True when the variable means the opposite of the key (`ENV_DISABLE_PROTECT_MODE`).
    pub env_inverted: bool,
    /// The nested section when the key is a table (or an array of tables).
    pub section: fn() -> Option<&'static SectionDoc>,
    /// Other spellings accepted for the key (old names).
    pub aliases: &'static [&'static str],
}

impl KeyDoc {
    /// The key with a raw-identifier prefix (`r#type`) removed.
    pub fn key(&self) -> &'static str {
        strip_raw(self.name)
    }
}

/// Documentation of one config section (a TOML table).
#[derive(Debug)]
pub struct SectionDoc {
    pub doc: &'static str,
    pub keys: &'static [KeyDoc],
}

impl SectionDoc {
    pub fn get(&self, key: &str) -> Option<&KeyDoc> {
        self.keys.iter().find(|k| k.key() == key)
    }

    /// The section reached by following `path` (table keys) from this one.
    pub fn descend<'a>(
        &'static self,
        path: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'static SectionDoc> {
        let mut cur: &'static SectionDoc = self;
        for seg in path {
            cur = (cur.get(seg)?.section)()?;
        }
        Some(cur)
    }
}

/// Looks up an environment variable; injectable for tests.
pub type EnvLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// An environment variable that overrode (or failed to override) a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    pub var: String,
    pub key_path: String,
    pub value: String,
    /// Why the value could not be used; `None` when it was applied.
    pub error: Option<String>,
}

/// A type that can appear in a config section.
pub trait ConfType: Sized {
    fn type_name() -> String;
    /// Decodes a value, reporting every problem (with its position) into `cx`.
    /// The default reads the value with serde; sections decode key by key.
    fn decode_conf(value: Spanned<DeValue<'_>>, cx: &mut DecodeCx<'_>) -> Option<Self>
    where
        Self: DeserializeOwned,
    {
        decode_with_serde(value, cx)
    }
    fn section() -> Option<&'static SectionDoc> {
        None
    }
    /// Applies environment overrides inside nested sections (no-op for plain values).
    fn apply_env_nested(&mut self, _env: &EnvLookup<'_>, _path: &str, _out: &mut Vec<EnvOverride>) {
    }
}

/// A type that can be read from an environment variable.
pub trait EnvValue: Sized {
    fn parse_env(s: &str) -> Result<Self, String>;
}

macro_rules! conf_scalar {
    ($name:literal: $($t:ty),*) => {$(
        impl ConfType for $t {
            fn type_name() -> String {
                $name.to_string()
            }
        }
        impl EnvValue for $t {
            fn parse_env(s: &str) -> Result<Self, String> {
                s.trim().parse::<$t>().map_err(|e| format!("expected {}: {e}", $name))
            }
        }
    )*};
}
conf_scalar!("integer": u8, u16, u32, u64, usize, i32, i64);
conf_scalar!("float": f64);

impl ConfType for String {
    fn type_name() -> String {
        "string".into()
    }
}
impl EnvValue for String {
    fn parse_env(s: &str) -> Result<Self, String> {
        Ok(s.to_string())
    }
}

impl ConfType for bool {
    fn type_name() -> String {
        "boolean".into()
    }
}
impl EnvValue for bool {
    fn parse_env(s: &str) -> Result<Self, String> {
        parse_env_bool(s)
    }
}

/// Booleans from the environment: `true/false`, `1/0`, `yes/no`, `on/off` (any case).
/// The original treats any non-empty value as true, so `ENV_X=false` meant true there; we refuse
/// what we cannot read instead of guessing.
pub fn parse_env_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" | "" => Ok(false),
        _ => Err("expected a boolean (true/false, 1/0, yes/no, on/off)".into()),
    }
}

impl ConfType for Dur {
    fn type_name() -> String {
        "duration".into()
    }
}
impl EnvValue for Dur {
    fn parse_env(s: &str) -> Result<Self, String> {
        s.parse::<Dur>().map_err(|e| e.to_string())
    }
}

impl<T: ConfType + DeserializeOwned> ConfType for Vec<T> {
    fn type_name() -> String {
        match T::section() {
            Some(_) => "array of tables".into(),
            None => format!("array of {}", T::type_name()),
        }
    }
    fn decode_conf(value: Spanned<DeValue<'_>>, cx: &mut DecodeCx<'_>) -> Option<Self> {
        if !matches!(value.get_ref(), DeValue::Array(_)) {
            cx.wrong_type(&value, &Self::type_name());
            return None;
        }
        let DeValue::Array(items) = value.into_inner() else {
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            cx.path.push(Seg::Index(i));
            if let Some(v) = T::decode_conf(item, cx) {
                out.push(v);
            }
            cx.path.pop();
        }
        Some(out)
    }
    fn section() -> Option<&'static SectionDoc> {
        T::section()
    }
    fn apply_env_nested(&mut self, env: &EnvLookup<'_>, path: &str, out: &mut Vec<EnvOverride>) {
        for item in self.iter_mut() {
            item.apply_env_nested(env, path, out);
        }
    }
}

/// Lists from the environment: a JSON array (`["a","b"]`) or a comma-separated list.
impl<T: EnvValue> EnvValue for Vec<T> {
    fn parse_env(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.starts_with('[') {
            let items: Vec<serde_json::Value> =
                serde_json::from_str(t).map_err(|e| format!("invalid JSON array: {e}"))?;
            return items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => T::parse_env(&s),
                    other => T::parse_env(&other.to_string()),
                })
                .collect();
        }
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(T::parse_env)
            .collect()
    }
}

impl<T: ConfType + DeserializeOwned> ConfType for BTreeMap<String, T> {
    fn type_name() -> String {
        format!("table of {}", T::type_name())
    }
    fn decode_conf(value: Spanned<DeValue<'_>>, cx: &mut DecodeCx<'_>) -> Option<Self> {
        if !matches!(value.get_ref(), DeValue::Table(_)) {
            cx.wrong_type(&value, &Self::type_name());
            return None;
        }
        let DeValue::Table(t) = value.into_inner() else {
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, v) in t {
            let key = k.into_inner().into_owned();
            cx.path.push(Seg::Key(key.clone()));
            if let Some(v) = T::decode_conf(v, cx) {
                out.insert(key, v);
            }
            cx.path.pop();
        }
        Some(out)
    }
}

/// Maps from the environment: `k=v,k2=v2`, or a JSON object (its values as `T` reads them).
impl<T: EnvValue> EnvValue for BTreeMap<String, T> {
    fn parse_env(s: &str) -> Result<Self, String> {
        let mut out = BTreeMap::new();
        if s.trim_start().starts_with('{') {
            let m: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(s.trim()).map_err(|e| format!("invalid JSON object: {e}"))?;
            for (k, v) in m {
                let v = match v {
                    serde_json::Value::String(s) => T::parse_env(&s),
                    other => T::parse_env(&other.to_string()),
                }
                .map_err(|e| format!("`{k}`: {e}"))?;
                out.insert(k, v);
            }
            return Ok(out);
        }
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not of the form key=value"))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(format!("`{pair}` has an empty key"));
            }
            out.insert(k.to_string(), T::parse_env(v.trim())?);
        }
        Ok(out)
    }
}

/// A field name without its raw-identifier prefix (`r#type` → `type`).
pub const fn strip_raw(name: &'static str) -> &'static str {
    match name.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(_) => name,
        },
        _ => name,
    }
}

/// Joins a section path and a key: `dataway` + `urls` → `dataway.urls`.
pub fn join_path(prefix: &str, key: &str) -> String {
    let key = key.strip_prefix("r#").unwrap_or(key);
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Declares a config section. See the module documentation.
///
/// ```ignore
/// config_struct! {
///     "Section description."
///     pub struct IoConfig {
///         "Points per batch." env("ENV_IO_MAX_CACHE_COUNT")
///         pub max_cache_count: u64 = 1000,
///     }
/// }
/// ```
#[macro_export]
macro_rules! config_struct {
    (@inverted) => { false };
    (@inverted $($x:literal),+) => { true };
    (
        $sdoc:literal
        $(#[$smeta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fdoc:literal
                $(alias($($alias:literal),+ $(,)?))?
                $(env($($env:literal),+ $(,)?))?
                $(env_not($($envn:literal),+ $(,)?))?
                pub $field:ident : $fty:ty = $default:expr
            ),* $(,)?
        }
    ) => {
        #[doc = $sdoc]
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(default)]
        $(#[$smeta])*
        $vis struct $name {
            $(
                #[doc = $fdoc]
                $(#[$fmeta])*
                $($(#[serde(alias = $alias)])+)?
                pub $field: $fty,
            )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)* }
            }
        }

        impl $name {
            /// The documentation of this section's keys.
            pub fn docs() -> &'static $crate::config::schema::SectionDoc {
                static DOCS: $crate::config::schema::SectionDoc = $crate::config::schema::SectionDoc {
                    doc: $sdoc,
                    keys: &[$(
                        $crate::config::schema::KeyDoc {
                            name: stringify!($field),
                            doc: $fdoc,
                            type_name: <$fty as $crate::config::schema::ConfType>::type_name,
                            env: &[$($($env,)+)? $($($envn,)+)?],
                            env_inverted: $crate::config_struct!(@inverted $($($envn),+)?),
                            section: <$fty as $crate::config::schema::ConfType>::section,
                            aliases: &[$($($alias,)+)?],
                        },
                    )*],
                };
                &DOCS
            }

            /// Applies the `ENV_*` overrides declared for this section and its sub-sections.
            #[allow(unused_variables)]
            pub fn apply_env(
                &mut self,
                env: &$crate::config::schema::EnvLookup<'_>,
                prefix: &str,
                out: &mut Vec<$crate::config::schema::EnvOverride>,
            ) {
                $(
                    let path = $crate::config::schema::join_path(prefix, stringify!($field));
                    $(
                        for var in [$($env),+] {
                            if let Some(v) = env(var) {
                                let error = match <$fty as $crate::config::schema::EnvValue>::parse_env(&v) {
                                    Ok(x) => {
                                        self.$field = x;
                                        None
                                    }
                                    Err(message) => Some(message),
                                };
                                out.push($crate::config::schema::EnvOverride {
                                    var: var.to_string(),
                                    key_path: path.clone(),
                                    value: v,
                                    error,
                                });
                                break;
                            }
                        }
                    )?
                    $(
                        for var in [$($envn),+] {
                            if let Some(v) = env(var) {
                                let error = match $crate::config::schema::parse_env_bool(&v) {
                                    Ok(b) => {
                                        self.$field = !b;
                                        None
                                    }
                                    Err(message) => Some(message),
                                };
                                out.push($crate::config::schema::EnvOverride {
                                    var: var.to_string(),
                                    key_path: path.clone(),
                                    value: v,
                                    error,
                                });
                                break;
                            }
                        }
                    )?
                    <$fty as $crate::config::schema::ConfType>::apply_env_nested(&mut self.$field, env, &path, out);
                )*
            }
        }

        impl $crate::config::schema::ConfType for $name {
            fn type_name() -> String {
                "table".into()
            }
            fn decode_conf(
                value: ::toml::Spanned<::toml::de::DeValue<'_>>,
                cx: &mut $crate::config::decode::DecodeCx<'_>,
            ) -> Option<Self> {
                // A key that fails keeps its default; the error is in `cx`, so every problem of
                // the section is reported at once.
                let table = cx.expect_table(value)?;
                let mut out = Self::default();
                for (key, value) in table {
                    let Some(field) = cx.resolve_key(Self::docs(), &key) else { continue };
                    cx.path.push($crate::config::decode::Seg::Key(field.to_string()));
                    $(
                        if field == $crate::config::schema::strip_raw(stringify!($field)) {
                            if let Some(v) = <$fty as $crate::config::schema::ConfType>::decode_conf(value, cx) {
                                out.$field = v;
                            }
                            cx.path.pop();
                            continue;
                        }
                    )*
                    cx.path.pop();
                }
                Some(out)
            }
            fn section() -> Option<&'static $crate::config::schema::SectionDoc> {
                Some(Self::docs())
            }
            fn apply_env_nested(
                &mut self,
                env: &$crate::config::schema::EnvLookup<'_>,
                path: &str,
                out: &mut Vec<$crate::config::schema::EnvOverride>,
            ) {
                self.apply_env(env, path, out)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    crate::config_struct! {
        "Inner."
        pub struct Inner {
            "A nested flag." env_not("T_DISABLE_FLAG")
            pub flag: bool = true,
        }
    }

    crate::config_struct! {
        "Outer."
        pub struct Outer {
            "A count." env("T_COUNT", "T_COUNT_OLD")
            pub count: u64 = 3,
            "Names." env("T_NAMES")
            pub names: Vec<String> = vec!["a".into()],
            "Tags." env("T_TAGS")
            pub tags: BTreeMap<String, String> = BTreeMap::new(),
            "Wait." env("T_WAIT")
            pub wait: Dur = Dur::from_secs(10),
            "Inner table."
            pub inner: Inner = Inner::default(),
        }
    }

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn docs_describe_every_key_with_types() {
        let d = Outer::docs();
        let names: Vec<_> = d.keys.iter().map(|k| k.key()).collect();
        assert_eq!(names, ["count", "names", "tags", "wait", "inner"]);
        assert_eq!((d.get("names").unwrap().type_name)(), "array of string");
        assert_eq!((d.get("tags").unwrap().type_name)(), "table of string");
        assert_eq!((d.get("wait").unwrap().type_name)(), "duration");
        assert_eq!(d.get("count").unwrap().env, ["T_COUNT", "T_COUNT_OLD"]);
        let inner = d.descend(["inner"]).unwrap();
        assert!(inner.get("flag").unwrap().env_inverted);
        assert!(d.descend(["count"]).is_none());
    }

    #[test]
    fn env_overrides_apply_with_alias_precedence() {
        let mut o = Outer::default();
        let mut issues = vec![];
        o.apply_env(
            &lookup(&[
                ("T_COUNT", "7"),
                ("T_COUNT_OLD", "9"),
                ("T_NAMES", "x, y,,z"),
                ("T_TAGS", "k=v, k2 = v2"),
                ("T_WAIT", "1m"),
                ("T_DISABLE_FLAG", "yes"),
            ]),
            "",
            &mut issues,
        );
        assert!(issues.iter().all(|i| i.error.is_none()), "{issues:?}");
        // T_COUNT wins over its older alias T_COUNT_OLD, which is not applied.
        assert_eq!(issues.len(), 5);
        assert_eq!(o.count, 7);
        assert_eq!(o.names, ["x", "y", "z"]);
        assert_eq!(o.tags.get("k2").map(String::as_str), Some("v2"));
        assert_eq!(o.wait, Dur::from_secs(60));
        assert!(!o.inner.flag);

        let mut o = Outer::default();
        o.apply_env(
            &lookup(&[("T_COUNT_OLD", "9"), ("T_NAMES", r#"["p","q"]"#)]),
            "",
            &mut issues,
        );
        assert_eq!(o.count, 9);
        assert_eq!(o.names, ["p", "q"]);
    }

    #[test]
    fn maps_of_lists_come_from_a_json_object() {
        let m = BTreeMap::<String, Vec<String>>::parse_env(
            r#"{"logging": ["{ source = 'a', n = 1 }", "{ b = 2 }"], "metric": []}"#,
        )
        .unwrap();
        assert_eq!(m["logging"], ["{ source = 'a', n = 1 }", "{ b = 2 }"]);
        assert!(m["metric"].is_empty());
        assert!(BTreeMap::<String, Vec<String>>::parse_env(r#"{"logging": "#).is_err());
        let kv = BTreeMap::<String, String>::parse_env("a=1,b=2").unwrap();
        assert_eq!(kv["b"], "2");
    }

    #[test]
    fn bad_env_values_are_reported_not_applied() {
        let mut o = Outer::default();
        let mut issues = vec![];
        o.apply_env(
            &lookup(&[
                ("T_COUNT", "many"),
                ("T_TAGS", "novalue"),
                ("T_DISABLE_FLAG", "maybe"),
            ]),
            "sec",
            &mut issues,
        );
        assert_eq!(o, Outer::default());
        let vars: Vec<_> = issues
            .iter()
            .filter(|i| i.error.is_some())
            .map(|i| (i.var.as_str(), i.key_path.as_str()))
            .collect();
        assert_eq!(
            vars,
            [
                ("T_COUNT", "sec.count"),
                ("T_TAGS", "sec.tags"),
                ("T_DISABLE_FLAG", "sec.inner.flag")
            ]
        );
    }
}
