#!/usr/bin/env python3
# Usage: gen_nginx_log.py N [--seed S] [--start UNIX_SECONDS] [--gap-ms MS]
"""Writes N nginx access-log lines in the `combined` format to stdout:

  $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
  "$http_referer" "$http_user_agent"

The traffic is a made-up shop: returning clients (a pool of addresses, some behind the same
NAT), browsers fetching pages and then their assets (often 304), API calls with ids and query
strings, searches, logins, scanners probing for files that are not there, and crawlers. The
status follows the request (201 for a created order, 304 for a cached asset, 404 for a probe,
an occasional 5xx), the size follows the status and the resource, referers are pages of the
site or search engines, user agents are those of current browsers, tools and bots.

Timestamps increase by random gaps (mean --gap-ms, default 5 ms) in +0800, starting at --start
(default: so that the last line is about now, which keeps the agent's timestamp correction out
of the way). The output depends only on N, the seed (default 7) and the start time.
"""

import argparse
import random
import sys
import time

BROWSERS = [
    # (weight, user agent)
    (30, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    (10, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
    (8, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (10, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
    (6, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    (4, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (14, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    (12, "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36"),
    (3, "Mozilla/5.0 (Linux; Android 13; M2102J20SG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36"),
    (3, "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"),
]
BOTS = [
    (5, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (3, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    (2, "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"),
    (1, "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"),
]
TOOLS = [
    (3, "curl/8.5.0"),
    (2, "python-requests/2.32.3"),
    (2, "Go-http-client/1.1"),
    (1, "okhttp/4.12.0"),
    (1, "Wget/1.21.4"),
]
SCANNER = "Mozilla/5.0 zgrab/0.x"

PAGES = ["/", "/index.html", "/products", "/products/%d", "/category/%s", "/cart", "/checkout",
         "/account", "/help/shipping", "/blog/%d-%s", "/about"]
ASSETS = ["/static/js/app.%08x.js", "/static/js/vendor.%08x.js", "/static/css/main.%08x.css",
          "/static/img/p%d.webp", "/favicon.ico", "/static/fonts/inter-regular.woff2",
          "/static/fonts/inter-semibold.woff2"]
API_GET = ["/api/v1/products/%d", "/api/v1/products?category=%s&page=%p", "/api/v1/cart",
           "/api/v1/orders/%d", "/api/v1/users/me", "/api/v2/recommendations?limit=%p"]
API_WRITE = [("POST", "/api/v1/orders"), ("POST", "/api/v1/cart/items"), ("PUT", "/api/v1/cart/items/%d"),
             ("DELETE", "/api/v1/cart/items/%d"), ("POST", "/api/v1/events"), ("PATCH", "/api/v1/users/me")]
PROBES = ["/wp-login.php", "/.env", "/admin/config.php", "/.git/config", "/phpmyadmin/index.php",
          "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/cgi-bin/luci", "/actuator/health"]
WORDS = ["shoes", "jacket", "lamp", "kettle", "headphones", "backpack", "desk", "chair", "socks",
         "running", "winter", "sale", "gift", "coffee"]
SITE = "https://shop.example.com"
SEARCH_REFERERS = ["https://www.google.com/", "https://www.bing.com/", "https://www.baidu.com/link?url=%s",
                   "https://duckduckgo.com/"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
OFFSET = 8 * 3600  # +0800


def weighted(pairs):
    """A list to draw from with rnd.choice, each item repeated by its weight."""
    return [item for w, item in pairs for _ in range(w)]


def main():
    ap = argparse.ArgumentParser(description="nginx combined access-log lines on stdout")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=float, default=None)
    ap.add_argument("--gap-ms", type=float, default=5.0)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    n = a.n
    start = a.start if a.start is not None else int(time.time() - n * a.gap_ms / 1000)

    browsers = weighted(BROWSERS)
    bots = weighted(BOTS)
    tools = weighted(TOOLS)
    # Returning clients: a few thousand addresses with a fixed user agent each; a tenth share
    # an address with another client (offices, carrier NAT).
    clients = []
    for _ in range(4000):
        if clients and rnd.random() < 0.1:
            ip = rnd.choice(clients)[0]
        elif rnd.random() < 0.3:
            ip = "%d.%d.%d.%d" % (rnd.choice([36, 39, 58, 101, 112, 114, 117, 120, 183, 223]),
                                  rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
        else:
            ip = "%d.%d.%d.%d" % (rnd.randrange(1, 224), rnd.randrange(256), rnd.randrange(256),
                                  rnd.randrange(1, 255))
        user = "-" if rnd.random() < 0.93 else rnd.choice(["alice", "bob", "ops", "m.chen"])
        clients.append((ip, user, rnd.choice(browsers)))

    out = sys.stdout
    buf = []
    t = float(start)
    cached_sec = None
    stamp = ""
    last_page = {}
    for _ in range(n):
        t += rnd.expovariate(1000.0 / a.gap_ms) if a.gap_ms > 0 else 0.0
        sec = int(t)
        if sec != cached_sec:
            cached_sec = sec
            tm = time.gmtime(sec + OFFSET)
            stamp = "%02d/%s/%d:%02d:%02d:%02d +0800" % (
                tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec)

        kind = rnd.random()
        method = "GET"
        referer = "-"
        if kind < 0.06:  # crawlers
            ip = "%d.%d.%d.%d" % (rnd.choice([66, 157, 180, 40]), rnd.randrange(256),
                                  rnd.randrange(256), rnd.randrange(1, 255))
            user, agent = "-", rnd.choice(bots)
            path = rnd.choice(PAGES)
            status = rnd.choice([200] * 12 + [301, 404])
        elif kind < 0.08:  # scanners
            ip = "%d.%d.%d.%d" % (rnd.randrange(1, 224), rnd.randrange(256), rnd.randrange(256),
                                  rnd.randrange(1, 255))
            user, agent = "-", rnd.choice([SCANNER, "-", rnd.choice(tools)])
            method = rnd.choice(["GET", "GET", "POST", "HEAD"])
            path = rnd.choice(PROBES)
            status = rnd.choice([404, 404, 404, 403, 400])
        elif kind < 0.12:  # scripts and integrations
            ip, user, _ = rnd.choice(clients)
            agent = rnd.choice(tools)
            if rnd.random() < 0.5:
                path = rnd.choice(API_GET)
                status = rnd.choice([200] * 8 + [401, 404, 429])
            else:
                method, path = rnd.choice(API_WRITE)
                status = rnd.choice([200, 201, 201, 204, 400, 401, 422])
        else:  # browsers
            ip, user, agent = rnd.choice(clients)
            prev = last_page.get(ip)
            # A client's first request lands on a page (or a search) from outside.
            r = rnd.random() if prev is not None else 0.72 + 0.28 * rnd.random() ** 3
            if prev is not None and r < 0.45:
                path = rnd.choice(ASSETS)
                referer = SITE + prev
                status = 304 if rnd.random() < 0.4 else 200
            elif prev is not None and r < 0.65:
                if rnd.random() < 0.6:
                    path = rnd.choice(API_GET)
                    status = rnd.choice([200] * 15 + [304, 404, 500])
                else:
                    method, path = rnd.choice(API_WRITE)
                    status = rnd.choice([200, 201, 201, 204, 204, 400, 409, 502])
                referer = SITE + prev
            elif r < 0.72:
                path = "/search?q=%s&page=%p"
                status = 200
                referer = SITE + (prev or "/")
            elif r < 0.74:
                method, path = rnd.choice([("GET", "/login"), ("POST", "/login"), ("POST", "/logout")])
                status = {"GET": 200}.get(method, rnd.choice([302, 302, 401]))
            else:
                path = rnd.choice(PAGES)
                status = rnd.choice([200] * 30 + [301, 302, 404, 499, 500, 503])
                if prev is not None and rnd.random() < 0.7:
                    referer = SITE + prev
                elif rnd.random() < 0.5:
                    referer = rnd.choice(SEARCH_REFERERS)
                    if "%s" in referer:
                        referer = referer % "".join(rnd.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789_-") for _ in range(22))

        # Fill the path's placeholders.
        if "%" in path:
            parts = path.split("%")
            filled = [parts[0]]
            for p in parts[1:]:
                spec, rest = p[0], p[1:]
                if spec == "d":
                    filled.append(str(rnd.randrange(1, 200000)))
                elif spec == "p":
                    filled.append(str(rnd.choice([1, 1, 1, 1, 2, 2, 3, 4, 5, 10, 20])))
                elif spec == "s":
                    filled.append(rnd.choice(WORDS))
                elif spec == "0":  # %08x
                    filled.append("%08x" % rnd.getrandbits(32))
                    rest = p[3:]
                filled.append(rest)
            path = "".join(filled)
        if kind >= 0.12 and method == "GET" and status == 200 and \
                not path.startswith(("/static", "/api", "/favicon")):
            last_page[ip] = path

        if status in (204, 304) or method == "HEAD" or status == 499:
            size = 0
        elif status >= 400:
            size = rnd.choice([146, 150, 153, 162, 555, 568])
        elif status in (301, 302):
            size = 162 if method == "GET" else 0
        elif path == "/favicon.ico":
            size = 4286
        elif path.startswith("/static/js/vendor"):
            size = rnd.randrange(280000, 420000)
        elif path.startswith("/static"):
            size = rnd.randrange(2000, 90000)
        elif path.startswith("/api"):
            size = rnd.randrange(40, 6000)
        else:
            size = rnd.randrange(6000, 48000)

        buf.append('%s - %s [%s] "%s %s HTTP/%s" %d %d "%s" "%s"\n' % (
            ip, user, stamp, method, path, "1.1" if rnd.random() < 0.85 else "2.0",
            status, size, referer, agent))
        if len(buf) >= 4096:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
