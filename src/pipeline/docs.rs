//! The function reference as data: one entry per registered name (signature, description,
//! example), for `datakit doc` to render. A test keeps it in step with the registry.

/// Documentation of one Pipeline function.
#[derive(Debug, Clone, Copy)]
pub struct FuncDoc {
    pub name: &'static str,
    /// Group in the reference (`grok`, `json`, `keys`, `text`, `time`, `convert`, `misc`).
    pub group: &'static str,
    pub signature: &'static str,
    pub description: &'static str,
    pub example: &'static str,
    /// Where this build differs from the original, if anywhere.
    pub limitation: Option<&'static str>,
    /// Not available in this build: a script calling it does not compile (the limitation says
    /// why).
    pub unsupported: bool,
}

macro_rules! doc {
    ($name:literal, $group:literal, $sig:literal, $desc:literal, $ex:literal) => {
        FuncDoc {
            name: $name,
            group: $group,
            signature: $sig,
            description: $desc,
            example: $ex,
            limitation: None,
            unsupported: false,
        }
    };
    ($name:literal, $group:literal, $sig:literal, $desc:literal, $ex:literal, $lim:literal) => {
        FuncDoc {
            name: $name,
            group: $group,
            signature: $sig,
            description: $desc,
            example: $ex,
            limitation: Some($lim),
            unsupported: false,
        }
    };
    (unsupported $name:literal, $group:literal, $sig:literal, $desc:literal, $ex:literal, $why:literal) => {
        FuncDoc {
            name: $name,
            group: $group,
            signature: $sig,
            description: $desc,
            example: $ex,
            limitation: Some($why),
            unsupported: true,
        }
    };
}

