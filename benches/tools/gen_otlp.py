#!/usr/bin/env python3
"""Writes an OTLP/protobuf export request for the opentelemetry benchmark.

Usage: gen_otlp.py OUT traces TRACES SPANS_PER_TRACE
       gen_otlp.py OUT metrics POINTS
Traces: realistic spans of a web service (a server span with HTTP attributes, database client
spans with a SQL statement, internal spans, an exception event now and then), under a resource
with the SDK's usual attributes. Metrics: sums, gauges and histograms with a few attributes.
Needs the `opentelemetry-proto` package (the test environment has it: tests/run --install-only).
"""
import random
import sys
import time

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

rnd = random.Random(7)


def kv(k, v):
    if isinstance(v, bool):
        return KeyValue(key=k, value=AnyValue(bool_value=v))
    if isinstance(v, int):
        return KeyValue(key=k, value=AnyValue(int_value=v))
    if isinstance(v, float):
        return KeyValue(key=k, value=AnyValue(double_value=v))
    return KeyValue(key=k, value=AnyValue(string_value=v))


def resource(service):
    return Resource(attributes=[
        kv("service.name", service), kv("service.version", "1.4.2"),
        kv("deployment.environment", "prod"), kv("host.name", "web-17"),
        kv("process.pid", 4242), kv("telemetry.sdk.name", "opentelemetry"),
        kv("telemetry.sdk.language", "python"), kv("telemetry.sdk.version", "1.45.2"),
    ])


def traces(out, n_traces, per):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

    now = time.time_ns()
    spans = []
    for t in range(n_traces):
        tid = rnd.getrandbits(128).to_bytes(16, "big")
        root = rnd.getrandbits(64).to_bytes(8, "big")
        start = now - rnd.randrange(10**9)
        route = rnd.choice(["/api/orders/{id}", "/api/users/{id}", "/api/cart", "/health"])
        s = Span(trace_id=tid, span_id=root, name="GET " + route, kind=Span.SPAN_KIND_SERVER,
                 start_time_unix_nano=start, end_time_unix_nano=start + 12_000_000,
                 status=Status(code=Status.STATUS_CODE_UNSET))
        s.attributes.extend([
            kv("http.request.method", "GET"), kv("http.route", route),
            kv("http.response.status_code", 200), kv("url.path", route.replace("{id}", str(t))),
            kv("server.address", "shop.example.com"), kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
            kv("client.address", "10.0.%d.%d" % (t % 250, t % 200)),
        ])
        spans.append(s)
        for i in range(per - 1):
            sid = rnd.getrandbits(64).to_bytes(8, "big")
            st = start + (i + 1) * 1_000_000
            if i % 2 == 0:
                c = Span(trace_id=tid, span_id=sid, parent_span_id=root, name="SELECT orders",
                         kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=st,
                         end_time_unix_nano=st + 800_000)
                c.attributes.extend([
                    kv("db.system", "postgresql"), kv("db.name", "shop"), kv("server.address", "db-1"),
                    kv("db.statement", "SELECT o.id, o.total, o.created_at FROM orders o WHERE o.user_id = $1 ORDER BY o.created_at DESC LIMIT 20"),
                ])
            else:
                c = Span(trace_id=tid, span_id=sid, parent_span_id=root, name="render",
                         kind=Span.SPAN_KIND_INTERNAL, start_time_unix_nano=st,
                         end_time_unix_nano=st + 300_000)
                c.attributes.extend([kv("template", "orders.html"), kv("cache.hit", i % 3 == 0)])
                if t % 10 == 0 and i == 1:
                    c.status.code = Status.STATUS_CODE_ERROR
                    ev = c.events.add(name="exception", time_unix_nano=st + 100_000)
                    ev.attributes.extend([kv("exception.type", "KeyError"), kv("exception.message", "'total'"),
                                          kv("exception.stacktrace", "Traceback (most recent call last):\n  File \"app.py\", line 42, in render\nKeyError: 'total'")])
            spans.append(c)
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=resource("shop"),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="opentelemetry.instrumentation.flask", version="0.45b0"), spans=spans)])])
    open(out, "wb").write(req.SerializeToString())
    return len(spans)


def metrics(out, n):
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.metrics.v1.metrics_pb2 import (
        AGGREGATION_TEMPORALITY_CUMULATIVE, Gauge, Histogram, HistogramDataPoint, Metric,
        NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum)

    now = time.time_ns()
    ms = []
    per = 16
    for m in range(n // per):
        dps = []
        for i in range(per):
            attrs = [kv("http.route", "/api/r%d" % i), kv("http.request.method", "GET"), kv("http.response.status_code", 200)]
            if m % 3 == 2:
                dps.append(HistogramDataPoint(attributes=attrs, time_unix_nano=now, count=10, sum=123.5,
                                              bucket_counts=[1, 4, 5, 0], explicit_bounds=[5, 10, 25], min=1.0, max=20.0))
            else:
                dps.append(NumberDataPoint(attributes=attrs, time_unix_nano=now, as_int=m * 100 + i) if m % 3 == 0
                           else NumberDataPoint(attributes=attrs, time_unix_nano=now, as_double=0.25 * i))
        if m % 3 == 0:
            ms.append(Metric(name="http.server.requests.%d" % m, unit="1", sum=Sum(
                data_points=dps, aggregation_temporality=AGGREGATION_TEMPORALITY_CUMULATIVE, is_monotonic=True)))
        elif m % 3 == 1:
            ms.append(Metric(name="process.cpu.utilization.%d" % m, unit="1", gauge=Gauge(data_points=dps)))
        else:
            ms.append(Metric(name="http.server.duration.%d" % m, unit="ms", histogram=Histogram(
                data_points=dps, aggregation_temporality=AGGREGATION_TEMPORALITY_CUMULATIVE)))
    req = ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(
        resource=resource("shop"),
        scope_metrics=[ScopeMetrics(scope=InstrumentationScope(name="shop.meter"), metrics=ms)])])
    open(out, "wb").write(req.SerializeToString())
    # Points the agent makes: one per data point, plus 4 buckets per histogram data point.
    hist = sum(len(x.histogram.data_points) for x in ms)
    dp = sum(len(x.sum.data_points) + len(x.gauge.data_points) + len(x.histogram.data_points) for x in ms)
    return dp, dp + 4 * hist


if __name__ == "__main__":
    if sys.argv[2] == "traces":
        print(traces(sys.argv[1], int(sys.argv[3]), int(sys.argv[4])))
    else:
        print(*metrics(sys.argv[1], int(sys.argv[3])))
