"""`flask --app wsgi shop ...`: demo data, accounts, API keys, ledger check, batch import."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import Customer, StaffRole, StaffUser
from shop.catalog import price_lists
from shop.catalog.models import Product
from shop.demo import DEMO_PASSWORD, seed_demo
from shop.inventory import lots as inventory
from shop.inventory.models import DateKind
from shop.jobs import purge_idempotency
from shop.ordering import approvals
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.extensions import db
from shop.platform.queue import WEBHOOKS, task_queue
from shop.platform.tx import run_in_transaction
from shop.quality import release as lot_release
from shop.quality import signatures
from shop.quality.models import SignedAction

shop_cli = AppGroup("shop", help="Leucine Shop commands.")


def _run(work, *args, **kwargs):
    """Run a unit of work in one transaction; a domain error becomes a one-line error and exit code 1."""
    try:
        return run_in_transaction(work, *args, **kwargs)
    except InvalidInput as exc:
        message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
        raise click.ClickException(message) from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@shop_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo catalog, lots and accounts (safe to run again)."""
    added = _run(seed_demo)
    click.echo("Demo data: " + ", ".join(f"{n} {what} added" for what, n in added.items()))
    if added["staff"] or added["customers"]:
        click.echo(f"Demo accounts use the password {DEMO_PASSWORD!r}: admin@, warehouse@, quality@, quality2@, "
                   "fulfilment@, finance@leucine.example (staff), buyer@nutrition.example (customer, prepaid) and "
                   "accounts@hansefeed.example (customer, net_30 with a credit limit).")


@shop_cli.command("seed-demo-if-empty")
def seed_demo_if_empty_command() -> None:
    """Load the demo data only when the catalog has no products (used by `make run`)."""
    if db.session.scalar(select(func.count(Product.id))):
        click.echo("Catalog not empty: demo data not loaded.")
        return
    click.get_current_context().invoke(seed_demo_command)


@shop_cli.command("create-staff")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in StaffRole]),
              help="A role the user holds; repeat for several (--role admin --role quality). Only quality signs "
                   "releases, rejections and recalls.")
@click.option("--name", default="")
def create_staff_command(email: str, password: str, roles: tuple[str, ...], name: str) -> None:
    """Create a staff user holding one or more roles."""
    staff = _run(accounts.create_staff, email, password, roles, name)
    click.echo(f"Staff user {staff.email} ({staff.role_names}) created.")


@shop_cli.command("create-customer")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--company", required=True)
def create_customer_command(email: str, password: str, company: str) -> None:
    """Create a one-person company whose member (this customer) is its admin."""
    customer = _run(accounts.create_customer, email, password, company)
    click.echo(f"Customer {customer.email} ({customer.company.name}) created, admin of the company.")


def _member(email: str) -> Customer:
    customer = db.session.scalar(select(Customer).where(Customer.email == email.strip().lower()))
    if customer is None:
        raise InvalidInput({"customer": [f"No customer with email {email}."]})
    return customer


@shop_cli.command("create-api-key")
@click.option("--customer", "email", required=True, help="The email of a member of the company.")
@click.option("--name", default="", help="A label to recognise the key by.")
@click.option("--role", type=click.Choice(["buyer", "approver", "admin"]), default="buyer", show_default=True,
              help="What the key may do: a buyer orders; an approver also approves orders above the threshold; "
                   "an admin also manages the webhook endpoints. At most the member's own role, and the key never "
                   "acts above the role the member has at the time.")
def create_api_key_command(email: str, name: str, role: str) -> None:
    """Issue an API key of the member's company; the key is printed once, on the last line."""
    key = _run(lambda: accounts.create_api_key(_member(email), name, role))
    click.echo(f"API key created, acting as {role}. It is shown only now; store it safely:")
    click.echo(key)


@shop_cli.command("set-company")
@click.option("--customer", "email", required=True, help="The email of a member of the company.")
@click.option("--payment-terms", help="prepaid, or net_<days> such as net_30.")
@click.option("--credit-limit", help="An amount such as 50000; an empty string removes the limit.")
@click.option("--approval-threshold", help="Orders by a buyer above this total wait for an approver; an empty "
                                           "string removes it.")
def set_company_command(email: str, payment_terms: str | None, credit_limit: str | None,
                        approval_threshold: str | None) -> None:
    """Set a company's payment terms, credit limit and approval threshold (only the options given change)."""
    given = {"payment_terms": payment_terms, "credit_limit": credit_limit, "approval_threshold": approval_threshold}
    keep = tuple(name for name, value in given.items() if value is None)
    company = _run(lambda: companies.set_terms(_member(email).company, **given, keep=keep))
    click.echo(f"{company.name}: payment terms {company.payment_terms}, credit limit "
               f"{company.credit_limit if company.credit_limit is not None else 'none'}, approval threshold "
               f"{company.approval_threshold if company.approval_threshold is not None else 'none'}.")