/// Every function, sorted by name.
pub static FUNCTIONS: &[FuncDoc] = &[
    doc!(
        "add_key",
        "keys",
        "add_key(key, value?)",
        "Writes `value` (any expression) to the point under `key`. A key that is a tag stays a tag and gets the value as text; lists and maps are stored as compact JSON with sorted keys; nil removes a field. With one argument, copies the variable of that name into the point.",
        "add_key(city, \"shanghai\")\nadd_key(codes, [200, 404])"
    ),
    doc!(
        "add_pattern",
        "grok",
        "add_pattern(name: str, pattern: str)",
        "Defines a grok pattern for the rest of the current block and the blocks inside it. Both arguments are string literals; the pattern may use other patterns and typed captures. Script patterns win over built-in ones.",
        "add_pattern(\"code\", \"%{INT:code:int}\")\ngrok(_, \"status %{code}\")"
    ),
    doc!(
        "adjust_timezone",
        "time",
        "adjust_timezone(key)",
        "Shifts an int nanosecond timestamp by whole hours so it lands within the hour before now (two minutes of slack): a fix for log times written in another zone without an offset.",
        "default_time(time)\nadjust_timezone(time)"
    ),
    doc!(
        unsupported "agg_create",
        "misc",
        "agg_create(bucket, on_interval=\"60s\", on_count=0, keep_value=false, const_tags=nil, category=\"M\")",
        "Creates an in-agent aggregation bucket that emits metric points.",
        "agg_create(\"http\", on_interval=\"30s\")",
        "Not supported by this build (compile error): in-agent aggregation needs the daemon's aggregator."
    ),
    doc!(
        unsupported "agg_metric",
        "misc",
        "agg_metric(bucket, new_field, agg_fn, agg_by: list, agg_field, category=\"M\")",
        "Adds the point's `agg_field` to an aggregation bucket.",
        "agg_metric(\"http\", \"latency_avg\", \"avg\", [\"route\"], \"latency\")",
        "Not supported by this build (compile error), like agg_create."
    ),
    doc!(
        "append",
        "convert",
        "append(list, elem) -> list",
        "Returns a new list: `list` with `elem` added. Assign it back to keep it.",
        "l = [1]\nl = append(l, 2)"
    ),
    doc!(
        "b64dec",
        "convert",
        "b64dec(key)",
        "Decodes standard base64 text in place. The argument must be a name. Invalid base64 stops the script with a run error.",
        "b64dec(payload)"
    ),
    doc!(
        "b64enc",
        "convert",
        "b64enc(key)",
        "Encodes the key's text as standard base64 in place. The argument must be a name.",
        "b64enc(payload)"
    ),
    doc!(
        "cache_get",
        "misc",
        "cache_get(key: str) -> str",
        "Reads a value set by cache_set in this script (nil when missing or expired).",
        "v = cache_get(\"last_user\")"
    ),
    doc!(
        "cache_set",
        "misc",
        "cache_set(key: str, value, expiration=100)",
        "Stores a value as text in this script's cache for `expiration` seconds.",
        "cache_set(\"last_user\", user, 60)"
    ),
    doc!(
        "cast",
        "convert",
        "cast(key, type: \"int\"|\"float\"|\"bool\"|\"str\")",
        "Converts the key's value in place. int goes through float and truncates (\"42.9\" is 42, \"abc\" is 0, true is 1); float parses (bad text is 0); bool takes 1/t/true as true; str writes decimal text. Quirk kept from the original: \"string\" removes the value.",
        "cast(status_code, \"int\")"
    ),
    doc!(
        "cidr",
        "convert",
        "cidr(ip: str, prefix: str) -> bool",
        "True if the IPv4/IPv6 address is inside the CIDR prefix.",
        "if cidr(client_ip, \"10.0.0.0/8\") { add_key(internal, true) }"
    ),
    doc!(
        "conv_traceid_w3c_to_dd",
        "convert",
        "conv_traceid_w3c_to_dd(key)",
        "Turns a 32- or 16-hex-digit W3C trace id into the decimal Datadog id (its low 64 bits).",
        "conv_traceid_w3c_to_dd(trace_id)"
    ),
    doc!(
        "cover",
        "text",
        "cover(key, [start, end])",
        "Masks characters start..end (1-based, inclusive) with `*` (Han characters with `＊`). An end past the text is clamped, a negative end counts from the end, a start <= 0 counts from the end too; nothing happens when start > end or the value is not text.",
        "cover(phone, [4, 7])   # 13812345678 -> 138****5678"
    ),
    doc!(
        "create_point",
        "keys",
        "create_point(name, tags: map, fields: map, ts=0, category=\"M\", after_use=\"\")",
        "Makes an extra point that is sent on its own (time `ts` or now), optionally after running another script on it.",
        "create_point(\"login\", {\"user\": user}, {\"count\": 1}, category=\"M\")"
    ),
    doc!(
        "datetime",
        "time",
        "datetime(key, precision: \"s\"|\"ms\"|\"us\"|\"ns\", fmt: str, tz=\"\")",
        "Formats an int timestamp (digits in text work too) in a zone: `fmt` is a Go layout name (ANSIC, RFC3339, RFC3339Nano, Kitchen, Stamp, ...) or strftime directives (%Y %m %d %H %M %S %a %b %e %I %p %Z %z, %f = microseconds). An unknown zone stops the script.",
        "datetime(ts, \"ms\", \"%Y/%m/%d %H:%M:%S\", \"Asia/Shanghai\")"
    ),
    doc!(
        "decode",
        "text",
        "decode(key, encoding: str)",
        "Decodes text in gbk, gb18030, utf-16le or utf-16be into UTF-8 (binary fields are decoded as they are). Unknown encodings do nothing.",
        "decode(message, \"gbk\")"
    ),
    doc!(
        "default_time",
        "time",
        "default_time(key, timezone=\"\")",
        "Parses the key's time text into int nanoseconds: seven fixed layouts (nginx/apache access, redis, mysql, gin, apache error, postgresql) first, then a generic parser (RFC3339, ISO dates with or without zone, US month-first dates, RFC1123, epochs by digit count, Chinese dates). The zone is the host's by default, an IANA name, or +N/-N from DataKit's table. On failure the key becomes the current time and `pl_msg` says why. A key named `time` becomes the point time.",
        "grok(_, \"\\\\[%{HTTPDATE:time}\\\\]\")\ndefault_time(time)",
        "A syslog timestamp without a year takes the current year (the original overflows to a huge negative time)."
    ),
    doc!(
        "default_time_with_fmt",
        "time",
        "default_time_with_fmt(key, layout: str, tz=\"\")",
        "Parses the key's text strictly with a Go reference-time layout (2006-01-02 15:04:05). Failure leaves the key as it is.",
        "default_time_with_fmt(t, \"2006-01-02 15:04\", \"UTC\")"
    ),
    doc!(
        "delete",
        "convert",
        "delete(map, key: str)",
        "Removes a key from a map variable in place.",
        "m = load_json(_)\ndelete(m, \"password\")"
    ),
    doc!(
        "drop",
        "keys",
        "drop()",
        "Marks the point to be discarded; the script goes on.",
        "if status == \"debug\" { drop() }"
    ),
    doc!(
        "drop_key",
        "keys",
        "drop_key(key)",
        "Deletes a tag or field.",
        "drop_key(password)"
    ),
    doc!(
        "drop_origin_data",
        "keys",
        "drop_origin_data()",
        "Deletes the `message` field.",
        "drop_origin_data()"
    ),
    doc!(
        "duration_precision",
        "time",
        "duration_precision(key, old: str, new: str)",
        "Rescales an int between s, ms, us and ns. A value that is not an int stops the script.",
        "duration_precision(cost, \"ms\", \"ns\")"
    ),
    doc!(
        "exit",
        "keys",
        "exit()",
        "Ends the script at once; changes so far are kept.",
        "if !grok(_, \"%{WORD:w}\") { exit() }"
    ),
    doc!(
        "format_int",
        "convert",
        "format_int(n: int, base: int) -> str",
        "Formats an int in base 2..36 (\"\" for other bases).",
        "add_key(hex, format_int(255, 16))"
    ),
    doc!(
        "geoip",
        "text",
        "geoip(ip)",
        "Writes city, province, country and isp for an IP address.",
        "geoip(client_ip)",
        "No IP database ships with this build, so the four keys are written empty, as the original does without a database."
    ),
    doc!(
        "get_key",
        "keys",
        "get_key(key) -> value",
        "Reads the point (tag, then field), ignoring variables of the same name.",
        "user = \"local\"\nadd_key(from_point, get_key(user))"
    ),
    doc!(
        "gjson",
        "json",
        "gjson(key, path: str, newkey=path)",
        "Reads a value with a gjson path (`a.b`, `list.1`, `list.#`, `a\\.b` for a dot in a name). Numbers are floats; objects and arrays are written as their original JSON text.",
        "gjson(_, \"user.emails.0\", email)"
    ),
    doc!(
        "grok",
        "grok",
        "grok(key, pattern: str, trim_space=true) -> bool",
        "Searches the key's text with a grok pattern (`%{NAME}`, `%{NAME:capture}`, `%{NAME:capture:int|float|bool|str}`) and writes every named capture, including ones inside built-in patterns. Captures that did not take part are written empty (typed: 0, 0.0, false). Returns false and writes nothing when there is no match. The pattern must be a string literal; it is compiled once.",
        "if grok(_, \"%{IP:client} %{INT:code:int}\") { add_key(parsed, true) }"
    ),
    doc!(
        "group_between",
        "keys",
        "group_between(key, [lo, hi], new_value, new_key=key)",
        "If the key's value (numeric text works) is within [lo, hi], writes the literal `new_value` to `new_key`.",
        "group_between(status_code, [200, 299], \"OK\", status)"
    ),
    doc!(
        "group_in",
        "keys",
        "group_in(key, set: list, new_value, new_key=key)",
        "If the key's value equals an element of the list (types must match: \"503\" is not 503), writes the literal `new_value` to `new_key`.",
        "group_in(status, [\"warn\", \"notice\"], \"warning\")"
    ),
    doc!(
        "hash",
        "convert",
        "hash(text: str, method: \"md5\"|\"sha1\"|\"sha256\"|\"sha512\") -> str",
        "Hex digest of the text; \"\" for an unknown method.",
        "add_key(uid, hash(email, \"sha256\"))"
    ),
    doc!(
        unsupported "http_request",
        "misc",
        "http_request(method, url, headers, body) -> map",
        "Makes an HTTP request and returns {status_code, body}.",
        "r = http_request(\"GET\", \"http://localhost/health\")",
        "Not supported by this build (compile error)."
    ),
    doc!(
        "json",
        "json",
        "json(key, path, newkey=path, trim_space=true, delete_after_extract=false)",
        "Reads a value from the key's JSON text. The path is written as an expression: `a`, `a.b`, `a.b[0]`, `` `@ts` ``, `.[1]` for a top-level array. Numbers become floats, strings are trimmed, objects and arrays are written as compact JSON with sorted keys; null, missing members and invalid JSON write nothing. With delete_after_extract the source is rewritten without the member. One parse serves every json() call on the same text in a run.",
        "json(_, user.name, user)\njson(_, `@timestamp`, time)"
    ),
    doc!(
        "json_all",
        "json",
        "json_all()",
        "Registered but disabled in the original; accepted and does nothing.",
        "json_all()"
    ),
    doc!(
        "kv_split",
        "text",
        "kv_split(key, field_split_pattern=\" \", value_split_pattern=\"=\", trim_key=\"\", trim_value=\"\", include_keys=[], prefix=\"\") -> bool",
        "Splits `k=v` pairs (both separators are regexes; a value is split at the first separator only) and writes the keys listed in include_keys, with an optional prefix. With an empty include_keys nothing is written and it returns false.",
        "kv_split(_, include_keys=[\"user\", \"action\"], prefix=\"kv_\")"
    ),
    doc!(
        "len",
        "convert",
        "len(val) -> int",
        "Bytes of a string, elements of a list or map, 0 for anything else.",
        "add_key(size, len(_))"
    ),
    doc!(
        "load_json",
        "json",
        "load_json(text: str) -> value",
        "Parses JSON into a script value (numbers are floats) for indexing and loops; invalid JSON gives nil. A non-string argument stops the script.",
        "j = load_json(_)\nfor item in j[\"items\"] { add_key(last_item, item) }"
    ),
    doc!(
        "lowercase",
        "text",
        "lowercase(key)",
        "Lower-cases the key's text in place (numbers become their text).",
        "lowercase(level)"
    ),
    doc!(
        "match",
        "text",
        "match(regex: str, s) -> bool",
        "RE2 search of the regex (a string literal, compiled once; \\d \\w \\s \\b are ASCII as in Go) in `s`.",
        "if match(\"^GET \", _) { add_key(read, true) }"
    ),
    doc!(
        "mquery_refer_table",
        "misc",
        "mquery_refer_table(table, keys: list, values: list) -> bool",
        "Looks up the first reference-table row holding every value in its column (typed: \"1\" does not find 1) and adds all its columns as fields; returns whether a row was found.",
        "mquery_refer_table(\"users\", [\"id\", \"org\"], [uid, org])",
        "Tables come from `[pipeline] refer_table_url` (see the datakit.conf reference); without one, every lookup finds nothing."
    ),
    doc!(
        "nullif",
        "keys",
        "nullif(key, value: literal)",
        "Deletes the key when its value equals the literal with the same type (0 matches int 0, not float 0.0).",
        "nullif(http_ident, \"-\")"
    ),
    doc!(
        "parse_date",
        "time",
        "parse_date(key, yy, MM, dd, hh, mm, ss, ms, us, ns, zone)",
        "Builds a nanosecond timestamp from parts given as text (named arguments are the usual form). Missing year, month, day, hour or minute take the current value, missing seconds 0; two-digit years get the current century; the month may be a number or an English name. Zone \"\" is UTC. Out-of-range parts stop the script.",
        "parse_date(key=\"time\", yy=y, MM=mon, dd=d, hh=h, mm=m, ss=s, zone=\"Asia/Shanghai\")"
    ),
    doc!(
        "parse_duration",
        "time",
        "parse_duration(key)",
        "Go duration text (`1h30m`, `1.5s`, `250ms`, `10µs`) to int nanoseconds; other values are left as they are.",
        "parse_duration(elapsed)"
    ),
    doc!(
        "parse_int",
        "convert",
        "parse_int(s: str, base: int) -> int",
        "Parses an int in base 2..36 (0 = detect 0x/0 prefixes); 0 on failure.",
        "add_key(n, parse_int(hex_text, 16))"
    ),
    doc!(
        unsupported "point_window",
        "misc",
        "point_window(before, after, stream_tags=[\"filepath\", \"host\"])",
        "Keeps dropped context lines around a hit.",
        "point_window(5, 5)",
        "Not supported by this build (compile error): the logging input does not hold back context lines yet."
    ),
    doc!(
        "pt_kvs_del",
        "keys",
        "pt_kvs_del(name: str)",
        "Deletes a point key given by a computed name.",
        "pt_kvs_del(\"tmp_\" + n)"
    ),
    doc!(
        "pt_kvs_get",
        "keys",
        "pt_kvs_get(name: str) -> value",
        "Reads a point key given by a computed name.",
        "v = pt_kvs_get(\"field_\" + n)"
    ),
    doc!(
        "pt_kvs_keys",
        "keys",
        "pt_kvs_keys(tags=true, fields=true) -> list",
        "Names of the point's tags and/or fields.",
        "for k in pt_kvs_keys(tags=false) { }"
    ),
    doc!(
        "pt_kvs_set",
        "keys",
        "pt_kvs_set(name: str, value, as_tag=false) -> bool",
        "Writes a point key given by a computed name, as a field or a tag.",
        "pt_kvs_set(\"attr_\" + k, v)"
    ),
    doc!(
        "pt_name",
        "keys",
        "pt_name(name=\"\") -> str",
        "Sets the point name when given a non-empty string, and returns the name.",
        "add_key(source, pt_name())"
    ),
    doc!(
        "query_refer_table",
        "misc",
        "query_refer_table(table, key, value) -> bool",
        "Looks up the first reference-table row whose column `key` holds `value` (typed: \"1\" does not find 1) and adds all its columns as fields; returns whether a row was found.",
        "query_refer_table(\"users\", \"id\", uid)",
        "Tables come from `[pipeline] refer_table_url` (see the datakit.conf reference); without one, every lookup finds nothing."
    ),
    doc!(
        "rename",
        "keys",
        "rename(new_key, old_key)",
        "Moves a key (a tag stays a tag), replacing an existing new_key. Nothing happens when old_key is missing.",
        "rename(client, client_ip)"
    ),
    doc!(
        "replace",
        "text",
        "replace(key, regex: str, repl: str)",
        "Replaces every match of the regex in the key's text; `$1` and `${name}` refer to groups.",
        "replace(phone, \"(\\\\d{3})\\\\d{4}(\\\\d{4})\", \"$1****$2\")"
    ),
    doc!(
        "sample",
        "misc",
        "sample(p) -> bool",
        "True with probability p (0..1).",
        "if !sample(0.1) { drop() }"
    ),
    doc!(
        "set_measurement",
        "keys",
        "set_measurement(name, delete_key=false)",
        "Sets the point name from a value; with delete_key true and a name argument, the key is removed.",
        "set_measurement(service, true)"
    ),
    doc!(
        "set_tag",
        "keys",
        "set_tag(key, value?)",
        "Makes the key a tag (removing a field of that name). The value is a string literal, a name or an attribute; it is written as text, \"\" when missing.",
        "set_tag(service, \"billing\")"
    ),
    doc!(
        "setopt",
        "keys",
        "setopt(status_mapping=true)",
        "Per-point options, named arguments only. status_mapping=false keeps `status` as the script left it.",
        "setopt(status_mapping=false)"
    ),
    doc!(
        "slice_string",
        "text",
        "slice_string(s: str, start: int, end: int) -> str",
        "Characters [start, end) of a string; \"\" for a bad range.",
        "add_key(prefix, slice_string(_, 0, 10))"
    ),
    doc!(
        "sql_cover",
        "text",
        "sql_cover(key)",
        "Obfuscates SQL: literals become ?, lists of literals fold to ( ? ), comments go, whitespace is normalised.",
        "sql_cover(statement)",
        "Written for this project in the spirit of Datadog's obfuscator; output spacing may differ from the original in corner cases."
    ),
    doc!(
        "strfmt",
        "text",
        "strfmt(key, fmt: str, args...)",
        "Formats like Go's fmt.Sprintf into the key (verbs %s %d %v %f %e %g %x %o %b %q %t %c, flags, width, precision, and Go's error forms such as %!d(string=abc)).",
        "strfmt(target, \"%s:%d\", host, port)"
    ),
    doc!(
        "strlen",
        "convert",
        "strlen(s: str) -> int",
        "Characters in a string; anything else stops the script.",
        "add_key(chars, strlen(_))"
    ),
    doc!(
        "timestamp",
        "time",
        "timestamp(precision=\"ns\") -> int",
        "The current time in s, ms, us or ns.",
        "add_key(received_at, timestamp(\"ms\"))"
    ),
    doc!(
        "trim",
        "text",
        "trim(key, cutset=\"\")",
        "Removes surrounding whitespace, or any of the cutset's characters, from the key's text.",
        "trim(user, \"\\\"\")"
    ),
    doc!(
        "uppercase",
        "text",
        "uppercase(key)",
        "Upper-cases the key's text in place.",
        "uppercase(method)"
    ),
    doc!(
        "url_decode",
        "text",
        "url_decode(key)",
        "Decodes %XX escapes and + in place; an invalid escape stops the script.",
        "url_decode(http_url)"
    ),
    doc!(
        "url_parse",
        "text",
        "url_parse(url, prefix=\"\") -> map",
        "Splits a URL into scheme, host (with port), port, path and params (a map; repeated parameters joined with commas).",
        "u = url_parse(http_url)\nadd_key(path, u[\"path\"])"
    ),
    doc!(
        "use",
        "misc",
        "use(name: str)",
        "Runs another script of the same category on the point (linked at compile time; a missing script or a cycle is a compile error).",
        "use(\"common.p\")"
    ),
    doc!(
        "user_agent",
        "text",
        "user_agent(key)",
        "Parses a User-Agent (mssola/user_agent rules) and writes browser, browserVer, engine, engineVer, os, ua (platform), isMobile and isBot.",
        "user_agent(agent)"
    ),
    doc!(
        "vaild_json",
        "json",
        "vaild_json(val) -> bool",
        "Misspelt alias of valid_json, kept for old scripts.",
        "vaild_json(_)"
    ),
    doc!(
        "valid_json",
        "json",
        "valid_json(val) -> bool",
        "True if the value is a string holding valid JSON.",
        "if valid_json(_) { json(_, level) }"
    ),
    doc!(
        "value_type",
        "convert",
        "value_type(val) -> str",
        "The type of a value: int, float, bool, str, list, map, or \"\" for nil.",
        "if value_type(code) == \"str\" { cast(code, \"int\") }"
    ),
    doc!(
        unsupported "window_hit",
        "misc",
        "window_hit()",
        "Marks the point as a hit for point_window.",
        "window_hit()",
        "Not supported by this build (compile error), like point_window."
    ),
    doc!(
        "xml",
        "json",
        "xml(key, xpath: str, newkey=xpath)",
        "Reads the text of the first element an XPath selects in the key's XML (/a/b, //b, [n], [@attr='v'], /@attr, text()).",
        "xml(_, \"/entry/user/name\", user)",
        "Supports the XPath subset listed; DTDs are refused."
    ),
];

