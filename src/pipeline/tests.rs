//! Language semantics, end to end: compile a script, run it on a logging point, look at the
//! point. One test per rule of the language, the point model and the post-run rules;
//! function-specific cases live in the data files under tests/pipeline/.

use super::*;
use crate::point::Value as V;

fn point(msg: &str) -> Point {
    let mut p = Point::new(Category::Logging, "default");
    p.set_field("message", msg);
    p
}

fn run_ok(script: &str, msg: &str) -> (Point, Outcome) {
    let prog = Program::compile("t.p", script).unwrap_or_else(|e| panic!("{e}"));
    let mut p = point(msg);
    let out = prog.run(&mut p).unwrap_or_else(|e| panic!("{e}"));
    (p, out)
}

fn f(p: &Point, k: &str) -> Option<V> {
    p.get_field(k).cloned()
}

fn run_err(script: &str, msg: &str) -> RunError {
    let prog = Program::compile("t.p", script).unwrap_or_else(|e| panic!("{e}"));
    let mut p = point(msg);
    prog.run(&mut p).unwrap_err()
}

fn compile_err(script: &str) -> CompileError {
    Program::compile("t.p", script).unwrap_err()
}

#[test]
fn plain_assignment_never_writes_the_point() {
    let (p, _) = run_ok("tmp = 5\nadd_key(x, tmp)", "m");
    assert_eq!(f(&p, "tmp"), None);
    assert_eq!(f(&p, "x"), Some(V::Int(5)));
}

#[test]
fn arithmetic_rules() {
    let (p, _) = run_ok(
        "add_key(a, -7 / 2)\nadd_key(b, -7 % 3)\nadd_key(c, 7 % -2)\nadd_key(d, true + 1)\nadd_key(e, 9223372036854775807 + 1)\nadd_key(g, 1 + 2.5)\nadd_key(h, \"a\" + \"b\")\nadd_key(i, 010)",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Int(-3)));
    assert_eq!(f(&p, "b"), Some(V::Int(-1)));
    assert_eq!(f(&p, "c"), Some(V::Int(1)));
    assert_eq!(f(&p, "d"), Some(V::Int(2)));
    assert_eq!(f(&p, "e"), Some(V::Int(i64::MIN)));
    assert_eq!(f(&p, "g"), Some(V::Float(3.5)));
    assert_eq!(f(&p, "h"), Some(V::Str("ab".into())));
    assert_eq!(f(&p, "i"), Some(V::Int(8)));
}

#[test]
fn arithmetic_errors_have_positions() {
    let e = run_err("n = 5\nx = 10 / (n - 5)", "");
    assert_eq!((e.line, e.col), (2, 8));
    assert_eq!(e.msg, "integer division by zero");
    assert_eq!(e.to_string(), "t.p:2:8: integer division by zero");
    assert_eq!(
        run_err("x = \"a\" + 1", "").msg,
        "unsupported operand type(s) for +: str and int"
    );
    assert_eq!(
        run_err("x = [1] + 1", "").msg,
        "unsupported lhs data type: list"
    );
    assert_eq!(
        run_err("x = 1.5 % 2", "").msg,
        "float does not support modulo operations"
    );
    assert_eq!(run_err("x = \"a\" < \"b\"", "").msg, "not compareable");
    let e = compile_err("x = 1 / 0");
    assert_eq!(e.msg, "division or modulo by zero");
}

#[test]
fn comparisons_and_logic() {
    let (p, _) = run_ok(
        "add_key(a, 1 == 1.0)\nadd_key(b, true == 1)\nadd_key(c, \"1\" == 1)\nadd_key(d, nil == nil)\nadd_key(e, [1] == [1.0])\nadd_key(f, 2 < 3 == true)\nadd_key(g, false && x)\nadd_key(h, !nil)\nadd_key(i, ![])",
        "",
    );
    for (k, v) in [
        ("a", true),
        ("b", true),
        ("c", false),
        ("d", true),
        ("e", false),
        ("f", true),
        ("g", false),
        ("h", true),
        ("i", true),
    ] {
        assert_eq!(f(&p, k), Some(V::Bool(v)), "{k}");
    }
    assert_eq!(
        run_err("x = true && 1", "").msg,
        "unsupported operand type(s) for &&: bool and int"
    );
    assert_eq!(run_err("x = 1 && \"a\"", "").msg, "not compareable");
}

