"""`read`/fetch cannot reach internal addresses (issue 12, points 8 and 9): loopback, private, link-local and
metadata addresses are refused after DNS resolution and on every redirect hop, unless allowed by
`knowledge.fetch_allow`; errors that cannot succeed are not retried; a server that drips its answer is cut
at `timeout_s` in total. Real HTTP servers on 127.0.0.1 / 127.0.0.2 play the internal services."""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sciresearcher.errors import SourceError
from sciresearcher.knowledge.config import KnowledgeConfig
from sciresearcher.knowledge.fetch import fetch_document
from sciresearcher.knowledge.netguard import NetGuard, is_public
from sciresearcher.knowledge.sources.http import SourceHttp

PAGE = b"<html><head><title>Internal</title></head><body><p>" + b"Secret admin panel of the lab. " * 8 + b"</p></body></html>"


class Server:
    """An HTTP server on `host` whose GET handler is `handle(handler)`; counts requests."""

    def __init__(self, host: str, handle: Callable[[http.server.BaseHTTPRequestHandler], None]) -> None:
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                handle(self)

            def log_message(self, *a: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def page(h: http.server.BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", str(len(PAGE)))
    h.end_headers()
    h.wfile.write(PAGE)


def redirect_to(target: str) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return handle


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for s in made:
        s.close()


def make_http(tmp_path: Path, sleeps: list[float] | None = None, **cfg: object) -> SourceHttp:
    async def fake_sleep(s: float) -> None:
        if sleeps is not None:
            sleeps.append(s)

    config = KnowledgeConfig(cache_dir=tmp_path / "cache", **cfg)  # type: ignore[arg-type]
    return SourceHttp(config, sleep=fake_sleep)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_loopback_is_refused_and_nothing_is_cached(tmp_path, servers):
    internal = Server("127.0.0.1", page)
    servers.append(internal)
    sleeps: list[float] = []
    http = make_http(tmp_path, sleeps)
    for url in (f"{internal.url}/admin", internal.url.replace("127.0.0.1", "localhost") + "/admin"):
        with pytest.raises(SourceError, match="internal address"):
            run(fetch_document(url, http))
    assert internal.hits == 0 and sleeps == []
    assert not any((tmp_path / "cache").rglob("*.json"))


def test_a_redirect_to_an_internal_address_is_refused_on_that_hop(tmp_path, servers):
    internal = Server("127.0.0.2", page)
    hop = Server("127.0.0.1", redirect_to(f"{internal.url}/latest/meta-data/"))
    servers += [internal, hop]
    sleeps: list[float] = []
    http = make_http(tmp_path, sleeps, fetch_allow=["127.0.0.1/32"])  # the first hop is an allowed intranet host
    with pytest.raises(SourceError, match="internal address"):
        run(fetch_document(f"{hop.url}/paper", http))
    assert hop.hits == 1 and internal.hits == 0 and sleeps == []


def test_a_dns_answer_that_changes_after_the_check_is_refused_at_connect_time(tmp_path, servers, monkeypatch):
    from sciresearcher.knowledge import netguard

    internal = Server("127.0.0.1", page)
    servers.append(internal)
    answers = iter([[ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("127.0.0.1")]])

    async def rebinding(host: str) -> list[ipaddress.IPv4Address]:  # public when checked, loopback when used
        return next(answers)

    monkeypatch.setattr(netguard, "resolve", rebinding)
    http = make_http(tmp_path, use_cache=False)
    port = internal.url.rsplit(":", 1)[1]
    with pytest.raises(SourceError, match="internal address"):
        run(fetch_document(f"http://rebind.example:{port}/admin", http))
    assert internal.hits == 0


def test_the_allow_list_opens_an_intranet_host(tmp_path, servers):
    intranet = Server("127.0.0.1", page)
    servers.append(intranet)
    for allow in (["127.0.0.0/8"], ["localhost"]):
        http = make_http(tmp_path, fetch_allow=allow, use_cache=False)
        doc = run(fetch_document(intranet.url.replace("127.0.0.1", "localhost") + "/wiki", http))
        assert "Secret admin panel" in doc.text


def test_unsupported_protocols_are_refused_without_retries(tmp_path, servers):
    hop = Server("127.0.0.1", redirect_to("file:///etc/passwd"))
    servers.append(hop)
    sleeps: list[float] = []
    http = make_http(tmp_path, sleeps, fetch_allow=["127.0.0.1"])
    with pytest.raises(SourceError, match="only http and https"):
        run(fetch_document(f"{hop.url}/x", http))
    assert hop.hits == 1 and sleeps == []
    with pytest.raises(SourceError, match="only http and https"):
        run(http.get("gopher://127.0.0.1/x"))
    assert sleeps == []


def test_client_errors_are_not_retried_but_429_is(tmp_path, servers):
    def status(code: int) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
        def handle(h: http.server.BaseHTTPRequestHandler) -> None:
            h.send_response(code)
            h.send_header("Content-Length", "0")
            h.end_headers()
        return handle

    gone, busy = Server("127.0.0.1", status(404)), Server("127.0.0.1", status(429))
    servers += [gone, busy]
    sleeps: list[float] = []
    http = make_http(tmp_path, sleeps, fetch_allow=["127.0.0.1"], max_retries=2)
    with pytest.raises(SourceError, match="HTTP 404"):
        run(http.get(f"{gone.url}/x"))
    assert gone.hits == 1 and sleeps == []
    with pytest.raises(SourceError, match="after 3 attempts"):
        run(http.get(f"{busy.url}/x"))
    assert busy.hits == 3  # 429 is worth retrying (max_retries=2)


def test_a_dripping_server_is_cut_at_the_total_deadline(tmp_path, servers):
    def drip(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.end_headers()
        try:
            for _ in range(60):
                h.wfile.write(b"one more line of a very slow answer\n")
                h.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    slow = Server("127.0.0.1", drip)
    servers.append(slow)
    sleeps: list[float] = []
    http = make_http(tmp_path, sleeps, fetch_allow=["127.0.0.1"], timeout_s=2.0)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="2 s"):
        run(fetch_document(f"{slow.url}/slow.txt", http))
    assert time.monotonic() - t0 < 4.0
    assert slow.hits == 1 and sleeps == []


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "2002:7f00:1::", "::127.0.0.1",
])
def test_internal_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_and_the_guard_rules():
    assert is_public(ipaddress.ip_address("93.184.216.34")) and is_public(ipaddress.ip_address("2606:4700::1111"))
    guard = NetGuard(["10.0.0.0/8", "wiki.lab.example", "*.corp.example"], resolve=False)
    run(guard.check_url("http://10.2.3.4/x"))
    run(guard.check_url("https://wiki.lab.example/page"))
    run(guard.check_url("https://docs.corp.example/page"))
    for url in ("http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data/",
                "ftp://example.org/x", "file:///etc/passwd", "http:///nohost"):
        with pytest.raises(SourceError):
            run(guard.check_url(url))
    with pytest.raises(SourceError, match="internal address"):
        run(NetGuard().check_url("http://2130706433/"))  # 127.0.0.1 written as one number
