"""The RateLimit-Policy and RateLimit fields (IETF httpapi ratelimit-headers draft) are valid RFC 9651 lists that a
structured-field parser reads back as the quotas they were made of, whatever the policy names and counts."""
from __future__ import annotations

import http_sf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.platform.ratelimits import SF_INTEGER_MAX, Quota, policy_name, ratelimit_headers, sf_string

NAMES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
COUNTS = st.integers(-10, 10**18)
QUOTAS = st.builds(Quota, NAMES, COUNTS, COUNTS, COUNTS, COUNTS)


def parsed(field: str) -> list[tuple[str, dict]]:
    return [(name, dict(params)) for name, params in http_sf.parse(field.encode(), tltype="list")]


def count(value: int) -> int:
    return min(max(value, 0), SF_INTEGER_MAX)


@given(st.lists(QUOTAS, min_size=1, max_size=5))
def test_the_fields_parse_back_as_the_quotas(quotas):
    headers = ratelimit_headers(quotas)
    assert set(headers) == {"RateLimit-Policy", "RateLimit"}
    assert parsed(headers["RateLimit-Policy"]) == [
        (q.policy, {"q": count(q.quota), "w": count(q.window)}) for q in quotas]
    assert parsed(headers["RateLimit"]) == [
        (q.policy, {"r": count(q.remaining), "t": count(q.reset)}) for q in quotas]


def test_no_quota_no_fields():
    assert ratelimit_headers([]) == {}


def test_the_drafts_example_form():
    headers = ratelimit_headers([Quota("orders", 60, 60, 59, 60)])
    assert headers == {"RateLimit-Policy": '"orders";q=60;w=60', "RateLimit": '"orders";r=59;t=60'}


@given(st.text(min_size=1).filter(lambda text: any(not 0x20 <= ord(c) <= 0x7E for c in text)))
def test_a_name_outside_printable_ascii_is_refused(name):
    with pytest.raises(ValueError):
        sf_string(name)


@pytest.mark.parametrize(("scope", "name"), [("orders.Orders", "orders"), ("webhook-tests", "webhook-tests"),
                                             ("webhooks.EndpointTest", "endpoint-test"), ("orders.Orders:x", "x")])
def test_policy_names_come_from_the_limits_scope(scope, name):
    assert policy_name(scope) == name
