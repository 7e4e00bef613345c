use super::*;
use crate::point::{Point, Value};

fn point(cat: Category, name: &str, tags: &[(&str, &str)], fields: &[(&str, Value)]) -> Point {
    let mut p = Point::new(cat, name);
    for (k, v) in tags {
        p.set_tag(*k, *v);
    }
    for (k, v) in fields {
        p.set_field(*k, v.clone());
    }
    p
}

fn matches(cat: Category, rule: &str, p: &Point) -> bool {
    let (set, rejected) = RuleSet::new(cat, &[rule.to_string()]);
    assert!(rejected.is_empty(), "{rule}: {rejected:?}");
    set.first_match(p).is_some()
}

fn err(rule: &str) -> String {
    check(rule).unwrap_err().to_string()
}

#[test]
fn the_documented_examples_parse_and_match() {
    let p = point(
        Category::Logging,
        "datakit",
        &[("host", "web-1"), ("key1", "abc")],
        &[("f1", Value::Int(2)), ("message", Value::Str("x".into()))],
    );
    assert!(matches(
        Category::Logging,
        "{ source = 'datakit' or f1 IN [ 1, 2, 3] }",
        &p
    ));
    assert!(matches(
        Category::Logging,
        "{ source = re('.*') AND ( key1 = \"abc\" OR key2 = \"def\") }",
        &p
    ));
    assert!(matches(
        Category::Logging,
        "{ host in ['ubt-dev-01', 'web-1'] }",
        &p
    ));
    assert!(!matches(Category::Logging, "{ source = 'nginx' }", &p));
    let m = point(
        Category::Metric,
        "disk",
        &[],
        &[("used", Value::Float(1.5))],
    );
    assert!(matches(
        Category::Metric,
        "{ measurement IN ['datakit', 'disk'] }",
        &m
    ));
    assert!(matches(
        Category::Metric,
        "{ measurement MATCH ['host.*', 'dis'] }",
        &m
    ));
    let o = point(Category::Object, "host_x", &[], &[("f", Value::Int(1))]);
    assert!(matches(Category::Object, "{ class MATCH ['host_.*'] }", &o));
    assert!(matches(Category::Object, "{ category = 'object' }", &o));
    // Tracing has no name key.
    let t = point(
        Category::Tracing,
        "ddtrace",
        &[("service", "app-1")],
        &[("f", Value::Int(1))],
    );
    assert!(matches(Category::Tracing, "{ service = 'app-1' }", &t));
    assert!(!matches(Category::Tracing, "{ source = 'ddtrace' }", &t));
    assert!(matches(Category::Tracing, "{ source = nil }", &t));
}

#[test]
fn a_key_of_the_point_wins_over_an_injected_one() {
    let p = point(
        Category::Logging,
        "nginx",
        &[("source", "mine")],
        &[("f", Value::Int(1))],
    );
    assert!(matches(Category::Logging, "{ source = 'mine' }", &p));
    assert!(!matches(Category::Logging, "{ source = 'nginx' }", &p));
}

#[test]
fn types_must_agree() {
    let p = point(
        Category::Logging,
        "l",
        &[("code", "200")],
        &[
            ("n", Value::Int(200)),
            ("u", Value::Uint(200)),
            ("f", Value::Float(2.5)),
            ("b", Value::Bool(true)),
        ],
    );
    let m = |r: &str| matches(Category::Logging, r, &p);
    assert!(m("{ code = '200' }"));
    assert!(!m("{ code = 200 }"));
    // A type conflict is false even for `!=`, as in the original.
    assert!(!m("{ code != 200 }"));
    assert!(m("{ n = 200 }") && m("{ n >= 200 }") && !m("{ n > 200 }") && m("{ n < 201 }"));
    assert!(!m("{ n = 200.0 }"));
    assert!(!m("{ u = 200 }"));
    assert!(m("{ f = 2.5 }") && m("{ f > 2.0 }") && !m("{ f > 2 }"));
    assert!(m("{ f = 2.5000000001 }"), "floats are equal within 1e-9");
    assert!(m("{ b = true }") && m("{ b != false }") && !m("{ b > false }"));
    assert!(m("{ code > '100' }") && m("{ code <= '200' }"));
}

