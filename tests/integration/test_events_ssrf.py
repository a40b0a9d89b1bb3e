"""Webhook URLs: https only, and never to a private, loopback, link-local or reserved address (SSRF), when
registered and again when delivering; WEBHOOK_ALLOW_INSECURE=1 lifts both for development."""
from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.events import netguard
from shop.platform.extensions import db

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def fake_dns(monkeypatch):
    """Names of our own that resolve as a DNS server would answer them; every other name as usual."""
    answers: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/leucine",  # not https
    "https://127.0.0.1/hook",
    "https://10.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://intranet.example.com/hook",  # a name resolving to a private address
    "https://localhost/hook",
])
def test_unsafe_webhook_urls_are_refused_with_422(admin_api, fake_dns, url):
    api = admin_api
    fake_dns["intranet.example.com"] = "192.168.1.20"
    response = api.post("/api/v1/webhook-endpoints", json={"url": url, "events": ["*"]})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "url" in response.get_json()["errors"]
    assert api.get("/api/v1/webhook-endpoints").get_json()["items"] == []


def test_a_public_https_url_is_accepted(admin_api, fake_dns):
    fake_dns["hooks.example.com"] = "93.184.216.34"
    response = admin_api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x", "events": ["*"]})
    assert response.status_code == 201


def test_unknown_event_types_and_empty_lists_are_refused(admin_api, fake_dns):
    api = admin_api
    fake_dns["hooks.example.com"] = "93.184.216.34"
    response = api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x",
                                                           "events": ["order.teleported"]})
    assert response.status_code == 422 and "events" in response.get_json()["errors"]
    response = api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x", "events": []})
    assert response.status_code == 422


def test_every_event_beside_named_ones_is_refused_not_narrowed(admin_api, fake_dns):
    """["*", "order.placed"] is neither every event nor one: refused on registering and on changing, and the
    endpoint keeps what it had."""
    fake_dns["hooks.example.com"] = "93.184.216.34"
    both = ["*", "order.placed"]
    response = admin_api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x", "events": both})
    assert response.status_code == 422
    assert "give it alone" in response.get_json()["errors"]["events"][0]
    assert admin_api.get("/api/v1/webhook-endpoints").get_json()["items"] == []
    endpoint = admin_api.post("/api/v1/webhook-endpoints",
                              json={"url": "https://hooks.example.com/x", "events": ["order.shipped"]}).get_json()
    response = admin_api.client.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", json={"events": both},
                                      headers=admin_api.headers())
    assert response.status_code == 422 and "events" in response.get_json()["errors"]
    [kept] = admin_api.get("/api/v1/webhook-endpoints").get_json()["items"]
    assert kept["events"] == ["order.shipped"]


def test_allow_insecure_accepts_a_local_http_receiver(make_app, client):
    app = make_app(WEBHOOK_ALLOW_INSECURE=True)
    with app.app_context():
        from tests.support.api import admin_key, new_api_client

        api = admin_key(new_api_client(app.test_client(), "dev@example.com", "Dev"))
        response = api.post("/api/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]})
        assert response.status_code == 201
        db.session.remove()


def test_a_name_that_turns_private_after_registration_is_not_called(admin_api, fake_dns):
    """DNS rebinding: the check runs again on the address a delivery would connect to."""
    from shop.events import delivery
    from shop.events.delivery import Claimed

    fake_dns["hooks.example.com"] = "93.184.216.34"
    assert admin_api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x",
                                                       "events": ["*"]}).status_code == 201
    fake_dns["hooks.example.com"] = "10.1.2.3"
    outcome = delivery.post(Claimed(1, "https://hooks.example.com/x", ("whsec_" + "A" * 44,), "msg_1", "{}"))
    assert outcome.status_code is None and "private" in outcome.error


@given(st.ip_addresses())
def test_only_global_unicast_addresses_are_public(address):
    public = netguard.is_public(address)
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1
    if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
            or address.is_multicast or address.is_unspecified:
        assert not public



@pytest.mark.parametrize("url", [
    "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::]/latest/meta-data",  # 6to4 of 169.254.169.254, the cloud metadata service
    "https://[2002:c0a8:114::1]/hook",  # 6to4 of 192.168.1.20
    "https://[2002:a00:1::]/hook",  # 6to4 of 10.0.0.1
])
def test_an_ipv6_address_embedding_a_private_ipv4_one_is_refused_with_422(admin_api, url):
    response = admin_api.post("/api/v1/webhook-endpoints", json={"url": url, "events": ["*"]})
    assert response.status_code == 422 and "url" in response.get_json()["errors"]
    assert admin_api.get("/api/v1/webhook-endpoints").get_json()["items"] == []


def _embeddings(v4: ipaddress.IPv4Address, low: int) -> list[ipaddress.IPv6Address]:
    """Every IPv6 form that carries `v4` inside it (`low`: the free bits an attacker chooses)."""
    a = int(v4)
    low16, low80 = low & 0xFFFF, low & (2**80 - 1)
    return [ipaddress.IPv6Address(n) for n in (
        0xFFFF << 32 | a,  # IPv4-mapped ::ffff:a
        a,  # IPv4-compatible ::a (deprecated)
        0x2002 << 112 | a << 80 | low80,  # 6to4 2002:a::/48
        0x0064FF9B << 96 | a,  # NAT64 64:ff9b::a
        0x0064FF9B0001 << 80 | a << 16 | low16,  # local-use NAT64 64:ff9b:1::/48 (RFC 8215)
        0x20010000 << 96 | a << 64 | low16 << 32 | (a ^ 0xFFFFFFFF),  # Teredo: server a, client a (inverted)
        0x20010000 << 96 | int(ipaddress.IPv4Address("65.54.227.120")) << 64 | (a ^ 0xFFFFFFFF),  # client a
    )]


# IPv4 networks a webhook may never reach: this network, private, shared (CGNAT), loopback, link-local (the cloud
# metadata service), benchmarking, multicast and reserved.
INSIDE_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
             "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"]
refused_v4 = st.one_of(*[st.ip_addresses(network=net) for net in INSIDE_V4],
                       st.ip_addresses(v=4).filter(lambda a: not netguard.is_public(a)))


@given(refused_v4, st.integers(0, 2**80 - 1))
def test_every_ipv6_embedding_of_a_refused_ipv4_address_is_refused(v4, low):
    assert not netguard.is_public(v4)
    for v6 in _embeddings(v4, low):
        assert not netguard.is_public(v6), f"{v6} carries {v4}"


@pytest.mark.parametrize("allow_insecure, says", [(False, "must start with https:// (deliveries are only sent "
                                                          "encrypted)"),
                                                  (True, "must start with https:// or http://")])
def test_a_url_of_another_scheme_is_told_which_schemes_are_taken_here(allow_insecure, says):
    with pytest.raises(netguard.RefusedURL, match=re.escape(says)):
        netguard.check_shape("ftp://files.example.com/hooks", allow_insecure)
