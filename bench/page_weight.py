"""The weight of each page a person opens on a running `mcreg serve`: its HTML and every asset it loads.

    python bench/page_weight.py [--url http://127.0.0.1:8000] [--max-pages 40] [--chromium /usr/bin/chromium]

Opens the home page, the API explorers (/docs, /redoc, /graphql) and every page reached by following the
registry's own links from them (never /v1, /static or a download), each in headless Chromium (Debian's, driven by
Playwright from the test extra: nothing downloads a browser), waits until the page's network is quiet, and sums
what it loaded: the HTML, scripts, stylesheets, images and what its scripts fetch (ReDoc fetches the OpenAPI
description). Prints each page's bytes (decoded bodies) and requests, largest first, then the largest page.
"""

from __future__ import annotations

import argparse
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import Browser, Response, sync_playwright

START = ["/", "/docs", "/redoc", "/graphql"]
NOT_PAGES = ("/v1/", "/static/", "/contexts/", "/.well-known/", "/metrics", "/healthz", "/readyz", "/openapi.json")
"""Addresses the registry serves to programs, not pages a person opens."""


@dataclass
class Weight:
    path: str
    status: int = 0
    bytes: int = 0
    requests: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def weigh(browser: Browser, base: str, path: str) -> tuple[Weight, list[str]]:
    """Load ``path`` in a fresh context; what it weighed and the same-site links it shows."""
    weight = Weight(path)
    context = browser.new_context()
    page = context.new_page()

    def loaded(response: Response) -> None:
        try:
            size = len(response.body())
        except Exception:  # a redirect or an aborted request has no body to count
            return
        weight.bytes += size
        weight.requests += 1
        kind = response.request.resource_type
        weight.by_type[kind] = weight.by_type.get(kind, 0) + size

    page.on("response", loaded)
    answer = page.goto(base + path, wait_until="networkidle")
    weight.status = answer.status if answer is not None else 0
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    context.close()
    return weight, links


def same_site_pages(base: str, links: list[str]) -> list[str]:
    found = []
    for link in links:
        url = urldefrag(urljoin(base, link)).url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(NOT_PAGES) and not parts.path.endswith((".json", ".csv", ".png", ".svg", ".jsonld")):
            found.append(path)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--max-pages", type=int, default=40)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    weights: list[Weight] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
        queue, seen = deque(START), set(START)
        while queue and len(weights) < args.max_pages:
            weight, links = weigh(browser, base, queue.popleft())
            weights.append(weight)
            for path in same_site_pages(base, links):
                if path not in seen:
                    seen.add(path)
                    queue.append(path)
        browser.close()
    weights.sort(key=lambda w: w.bytes, reverse=True)
    print(f"{'page':<48} {'status':>6} {'requests':>8} {'bytes':>12}  by type")
    for w in weights:
        kinds = ", ".join(f"{kind} {size:,}" for kind, size in sorted(w.by_type.items(), key=lambda kv: -kv[1]))
        print(f"{w.path[:48]:<48} {w.status:>6} {w.requests:>8} {w.bytes:>12,}  {kinds}")
    largest = weights[0]
    print(f"largest page with its assets: {largest.path}, {largest.bytes:,} bytes in {largest.requests} requests")
    own = [w for w in weights if w.path not in START[1:]]
    if own:
        page = own[0]
        print(f"largest of the registry's own pages: {page.path}, {page.bytes:,} bytes in {page.requests} requests")


if __name__ == "__main__":
    main()