@shop_cli.command("import-price-list")
@click.option("--customer", "email", required=True, help="The email of a member of the company.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--valid-from", type=click.DateTime(["%Y-%m-%d"]), help="First day it applies (UTC); default: always.")
@click.option("--valid-to", type=click.DateTime(["%Y-%m-%d"]), help="Last day it applies (UTC); default: open-ended.")
def import_price_list_command(email: str, file: Path, valid_from, valid_to) -> None:
    """Replace a company's contract price list with FILE.csv (columns sku,min_quantity,unit_price).

    The file is checked whole: an unknown SKU or a price that is not positive refuses it, and the previous list
    stays as it was.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {file}: {exc}") from None
    first, last = (d.date() if d else None for d in (valid_from, valid_to))
    price_list = _run(lambda: price_lists.import_for_company(_member(email).company, text, first, last))
    click.echo(f"{price_list.company.name}: price list '{price_list.name}' holds {len(price_list.items)} prices, "
               f"valid from {first or 'the start'} to {last or 'open-ended'}.")


@shop_cli.command("revoke-api-key")
@click.argument("prefix")
def revoke_api_key_command(prefix: str) -> None:
    """Revoke the API key that starts with PREFIX (the first 12 characters, as the staff customers page shows)."""
    key = _run(lambda: accounts.revoke_api_key(prefix=prefix))
    click.echo(f"API key {key.prefix}… is revoked; requests with it now get 401.")


@shop_cli.command("deactivate-customer")
@click.option("--customer", "email", required=True, help="The customer's email.")
def deactivate_customer_command(email: str) -> None:
    """Deactivate a customer: signed out everywhere, sign-in and API keys refused (orders stay)."""
    customer = _run(lambda: accounts.set_customer_active(False, email=email))
    click.echo(f"Customer {customer.email} ({customer.company.name}) is deactivated.")


@shop_cli.command("activate-customer")
@click.option("--customer", "email", required=True, help="The customer's email.")
def activate_customer_command(email: str) -> None:
    """Let a deactivated customer sign in and use its unrevoked API keys again."""
    customer = _run(lambda: accounts.set_customer_active(True, email=email))
    click.echo(f"Customer {customer.email} ({customer.company.name}) is active again.")


@shop_cli.command("check-ledger")
def check_ledger_command() -> None:
    """Check that every stock level equals the sum of its ledger movements."""
    mismatches = inventory.check_ledger()
    for m in mismatches:
        click.echo(f"MISMATCH lot {m.lot_number} {m.sku}: on hand {m.on_hand} vs ledger {m.ledger_on_hand}, "
                   f"allocated {m.allocated} vs ledger {m.ledger_allocated}", err=True)
    if mismatches:
        raise click.ClickException(f"{len(mismatches)} stock row(s) disagree with the ledger.")
    click.echo("Ledger OK: every stock level equals the sum of its movements.")


@shop_cli.command("import-batch")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", is_flag=True, help="Release the lot when every result is inside its limits, signed by "
                                              "--signed-by (asks for that user's password).")
@click.option("--signed-by", "signer", metavar="EMAIL", help="The quality user who signs the release.")
@click.option("--password-stdin", is_flag=True, help="Read the signer's password from the first line of stdin.")
@click.option("--lab-system", default="laboratory system", show_default=True,
              help="Who recorded the results, as the audit log and the lot page name it.")
def import_batch_command(file: Path, release: bool, signer: str | None, password_stdin: bool,
                         lab_system: str) -> None:
    """Receive a lot from a production or lab system's JSON export.

    The results count as recorded by the laboratory system, which reviewed them there; with --release the lot
    is released, signed by the command's operator (--signed-by and their password), when every result is in
    specification. Results go through the same strict rules as the staff form.
    """
    data = _read_batch_file(file)
    if release and not signer:
        raise click.ClickException("--release needs --signed-by EMAIL: a release is signed by a quality user.")
    signature = _sign_release(signer, str(data["lot_number"]), password_stdin) if release else None
    source = f"{lab_system.strip() or 'laboratory system'} (import-batch {file.name})"[:120]

    def work():
        batch = inventory.receive_batch(str(data["product"]), str(data["lot_number"]), data["date"],
                                        data["expires"], data["units"], date_kind=data["date_kind"])
        if data["results"]:
            lot_release.record_results(batch, data["results"], source=source)
        if signature is not None:
            lot_release.release_batch(batch, signature)
        return batch

    batch = _run(work)
    warning = inventory.shelf_life_warning(batch)
    if warning:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Lot {batch.lot_number} received: {batch.status}.")


def _read_batch_file(file: Path) -> dict:
    """The lot of an import-batch file; numbers in 'results' are kept as written ('1e1' stays '1e1')."""
    try:
        # parse_float=str: a result such as 0.10 or 1e1 reaches the result rules as the lab system wrote it.
        data = json.loads(file.read_text(), parse_float=str)
    except FileNotFoundError:
        raise click.ClickException(f"No such file: {file}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{file} must hold one JSON object.")
    missing = [k for k in ("product", "lot_number", "manufactured_on", "units") if k not in data]
    if ("expires_on" in data) == ("retest_on" in data):
        missing.append("expires_on or retest_on (one of them)")
    if missing:
        raise click.ClickException("Missing fields: " + ", ".join(missing))
    kind = DateKind.EXPIRY if "expires_on" in data else DateKind.RETEST
    try:
        made = date.fromisoformat(str(data["manufactured_on"]))
        expires = date.fromisoformat(str(data["expires_on" if kind == DateKind.EXPIRY else "retest_on"]))
    except ValueError as exc:
        raise click.ClickException(f"Dates must be YYYY-MM-DD: {exc}") from None
    units, results = data["units"], data.get("results") or {}
    if not isinstance(units, dict) or not isinstance(results, dict):
        raise click.ClickException("'units' and 'results' must be objects keyed by SKU and by test name.")
    return {**data, "date": made, "expires": expires, "date_kind": kind, "units": units, "results": results}


def _sign_release(email: str, lot_number: str, password_stdin: bool) -> signatures.Signature:
    """The operator's release signature: their password, checked like the staff page checks it."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if staff is None:
        raise click.ClickException(f"No staff user {email}: nothing was signed.")
    refusal = signatures.refusal_to_sign(staff, SignedAction.RELEASE)
    if refusal:
        raise click.ClickException(refusal)  # before asking for a password that could not make it a signature
    statement = signatures.meaning(SignedAction.RELEASE, lot_number)
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        click.echo(f"Signing as {email}: “{statement}”", err=True)
        password = click.prompt(f"Password of {email}", hide_input=True, err=True)
    try:
        return signatures.sign(staff, password, SignedAction.RELEASE, lot_number, confirmed=True)
    except signatures.SignatureRefused as exc:
        if exc.wrong_password:
            run_in_transaction(signatures.record_refusal, staff.id, SignedAction.RELEASE, lot_number)
        raise click.ClickException(" ".join(m for msgs in exc.errors.values() for m in msgs)) from None
    finally:
        db.session.rollback()  # end the read, so the import runs in a transaction of its own


