"""Events, webhook deliveries and e-mail, for staff: filter, redeliver, and the e-mail given up on."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from shop.accounts.models import StaffRole
from shop.events import webhooks
from shop.platform import mail_worker
from shop.platform.bounds import is_row_id
from shop.platform.errors import IllegalTransition, NotFound
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.auth import role_required
from shop.staff.forms import ActionForm, EventFilterForm

MAIL_PAGE = 20
_BAD_LINK = "That filter or page link is not valid; start again from the events page."


@bp.get("/events")
@role_required(StaffRole.FULFILMENT)
def events():
    """Events newest first with every delivery's and e-mail's outcome, and the e-mail given up on; `?before=` and
    `?mail_before=` page on."""
    form = EventFilterForm(request.args)
    before_id, mail_before_id = _page_key("before"), _page_key("mail_before")
    if not form.validate():
        abort(400, description=_BAD_LINK)
    rows = webhooks.event_page(form.customer.data or "", form.type.data or "", form.outcome.data or "",
                               before_id, webhooks.STAFF_PAGE + 1)
    page, more = rows[:webhooks.STAFF_PAGE], len(rows) > webhooks.STAFF_PAGE
    mails = mail_worker.failed_page(mail_before_id, MAIL_PAGE + 1)
    failed_mails, more_mails = mails[:MAIL_PAGE], len(mails) > MAIL_PAGE
    return render_template("staff/events.html", form=form, events=page, action=ActionForm(formdata=None),
                           next_before=page[-1].id if more else None, failed_mails=failed_mails,
                           next_mail_before=failed_mails[-1].id if more_mails else None)


def _page_key(name: str) -> int | None:
    """A page link's row id (`?before=`), None when absent; 400 when it is no row id."""
    raw = request.args.get(name, "")
    row_id = int(raw) if raw.isdigit() and len(raw) <= 10 else None
    if raw and not is_row_id(row_id):
        abort(400, description=_BAD_LINK)
    return row_id


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
    except IllegalTransition as exc:  # its endpoint sends nothing now (disabled, or its maker left)
        flash(exc.message, "error")
        return redirect(request.referrer if _same_site(request.referrer) else url_for("staff.events"))
    flash(f"Event {delivery.event.event_id} is on its way to {delivery.endpoint.url} again.", "success")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("staff.events"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url + "staff/events")



