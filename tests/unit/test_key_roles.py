"""What an API key acts as: its own role capped at its maker's current one, checked over every pair of roles."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shop.accounts.models import MemberRole

roles = st.sampled_from(list(MemberRole))


@given(roles, roles)
def test_a_key_never_acts_above_its_own_role_nor_its_makers(key_role, maker_role):
    acts = key_role.at_most(maker_role)
    assert key_role.may(acts) and maker_role.may(acts)
    assert acts in (key_role, maker_role)


@given(roles, roles, roles)
def test_a_key_may_do_something_exactly_when_both_its_role_and_its_maker_may(key_role, maker_role, needed):
    assert key_role.at_most(maker_role).may(needed) == (key_role.may(needed) and maker_role.may(needed))
