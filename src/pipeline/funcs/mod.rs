//! The function library. Every function has a checker that runs at compile time (arity,
//! argument kinds, patterns and regexes compiled once) and returns the code that runs per
//! point. Docs for each function are data in [`super::docs`].

use super::ast::{self, Pos};
use super::compile::{CResult, Cx};
use super::runtime::{RResult, Rt};
use super::value::Val;

mod convert;
mod grok;
mod json;
mod keys;
mod misc;
mod strfmt;
mod strings;
mod time;
pub mod useragent;

pub use misc::TtlCache;
pub use strfmt::go_sprintf;
pub use time::{dateparse, go_duration};

/// Compiled code for one call.
pub trait Func: Send + Sync {
    fn call(&self, rt: &mut Rt<'_>, pos: Pos) -> RResult<Val>;
}

struct FnImpl<F>(F);

impl<F> Func for FnImpl<F>
where
    F: Fn(&mut Rt<'_>, Pos) -> RResult<Val> + Send + Sync,
{
    fn call(&self, rt: &mut Rt<'_>, pos: Pos) -> RResult<Val> {
        (self.0)(rt, pos)
    }
}

/// Wraps a closure as compiled call code.
pub fn func<F>(f: F) -> Box<dyn Func>
where
    F: Fn(&mut Rt<'_>, Pos) -> RResult<Val> + Send + Sync + 'static,
{
    Box::new(FnImpl(f))
}

/// A call that does nothing at run time (compile-time only functions).
/// Argument `i` of a bound call, or the compile error naming the missing argument.
pub(crate) fn need<'a>(b: &super::compile::Bound<'a>, i: usize) -> CResult<&'a ast::Expr> {
    b.get(i).ok_or_else(|| {
        super::compile::CheckError::new(
            b.pos,
            format!("func {}: missing argument {}", b.name, i + 1),
        )
    })
}

pub fn nop() -> Box<dyn Func> {
    func(|_, _| Ok(Val::Nil))
}

pub type CompileFn = fn(&mut Cx<'_>, &ast::Call, Pos) -> CResult<Box<dyn Func>>;

/// A registered function name and its checker.
pub struct FuncDef {
    pub name: &'static str,
    pub compile: CompileFn,
}

macro_rules! defs {
    ($($name:literal => $f:path),* $(,)?) => {
        &[$(FuncDef { name: $name, compile: $f }),*]
    };
}

/// Every registered function.
pub static FUNCS: &[FuncDef] = defs! {
    "add_key" => keys::add_key,
    "add_pattern" => grok::add_pattern,
    "adjust_timezone" => time::adjust_timezone,
    "agg_create" => misc::agg_create,
    "agg_metric" => misc::agg_metric,
    "append" => convert::append,
    "b64dec" => convert::b64dec,
    "b64enc" => convert::b64enc,
    "cache_get" => misc::cache_get,
    "cache_set" => misc::cache_set,
    "cast" => convert::cast,
    "cidr" => convert::cidr,
    "conv_traceid_w3c_to_dd" => convert::conv_traceid_w3c_to_dd,
    "cover" => strings::cover,
    "create_point" => keys::create_point,
    "datetime" => time::datetime,
    "decode" => strings::decode,
    "default_time" => time::default_time,
    "default_time_with_fmt" => time::default_time_with_fmt,
    "delete" => convert::delete,
    "drop" => keys::drop,
    "drop_key" => keys::drop_key,
    "drop_origin_data" => keys::drop_origin_data,
    "duration_precision" => time::duration_precision,
    "exit" => keys::exit,
    "format_int" => convert::format_int,
    "geoip" => strings::geoip,
    "get_key" => keys::get_key,
    "gjson" => json::gjson,
    "grok" => grok::grok,
    "group_between" => keys::group_between,
    "group_in" => keys::group_in,
    "hash" => convert::hash,
    "http_request" => misc::http_request,
    "json" => json::json,
    "json_all" => json::json_all,
    "kv_split" => strings::kv_split,
    "len" => convert::len,
    "load_json" => json::load_json,
    "lowercase" => strings::lowercase,
    "match" => strings::match_,
    "mquery_refer_table" => misc::mquery_refer_table,
    "nullif" => keys::nullif,
    "parse_date" => time::parse_date,
    "parse_duration" => time::parse_duration,
    "parse_int" => convert::parse_int,
    "point_window" => misc::point_window,
    "pt_kvs_del" => keys::pt_kvs_del,
    "pt_kvs_get" => keys::pt_kvs_get,
    "pt_kvs_keys" => keys::pt_kvs_keys,
    "pt_kvs_set" => keys::pt_kvs_set,
    "pt_name" => keys::pt_name,
    "query_refer_table" => misc::query_refer_table,
    "rename" => keys::rename,
    "replace" => strings::replace,
    "sample" => misc::sample,
    "set_measurement" => keys::set_measurement,
    "set_tag" => keys::set_tag,
    "setopt" => keys::setopt,
    "slice_string" => strings::slice_string,
    "sql_cover" => strings::sql_cover,
    "strfmt" => strings::strfmt,
    "strlen" => convert::strlen,
    "timestamp" => time::timestamp,
    "trim" => strings::trim,
    "uppercase" => strings::uppercase,
    "url_decode" => strings::url_decode,
    "url_parse" => strings::url_parse,
    "use" => keys::use_,
    "user_agent" => strings::user_agent,
    "vaild_json" => json::valid_json,
    "valid_json" => json::valid_json,
    "value_type" => convert::value_type,
    "window_hit" => misc::window_hit,
    "xml" => json::xml,
};

/// The checker of a function name.
pub fn lookup(name: &str) -> Option<&'static FuncDef> {
    FUNCS.iter().find(|f| f.name == name)
}

/// The registered function closest to an unknown name, if one is close enough to be a typo.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    crate::config::decode::suggest(unknown, FUNCS.iter().map(|f| f.name))
        .into_iter()
        .next()
}
