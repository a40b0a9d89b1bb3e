"""Events and webhook deliveries, for staff: filter by customer, type and outcome; redeliver."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from shop.accounts.models import StaffRole
from shop.events import webhooks
from shop.platform.bounds import is_row_id
from shop.platform.errors import NotFound
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.auth import role_required
from shop.staff.forms import ActionForm, EventFilterForm


@bp.get("/events")
@role_required(StaffRole.FULFILMENT)
def events():
    """Events newest first with every delivery's outcome; `?before=` pages on."""
    form = EventFilterForm(request.args)
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) <= 10 else None
    if (before and not is_row_id(before_id)) or not form.validate():
        abort(400, description="That filter or page link is not valid; start again from the events page.")
    rows = webhooks.event_page(form.customer.data or "", form.type.data or "", form.outcome.data or "",
                               before_id, webhooks.STAFF_PAGE + 1)
    page, more = rows[:webhooks.STAFF_PAGE], len(rows) > webhooks.STAFF_PAGE
    return render_template("staff/events.html", form=form, events=page, action=ActionForm(formdata=None),
                           next_before=page[-1].id if more else None)


@bp.post("/deliveries/<id:delivery_id>/redeliver")
@role_required(StaffRole.FULFILMENT)
def redeliver(delivery_id: int):
    """Deliver an event to one endpoint again, on a fresh retry schedule."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        delivery = run_in_transaction(webhooks.redeliver_delivery, delivery_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    flash(f"Event {delivery.event.event_id} is on its way to {delivery.endpoint.url} again.", "success")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("staff.events"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url + "staff/events")