#[test]
fn nil_is_no_such_key() {
    let p = point(
        Category::Logging,
        "l",
        &[("a", "x")],
        &[("f", Value::Int(1))],
    );
    let m = |r: &str| matches(Category::Logging, r, &p);
    assert!(m("{ a != nil }") && !m("{ a = nil }"));
    assert!(m("{ z = NULL }") && !m("{ z != Nil }"));
    assert!(m("{ z != 'x' }"), "an absent key differs from any value");
    assert!(!m("{ z = 'x' }") && !m("{ z > 1 }"));
    assert!(m("{ z in ['x', nil] }") && m("{ a in ['x', nil] }") && !m("{ z in ['x'] }"));
    assert!(!m("{ z notin ['x', null] }") && m("{ z notin ['x'] }"));
    assert!(!m("{ a notin ['x'] }") && m("{ a notin ['y'] }"));
    assert!(!m("{ z match ['.*'] }") && !m("{ z notmatch ['.*'] }"));
}

#[test]
fn regular_expressions_search_strings_only() {
    let p = point(
        Category::Logging,
        "l",
        &[("h", "web-01")],
        &[("n", Value::Int(1))],
    );
    let m = |r: &str| matches(Category::Logging, r, &p);
    assert!(m("{ h = re('eb-0') }") && !m("{ h = re('^eb') }"));
    assert!(m("{ h match ['^x', 'web'] }") && !m("{ h notmatch ['^x', 'web'] }"));
    assert!(m("{ h notmatch ['^x', '^y'] }"));
    assert!(!m("{ n match ['1'] }") && !m("{ n = re('1') }"));
    assert!(m("{ h = re(`^web-\\d+$`) }"));
    // The patterns of a list are one search; flags stay with their pattern.
    assert!(m("{ h match ['(?i)WEB', '^X'] }") && !m("{ h match ['^X', '(?i)^EB'] }"));
    assert!(!m("{ h match [] }") && m("{ h notmatch [] }") && !m("{ n notmatch [] }"));
}

#[test]
fn and_binds_tighter_than_or_and_commas_are_and() {
    let p = point(
        Category::Logging,
        "l",
        &[("a", "1"), ("b", "2")],
        &[("f", Value::Int(1))],
    );
    let m = |r: &str| matches(Category::Logging, r, &p);
    assert!(m("{ a = '0' and b = '0' or a = '1' }"));
    assert!(!m("{ a = '0' and (b = '0' or a = '1') }"));
    assert!(m("{ a = '1', b = '2' }") && !m("{ a = '1', b = '3' }"));
    assert!(
        m("{ a = '9' }; { b = '2' }"),
        "`;` separates conditions; any matches"
    );
    assert!(m("{ a = '1' && b = '2' || a = 'x' }"));
    assert!(
        m("{ (a = '1') }"),
        "a parenthesised condition alone holds as it says"
    );
    assert!(m("{ 1 == 1 }") && !m("{ 'abc' = 'ABC' }") && m("{ true != false }"));
    assert!(m("{ A = nil }"), "keys are case-sensitive");
    assert!(m("{ `a` = '1' }") && m("{ identifier(\"b\") = '2' }"));
}

#[test]
fn numbers_read_as_the_original_reads_them() {
    let p = point(
        Category::Logging,
        "l",
        &[],
        &[
            ("n", Value::Int(8)),
            ("h", Value::Int(31)),
            ("neg", Value::Int(-3)),
            ("f", Value::Float(0.5)),
        ],
    );
    let m = |r: &str| matches(Category::Logging, r, &p);
    assert!(m("{ n = 010 }"), "a leading 0 is octal");
    assert!(m("{ h = 0x1F }") && m("{ neg = -3 }") && m("{ f = .5 }") && m("{ f = 5e-1 }"));
    assert!(
        m("{ f < inf }") && !m("{ n < inf }"),
        "an integer is not a float"
    );
}

