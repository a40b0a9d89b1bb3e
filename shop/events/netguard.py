"""Where webhooks may go: https, and only to public addresses (no SSRF into the shop's own network).

Checked when an endpoint is registered and again on every delivery, against the addresses the name
resolves to at that moment; the delivery then connects to the very address that was checked (so a DNS
answer that changes between check and connect cannot lead inside). WEBHOOK_ALLOW_INSECURE=1 lifts both
rules, for development and tests against a local receiver.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(ValueError):
    """A webhook URL the shop will not call; the message says why, for the person who gave it."""


def check_shape(url: str, allow_insecure: bool) -> None:
    """Refuse what no resolution can make acceptable: not http(s), no host, credentials, too long."""
    if not isinstance(url, str) or not url.strip():
        raise RefusedURL("A URL is required.")
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"At most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise RefusedURL("This is not a valid URL.") from None
    schemes = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in schemes:
        raise RefusedURL("The URL must start with https:// or http:// (WEBHOOK_ALLOW_INSECURE is on here)."
                         if allow_insecure else
                         "The URL must start with https:// (deliveries are only sent encrypted).")
    if not parts.hostname:
        raise RefusedURL("The URL must name a host.")
    if parts.username or parts.password:
        raise RefusedURL("The URL must not contain a user name or password; authenticate with the signature.")


def public_addresses(host: str, port: int, allow_insecure: bool) -> list[IPAddress]:
    """The addresses `host` resolves to now, each checked: RefusedURL when it resolves to none, or to any
    private, loopback, link-local, reserved or multicast address (unless `allow_insecure`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedURL(f"The host {host} does not resolve to an address.") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not allow_insecure:
        for address in addresses:
            if not is_public(address):
                raise RefusedURL(f"The host {host} resolves to {address}, a private, loopback, link-local or "
                                 "reserved address; webhooks go to public addresses only.")
    if not addresses:
        raise RefusedURL(f"The host {host} does not resolve to an address.")
    return addresses


# IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits, for a translator to reach: NAT64's
# well-known prefix and the deprecated IPv4-compatible form (::a.b.c.d).
_LAST_32_BITS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
# Local-use NAT64 (RFC 8215): the IPv4 address sits where each network's translator chooses; never public.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, IPv4-compatible, 6to4, Teredo's server and client,
    NAT64): a relay or translator on the way may deliver to any of them."""
    carried = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    carried += [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) for net in _LAST_32_BITS if address in net]
    return [a for a in carried if a is not None]


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: global unicast, and every IPv4 address it carries too (so
    2002:7f00:1:: (6to4 of 127.0.0.1) is not). An IPv4-mapped address counts as its IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64 or not all(is_public(inner) for inner in embedded_ipv4(address)):
            return False
        if address.ipv4_mapped is not None:
            return True
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                      or address.is_reserved or address.is_multicast)


def check_url(url: str, allow_insecure: bool) -> None:
    """Refuse a URL that deliveries may not go to now (shape and resolved addresses)."""
    check_shape(url, allow_insecure)
    parts = urlsplit(url)
    public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), allow_insecure)
