"""The one HTTP request of a webhook delivery, with the address check built in.

``post`` sends with ``http.client`` (no proxies, no redirects followed: a 3xx is an
answer like any other non-2xx). The connection is opened to an address that was checked
when the name was resolved, so a name that resolves to a loopback or private address is
refused at send time too (DNS rebinding), unless ``settings.WEBHOOKS_ALLOW_PRIVATE``.
"""

import dataclasses
import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT = 5.0  # seconds, for connecting and for each read
READ_LIMIT = 4096  # bytes of the answer kept (the log stores the first 500 characters)


class BlockedAddress(OSError):
    """The URL's host is (or resolves to) a loopback, private or otherwise non-public address."""


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_global and not ip.is_multicast


def numeric_address(host: str) -> str | None:
    """The address a numeric host spells (``127.0.0.1``, ``[::1]``, and the old IPv4
    forms connecting still accepts: ``2130706433``, ``0x7f.1``, ``127.1``), read without
    DNS; None for a name."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _guarded_connection(address, timeout=TIMEOUT, source_address=None, *args, **kwargs):
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} does not resolve")
    if not allow_private():
        for *_rest, sockaddr in infos:
            if not is_public(sockaddr[0]):
                raise BlockedAddress(f"{host} resolves to a non-public address ({sockaddr[0]})")
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"cannot connect to {host}")


@dataclasses.dataclass
class Answer:
    status: int
    text: str


def post(url: str, body: bytes, headers: dict, *, timeout: float = TIMEOUT) -> Answer:
    """POST ``body`` to ``url``; the answer's status and the start of its text. Network
    trouble raises ``OSError`` (``BlockedAddress``, refused, timeout…) or
    ``http.client.HTTPException``."""
    parts = urlsplit(url)
    connection_class = {
        "http": http.client.HTTPConnection,
        "https": http.client.HTTPSConnection,
    }.get(parts.scheme)
    if connection_class is None or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    # Set per instance: HTTPConnection.__init__ assigns socket.create_connection itself.
    connection._create_connection = _guarded_connection
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(READ_LIMIT)
        return Answer(response.status, raw.decode("utf-8", errors="replace"))
    finally:
        connection.close()
