#!/usr/bin/env python3
"""Writes a /v0.4/traces msgpack body of realistic spans for the load benchmark.

Usage: gen_ddtrace.py OUT [TRACES] [SPANS]   (default 50 traces of 10 spans)

Each trace is a web request: a root HTTP span, cache, HTTP client and SQL children with 10-20
meta tags, and a 1-5 KB SQL statement on every fourth span (as src/inputs/ddtrace/encode.rs
makes them for the criterion benchmark). Trace ids are chosen so that their sampler hashes
(the original's: the 128-bit id's last 8 hex digits as bytes, modulo 10 000) spread evenly:
trace t hashes inside the t-th of TRACES equal slices of 0..10000 (not on its edges), so a
sampling rate r keeps r of the traces (at 1 % of 100 traces, exactly one), as random ids would
on average.
"""
import struct
import sys
import time


def s(out, v):
    b = v.encode()
    n = len(b)
    if n <= 31:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += bytes([0xD9, n])
    elif n <= 0xFFFF:
        out += b"\xda" + struct.pack(">H", n)
    else:
        out += b"\xdb" + struct.pack(">I", n)
    out += b


def head(out, n, fix, m16, m32):
    if n <= 15:
        out.append(fix | n)
    elif n <= 0xFFFF:
        out += bytes([m16]) + struct.pack(">H", n)
    else:
        out += bytes([m32]) + struct.pack(">I", n)


def u(out, v):
    out += b"\xcf" + struct.pack(">Q", v)


def i(out, v):
    out += b"\xd3" + struct.pack(">q", v)


def f(out, v):
    out += b"\xcb" + struct.pack(">d", v)


def span(out, tid, n, k, start):
    sid = (tid * 31 + k + 1) % 2**64
    pid = 0 if k == 0 else (tid * 31 + 1) % 2**64
    kind = k % 4
    if kind == 0:
        name, ty, res = "flask.request", "web", "GET /api/v1/orders/<id>"
    elif kind == 1:
        name, ty, res = "redis.command", "redis", "GET"
    elif kind == 2:
        name, ty, res = "http.client", "http", "POST /payments"
    else:
        cols = ", ".join("t.col_%d" % c for c in range(40 + (k * 37) % 200))
        name, ty, res = "mysql.query", "sql", "SELECT %s FROM orders t WHERE t.id = ?" % cols
    meta = [("env", "prod"), ("version", "1.4.2"), ("runtime-id", "8c5f1b2c0d6e4a2f9b1e3c4d5e6f7a8b"),
            ("component", name.split(".")[0]), ("span.kind", "server" if k == 0 else "client"),
            ("http.method", "GET"), ("http.url", "http://shop.internal:8080/api/v1/orders/%d" % k),
            ("http.status_code", "200"), ("language", "python"), ("_dd.p.dm", "-0")]
    if k == 0:
        meta += [("_dd.p.tid", "6565a1b200000000"), ("http.route", "/api/v1/orders/<id>"),
                 ("http.useragent", "python-requests/2.31.0")]
    if ty == "sql":
        meta += [("db.type", "mysql"), ("db.instance", "shop"), ("peer.hostname", "db-1.internal"),
                 ("db.user", "app")]
    metrics = [("_dd.measured", 1.0), ("_dd.top_level", 1.0 if k == 0 else 0.0), ("process_id", 4242.0)]
    if k == 0:
        metrics += [("_sampling_priority_v1", 1.0), ("_dd.agent_psr", 1.0)]
    head(out, 12, 0x80, 0xDE, 0xDF)
    for key, val in (("service", "shop-api"), ("name", name), ("resource", res)):
        s(out, key)
        s(out, val)
    for key, val in (("trace_id", tid), ("span_id", sid), ("parent_id", pid)):
        s(out, key)
        u(out, val)
    s(out, "start")
    i(out, start + k * 1000)
    s(out, "duration")
    i(out, 1_500_000 + k * 1000)
    s(out, "error")
    i(out, 0)
    s(out, "meta")
    head(out, len(meta), 0x80, 0xDE, 0xDF)
    for key, val in meta:
        s(out, key)
        s(out, val)
    s(out, "metrics")
    head(out, len(metrics), 0x80, 0xDE, 0xDF)
    for key, val in metrics:
        s(out, key)
        f(out, val)
    s(out, "type")
    s(out, ty)


def sampler_hash(low):
    """The sampler's number of the trace id "6565a1b200000000" + 16 hex digits of `low`."""
    tail = ("%016x" % low)[-8:].encode()
    return int.from_bytes(tail, "big") % 10000


def spread_id(t, traces):
    lo, hi = t * 10000 // traces + 1, (t + 1) * 10000 // traces - 1
    low = 0x123456789ABC0000 + t * 0x100000000
    while not lo <= sampler_hash(low) <= hi:
        low += 1
    return low


def main():
    path = sys.argv[1]
    traces = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    spans = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    start = time.time_ns()
    out = bytearray()
    head(out, traces, 0x90, 0xDC, 0xDD)
    for t in range(traces):
        tid = spread_id(t, traces)
        head(out, spans, 0x90, 0xDC, 0xDD)
        for k in range(spans):
            span(out, tid, spans, k, start)
    with open(path, "wb") as fh:
        fh.write(out)


main()