#[test]
fn errors_say_where() {
    assert_eq!(err("{ a = }"), "1:7: expected a key or a value, found `}`");
    assert_eq!(
        err("{ a = 1,\n  b == 'x' and c = 'unterminated }"),
        "2:20: unterminated quoted string"
    );
    assert_eq!(
        err("{ a = 5s }"),
        "1:7: `5s` is not a number (durations and units are not supported in filters)"
    );
    assert_eq!(
        err("{ a in [b] }"),
        "1:9: a list holds values (strings, numbers, true, false, nil), not keys"
    );
    assert_eq!(
        err("{ a match ['('] }")
            .split(": ")
            .take(2)
            .collect::<Vec<_>>(),
        ["1:12", "invalid regular expression \"(\""]
    );
    assert_eq!(
        err("{ a = b }"),
        "1:7: the right side of a comparison must be a value (a string, number, true, false or nil), not a key"
    );
    assert_eq!(
        err("{ a = 1 = 2 }"),
        "1:9: comparisons do not chain: join them with `and` or `or`"
    );
    assert_eq!(
        err("{ a * 2 = 1 }"),
        "1:5: arithmetic (`*`) is not supported in filters"
    );
    assert!(err("{}").starts_with("1:1: `{}` holds no condition"));
    assert_eq!(err("a = 1"), "1:1: expected `{`, found identifier `a`");
    assert_eq!(
        err("{ a = 1 } x"),
        "1:11: expected `;` or the end of the rule, found identifier `x`"
    );
    assert_eq!(
        err("{ a = 1"),
        "1:8: expected `and`, `or`, `,` or `}`, found the end of the rule"
    );
    assert_eq!(err("{ é = 1 }"), "1:3: unexpected character 'é'");
    assert_eq!(err("{ a = 'x\\q' }"), "1:9: unknown escape sequence `\\q`");
    assert_eq!(
        err("{ a > re('x') }"),
        "1:7: `re(...)` is compared with `=` or `!=` only"
    );
    let deep = format!("{{ {}a = 1{} }}", "(".repeat(100), ")".repeat(100));
    assert!(err(&deep).contains("nest deeper than 64"));
    // Blank rules and comments hold nothing, and match nothing.
    assert!(matches!(
        parse("  # nothing\n", &mut Keys::default()),
        Ok(None)
    ));
}

