#!/usr/bin/env python3
# Usage: statsd_load.py --pid PID --port PORT --api API_PORT [--seconds S] [--series N]
#                       [--packet BYTES] RATE...
"""Sends DogStatsD lines over UDP to the statsd input at each RATE (lines/s) for SECONDS, and
reports for each: lines sent and read by the agent, the loss at the socket (the kernel's drop
counter of the agent's socket in /proc/net/udp and udp6) and at its queue (the input's
`queue_full` drops), and the agent's CPU time per line read (utime + stime of PID over the
send window and the drain after it).

Lines are what a JVM tracer and an application send: SERIES series (metric names × 10 tag sets)
of counters, gauges, timings, histograms, distributions and sets with four DogStatsD tags, in
datagrams of up to BYTES (default 1 432, the DogStatsD clients' UDP buffer). The sender paces
itself every millisecond; if it cannot reach a rate, the rate it reached is reported.
One JSON object per rate on stdout.
"""

import argparse
import json
import os
import random
import socket
import sys
import time
import urllib.request

HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read()
    rest = rest[rest.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / HZ


def socket_drops(port):
    """The kernel's drops at the UDP sockets bound to PORT (IPv4 and IPv6 tables)."""
    total = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port:
                        total += int(cols[-1])
        except FileNotFoundError:
            pass
    return total


def monitor(api):
    with urllib.request.urlopen(f"http://127.0.0.1:{api}/v1/monitor", timeout=10) as r:
        snap = json.load(r)
    rec = dict(snap["inputs"].get("statsd", {}).get("receiver", []))
    queue_full = sum(
        d["points"] for d in snap.get("drops", [])
        if d["origin"] == "statsd" and d["reason"] == "queue_full"
    )
    return rec.get("lines", 0), queue_full


def packets(series, size):
    kinds = ["c", "g", "ms", "h", "d", "c|@0.5", "ms|@0.5", "s"]
    rnd = random.Random(25)
    lines = []
    names = max(1, series // 10)
    for i in range(series * 4):
        m = i % names
        t = (i // names) % 10
        kind = kinds[m % len(kinds)]
        value = f"user{rnd.randrange(50)}" if kind == "s" else f"{rnd.random() * 100:.3f}"
        lines.append(
            f"jvm.app{m % 10}.metric_{m}:{value}|{kind}"
            f"|#env:prod,service:shop-api,host:web-{t},route:/api/v{t}/items"
        )
    out, cur, n = [], [], 0
    for line in lines:
        if cur and n + len(line) + 1 > size:
            out.append(("\n".join(cur)).encode(), )
            cur, n = [], 0
        cur.append(line)
        n += len(line) + 1
    if cur:
        out.append("\n".join(cur).encode())
    return [(p, p.count(b"\n") + 1) for p in out]


def run(args, rate, pkts):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", args.port))
    lines_per_pkt = sum(n for _, n in pkts) / len(pkts)
    pps = rate / lines_per_pkt
    lines0, qf0 = monitor(args.api)
    drops0 = socket_drops(args.port)
    cpu0 = cpu_s(args.pid)
    t0 = time.monotonic()
    sent_lines = sent = errors = 0
    i = 0
    end = t0 + args.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - t0) * pps) - sent
        for _ in range(due):
            p, n = pkts[i]
            i = (i + 1) % len(pkts)
            try:
                s.send(p)
                sent += 1
                sent_lines += n
            except OSError:
                errors += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - t0
    # Let the agent read what is still queued, until its line count stops moving.
    last, still = -1, 0
    while still < 3:
        time.sleep(0.2)
        lines, _ = monitor(args.api)
        if lines == last:
            still += 1
        else:
            last, still = lines, 0
    cpu = cpu_s(args.pid) - cpu0
    lines1, qf1 = monitor(args.api)
    read = lines1 - lines0
    return {
        "rate_asked": rate,
        "rate_sent": round(sent_lines / elapsed),
        "seconds": round(elapsed, 2),
        "datagrams": sent,
        "send_errors": errors,
        "lines_sent": sent_lines,
        "lines_read": read,
        "kernel_drops": socket_drops(args.port) - drops0,
        "queue_full": qf1 - qf0,
        "lost": sent_lines - read,
        "agent_cpu_s": round(cpu, 3),
        "cpu_us_per_line": round(cpu / read * 1e6, 3) if read else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--packet", type=int, default=1432)
    ap.add_argument("rates", type=int, nargs="+")
    args = ap.parse_args()
    pkts = packets(args.series, args.packet)
    for rate in args.rates:
        print(json.dumps(run(args, rate, pkts)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
