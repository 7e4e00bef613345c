#!/usr/bin/env python3
# Usage: dataway_stub.py [--port N] [--port-file FILE] [--verify] [--fail-always | --fail-first N]
#                        [--fail-code CODE] [--dump FILE]
"""A DataWay stand-in for measurements (Python 3 standard library only).

POST /v1/write/<category> is counted per category: requests, points, bytes as sent (wire_bytes)
and after decompression (bytes; from the gzip trailer when the body is not decompressed),
refused and undecodable bodies, and the arrival times of the first and last body. GET /stats
answers the counters as JSON; GET /stats?timeline=1 adds, per category, the list of
[arrival time, points so far] of every accepted body (for "when had 99 % arrived"). Every
other request gets 200 and `{}`.

Points are counted from the X-Points header when the client sends one (the agent does) and
--verify is off; the body is then never decompressed, so the stand-in costs little CPU under
load. Otherwise the body is decompressed (Content-Encoding: gzip, or the gzip magic bytes) and
counted: for `Content-Type: application/protobuf...` the entries of field 1 of the PBPoints
message, else the non-empty, non-comment lines of line protocol.

Options:
  --port N         listen on 127.0.0.1:N (default 0: a free port chosen by the OS)
  --port-file F    write the port listened on to F once the socket is bound (the port is
                   also printed on stdout)
  --verify         always decompress and count the body itself, ignoring X-Points
  --fail-always    answer every write with the failure code
  --fail-first N   answer the first N writes with the failure code, then accept
  --fail-code C    the failure code (default 503)
  --dump F         append every decompressed write body to F, each after a line
                   `# POST <path> <unix time> <length>` (bodies may be binary protobuf)

Connections are kept alive (HTTP/1.1), Nagle is off and each answer goes out in one write:
the agent reuses its connections, and an answer split across two writes would stall on
delayed ACKs and distort the figures.
"""

import argparse
import gzip
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def count_lp(body):
    """Points in a line-protocol body: lines that are neither blank nor comments."""
    n = 0
    for line in body.split(b"\n"):
        s = line.strip()
        if s and not s.startswith(b"#"):
            n += 1
    return n


def read_varint(buf, i):
    shift = 0
    value = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def count_pb(body):
    """Entries of field 1 (length-delimited) of a PBPoints message; other fields are skipped."""
    n = 0
    i = 0
    end = len(body)
    while i < end:
        key, i = read_varint(body, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(body, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            size, i = read_varint(body, i)
            i += size
            if field == 1:
                n += 1
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"wire type {wire} at byte {i}")
        if i > end:
            raise ValueError("field runs past the end of the body")
    return n


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.cats = {}
        self.timeline = {}
        self.writes_seen = 0
        self.dump = open(args.dump, "ab") if args.dump else None

    def refuse(self):
        """Whether this write is to be answered with the failure code."""
        with self.lock:
            self.writes_seen += 1
            if self.args.fail_always:
                return True
            return self.writes_seen <= self.args.fail_first

    def category(self, cat):
        c = self.cats.get(cat)
        if c is None:
            c = {"requests": 0, "points": 0, "bytes": 0, "wire_bytes": 0,
                 "refused": 0, "errors": 0, "first": None, "last": None}
            self.cats[cat] = c
            self.timeline[cat] = []
        return c


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    state = None  # set in main()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def answer(self, code, body=b"{}"):
        head = (
            f"HTTP/1.1 {code} {self.responses.get(code, ('',))[0]}\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if self.close_connection else "")
            + "\r\n"
        ).encode("latin-1")
        self.wfile.write(head + body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != "/stats":
            return self.answer(200)
        st = self.state
        with st.lock:
            out = {cat: dict(c) for cat, c in st.cats.items()}
            if parse_qs(url.query).get("timeline"):
                for cat in out:
                    out[cat]["timeline"] = list(st.timeline[cat])
        self.answer(200, json.dumps(out).encode())

    def do_POST(self):
        wire = self.read_body()
        path = urlsplit(self.path).path
        if not path.startswith("/v1/write/"):
            return self.answer(200)
        now = time.time()
        st = self.state
        cat = path[len("/v1/write/"):].strip("/") or "unknown"
        if st.refuse():
            with st.lock:
                st.category(cat)["refused"] += 1
            return self.answer(st.args.fail_code, b'{"error":"refused by dataway_stub"}')

        header_points = self.headers.get("X-Points")
        use_header = header_points is not None and not st.args.verify
        raw = wire
        error = False
        if not use_header or st.dump:
            gz = self.headers.get("Content-Encoding", "").lower() == "gzip"
            if gz or wire[:2] == b"\x1f\x8b":
                try:
                    raw = gzip.decompress(wire)
                except (OSError, EOFError):
                    error = True
        raw_len = len(raw)
        if raw is wire and wire[:2] == b"\x1f\x8b" and len(wire) >= 18:
            # Not decompressed: gzip's trailer holds the raw size (mod 2^32).
            raw_len = int.from_bytes(wire[-4:], "little")
        points = 0
        if use_header:
            points = int(header_points)
        elif not error:
            ctype = self.headers.get("Content-Type", "").lower()
            try:
                points = count_pb(raw) if ctype.startswith("application/protobuf") else count_lp(raw)
            except ValueError:
                error = True

        with st.lock:
            c = st.category(cat)
            c["requests"] += 1
            c["wire_bytes"] += len(wire)
            if error:
                c["errors"] += 1
            else:
                c["points"] += points
                c["bytes"] += raw_len
            if c["first"] is None:
                c["first"] = now
            c["last"] = now
            st.timeline[cat].append([now, c["points"]])
            if st.dump:
                st.dump.write(b"# POST %s %.6f %d\n" % (self.path.encode(), now, len(raw)))
                st.dump.write(raw)
                st.dump.write(b"\n")
                st.dump.flush()
        if error:
            return self.answer(400, b'{"error":"body not decodable"}')
        self.answer(200)


def main():
    p = argparse.ArgumentParser(description="DataWay stand-in for measurements")
    p.add_argument("port_pos", nargs="?", type=int, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--verify", action="store_true")
    p.add_argument("--fail-always", action="store_true")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-code", type=int, default=503)
    p.add_argument("--dump")
    args = p.parse_args()
    port = args.port_pos if args.port_pos is not None else args.port

    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    bound = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{bound}\n")
        os.replace(tmp, args.port_file)
    print(bound, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