@shop_cli.command("check-results")
def check_results_command() -> None:
    """List recorded CoA results that the strict entry rules would refuse; nothing is changed.

    Results recorded before the rules (such as '1,500', read then as 1.5) are listed with the reason, so that a
    person can correct them; a lot in quarantine cannot be released until they are. Exits 1 when any is found.
    """
    refused = lot_release.refused_results()
    for r in refused:
        click.echo(f"lot {r.lot_number} ({r.status}) {r.test}: {r.value!r}: {r.message}")
    if refused:
        raise click.ClickException(f"{len(refused)} recorded result(s) would be refused; correct them on the "
                                   "lot's page (recall a released lot if it was sold on one).")
    click.echo("Every recorded CoA result passes the entry rules.")


@shop_cli.command("purge-idempotency")
@click.option("--hours", type=int, default=None, help="Keep records younger than this (default: the TTL).")
def purge_idempotency_command(hours: int | None) -> None:
    """Delete Idempotency-Key records older than their time to live (24 h by default)."""
    keep = hours if hours is not None else current_app.config["IDEMPOTENCY_TTL_HOURS"]
    if keep < 24:
        raise click.ClickException("Records are kept at least 24 hours.")
    click.echo(f"Purged {purge_idempotency(keep)} idempotency record(s) older than {keep} h.")


@shop_cli.command("worker")
# Its tasks mostly wait (on an endpoint's answer, up to WEBHOOK_TIMEOUT_SECONDS, or on the mail server). Webhook
# deliveries have threads of their own, so that receivers slow to answer never hold up e-mail or the periodic jobs;
# several threads each, so that one slow receiver does not hold up every other company's webhooks either.
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Tasks of the main lane (events, e-mail, periodic jobs) this worker runs at once.")
@click.option("--webhook-threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Webhook deliveries this worker sends at once.")
def worker_command(threads: int, webhook_threads: int) -> None:
    """Run a worker of the task queue: events, e-mail, the periodic jobs and webhook deliveries (until Ctrl-C)."""
    queue = task_queue()
    deliveries = queue.start_consumer(WEBHOOKS, webhook_threads, keep_signals=True)
    click.echo(f"Worker: {threads} thread(s) for events, e-mail and periodic jobs, {webhook_threads} for webhook "
               f"deliveries, on the {current_app.config['TASK_QUEUE']} queue.")
    try:
        queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=True).run()
    finally:
        deliveries.stop(graceful=True)


@shop_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def serve_command(host: str, port: int) -> None:
    """Serve the shop with Flask's development server and a worker in the same process (`make run`)."""
    from werkzeug.serving import run_simple

    workers = task_queue().worker(2, webhook_workers=4, keep_signals=True)
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        workers.stop()


@shop_cli.command("expire-approvals")
def expire_approvals_command() -> None:
    """Cancel orders that waited for approval longer than APPROVAL_EXPIRY_HOURS, releasing their stock (the
    workers also do it every 5 minutes)."""
    numbers = _run(approvals.expire_waiting)
    click.echo(f"Cancelled {len(numbers)} order(s) not approved in time" + (f": {', '.join(numbers)}." if numbers
                                                                          else "."))