/// The doc of a function.
pub fn get(name: &str) -> Option<&'static FuncDoc> {
    FUNCTIONS.iter().find(|d| d.name == name)
}

/// The whole reference as Markdown.
pub fn render_markdown() -> String {
    let mut out = String::from("# Pipeline functions\n");
    for d in FUNCTIONS {
        out.push_str(&format!(
            "\n## `{}`{}\n\n```\n{}\n```\n\n{}\n\nExample:\n\n```python\n{}\n```\n",
            d.name,
            if d.unsupported {
                " (not supported by this build)"
            } else {
                ""
            },
            d.signature,
            d.description,
            d.example
        ));
        if let Some(l) = d.limitation {
            out.push_str(&format!("\n> This build: {l}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::funcs::FUNCS;

    #[test]
    fn every_registered_function_has_a_doc_and_no_doc_is_orphaned() {
        for f in FUNCS {
            assert!(get(f.name).is_some(), "no doc for {}", f.name);
        }
        for d in FUNCTIONS {
            assert!(
                FUNCS.iter().any(|f| f.name == d.name),
                "doc for unknown {}",
                d.name
            );
        }
        assert_eq!(FUNCS.len(), FUNCTIONS.len());
        assert_eq!(FUNCS.len(), 75);
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|d| d.name).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort();
            s
        };
        assert_eq!(names, sorted);
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
    }

    #[test]
    fn examples_compile_unless_the_function_is_unsupported() {
        for d in FUNCTIONS {
            if d.unsupported {
                let e = crate::pipeline::Program::compile("ex.p", d.example)
                    .expect_err(&format!("{} is marked unsupported but compiles", d.name));
                assert!(
                    e.msg.contains("not supported by this build"),
                    "{}: {e}",
                    d.name
                );
                continue;
            }
            // `use` needs a store; the rest compile on their own.
            if d.name == "use" {
                continue;
            }
            if let Err(e) = crate::pipeline::Program::compile("ex.p", d.example) {
                panic!("example of {} does not compile: {e}", d.name);
            }
        }
        assert!(render_markdown().contains("## `grok`"));
    }
}