#[test]
fn escapes_are_resolved() {
    let p = point(
        Category::Logging,
        "l",
        &[("a", "x'y\"z\t\u{e9}")],
        &[("f", Value::Int(1))],
    );
    assert!(matches(
        Category::Logging,
        r#"{ a = 'x\'y"z\t\u00e9' }"#,
        &p
    ));
    assert!(matches(
        Category::Logging,
        r#"{ a = "x'y\"z\x09\U000000e9" }"#,
        &p
    ));
    assert!(check(r#"{ a = '\xff' }"#).is_err());
}

#[test]
fn bad_rules_are_left_out_and_the_others_kept() {
    let map = BTreeMap::from([
        (
            "logging".to_string(),
            vec![
                "{ source = 'a' }".to_string(),
                "{ bad".to_string(),
                "".to_string(),
            ],
        ),
        ("nope".to_string(), vec!["{ a = 1 }".to_string()]),
        ("M".to_string(), vec!["{ measurement = 'cpu' }".to_string()]),
    ]);
    let (f, problems) = Filters::compile(&map);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(
        problems[1].to_string(),
        "rule logging[1] ignored: 1:6: expected a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `notin`, `match`, `notmatch`), found the end of the rule"
    );
    assert_eq!(
        problems[0].to_string(),
        "unknown category `nope`: its rules are ignored"
    );
    assert_eq!(
        f.for_category(Category::Logging).map(|s| s.rules().len()),
        Some(1)
    );
    assert_eq!(
        f.for_category(Category::Metric).map(|s| s.rules().len()),
        Some(1)
    );
    assert!(f.for_category(Category::Object).is_none());
}

#[test]
fn the_first_matching_rule_counts_and_counts_survive_a_swap() {
    let cur = Current::default();
    let rules = |v: &[&str]| {
        BTreeMap::from([(
            "logging".to_string(),
            v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )])
    };
    cur.install(
        Filters::compile(&rules(&["{ a = '1' }", "{ b = '2' }"])).0,
        Source::Local,
        &[],
    );
    let p = point(
        Category::Logging,
        "l",
        &[("a", "1"), ("b", "2")],
        &[("f", Value::Int(1))],
    );
    let f = cur.get();
    let set = f.for_category(Category::Logging).unwrap();
    assert_eq!(set.filter(&p).map(|r| r.text.as_str()), Some("{ a = '1' }"));
    assert_eq!(set.rules()[0].hits.load(Relaxed), 1);
    assert_eq!(set.rules()[1].hits.load(Relaxed), 0);
    cur.install(
        Filters::compile(&rules(&["{ c = '3' }", "{ a = '1' }"])).0,
        Source::Remote,
        &[],
    );
    let f2 = cur.get();
    let set = f2.for_category(Category::Logging).unwrap();
    assert_eq!(
        set.rules()[1].hits.load(Relaxed),
        1,
        "kept rule keeps its count"
    );
    assert_eq!(set.rules()[0].hits.load(Relaxed), 0);
    assert_eq!(cur.status().updates, 2);
    assert_eq!(cur.status().source, Source::Remote);
}

/// A rule as the property test builds it, rendered to text and evaluated by the reference.
mod reference {
    use super::*;
    use proptest::prelude::*;

    /// A value as the original's evaluator sees it: its Go type matters.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Go {
        Str(String),
        I64(i64),
        U64(u64),
        F64(f64),
        Bool(bool),
        Nil,
    }

    impl Go {
        fn type_name(&self) -> &'static str {
            match self {
                Go::Str(_) => "string",
                Go::I64(_) => "int64",
                Go::U64(_) => "uint64",
                Go::F64(_) => "float64",
                Go::Bool(_) => "bool",
                Go::Nil => "nil",
            }
        }
    }

    #[derive(Debug, Clone)]
    pub enum R {
        All(Vec<R>),
        Any(Vec<R>),
        Cmp(&'static str, &'static str, Go),
        Re(&'static str, bool, &'static str),
        In(&'static str, bool, Vec<Go>),
        Match(&'static str, bool, Vec<&'static str>),
    }

    const KEYS: &[&str] = &[
        "source",
        "host",
        "code",
        "n",
        "u",
        "f",
        "ok",
        "category",
        "measurement",
        "class",
    ];
    const STRS: &[&str] = &["nginx", "web-1", "200", "", "metric", "logging"];
    const PATS: &[&str] = &["^web", "ng", "1$", "^$", "o"];

    fn lit() -> impl Strategy<Value = Go> {
        prop_oneof![
            prop::sample::select(STRS).prop_map(|s| Go::Str(s.to_string())),
            prop::sample::select(&[-1i64, 0, 1, 200][..]).prop_map(Go::I64),
            prop::sample::select(&[0.5f64, 1.0, 200.0][..]).prop_map(Go::F64),
            any::<bool>().prop_map(Go::Bool),
            Just(Go::Nil),
        ]
    }

    pub fn rule() -> impl Strategy<Value = R> {
        let key = prop::sample::select(KEYS);
        let op = prop::sample::select(&["=", "!=", "<", "<=", ">", ">="][..]);
        let leaf = prop_oneof![
            (key.clone(), op, lit()).prop_map(|(k, o, l)| R::Cmp(k, o, l)),
            (key.clone(), any::<bool>(), prop::sample::select(PATS))
                .prop_map(|(k, n, p)| R::Re(k, n, p)),
            (
                key.clone(),
                any::<bool>(),
                prop::collection::vec(lit(), 0..4)
            )
                .prop_map(|(k, n, l)| R::In(k, n, l)),
            (
                key,
                any::<bool>(),
                prop::collection::vec(prop::sample::select(PATS), 1..3)
            )
                .prop_map(|(k, n, p)| R::Match(k, n, p)),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(R::All),
                prop::collection::vec(inner, 2..4).prop_map(R::Any),
            ]
        })
    }

    fn lit_text(l: &Go) -> String {
        match l {
            Go::Str(s) => format!("'{s}'"),
            Go::I64(i) => i.to_string(),
            Go::F64(f) => format!("{f:?}"),
            Go::Bool(b) => b.to_string(),
            Go::Nil => "nil".into(),
            Go::U64(u) => u.to_string(),
        }
    }

    pub fn text(r: &R) -> String {
        match r {
            R::All(v) => format!("({})", v.iter().map(text).collect::<Vec<_>>().join(" and ")),
            R::Any(v) => format!("({})", v.iter().map(text).collect::<Vec<_>>().join(" or ")),
            R::Cmp(k, o, l) => format!("{k} {o} {}", lit_text(l)),
            R::Re(k, ne, p) => format!("{k} {} re('{p}')", if *ne { "!=" } else { "=" }),
            R::In(k, n, l) => format!(
                "{k} {} [{}]",
                if *n { "NOTIN" } else { "in" },
                l.iter().map(lit_text).collect::<Vec<_>>().join(", ")
            ),
            R::Match(k, n, p) => format!(
                "{k} {} [{}]",
                if *n { "notmatch" } else { "Match" },
                p.iter()
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The original's `binEval`, transcribed plainly (Go types compared by name).
    fn bin_eval(op: &str, lhs: &Go, rhs: &Go) -> bool {
        if *rhs != Go::Nil && lhs.type_name() != rhs.type_name() {
            return false;
        }
        match op {
            "=" => match (lhs, rhs) {
                (Go::F64(a), Go::F64(b)) => (a - b).abs() <= 1e-9,
                (Go::Nil, Go::Nil) => true,
                _ => lhs == rhs && *rhs != Go::Nil,
            },
            "!=" => !(matches!(lhs, Go::Nil) && matches!(rhs, Go::Nil)) && lhs != rhs,
            _ => {
                let o = match (lhs, rhs) {
                    (Go::I64(a), Go::I64(b)) => a.partial_cmp(b),
                    (Go::F64(a), Go::F64(b)) => a.partial_cmp(b),
                    (Go::Str(a), Go::Str(b)) => a.partial_cmp(b),
                    _ => None,
                };
                let Some(o) = o else { return false };
                match op {
                    "<" => o.is_lt(),
                    "<=" => o.is_le(),
                    ">" => o.is_gt(),
                    _ => o.is_ge(),
                }
            }
        }
    }

    /// The reference: looks a key up in the point every time (tags, fields, then the injected
    /// keys) and evaluates as the original does (with this agent's two documented changes:
    /// `in [..., nil]` holds for an absent key wherever `nil` is in the list; `notmatch`
    /// holds when no pattern matches).
    pub fn eval(r: &R, cat: Category, p: &Point) -> bool {
        let get = |k: &str| -> Option<Go> {
            if let Some(v) = p.get_tag(k) {
                return Some(Go::Str(v.to_string()));
            }
            if let Some(v) = p.get_field(k) {
                return Some(match v {
                    Value::Int(i) => Go::I64(*i),
                    Value::Uint(u) => Go::U64(*u),
                    Value::Float(f) => Go::F64(*f),
                    Value::Bool(b) => Go::Bool(*b),
                    Value::Str(s) => Go::Str(s.clone()),
                    _ => Go::Nil,
                });
            }
            if k == "category" {
                return Some(Go::Str(cat.as_str().into()));
            }
            if name_key(cat) == Some(k) {
                return Some(Go::Str(p.name.clone()));
            }
            None
        };
        match r {
            R::All(v) => v.iter().all(|r| eval(r, cat, p)),
            R::Any(v) => v.iter().any(|r| eval(r, cat, p)),
            R::Cmp(k, o, l) => match get(k) {
                Some(v) => bin_eval(o, &v, l),
                None => bin_eval(o, l, &Go::Nil),
            },
            R::Re(k, ne, pat) => {
                let re = Regex::new(pat).unwrap();
                match get(k) {
                    Some(Go::Str(s)) => *ne || re.is_match(&s),
                    Some(_) => false,
                    None => *ne,
                }
            }
            R::In(k, neg, items) => {
                let hit = match get(k) {
                    Some(v) => items.iter().any(|i| bin_eval("=", &v, i)),
                    None => items.contains(&Go::Nil),
                };
                hit != *neg
            }
            R::Match(k, neg, pats) => match get(k) {
                Some(Go::Str(s)) => {
                    pats.iter().any(|p| Regex::new(p).unwrap().is_match(&s)) != *neg
                }
                _ => false,
            },
        }
    }

    pub fn points() -> impl Strategy<Value = (Category, Point)> {
        let cat = prop::sample::select(
            &[
                Category::Metric,
                Category::Logging,
                Category::Object,
                Category::Tracing,
            ][..],
        );
        let name = prop::sample::select(STRS);
        let tags = prop::collection::vec(
            (prop::sample::select(KEYS), prop::sample::select(STRS)),
            0..4,
        );
        let value = prop_oneof![
            prop::sample::select(&[-1i64, 0, 1, 200][..]).prop_map(Value::Int),
            prop::sample::select(&[0u64, 1, 200][..]).prop_map(Value::Uint),
            prop::sample::select(&[0.5f64, 1.0, 1.0000000001, 200.0][..]).prop_map(Value::Float),
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(STRS).prop_map(|s| Value::Str(s.to_string())),
        ];
        let fields = prop::collection::vec((prop::sample::select(KEYS), value), 1..4);
        (cat, name, tags, fields).prop_map(|(cat, name, tags, fields)| {
            let mut p = Point::new(cat, name);
            for (k, v) in tags {
                p.set_tag(k, v);
            }
            for (k, v) in fields {
                if p.get_tag(k).is_none() {
                    p.set_field(k, v);
                }
            }
            (cat, p)
        })
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

    /// Rules of a set (the first that matches) agree with the reference on every point.
    #[test]
    fn rules_agree_with_the_reference(
        rules in proptest::collection::vec(reference::rule(), 1..4),
        pts in proptest::collection::vec(reference::points(), 1..8),
    ) {
        let texts: Vec<String> = rules.iter().map(|r| format!("{{ {} }}", reference::text(r))).collect();
        for (cat, p) in &pts {
            let (set, rejected) = RuleSet::new(*cat, &texts);
            proptest::prop_assert!(rejected.is_empty(), "{:?}", rejected);
            let want = rules.iter().position(|r| reference::eval(r, *cat, p));
            proptest::prop_assert_eq!(set.first_match(p), want, "rules {:?} on {:?}", texts, p);
        }
    }

    /// Whatever the text, parsing ends with a rule or an error inside the text.
    #[test]
    fn any_text_parses_or_fails_inside_it(s in "\\PC{0,80}") {
        if let Err(e) = check(&s) {
            proptest::prop_assert!(e.offset <= s.len());
            proptest::prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }
}
