"""The customer's webhook endpoints as a page of the account: register (the secret shown once), test, delete,
and the delivery log with redelivery. Every member sees it; only a company admin changes anything."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from shop.events import webhooks
from shop.platform.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from shop.platform.ratelimits import webhook_test_rate
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.common import apply_errors, current_customer, customer_required
from shop.storefront.forms import WebhookEndpointForm

LOG_ROWS = 10
# Test events and redeliveries per company (RATELIMIT_WEBHOOK_TESTS), counted with the API's.
webhook_tests = webhook_test_rate(lambda: current_customer().company_id)


def _page(form: WebhookEndpointForm, created=None, status: int = 200, edited: WebhookEndpointForm | None = None,
          edited_id: int | None = None, rotated=None):
    """The page; `edited` is the edit form of endpoint `edited_id` as sent (with its errors beside its fields)."""
    customer = current_customer()
    endpoints = [(endpoint, webhooks.attempts(endpoint.id, LOG_ROWS),
                  edited if endpoint.id == edited_id else _edit_form(endpoint))
                 for endpoint in webhooks.list_endpoints(customer.id)]
    return render_template("storefront/webhooks.html", form=form, endpoints=endpoints, created=created,
                           edited_id=edited_id, rotated=rotated, action=FlaskForm(formdata=None),
                           may_manage=webhooks.may_manage(customer.role)), status


def _edit_form(endpoint=None, endpoint_id: int | None = None) -> WebhookEndpointForm:
    """The edit form of an endpoint: filled in with what it is now, or (without `endpoint`) as sent."""
    prefix = f"endpoint-{endpoint.id if endpoint is not None else endpoint_id}"
    if endpoint is None:
        return WebhookEndpointForm(prefix=prefix)
    return WebhookEndpointForm(formdata=None, prefix=prefix, data={
        "url": endpoint.url, "events": endpoint.event_types, "description": endpoint.description})


@bp.get("/account/webhooks")
@customer_required()
def webhooks_page():
    """Where the account's events go, with each endpoint's latest deliveries."""
    return _page(WebhookEndpointForm(formdata=None))


@bp.post("/account/webhooks")
@customer_required()
def webhook_create():
    """Register an endpoint and show its signing secret, this once (a company admin; 403 for anyone else)."""
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            created = run_in_transaction(webhooks.create_endpoint, current_customer(), form.url.data.strip(),
                                         form.events.data, form.description.data)
        except Forbidden as exc:
            abort(403, description=exc.message)
        except InvalidInput as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        else:
            return _page(WebhookEndpointForm(formdata=None), created=created, status=201)
    return _page(form, status=422)


def _act(endpoint_id: int, work, done: str):
    """Run `work(member, endpoint_id)`, a service that refuses whoever may not manage endpoints (403)."""
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        run_in_transaction(work, current_customer(), endpoint_id)
    except Forbidden as exc:
        abort(403, description=exc.message)
    except NotFound as exc:
        abort(404, description=exc.message)
    except InvalidInput:
        abort(404, description="No such event of yours.")
    except IllegalTransition as exc:  # a test or redelivery to an endpoint that sends nothing now
        flash(exc.message, "error")
        return redirect(url_for("storefront.webhooks_page"))
    flash(done, "success")
    return redirect(url_for("storefront.webhooks_page"))


@bp.post("/account/webhooks/<id:endpoint_id>/test")
@customer_required()
@webhook_tests
def webhook_test(endpoint_id: int):
    """Send a ping event to the endpoint."""
    return _act(endpoint_id, webhooks.send_test, "A test event is on its way; its delivery shows below shortly.")


@bp.post("/account/webhooks/<id:endpoint_id>/delete")
@customer_required()
def webhook_delete(endpoint_id: int):
    """Delete the endpoint and its delivery log."""
    return _act(endpoint_id, webhooks.delete_endpoint, "The endpoint is deleted; no more events go there.")


@bp.post("/account/webhooks/<id:endpoint_id>/redeliver")
@customer_required()
@webhook_tests
def webhook_redeliver(endpoint_id: int):
    """Deliver one event (the form's event_id) to the endpoint again."""
    event_id = request.form.get("event_id", "")
    return _act(endpoint_id, lambda member, endpoint: webhooks.redeliver(member, endpoint, event_id),
                f"Event {event_id} is on its way again.")


@bp.post("/account/webhooks/<id:endpoint_id>/edit")
@customer_required()
def webhook_edit(endpoint_id: int):
    """Change the endpoint's URL, events and description, checked as registering checks them."""
    form = _edit_form(endpoint_id=endpoint_id)
    if form.validate_on_submit():
        changes = {"url": form.url.data.strip(), "events": form.events.data, "description": form.description.data}
        try:
            run_in_transaction(webhooks.update_endpoint, current_customer(), endpoint_id, changes)
        except Forbidden as exc:
            abort(403, description=exc.message)
        except NotFound as exc:
            abort(404, description=exc.message)
        except InvalidInput as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        else:
            flash("The endpoint is changed.", "success")
            return redirect(url_for("storefront.webhooks_page"))
    elif "csrf_token" in form.errors:
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    return _page(WebhookEndpointForm(formdata=None), status=422, edited=form, edited_id=endpoint_id)


@bp.post("/account/webhooks/<id:endpoint_id>/enable")
@customer_required()
def webhook_enable(endpoint_id: int):
    """Re-enable a disabled endpoint: events from now on go there; the ones it missed are not sent again."""
    return _act(endpoint_id, lambda member, endpoint: webhooks.update_endpoint(member, endpoint, {"enabled": True}),
                "The endpoint is enabled again: events from now on go there. The ones it missed while disabled are "
                "not sent again; your system reads them from the events feed of the API.")


@bp.post("/account/webhooks/<id:endpoint_id>/disable")
@customer_required()
def webhook_disable(endpoint_id: int):
    """Disable the endpoint: nothing more is sent there until it is enabled again."""
    return _act(endpoint_id, lambda member, endpoint: webhooks.update_endpoint(member, endpoint, {"enabled": False}),
                "The endpoint is disabled: nothing more is sent there until it is enabled again.")


@bp.post("/account/webhooks/<id:endpoint_id>/rotate-secret")
@customer_required()
def webhook_rotate_secret(endpoint_id: int):
    """Give the endpoint a new secret and show it, this once; the old one signs too for 24 hours."""
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        rotated = run_in_transaction(webhooks.rotate_secret, current_customer(), endpoint_id)
    except Forbidden as exc:
        abort(403, description=exc.message)
    except NotFound as exc:
        abort(404, description=exc.message)
    return _page(WebhookEndpointForm(formdata=None), rotated=rotated)
