"""Two admins taking the admin role from each other at the same moment leave one admin: the second change waits
for the first and is refused (PostgreSQL; SQLite serialises writes anyway)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.accounts.models import StaffRole, StaffUser
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from tests.support.factories import make_staff


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_admins_removing_each_other_at_once_leave_one_admin(make_app, backend):
    app = make_app()
    with app.app_context():
        first, second = (make_staff(("admin", "warehouse"), f"admin{n}@shop.example").id for n in (1, 2))
        db.session.remove()
    first_changed, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def take_admin(by_id: int, from_id: int, name: str, *, hold: bool) -> None:
        with app.app_context():
            try:
                by, user = db.session.get(StaffUser, by_id), db.session.get(StaffUser, from_id)
                accounts.set_staff_roles(user, ["warehouse"], by=by)
                db.session.flush()
                if hold:  # the first change is written, not yet committed, while the second one runs
                    first_changed.set()
                    release.wait(10)
                db.session.commit()
                outcome[name] = "changed"
            except InvalidInput as exc:
                db.session.rollback()
                outcome[name] = str(exc.errors["roles"])
            finally:
                first_changed.set()
                db.session.remove()

    one = threading.Thread(target=take_admin, args=(first, second, "first"), kwargs={"hold": True})
    one.start()
    first_changed.wait(10)
    two = threading.Thread(target=take_admin, args=(second, first, "second"), kwargs={"hold": False})
    two.start()
    time.sleep(1)  # the second change runs meanwhile: without a lock it is done before the first commits
    release.set()
    one.join(20)
    two.join(20)

    assert outcome["first"] == "changed"
    assert "admin1@shop.example is the last admin" in outcome["second"]
    with app.app_context():
        admins = [u.email for u in db.session.scalars(select(StaffUser)) if StaffRole.ADMIN in u.roles]
        db.session.remove()
    assert admins == ["admin1@shop.example"]
