#!/usr/bin/env python3
"""Parses a Prometheus text (0.0.4) or OpenMetrics body with the official Python client
(`prometheus_client`, PyPI) and prints its samples as JSON: the independent reference the
`prom` input's tests compare the agent with.

usage: py_parse.py text|om FILE
"""
import json
import sys

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as om_families
from prometheus_client.parser import \
    text_string_to_metric_families as text_families


def ts_ns(ts):
    if ts is None:
        return None
    if hasattr(ts, "sec"):  # OpenMetrics: an exact Timestamp(sec, nsec)
        return ts.sec * 10**9 + ts.nsec
    return round(ts * 1000) * 10**6  # text format: milliseconds, given as float seconds


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parse = om_families if fmt == "om" else text_families
    out = []
    for fam in parse(text):
        for s in fam.samples:
            out.append({
                "family": fam.name,
                "type": fam.type,
                "name": s.name,
                "labels": s.labels,
                "value": repr(float(s.value)),
                "ts_ns": ts_ns(s.timestamp),
            })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
