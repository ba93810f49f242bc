"""Egress policy: which addresses the server's own outbound requests (push webhooks) may reach.

Refused unless an operator-allowed network (``Config.push_allowed_networks``) contains them:
loopback, private, link-local, multicast, unspecified, reserved and other non-global addresses,
IPv4 and IPv6, looking inside IPv4-mapped, NAT64, 6to4 and Teredo addresses (an IPv6 address that
carries a private IPv4 address is refused like it). A hostname passes only if EVERY address it
resolves to passes. The transports connect only to addresses this policy has just checked (urllib
through :func:`opener`, aiohttp through a resolver in ``http_api/webhook.py``), so a name that
later re-resolves to a private address (DNS rebinding) is refused at delivery, and neither follows
redirects or uses a proxy. Without network access this module only parses and compares.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import ipaddress
import socket
import ssl
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class EgressRefused(OSError):
    """The destination resolves to an address the policy refuses; nothing was sent."""


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs as networks; raises ValueError naming a bad one."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def _targets(address: Address) -> list[Address]:
    """The addresses a packet to ``address`` really reaches: the IPv4 address of an IPv4-mapped or
    NAT64 address; the address and the IPv4 addresses 6to4 and Teredo carry."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    carried = [address.sixtofour] if address.sixtofour is not None else []
    return [address, *carried, *(address.teredo or ())]


def _kind(address: Address) -> str | None:
    """Why an address is not a public destination, or None when it is."""
    for kind in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-global"


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Refuse non-public destinations except inside ``allowed``."""

    allowed: tuple[Network, ...] = ()

    @staticmethod
    @functools.cache
    def of(cidrs: tuple[str, ...]) -> EgressPolicy:
        return EgressPolicy(parse_networks(cidrs))

    def refusal(self, host: str) -> str | None:
        """None when the IP literal ``host`` may be reached, else what it is ("loopback", ...)."""
        address = ipaddress.ip_address(host.split("%", 1)[0])
        targets = _targets(address)
        if any(target in network for target in targets for network in self.allowed):
            return None
        for target in reversed(targets):  # what it carries is the more telling reason
            if kind := _kind(target):
                return f"{kind} address {target}"
        return None

    def check(self, host: str) -> None:
        if reason := self.refusal(host):
            raise EgressRefused(f"destination refused: {reason} (allow it with push_allowed_networks)")

    def check_literal(self, host: str) -> None:
        """Check ``host`` if it is an IP literal (clients skip resolving those)."""
        try:
            ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return
        self.check(host.strip("[]"))

    def checked(self, infos: list[tuple[Any, ...]], host: str) -> list[tuple[Any, ...]]:
        """getaddrinfo results, all checked; refuses if ANY address is refused."""
        if not infos:
            raise EgressRefused(f"{host} resolves to no address")
        for info in infos:
            self.check(str(info[4][0]))
        return infos

    async def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """Resolve ``host`` (a name or an IP literal) and check every address."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return self.checked(list(infos), host)

    def resolve_blocking(self, host: str, port: int) -> list[tuple[Any, ...]]:
        return self.checked(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), host)

    def create_connection(
        self, address: tuple[str, int], timeout: float | None = None, source_address: Any = None
    ) -> socket.socket:
        """``socket.create_connection`` that connects only to addresses it has just checked."""
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in self.resolve_blocking(*address):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as err:
                sock.close()
                error = err
        raise error or OSError(f"cannot connect to {address[0]}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is the answer; a redirect could point anywhere


def opener(policy: EgressPolicy) -> urllib.request.OpenerDirector:
    """A urllib opener whose connections go only where ``policy`` allows: no proxy, no redirect."""

    tls = ssl.create_default_context()

    def guarded(kind: type[http.client.HTTPConnection]) -> Any:
        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            connection = kind(host, **kwargs)
            connection._create_connection = policy.create_connection  # type: ignore[attr-defined]
            return connection

        return make

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(guarded(http.client.HTTPConnection), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(guarded(http.client.HTTPSConnection), req, context=tls)

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect, Http, Https)
