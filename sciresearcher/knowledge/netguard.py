"""SSRF guard for fetches: `read` and the sources reach public addresses only, unless allowed by name.

A URL comes from the model (`read(doc_id_or_url)`), from a search hit or from a redirect, so it may point at
the machine itself or its network: loopback, private ranges, link-local (cloud metadata at
169.254.169.254), carrier-grade NAT, multicast, reserved and unspecified addresses, and IPv6 forms that
embed one of them. `NetGuard` refuses those after DNS resolution, on every redirect hop (SourceHttp follows
redirects itself), and again at connect time (`GuardedBackend` connects to an address it checked, so a DNS
answer that changes between the check and the connection does not get through). Only http and https are
fetched. `KnowledgeConfig.fetch_allow` lists hosts (`intranet.example`, `*.corp.example`) and networks
(`10.0.0.0/8`, `127.0.0.1`) that users indexing their own intranet want reachable; the configured
SearXNG instance's host is allowed too. Refusals are `SourceError`s that are never retried. This module
does not send requests or apply the blocklist (sources/http.py does).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sciresearcher.errors import SourceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
_HINT = "only public addresses are fetched; add the host or network to knowledge.fetch_allow to reach it"


class Refused(SourceError):
    """A fetch the guard will not make (an internal address, a scheme other than http/https): never retried."""


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(int(ip))
    return None


def is_public(ip: IPAddress) -> bool:
    """A global unicast address (not loopback, private, link-local, shared, reserved, multicast...)."""
    inner = _embedded_v4(ip)
    if inner is not None and not is_public(inner):
        return False
    return ip.is_global and not ip.is_multicast


class NetGuard:
    """Which hosts and addresses fetches may reach (see the module docstring)."""

    def __init__(self, allow: Iterable[str] = (), *, resolve: bool = True) -> None:
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            entry = entry.strip().lower()
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if entry.startswith("*."):
                    self.suffixes.append(entry[1:])
                elif entry:
                    self.names.add(entry.rstrip("."))
        self.resolve = resolve

    def name_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def address_allowed(self, ip: IPAddress) -> bool:
        return is_public(ip) or any(ip in net for net in self.networks)

    def check_scheme(self, url: str) -> str:
        """The URL's host; Refused unless it is an http(s) URL with a host."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES:
            raise Refused(f"refused to fetch {url[:200]!r}: only http and https URLs are fetched")
        if not parts.hostname:
            raise Refused(f"refused to fetch {url[:200]!r}: the URL has no host")
        return parts.hostname

    async def check_url(self, url: str) -> None:
        """Refused unless every address `url`'s host resolves to may be reached."""
        host = self.check_scheme(url)
        if self.name_allowed(host):
            return
        literal = _literal(host)
        if literal is not None:
            self._check_addresses(host, [literal])
        elif self.resolve:
            self._check_addresses(host, await resolve(host))

    def _check_addresses(self, host: str, addresses: list[IPAddress]) -> None:
        bad = [str(ip) for ip in addresses if not self.address_allowed(ip)]
        if bad:
            raise Refused(f"refused to fetch from {host}: it resolves to an internal address ({bad[0]})",
                          hint=_HINT)

    async def connect_addresses(self, host: str) -> list[str]:
        """The addresses to connect to for `host`, all of them checked (a name on the allow-list is
        connected to by name)."""
        if self.name_allowed(host):
            return [host]
        literal = _literal(host)
        addresses = [literal] if literal is not None else await resolve(host)
        self._check_addresses(host, addresses)
        return [str(ip) for ip in addresses]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


async def resolve(host: str) -> list[IPAddress]:
    """Every address `host` resolves to (as the system resolver answers: '2130706433', '0x7f.1' too)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    out: list[IPAddress] = []
    for info in infos:
        ip = _literal(str(info[4][0]))
        if ip is not None and ip not in out:
            out.append(ip)
    if not out:
        raise Refused(f"cannot resolve {host}: no addresses")
    return out


class GuardedBackend:
    """An httpcore network backend that connects only to addresses the guard allows (checked at connect
    time, so the address checked is the address used)."""

    def __init__(self, inner: Any, guard: NetGuard) -> None:
        self.inner = inner
        self.guard = guard

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> Any:
        error: BaseException | None = None
        for address in await self.guard.connect_addresses(host):
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except Exception as exc:  # noqa: BLE001 - the next address may answer; the last error is raised
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise Refused("refused to fetch over a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(guard: NetGuard) -> Any:
    """An httpx transport whose connections go through `GuardedBackend`; None when the installed httpx
    does not keep its pool where expected (the per-hop URL checks still apply)."""
    import httpx

    transport = httpx.AsyncHTTPTransport()
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        return None
    pool._network_backend = GuardedBackend(pool._network_backend, guard)
    return transport
