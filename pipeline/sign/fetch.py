"""Fetching OCSP responses, CRLs and issuer certificates: only from where it is safe, and bounded.

Why this exists: the addresses pyHanko fetches from are written in certificates, and at a
desk-to-desk import the counterparty chose the certificate.  Left alone, pyHanko would fetch
``http://127.0.0.1:5432/``, ``http://169.254.169.254/latest/meta-data/`` or any intranet
address a certificate names, from inside our network: a blind server-side request forgery.
So every validation context that may fetch (``pipeline.sign.signing.validation_context``,
``pipeline.sign.verify``) gets the ONE backend made here, :class:`GuardedFetcherBackend`, which

* connects only to public addresses: loopback, private (RFC 1918, ``fc00::/7``), link-local
  (``169.254.0.0/16``, ``fe80::/10``), shared (``100.64.0.0/10``), multicast, reserved and
  unspecified (``0.0.0.0``, ``::``) addresses are refused, also inside IPv6 (IPv4-mapped
  ``::ffff:127.0.0.1``, 6to4, NAT64), and also when a DNS name resolves there;
* checks the address it actually connects to: aiohttp resolves a name once and hands each
  resolved address to our socket factory (:func:`_socket_for`), which refuses or opens the
  socket for exactly that address, so a name that resolves differently a second time (DNS
  rebinding) cannot slip a private address past the check;
* speaks only ``http``/``https`` to ports 80 and 443 (any port of an allowlisted address),
  follows at most a few redirects, each checked the same way when it connects;
* bounds every request in time (``timeout`` seconds, connecting included) and size (an OCSP
  response or a certificate 256 KiB, a CRL ``max_crl_bytes``), and the number of requests per
  validation;
* ignores ``HTTP_PROXY``/``HTTPS_PROXY`` (a proxy would connect for us, past the check).

The allowlist (``NASKAH_FETCH_ALLOW``: addresses or networks, optionally with a port,
``127.0.0.1:8123,10.20.0.0/16``) admits what is deliberately internal: the development PKI on
127.0.0.1 in tests, the demo and the README flow (``naskah dev-pki env`` prints it), or a
PSrE mirror inside the intranet.  Host names are not accepted in it: they would be resolved
again at every fetch, which is what the check must not depend on.

The policy is one per process (:func:`configure`, called by the entry point with the
settings: ``api.config.build_services``): it describes the network the server runs in, as a
firewall rule does, and pyHanko builds validation contexts in many places, so a process-wide
policy is the one no code path can forget to pass.  Refused connections are logged (WARNING)
with the address and the reason; pyHanko then reports the revocation status as unavailable,
which the callers turn into a refusal a person can act on.

Which chains may fetch at all is decided before: a counterparty's signature is only validated
online once its chain ends at one of our trust roots with the certificates it carries
(``pipeline.sign.desk``), so an untrusted certificate makes no request whatever it names.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, ClassVar

import aiohttp
from pyhanko_certvalidator.fetchers import FetcherBackend, Fetchers
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.fetchers.api import FetchLimits, OwnedFetcherBackend
from yarl import URL

__all__ = [
    "Allowed",
    "FetchPolicy",
    "FetchRefused",
    "GuardedFetcherBackend",
    "configure",
    "current_policy",
    "fetcher_backend",
    "not_public",
    "parse_allowlist",
]

log = logging.getLogger(__name__)

KB = 1024
MB = 1024 * KB

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: IPv6 ranges that carry an IPv4 address in their low 32 bits (NAT64 well-known and local-use prefixes).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
#: Shared address space (RFC 6598, carrier-grade NAT): not "private" to Python, not reachable from outside.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class FetchRefused(aiohttp.ClientError):
    """A fetch the policy does not allow (an ``aiohttp.ClientError``, so pyHanko's fetchers report it as
    a failed fetch like any network error)."""


@dataclass(frozen=True)
class Allowed:
    """One allowlist entry: an address or network, with one port or any."""

    network: IPNetwork
    port: int | None = None

    def permits(self, address: IPAddress, port: int) -> bool:
        return address.version == self.network.version and address in self.network and self.port in (None, port)

    def __str__(self) -> str:
        host = str(self.network.network_address) if self.network.num_addresses == 1 else str(self.network)
        if self.port is None:
            return host
        return f"[{host}]:{self.port}" if self.network.version == 6 else f"{host}:{self.port}"


def parse_allowlist(text: str) -> tuple[Allowed, ...]:
    """``"127.0.0.1:8123, 10.20.0.0/16, [::1]:8123"`` -> entries; a ValueError names a bad one.

    An entry is an IPv4/IPv6 address or network (CIDR), optionally with ``:port`` (IPv6 in
    brackets).  Host names are refused (module docstring).
    """
    entries = []
    for raw in text.replace(";", ",").replace(" ", ",").split(","):
        item = raw.strip()
        if item:
            entries.append(_parse_entry(item))
    return tuple(entries)


def _parse_entry(item: str) -> Allowed:
    host, port = item, None
    if item.startswith("["):
        host, sep, rest = item[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"NASKAH_FETCH_ALLOW: '{item}' is not an address, network or address:port")
        port = _port(item, rest[1:]) if rest else None
    elif item.count(":") == 1:
        host, _sep, port_text = item.partition(":")
        port = _port(item, port_text)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        raise ValueError(
            f"NASKAH_FETCH_ALLOW: '{item}' is not an IP address or network (host names are not accepted: "
            "they would be resolved again at every fetch)"
        ) from None
    return Allowed(network=network, port=port)


def _port(item: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"NASKAH_FETCH_ALLOW: '{item}' has no valid port")
    return int(text)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, IPv4-compatible), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def not_public(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address (None when it is one)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            why = not_public(inner)
            return f"embeds {inner}, {why}" if why else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("shared (carrier-grade NAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally reachable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class FetchPolicy:
    """Where revocation data and certificates may be fetched from, and how much of it."""

    allow: tuple[Allowed, ...] = ()
    """Addresses/networks fetched from although not public (``NASKAH_FETCH_ALLOW``), any port or the one named."""

    ports: frozenset[int] = field(default_factory=lambda: frozenset({80, 443}))
    """Ports of public addresses that may be fetched from (OCSP, CRL and AIA are served on 80/443)."""

    timeout: float = 5.0
    """Seconds per request, connecting, redirects and reading included."""

    max_crl_bytes: int = 10 * MB
    """Largest CRL read; a longer answer is cut off and the fetch fails."""

    max_ocsp_bytes: int = 256 * KB
    """Largest OCSP response read."""

    max_certificate_bytes: int = 256 * KB
    """Largest answer to an AIA caIssuers request (a certificate or a small bundle)."""

    max_requests: int = 20
    """Requests per validation (one signature's chain needs a handful)."""

    max_redirects: int = 3
    """Redirects followed per request (each target checked when connecting)."""

    def allowing(self, *entries: str | Allowed) -> FetchPolicy:
        """This policy with more allowlist entries (``"127.0.0.1:8123"`` or :class:`Allowed`)."""
        extra = [e if isinstance(e, Allowed) else _parse_entry(e) for e in entries]
        return replace(self, allow=(*self.allow, *[e for e in extra if e not in self.allow]))

    def refusal(self, host: str, port: int) -> str | None:
        """Why connecting to ``host`` (an IP address) on ``port`` is not allowed; None when it is."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return "not an IP address"
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            mapped = address.ipv4_mapped
            if any(entry.permits(mapped, port) for entry in self.allow):
                return None
        if any(entry.permits(address, port) for entry in self.allow):
            return None
        why = not_public(address)
        if why is not None:
            return f"{why} address, not in NASKAH_FETCH_ALLOW"
        if port not in self.ports:
            return f"port {port} is not one of {sorted(self.ports)} (and the address is not in NASKAH_FETCH_ALLOW)"
        return None

    def limit_for(self, accept: str) -> int:
        """The size limit of a request by what it asks for (pyHanko's fetchers set ``Accept``)."""
        if "pkix-crl" in accept:
            return self.max_crl_bytes
        if "ocsp-response" in accept:
            return self.max_ocsp_bytes
        return self.max_certificate_bytes


_policy = FetchPolicy()


def configure(policy: FetchPolicy) -> None:
    """Set the process's policy (the entry point does it from the settings; tests for the dev PKI)."""
    global _policy
    _policy = policy
    log.info(
        "fetching OCSP/CRL/AIA: public addresses on ports %s; allowlisted: %s",
        sorted(policy.ports),
        ", ".join(str(a) for a in policy.allow) or "none",
    )


def current_policy() -> FetchPolicy:
    """The process's policy (default: public addresses only, nothing allowlisted)."""
    return _policy


# -- the aiohttp session behind pyHanko's fetchers -------------------------------------------


def _socket_for(policy: FetchPolicy, addr_info: Any) -> socket.socket:
    """aiohttp's socket factory: called with each resolved address right before connecting to it."""
    family, type_, proto, _canonname, sockaddr = addr_info
    host, port = str(sockaddr[0]), int(sockaddr[1])
    why = policy.refusal(host, port)
    if why is not None:
        log.warning("fetch refused: %s port %d (%s)", host, port, why)
        raise OSError(errno.EACCES, f"fetch refused by policy: {host} port {port}: {why}")
    return socket.socket(family=family, type=type_, proto=proto)


class _CappedResponse(aiohttp.ClientResponse):
    """Reads at most the policy's limit for the kind of request; longer answers fail the fetch."""

    policy: ClassVar[FetchPolicy]

    async def read(self) -> bytes:
        if self._body is None:
            limit = self.policy.limit_for(self.request_info.headers.get("Accept", ""))
            declared = self.content_length
            try:
                if declared is not None and declared > limit:
                    raise FetchRefused(f"{self.url}: answer of {declared} bytes is over the limit of {limit}")
                body = bytearray()
                async for chunk in self.content.iter_chunked(64 * KB):
                    body += chunk
                    if len(body) > limit:
                        raise FetchRefused(f"{self.url}: answer longer than the limit of {limit} bytes")
            except BaseException:
                self.close()
                raise
            self._body = bytes(body)
        return await super().read()


async def _check_start(_session: Any, _ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
    if params.url.scheme not in ("http", "https"):
        log.warning("fetch refused: %s (scheme)", params.url)
        raise FetchRefused(f"{params.url}: only http and https are fetched")


def _redirect_check(policy: FetchPolicy) -> Any:
    async def check(_session: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestRedirectParams) -> None:
        ctx.redirects = getattr(ctx, "redirects", 0) + 1
        target = params.response.headers.get("Location", "")
        if ctx.redirects > policy.max_redirects:
            raise FetchRefused(f"{params.url}: more than {policy.max_redirects} redirects")
        if target and params.url.join(URL(target)).scheme not in ("http", "https"):
            log.warning("fetch refused: redirect from %s to %s (scheme)", params.url, target)
            raise FetchRefused(f"{params.url}: redirect to a scheme other than http/https")

    return check


def _open_session(policy: FetchPolicy) -> aiohttp.ClientSession:
    def factory(addr_info: Any) -> socket.socket:
        return _socket_for(policy, addr_info)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(_check_start)
    trace.on_request_redirect.append(_redirect_check(policy))
    response_class = type("CappedResponse", (_CappedResponse,), {"policy": policy})
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(socket_factory=factory, ssl=ssl.create_default_context(), limit=8),
        response_class=response_class,
        trace_configs=[trace],
        timeout=aiohttp.ClientTimeout(total=policy.timeout, sock_connect=policy.timeout),
        trust_env=False,  # no proxy from the environment: it would connect for us, past the check
    )


class _TimeoutsAsFetchErrors:
    """A request's context manager whose time limit ends as an aiohttp error.  aiohttp ends a request
    over its ``total`` time with a bare ``TimeoutError``, which pyHanko's fetchers do not catch (they
    catch ``aiohttp.ClientError``): a slow OCSP/CRL server then broke the whole validation (a 500 at a
    desk-to-desk import) instead of being a failed fetch like any other."""

    def __init__(self, request: Any) -> None:
        self._request = request

    async def __aenter__(self) -> Any:
        try:
            return await self._request.__aenter__()
        except TimeoutError as exc:
            raise aiohttp.ServerTimeoutError(f"no answer within the time limit: {exc}") from exc

    async def __aexit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Any:
        handled = await self._request.__aexit__(kind, exc, tb)
        if isinstance(exc, TimeoutError):  # reading the answer took too long
            raise aiohttp.ServerTimeoutError(f"answer not read within the time limit: {exc}") from exc
        return handled


class _Session:
    """The guarded ``aiohttp.ClientSession`` as pyHanko's fetchers use it (``get``, ``post``, ``close``)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def get(self, *args: Any, **kwargs: Any) -> _TimeoutsAsFetchErrors:
        return _TimeoutsAsFetchErrors(self._session.get(*args, **kwargs))

    def post(self, *args: Any, **kwargs: Any) -> _TimeoutsAsFetchErrors:
        return _TimeoutsAsFetchErrors(self._session.post(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class _GuardedSession(LazySession):
    """pyHanko's lazily opened session (made inside the event loop that fetches), guarded."""

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__()
        self.policy = policy

    def get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = _Session(_open_session(self.policy))  # type: ignore[assignment]
        return self._session  # type: ignore[return-value]


class GuardedFetcherBackend(FetcherBackend):
    """pyHanko's aiohttp fetchers on a session that enforces a :class:`FetchPolicy` (module docstring)."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or current_policy()
        self._backend = AIOHttpFetcherBackend(
            _GuardedSession(self.policy),  # type: ignore[arg-type]
            per_request_timeout=self.policy.timeout,
            limits=FetchLimits(
                max_requests=self.policy.max_requests,
                max_cert_requests=max(1, self.policy.max_requests // 4),
                max_aia_urls_per_object=2,
            ),
        )

    def get_fetchers(self) -> Fetchers:
        return self._backend.get_fetchers()

    async def close(self) -> None:
        await self._backend.close()


def fetcher_backend(policy: FetchPolicy | None = None) -> OwnedFetcherBackend:
    """A fresh guarded backend for one validation context, which closes it (``ValidationContext.aclose``)."""
    return OwnedFetcherBackend(GuardedFetcherBackend(policy))
