"""The customer's webhook endpoints as a page of the account: register (the secret shown once), test, delete,
and the delivery log with redelivery. Every member sees it; only a company admin changes anything."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from shop.events import webhooks
from shop.platform.errors import Forbidden, InvalidInput, NotFound
from shop.platform.ratelimits import webhook_test_rate
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.common import apply_errors, current_customer, customer_required
from shop.storefront.forms import WebhookEndpointForm

LOG_ROWS = 10
# Test events and redeliveries per company (RATELIMIT_WEBHOOK_TESTS), counted with the API's.
webhook_tests = webhook_test_rate(lambda: current_customer().company_id)


def _page(form: WebhookEndpointForm, created=None, status: int = 200):
    customer = current_customer()
    endpoints = [(endpoint, webhooks.attempts(endpoint.id, LOG_ROWS))
                 for endpoint in webhooks.list_endpoints(customer.id)]
    return render_template("storefront/webhooks.html", form=form, endpoints=endpoints, created=created,
                           action=FlaskForm(formdata=None), may_manage=webhooks.may_manage(customer.role)), status


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
