#!/usr/bin/env python3
# Usage: log_throughput.py --log FILE --lines N --tail PATH [--ready-url URL] [--settle S]
#                          [--timeout S] [--agent-log FILE] [--timeline FILE] -- AGENT_COMMAND...
"""Log tailing throughput of an agent, end to end.

1. Starts the DataWay stand-in (dataway_stub.py, next to this file) on a port the OS picks.
2. Starts AGENT_COMMAND (no shell; every `{dataway}` in its arguments is replaced with the
   stand-in's URL, http://127.0.0.1:PORT), waits until --ready-url answers (if given) and then
   --settle seconds more, so the agent's tailer is watching the directory of --tail.
3. Copies --log to --tail (which must not exist yet) and waits until the stand-in has counted
   N `logging` points, or --timeout seconds (default 600) have passed.
4. Prints, from the arrival times the stand-in recorded: the seconds from the start of the
   copy until 99 % and until 100 % of the N lines had arrived, and the lines/s of each; the
   agent's CPU seconds (user + system, since it started) and CPU per line; its peak RSS (VmHWM).
5. Stops the agent (SIGTERM, then SIGKILL after 10 s) and the stand-in.

The 100 % figure includes the wait of the last partial batch for the agent's flush interval;
the 99 % figure leaves that tail out. Exits 1 on a timeout or if the agent dies.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            r.read()
            return True
    except OSError:
        return False


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / HZ


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def stop(proc, grace):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def reached(timeline, target, t0):
    """Seconds from t0 until the arrival that brought the count to `target`, or None."""
    for t, points in timeline:
        if points >= target:
            return t - t0
    return None


def main():
    ap = argparse.ArgumentParser(description="log tailing throughput of an agent")
    ap.add_argument("--log", required=True, help="the prepared log file to copy")
    ap.add_argument("--lines", type=int, required=True, help="points to wait for")
    ap.add_argument("--tail", required=True, help="the path the agent tails")
    ap.add_argument("--ready-url", help="a URL of the agent that answers once it runs")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--agent-log", help="file for the agent's stdout and stderr")
    ap.add_argument("--category", default="logging")
    ap.add_argument("--timeline", help="write `seconds points` of every arrival to this file")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no agent command after --")
    if os.path.exists(a.tail):
        ap.error(f"{a.tail} exists already")

    stub = agent = None
    tmp = tempfile.mkdtemp(prefix="log_throughput.")
    try:
        port_file = os.path.join(tmp, "port")
        stub = subprocess.Popen([sys.executable, os.path.join(HERE, "dataway_stub.py"),
                                 "--port-file", port_file], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if stub.poll() is not None or time.monotonic() > deadline:
                print("the DataWay stand-in did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        with open(port_file) as f:
            dataway = f"http://127.0.0.1:{int(f.read())}"
        stats_url = dataway + "/stats"

        out = open(a.agent_log, "ab") if a.agent_log else subprocess.DEVNULL
        agent = subprocess.Popen([arg.replace("{dataway}", dataway) for arg in cmd],
                                 stdout=out, stderr=subprocess.STDOUT)
        if a.ready_url:
            deadline = time.monotonic() + 30
            while not answers(a.ready_url):
                if agent.poll() is not None or time.monotonic() > deadline:
                    print(f"the agent did not answer on {a.ready_url}", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        time.sleep(a.settle)
        if agent.poll() is not None:
            print(f"the agent exited with {agent.returncode} before the copy", file=sys.stderr)
            return 1

        t0 = time.time()
        with open(a.log, "rb") as src, open(a.tail, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        copied = time.time() - t0

        n = 0
        timed_out = False
        while True:
            time.sleep(0.25)
            n = get_json(stats_url).get(a.category, {}).get("points", 0)
            if n >= a.lines:
                break
            if agent.poll() is not None:
                print(f"the agent exited with {agent.returncode} after {n} points", file=sys.stderr)
                return 1
            if time.time() - t0 > a.timeout:
                timed_out = True
                break
        cpu = cpu_seconds(agent.pid)
        hwm = peak_rss_kb(agent.pid)
        cat = get_json(stats_url + "?timeline=1").get(a.category, {})
        timeline = cat.get("timeline", [])
        if a.timeline:
            with open(a.timeline, "w") as f:
                f.writelines(f"{t - t0:.3f} {points}\n" for t, points in timeline)
        s99 = reached(timeline, -(-a.lines * 99 // 100), t0)
        s100 = reached(timeline, a.lines, t0)

        def rate(lines, secs):
            return int(lines / secs) if secs else 0

        print(f"points={n} copy_s={copied:.2f} requests={cat.get('requests', 0)}"
              f" wire_mb={cat.get('wire_bytes', 0) / 1e6:.1f}")
        if s99 is not None:
            print(f"99%: seconds={s99:.2f} lines_per_s={rate(a.lines * 0.99, s99)}")
        if s100 is not None:
            print(f"100%: seconds={s100:.2f} lines_per_s={rate(a.lines, s100)}")
        print(f"agent: cpu_s={cpu:.2f} cpu_us_per_line={cpu * 1e6 / max(n, 1):.2f}"
              f" peak_rss_kb={hwm} peak_rss_mb={hwm / 1024:.0f}")
        if timed_out:
            print(f"timeout after {a.timeout:.0f} s with {n} of {a.lines} points", file=sys.stderr)
            return 1
        return 0
    finally:
        stop(agent, 10)
        stop(stub, 5)
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