#[test]
fn in_operator() {
    let (p, _) = run_ok(
        "add_key(a, \"b\" in \"abc\")\nadd_key(b, \"k\" in {\"k\": 1})\nadd_key(c, 2 in [1, 2])\nadd_key(d, 2.0 in [1, 2])",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Bool(true)));
    assert_eq!(f(&p, "b"), Some(V::Bool(true)));
    assert_eq!(f(&p, "c"), Some(V::Bool(true)));
    assert_eq!(f(&p, "d"), Some(V::Bool(false)));
    assert_eq!(
        run_err("x = 1 in \"abc\"", "").msg,
        "unsupported lhs data type: int"
    );
    assert_eq!(
        run_err("x = 1 in 2", "").msg,
        "unsupported rhs data type: int"
    );
}

#[test]
fn indexing_and_slicing() {
    let (p, _) = run_ok(
        "l = [1, 2, 3]\nm = {\"a\": {\"b\": 5}}\nadd_key(a, l[-1])\nadd_key(b, m[\"a\"][\"b\"])\nadd_key(c, m[\"zz\"])\nadd_key(d, l[1:])\nadd_key(e, \"abcdef\"[::-2])\nadd_key(g, \"héllo\"[0:2])\nm[\"a\"][\"c\"] = 1\nadd_key(h, m)\nl[-1] = 0\nadd_key(i, l)",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Int(3)));
    assert_eq!(f(&p, "b"), Some(V::Int(5)));
    assert_eq!(f(&p, "c"), None);
    assert_eq!(f(&p, "d"), Some(V::Str("[2,3]".into())));
    assert_eq!(f(&p, "e"), Some(V::Str("fdb".into())));
    assert_eq!(f(&p, "g"), Some(V::Str("hÃ".into())));
    assert_eq!(f(&p, "h"), Some(V::Str(r#"{"a":{"b":5,"c":1}}"#.into())));
    assert_eq!(f(&p, "i"), Some(V::Str("[1,2,0]".into())));
    assert_eq!(
        run_err("l = [1]\nx = l[5]", "").msg,
        "list index out of range"
    );
    assert_eq!(run_err("x = nope[0]", "").msg, "key not found");
    assert_eq!(
        run_err("x = message[0]", "abc").msg,
        "unindexable type: str"
    );
    assert_eq!(
        run_err("m = {}\nx = m[1]", "").msg,
        "key type is not string"
    );
    assert_eq!(
        run_err("m = {}\nm[\"a\"][\"b\"] = 1", "").msg,
        "key not found"
    );
}

#[test]
fn lists_and_maps_are_references() {
    let (p, _) = run_ok(
        "l = [1]\nm = {\"l\": l}\nl[0] = 100\nadd_key(x, m[\"l\"][0])",
        "",
    );
    assert_eq!(f(&p, "x"), Some(V::Int(100)));
    // A list holding itself neither hangs nor crashes.
    let (p, _) = run_ok("l = [1]\nl[0] = l\nadd_key(x, l)\nadd_key(y, l == l)", "");
    assert!(f(&p, "x").is_some());
}

#[test]
fn truthiness_and_if_elif_else() {
    let (p, _) = run_ok(
        "for v in [false, 0, 0.0, \"\", [], {}, nil, 1, \"a\", [0]] {\n  if v { add_key(t, 1) } else { add_key(fcount, 1) }\n}\nif 0 { add_key(r, \"if\") } elif \"x\" { add_key(r, \"elif\") } else { add_key(r, \"else\") }",
        "",
    );
    assert_eq!(f(&p, "r"), Some(V::Str("elif".into())));
}

#[test]
fn scopes() {
    let (p, _) = run_ok(
        "if true { y = 1 }\nadd_key(a, y)\nx = 1\nif true { x = 2 }\nadd_key(b, x)",
        "",
    );
    assert_eq!(f(&p, "a"), None);
    assert_eq!(f(&p, "b"), Some(V::Int(2)));
    // The loop variable updates an outer variable of the same name.
    let (p, _) = run_ok(
        "v = 0\nfor v in [1, 2, 3] { }\nadd_key(a, v)\nfor i = 0; i < 2; i += 1 { }\nadd_key(b, i)",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Int(3)));
    assert_eq!(f(&p, "b"), None);
    // Body-local names do not survive to the next iteration.
    let (p, _) = run_ok(
        "for x in [1, 2] { if x == 2 { add_key(seen, z) }\n z = x }",
        "",
    );
    assert_eq!(f(&p, "seen"), None);
}

#[test]
fn loops_with_break_and_continue() {
    let (p, _) = run_ok(
        "s = 0\nfor i = 0; i < 10; i += 1 { if i % 2 == 0 { continue }\n if i > 7 { break }\n s += i }\nadd_key(s, s)\nc = \"\"\nfor ch in \"héllo\" { c = c + ch + \".\" }\nadd_key(c, c)\nk = \"\"\nfor key in {\"b\": 1, \"a\": 2} { k = k + key }\nadd_key(k, k)\nn = 0\nfor ;; { n += 1\n if n >= 3 { break } }\nadd_key(n, n)",
        "",
    );
    assert_eq!(f(&p, "s"), Some(V::Int(1 + 3 + 5 + 7)));
    assert_eq!(f(&p, "c"), Some(V::Str("h.é.l.l.o.".into())));
    assert_eq!(f(&p, "k"), Some(V::Str("ab".into())));
    assert_eq!(f(&p, "n"), Some(V::Int(3)));
    assert_eq!(compile_err("break").msg, "break not in loop");
    assert_eq!(
        compile_err("if true { continue }").msg,
        "continue not in loop"
    );
    assert_eq!(
        compile_err("for x in 1 { }").msg,
        "IntLiteral object is not iterable"
    );
    assert_eq!(
        run_err("n = 1\nfor x in n { }", "").msg,
        "unsupported type: int, not iter value"
    );
}

#[test]
fn runaway_loops_are_stopped() {
    let prog = Program::compile("t.p", "for ;; { }").unwrap();
    let mut p = point("");
    let e = prog
        .run_with(
            &mut p,
            &RunOptions {
                step_budget: 10_000,
                ..RunOptions::default()
            },
        )
        .unwrap_err();
    assert!(e.msg.contains("step budget"), "{e}");
    assert_eq!((e.line, e.col), (1, 1));
    let prog = Program::compile("t.p", "x = 1\nfor i = 0; i >= 0; i += 1 { }").unwrap();
    let e = prog
        .run_with(
            &mut point(""),
            &RunOptions {
                step_budget: 10_000,
                ..RunOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!((e.line, e.col), (2, 1), "{e}");
    let prog = Program::compile("t.p", "s = \"ab\"\nfor ;; { s = s + s }").unwrap();
    let e = prog.run(&mut point("")).unwrap_err();
    assert!(
        e.msg.contains("string longer") || e.msg.contains("budget"),
        "{e}"
    );
}

#[test]
fn names_read_variables_then_tags_then_fields() {
    let prog = Program::compile("t.p", "add_key(a, host)\nadd_key(b, message)\nuser = \"local\"\nadd_key(c, user)\nadd_key(d, get_key(user))").unwrap();
    let mut p = point("msg");
    p.set_tag("host", "h1");
    p.set_field("user", "field");
    prog.run(&mut p).unwrap();
    assert_eq!(f(&p, "a"), Some(V::Str("h1".into())));
    assert_eq!(f(&p, "b"), Some(V::Str("msg".into())));
    // add_key(c, user) writes the variable's value into the point's `c`.
    assert_eq!(f(&p, "c"), Some(V::Str("local".into())));
    assert_eq!(f(&p, "d"), Some(V::Str("field".into())));
}

#[test]
fn underscore_is_message() {
    let (p, _) = run_ok("_ = \"x\"\nadd_key(a, _)\nadd_key(b, message)", "orig");
    assert_eq!(f(&p, "a"), Some(V::Str("x".into())));
    assert_eq!(f(&p, "message"), Some(V::Str("orig".into())));
}

#[test]
fn multiple_assignment_is_a_runtime_error() {
    assert_eq!(
        run_err("a, b = 1, 2", "").msg,
        "it does not support assigning values to multiple variables at the same time"
    );
}

#[test]
fn compound_assignment_on_undefined_name_does_nothing() {
    let (p, _) = run_ok("x += 1\nadd_key(a, x)\ny = 1\ny *= 5\nadd_key(b, y)", "");
    assert_eq!(f(&p, "a"), None);
    assert_eq!(f(&p, "b"), Some(V::Int(5)));
}

#[test]
fn every_error_of_a_script_is_reported() {
    // Checker errors: one per statement, in nested blocks too, and in an `if` whose
    // condition is wrong.
    let e = compile_err(
        "gork(_, \"x\")\nadd_key(a, 1)\nif lowercas(a) {\n  drop_key(a, b)\n}\nfor x in 1 { brk() }\n",
    );
    let all: Vec<(usize, usize, &str)> = e.errors().collect();
    assert_eq!(e.count(), 5, "{all:?}");
    assert_eq!(
        all.iter().map(|(l, c, _)| (*l, *c)).collect::<Vec<_>>(),
        [(1, 1), (3, 4), (4, 3), (6, 10), (6, 14)]
    );
    assert!(all[0].2.ends_with("did you mean `grok`?"), "{all:?}");
    assert!(all[1].2.ends_with("did you mean `lowercase`?"), "{all:?}");
    assert_eq!(all[2].2, "func drop_key expected 1 args");
    assert_eq!(all[3].2, "IntLiteral object is not iterable");
    assert_eq!(
        e.to_string(),
        "t.p:1:1: unsupported func: `gork`; did you mean `grok`? (and 4 more errors)"
    );
    // Syntax errors: the parser goes on at the next top-level statement, and the statements
    // that parsed are checked too.
    let e = compile_err("a = (1 + )\nb = 2 3\nfoo(1)\nc = [1,, 2]\nadd_key(c, 1)\n");
    let lines: Vec<usize> = e.errors().map(|(l, _, _)| l).collect();
    assert_eq!(lines, [1, 2, 3, 4], "{:?}", e.errors().collect::<Vec<_>>());
    // An unclosed bracket is a lexical error at the end: the syntax error before it stands.
    let e = compile_err("a = (1 +\nb = 2\n");
    assert_eq!((e.line, e.col), (2, 3), "{e}");
    // A lexical error ends lexing: it is the last error.
    let e = compile_err("foo(1)\nx = \"open\nbar(2)\n");
    assert_eq!(e.count(), 2, "{:?}", e.errors().collect::<Vec<_>>());
    // Rendering shows each error once, with its caret.
    let src = "gork(_)\nlowercas(a)\n";
    let r = compile_err(src).render(src, false);
    assert_eq!(r.matches("unsupported func").count(), 2, "{r}");
    assert_eq!(r.matches('^').count(), 2, "{r}");
}

#[test]
fn unknown_grok_patterns_name_the_closest_one() {
    let e = compile_err("grok(_, \"%{NUMBR:x}\")");
    assert!(e.msg.ends_with("did you mean %{NUMBER}?"), "{e}");
    let e = compile_err("add_pattern(\"my_code\", \"[0-9]+\")\ngrok(_, \"%{my_cod:x}\")");
    assert!(e.msg.ends_with("did you mean %{my_code}?"), "{e}");
    let e = compile_err("grok(_, \"%{ZZZZZZZZ:x}\")");
    assert_eq!(e.msg, "no pattern foud for %{ZZZZZZZZ}");
}

#[test]
fn unknown_function_and_arity_errors() {
    let e = compile_err("foo(_)");
    assert_eq!(e.to_string(), "t.p:1:1: unsupported func: `foo`");
    assert_eq!(
        compile_err("drop_key(a, b)").msg,
        "func drop_key expected 1 args"
    );
    assert_eq!(
        compile_err("m = {1: 2}").to_string(),
        "t.p:1:6: map key expect string"
    );
    assert_eq!(
        compile_err("set_tag(t, 12)").msg,
        "param type expect StringLiteral, got `IntLiteral'"
    );
    assert!(
        compile_err("grok(_, \"%{NOPE:x}\")")
            .msg
            .contains("no pattern foud for %{NOPE}")
    );
    assert_eq!(
        compile_err("grok(_, \"(abc\")").msg,
        "error parsing regexp: missing closing ): `(abc`"
    );
    assert!(
        compile_err("json(_, a, nope=1)")
            .msg
            .starts_with("argument target does not exist")
    );
}

#[test]
fn status_normalisation() {
    let cases = [
        ("E", "error"),
        ("w", "warning"),
        ("warn", "warning"),
        ("o", "OK"),
        ("ok", "OK"),
        ("", "info"),
        ("FATAL", "fatal"),
        ("crit", "crit"),
        ("Err", "err"),
        ("trace", "debug"),
    ];
    for (i, o) in cases {
        let (p, _) = run_ok(&format!("add_key(status, {i:?})"), "");
        assert_eq!(f(&p, "status"), Some(V::Str(o.into())), "{i}");
    }
    let (p, _) = run_ok("add_key(status, 500)", "");
    assert_eq!(f(&p, "status"), Some(V::Str("info".into())));
    let (p, _) = run_ok("# nothing\n", "x");
    assert_eq!(f(&p, "status"), Some(V::Str("info".into())));
    let (p, _) = run_ok("set_tag(status, \"Error\")", "");
    assert_eq!(p.get_tag("status"), Some("error"));
    let (p, _) = run_ok("setopt(status_mapping=false)\nadd_key(status, \"W\")", "");
    assert_eq!(f(&p, "status"), Some(V::Str("W".into())));
    // Metrics are never touched.
    let prog = Program::compile("t.p", "add_key(status, \"W\")").unwrap();
    let mut m = Point::new(Category::Metric, "cpu");
    prog.run(&mut m).unwrap();
    assert_eq!(f(&m, "status"), Some(V::Str("W".into())));
    // ignore_status drops.
    let prog = Program::compile("t.p", "add_key(status, \"d\")").unwrap();
    let mut p = point("");
    let out = prog
        .run_with(
            &mut p,
            &RunOptions {
                ignore_status: vec!["debug".into()],
                ..RunOptions::default()
            },
        )
        .unwrap();
    assert!(out.dropped);
}

#[test]
fn time_key_rules() {
    let (p, _) = run_ok("add_key(time, 1700000000000000000)", "");
    assert_eq!(p.time, 1700000000000000000);
    assert_eq!(f(&p, "time"), None);
    let (p, _) = run_ok("add_key(time, \"text\")", "");
    assert_eq!(f(&p, "time"), None);
    assert_eq!(p.time, 0);
}

#[test]
fn drop_and_exit() {
    let (p, out) = run_ok("drop()\nadd_key(a, 1)", "");
    assert!(out.dropped);
    assert_eq!(f(&p, "a"), Some(V::Int(1)));
    let (p, out) = run_ok("add_key(a, 1)\nexit()\nadd_key(b, 1)", "");
    assert!(!out.dropped);
    assert_eq!(f(&p, "b"), None);
    let (p, _) = run_ok(
        "for i = 0; i < 5; i += 1 { if i == 2 { exit() }\n add_key(n, i) }",
        "",
    );
    assert_eq!(f(&p, "n"), Some(V::Int(1)));
}

#[test]
fn literals_and_keywords() {
    let (p, _) = run_ok(
        "add_key(a, 0x10)\nadd_key(b, 99999999999999999999)\nadd_key(c, TRUE)\nadd_key(d, '''x\\ny''')\nadd_key(`e f`, 1)\nadd_key(g, \"#not a comment\") # a comment",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Int(16)));
    assert_eq!(f(&p, "b"), Some(V::Float(1e20)));
    assert_eq!(f(&p, "c"), Some(V::Bool(true)));
    assert_eq!(f(&p, "d"), Some(V::Str("x\\ny".into())));
    assert_eq!(f(&p, "e f"), Some(V::Int(1)));
    assert_eq!(f(&p, "g"), Some(V::Str("#not a comment".into())));
}

#[test]
fn unary_operators() {
    let (p, _) = run_ok(
        "x = 5\nadd_key(a, -x)\nadd_key(b, -true)\nadd_key(c, +2.5)",
        "",
    );
    assert_eq!(f(&p, "a"), Some(V::Int(-5)));
    assert_eq!(f(&p, "b"), Some(V::Int(-1)));
    assert_eq!(f(&p, "c"), Some(V::Float(2.5)));
    assert!(
        run_err("x = \"a\"\ny = -x", "")
            .msg
            .contains("*ast.UnaryExpr")
    );
}

#[test]
fn attribute_expressions_are_key_names() {
    let (p, _) = run_ok("x = a.b.c\nadd_key(v, value_type(x))\nadd_key(a.b, 1)", "");
    assert_eq!(f(&p, "v"), Some(V::Str("".into())));
    assert_eq!(f(&p, "a.b"), Some(V::Int(1)));
}

#[test]
fn multi_line_calls_and_trailing_commas() {
    let (p, _) = run_ok("add_key(\n  a,\n  [1,\n   2,],\n)", "");
    assert_eq!(f(&p, "a"), Some(V::Str("[1,2]".into())));
}

#[test]
fn use_runs_another_script() {
    let helper = Arc::new(Program::compile("helper.p", "add_key(from_helper, 1)\nx = 5").unwrap());
    let resolve = |n: &str| -> Result<Arc<Program>, String> {
        if n == "helper.p" {
            Ok(helper.clone())
        } else {
            Err(format!("script {n} not found"))
        }
    };
    let env = CompileEnv {
        resolve_use: Some(&resolve),
        ..CompileEnv::default()
    };
    let prog =
        Program::compile_with("main.p", "x = 1\nuse(\"helper.p\")\nadd_key(x, x)", &env).unwrap();
    let mut p = point("");
    prog.run(&mut p).unwrap();
    assert_eq!(f(&p, "from_helper"), Some(V::Int(1)));
    assert_eq!(f(&p, "x"), Some(V::Int(1)));
    let e = Program::compile_with("main.p", "use(\"nope.p\")", &env).unwrap_err();
    assert_eq!(e.msg, "script nope.p not found");
}

#[test]
fn errors_render_with_a_caret() {
    let src = "a = 1\nb = 10 / (a - 1)";
    let prog = Program::compile("t.p", src).unwrap();
    let e = prog.run(&mut point("")).unwrap_err();
    let r = e.render(src, false);
    assert!(r.contains("t.p:2:8"), "{r}");
    assert!(r.contains("b = 10 / (a - 1)"), "{r}");
    assert!(r.contains('^'), "{r}");
}

#[test]
fn json_cache_follows_changes_of_the_source() {
    let (p, _) = run_ok(
        r#"json(_, a, b1)
if true {
  _ = "{\"a\": 9}"
  json(_, a, b2)
}
json(_, a, b3)
add_key(message, "{\"a\": 2}")
json(_, a, a2)
drop_key(message)
add_key(message, "{\"a\": 6}")
json(_, a, a6)
_ = "{\"a\": 3}"
json(_, a, a3)
"#,
        r#"{"a": 1}"#,
    );
    for (k, v) in [
        ("b1", 1.0),
        ("b2", 9.0),
        ("b3", 1.0),
        ("a2", 2.0),
        ("a6", 6.0),
        ("a3", 3.0),
    ] {
        assert_eq!(f(&p, k), Some(V::Float(v)), "{k}");
    }
}

#[test]
fn create_point_emits_an_extra_point() {
    let (p, out) = run_ok(
        "create_point(\"extra\", {\"t\": \"x\", \"n\": nil}, {\"f\": 1, \"l\": [1]}, 1700000000000000000, \"M\")",
        "m",
    );
    assert_eq!(f(&p, "message"), Some(V::Str("m".into())));
    assert_eq!(out.extra_points.len(), 1);
    let e = &out.extra_points[0];
    assert_eq!(e.name, "extra");
    assert_eq!(e.category, Category::Metric);
    assert_eq!(e.get_tag("t"), Some("x"));
    assert_eq!(e.get_tag("n"), None);
    assert_eq!(e.get_field("f"), Some(&V::Int(1)));
    assert_eq!(e.get_field("l"), Some(&V::Str("[1]".into())));
    assert_eq!(e.time, 1700000000000000000);
}

#[test]
fn programs_and_stores_can_be_shared_across_tasks() {
    fn shared<T: Send + Sync>() {}
    shared::<Program>();
    shared::<Arc<Program>>();
    shared::<store::ScriptStore>();
    // One compiled program, many threads.
    let prog = Arc::new(Program::compile("t.p", "grok(_, \"%{INT:n:int}\")").unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let prog = Arc::clone(&prog);
            std::thread::spawn(move || {
                let mut p = point(&format!("n {i}"));
                prog.run(&mut p).unwrap();
                p.get_field("n").cloned()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), Some(V::Int(i as i64)));
    }
}
