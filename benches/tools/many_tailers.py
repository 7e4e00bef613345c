#!/usr/bin/env python3
# Usage: many_tailers.py --log FILE --lines N --files F1 [F2 ...] --ready-url URL
#                        [--idle S] [--settle S] [--timeout S] [--agent-log FILE]
#                        -- AGENT_COMMAND...
"""An agent tailing many files: its cost at rest, and its throughput when they all grow.

1. Starts the DataWay stand-in (dataway_stub.py, next to this file) on a port the OS picks.
2. Starts AGENT_COMMAND (no shell; every `{dataway}` in its arguments is replaced with the
   stand-in's URL), waits until --ready-url answers and --settle seconds more (every
   instance has started and read its empty file).
3. At rest: the agent's threads, RSS, inotify instances (its `anon_inode:inotify`
   descriptors), CPU over --idle seconds (% of one core), and how many collections its cpu
   and mem inputs completed meanwhile (from /v1/monitor, next to --ready-url).
4. Spreads the first N lines of --log over the --files (the first N/len(files) to the first
   file, and so on), appending them file after file as fast as it can, and waits until the
   stand-in has counted N `logging` points, or --timeout seconds.
5. Prints the seconds from the first append until 99 % and 100 % of the lines had arrived
   and the lines/s of each, the agent's CPU per line (its CPU during step 4), its peak RSS
   (VmHWM), its threads at the end and the cpu and mem collections during step 4; then stops
   the agent and the stand-in.

Exits 1 on a timeout or if the agent dies.
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


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def inotify_instances(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:inotify":
                n += 1
        except OSError:
            pass
    return n


def collects(monitor_url):
    """Completed collections of the cpu and mem inputs."""
    try:
        inputs = get_json(monitor_url).get("inputs", {})
    except OSError:
        return (0, 0)
    return tuple(inputs.get(n, {}).get("collects", 0) for n in ("cpu", "mem"))


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
    for t, points in timeline:
        if points >= target:
            return t - t0
    return None


def main():
    ap = argparse.ArgumentParser(description="an agent tailing many files")
    ap.add_argument("--log", required=True)
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--files", nargs="+", required=True)
    ap.add_argument("--ready-url", required=True)
    ap.add_argument("--idle", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--agent-log")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no agent command after --")
    with open(a.log, "rb") as f:
        lines = f.readlines()[: a.lines]
    if len(lines) < a.lines:
        ap.error(f"{a.log} has only {len(lines)} lines")
    per = -(-a.lines // len(a.files))
    chunks = [b"".join(lines[i * per:(i + 1) * per]) for i in range(len(a.files))]

    stub = agent = None
    tmp = tempfile.mkdtemp(prefix="many_tailers.")
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
        started = time.monotonic()
        deadline = started + 60
        while not answers(a.ready_url):
            if agent.poll() is not None or time.monotonic() > deadline:
                print(f"the agent did not answer on {a.ready_url}", file=sys.stderr)
                return 1
            time.sleep(0.1)
        ready = time.monotonic() - started
        time.sleep(a.settle)
        pid = agent.pid
        monitor_url = a.ready_url.rsplit("/v1/", 1)[0] + "/v1/monitor"
        k0 = collects(monitor_url)
        c0, w0 = cpu_seconds(pid), time.monotonic()
        time.sleep(a.idle)
        c1, w1 = cpu_seconds(pid), time.monotonic()
        k1 = collects(monitor_url)
        print(f"files={len(a.files)} ready_s={ready:.1f} threads={status(pid, 'Threads')}"
              f" rss_mb={status(pid, 'VmRSS') / 1024:.0f}"
              f" inotify_instances={inotify_instances(pid)}"
              f" idle_cpu_pct={(c1 - c0) * 100 / (w1 - w0):.1f}"
              f" collections_cpu_mem={k1[0] - k0[0]},{k1[1] - k0[1]}_in_{w1 - w0:.0f}s")

        c0 = cpu_seconds(pid)
        k0 = collects(monitor_url)
        t0 = time.time()
        for path, chunk in zip(a.files, chunks):
            with open(path, "ab") as f:
                f.write(chunk)
        written = time.time() - t0
        n = 0
        timed_out = False
        while True:
            time.sleep(0.25)
            n = get_json(stats_url).get("logging", {}).get("points", 0)
            if n >= a.lines:
                break
            if agent.poll() is not None:
                print(f"the agent exited with {agent.returncode} after {n} points",
                      file=sys.stderr)
                return 1
            if time.time() - t0 > a.timeout:
                timed_out = True
                break
        cpu = cpu_seconds(pid) - c0
        k1 = collects(monitor_url)
        busy = time.time() - t0
        timeline = get_json(stats_url + "?timeline=1").get("logging", {}).get("timeline", [])
        s99 = reached(timeline, -(-a.lines * 99 // 100), t0)
        s100 = reached(timeline, a.lines, t0)

        def rate(k, secs):
            return int(k / secs) if secs else 0

        print(f"points={n} write_s={written:.2f}")
        if s99 is not None:
            print(f"99%: seconds={s99:.2f} lines_per_s={rate(a.lines * 0.99, s99)}")
        if s100 is not None:
            print(f"100%: seconds={s100:.2f} lines_per_s={rate(a.lines, s100)}")
        print(f"agent: cpu_us_per_line={cpu * 1e6 / max(n, 1):.2f}"
              f" peak_rss_mb={status(pid, 'VmHWM') / 1024:.0f} threads={status(pid, 'Threads')}"
              f" collections_cpu_mem={k1[0] - k0[0]},{k1[1] - k0[1]}_in_{busy:.0f}s")
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
