#!/usr/bin/env python3
# Usage: idle_probe.py PID [SECONDS]   (default 60)
"""What a running process costs over a window: CPU as a percentage of one core (user + system
time of the process, from /proc/PID/stat, over the wall time of the window; threads included,
children not), and its resident memory at the end (VmRSS) and at its peak since it started
(VmHWM). Prints one line: cpu_pct=… cpu_s=… secs=… rss_kb=… hwm_kb=…
Exits 1 if the process is gone before the window ends.
"""

import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name (field 2) may hold spaces and ')'; the fields after its last ')' start
    # at field 3 (state), so utime (14) and stime (15) are the 12th and 13th of them.
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: idle_probe.py PID [SECONDS]", file=sys.stderr)
        return 2
    pid = int(sys.argv[1])
    secs = float(sys.argv[2]) if len(sys.argv) == 3 else 60.0
    try:
        t0, w0 = cpu_ticks(pid), time.monotonic()
        time.sleep(secs)
        t1, w1 = cpu_ticks(pid), time.monotonic()
        rss, hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    except FileNotFoundError:
        print(f"process {pid} is gone", file=sys.stderr)
        return 1
    cpu_s = (t1 - t0) / HZ
    wall = w1 - w0
    print(f"cpu_pct={cpu_s * 100 / wall:.3f} cpu_s={cpu_s:.2f} secs={wall:.1f} rss_kb={rss} hwm_kb={hwm}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
