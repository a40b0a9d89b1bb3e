"""Quotes as storefront pages: "Request a quote" for the cart's lines or for a pack size of a product page (the
shelf life needed, a date, a note), the company's quotes, and one page per quote with its prices, the units held
for it and, while it is open, Accept (into an order, with the shipping address checkout would start from) and
Decline."""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import DateField, FieldList, Form, FormField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from shop import sales
from shop.catalog import price_lists
from shop.catalog.models import Variant
from shop.ordering.checks import MAX_LINE_QUANTITY, MAX_SHELF_LIFE_DAYS
from shop.ordering.idempotency import FORM_RULES, KeyReused
from shop.platform.errors import DomainError, InsufficientStock, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.form_fields import WholeNumberField, whole_number
from shop.platform.tx import run_in_transaction
from shop.sales import rules
from shop.sales.models import Quote
from shop.sales.views import quote as quote_view
from shop.storefront import bp
from shop.storefront.cart import starting_address
from shop.storefront.common import CART_KEY, apply_errors, current_customer, customer_required
from shop.storefront.forms import AcceptQuoteForm, ActionForm

PAGE_SIZE = 20
# Quote forms' tokens share the idempotency table with the API's keys and checkout's tokens; prefixes keep them
# apart.
REQUEST_KEY_PREFIX = "storefront-quote:"
ACCEPT_KEY_PREFIX = "storefront-quote-accept:"
_QUANTITY_MESSAGE = f"Enter a whole number of units from 1 to {MAX_LINE_QUANTITY:,}."


class QuoteLineForm(Form):
    """One line of the request: the pack size (fixed) and its units (the buyer may still change them)."""

    sku = HiddenField()
    quantity = WholeNumberField("Units", validators=[InputRequired(_QUANTITY_MESSAGE),
                                                 NumberRange(1, MAX_LINE_QUANTITY, _QUANTITY_MESSAGE)])


class QuoteRequestForm(FlaskForm):
    token = HiddenField()
    lines = FieldList(FormField(QuoteLineForm))
    min_remaining_shelf_life_days = WholeNumberField(
        "Minimum remaining shelf life in days (optional)",
        validators=[Optional(), NumberRange(0, MAX_SHELF_LIFE_DAYS,
                                            f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}.")])
    # Not checked against today here: the service says "in the past" beside the field, as the API does.
    needed_by = DateField("Needed by (optional)", validators=[Optional()])
    note = TextAreaField("Note to our sales team (optional)", validators=[Optional(), Length(max=rules.MAX_NOTE)],
                         render_kw={"rows": 4, "maxlength": rules.MAX_NOTE})

    def request_lines(self) -> list[dict[str, object]]:
        return [{"sku": line.sku.data or "", "quantity": line.quantity.data} for line in self.lines]


def _packs(skus: list[str]) -> dict[str, Variant]:
    """The pack sizes of `skus` with their products, by SKU (one statement and an eager load)."""
    if not skus:
        return {}
    return {v.sku: v for v in db.session.scalars(
        select(Variant).where(Variant.sku.in_(skus)).options(selectinload(Variant.product)))}


def _asked_lines() -> list[dict[str, object]]:
    """What the request starts from: the pack size and quantity a product page sent, else the cart's lines."""
    sku = request.args.get("sku", "").strip()
    if sku:
        quantity = whole_number(request.args.get("quantity"))  # "1_000" or "１０" is not read as a number
        if quantity is None or quantity < 1:
            pack = _packs([sku]).get(sku)
            quantity = pack.min_order_quantity if pack else 1
        return [{"sku": sku, "quantity": quantity}]
    cart = session.get(CART_KEY) or {}
    return [{"sku": s, "quantity": q} for s, q in cart.items() if isinstance(s, str) and isinstance(q, int) and q > 0]


def _render_request(form: QuoteRequestForm, leftover: list[str] | None = None, status: int = 200):
    packs = _packs([line.sku.data for line in form.lines if line.sku.data])
    return render_template("storefront/quote_new.html", form=form, packs=packs, leftover=leftover or []), status


@bp.get("/quotes/new")
@customer_required()
def quote_new():
    """The request form, for the cart's lines or (`?sku=&quantity=`) for one pack size of a product page."""
    lines = _asked_lines()
    if not lines:
        flash("Your cart is empty: add the pack sizes you want a price for, or ask from a product page.", "info")
        return redirect(url_for("storefront.cart"))
    form = QuoteRequestForm(formdata=None, data={"lines": lines, "token": secrets.token_urlsafe(24)})
    return _render_request(form)


@bp.post("/quotes/new")
@customer_required()
def quote_request():
    """Request the quote; every mistake beside its field (a line's beside its units), nothing stored. A form sent
    twice requests one quote."""
    form = QuoteRequestForm()
    if not form.lines.entries:
        flash("Your cart is empty: add the pack sizes you want a price for, or ask from a product page.", "info")
        return redirect(url_for("storefront.cart"))
    if not form.validate_on_submit():
        # The service's checks too, beside the fields the form let through (a date that has passed): every mistake
        # at once, not one after the other.
        _, more = rules.request_errors(form.request_lines(), form.min_remaining_shelf_life_days.data,
                                       form.needed_by.data, form.note.data, price_lists.today())
        return _render_request(form, _line_errors(form, _not_shown(form, more)), status=422)
    command = sales.RequestQuote(current_customer(), form.request_lines(), form.min_remaining_shelf_life_days.data,
                                 form.needed_by.data, form.note.data or None)
    try:
        outcome = sales.request_quote(command, idempotency_key=REQUEST_KEY_PREFIX + (form.token.data or ""),
                                       key_rules=FORM_RULES)
    except InvalidInput as exc:
        return _render_request(form, _line_errors(form, exc.errors), status=422)
    except KeyReused:  # this page's token requested another quote already (a second tab, a back button)
        form.token.data = secrets.token_urlsafe(24)
        return _render_request(form, ["This form was already used to request a quote. Check the lines, then send "
                                      "it again to request another one."], status=409)
    number = outcome.quote["number"]
    if not outcome.replayed:
        flash(f"Quote {number} is requested: our sales team answers it with prices, and we e-mail you then.",
              "success")
    return redirect(url_for("storefront.quote_detail", number=number), 303)


def _not_shown(form: QuoteRequestForm, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The errors whose field the form's own checks left without a message (a line's units show its SKU's too)."""

    def shown(path: str) -> bool:
        parts = path.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(form.lines):
            return bool(form.lines[int(parts[1])].quantity.errors)
        return path in form and bool(form[path].errors)

    return {path: messages for path, messages in errors.items() if not shown(path)}


def _line_errors(form: QuoteRequestForm, errors: dict[str, list[str]]) -> list[str]:
    """Put the service's errors beside their fields: `lines.<i>.quantity` and `lines.<i>.sku` beside line i's
    units; return those no field shows."""
    leftover = []
    for path, messages in errors.items():
        parts = path.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(form.lines):
            units = form.lines[int(parts[1])].quantity
            units.errors = [*units.errors, *messages]
        else:
            leftover += apply_errors(form, {path: messages})
    return leftover


@bp.get("/quotes")
@customer_required()
def quote_list():
    """The company's quotes, newest first, keyset-paginated."""
    cursor = request.args.get("cursor") or None
    try:
        page = sales.list_quotes(current_customer().company_id, PAGE_SIZE, cursor)
    except InvalidInput:
        abort(400, description="That page link is damaged. Start again from My quotes.")
    return render_template("storefront/quotes.html", quotes=page.rows, next_cursor=page.next_cursor,
                           first_page=cursor is None)


def _quote(number: str) -> Quote:
    try:
        return sales.get_quote(number, current_customer().company_id)
    except NotFound:
        abort(404, description=f"Your company has no quote {number}.")


def is_open(quote: Quote) -> bool:
    """Whether the buyer may still accept it (the page offers Accept only then)."""
    return rules.is_open(quote.status, quote.valid_until, price_lists.today())


def _render_quote(quote: Quote, accept: AcceptQuoteForm | None = None, problems: list[str] | None = None,
                  status: int = 200):
    if accept is None and is_open(quote):
        accept = AcceptQuoteForm(formdata=None, data={**starting_address(current_customer()),
                                                      "token": secrets.token_urlsafe(24)})
    view = quote_view(quote)
    return render_template("storefront/quote.html", quote=quote, view=view, open=is_open(quote),
                           packs=_packs([line["sku"] for line in view["lines"]]), accept=accept,
                           decline=ActionForm(formdata=None), problems=problems or []), status


@bp.get("/quotes/<number>")
@customer_required()
def quote_detail(number: str):
    """One of the company's quotes: what was asked and, once answered, the prices, the units held and until
    when; Accept and Decline while it is open."""
    return _render_quote(_quote(number))


@bp.post("/quotes/<number>/accept")
@customer_required()
def quote_accept(number: str):
    """Place the quote's order at the quoted prices; address mistakes beside their fields, a quote no longer
    open or units no longer there said on the page. A form sent twice places one order."""
    quote = _quote(number)
    form = AcceptQuoteForm()
    if not form.validate_on_submit():
        return _render_quote(quote, form, status=422)
    try:
        placed = sales.accept_quote(quote.number, current_customer(), form.address(), form.purchase_order.data or None,
                                    idempotency_key=ACCEPT_KEY_PREFIX + (form.token.data or ""),
                                    key_rules=FORM_RULES)
    except InvalidInput as exc:
        aliases = {f"shipping_address.{f}": f for f in ("name", "line1", "line2", "city", "postal_code", "country")}
        return _render_quote(quote, form, apply_errors(form, exc.errors, aliases), status=422)
    except InsufficientStock as exc:
        lines = "; ".join(f"{s.sku}: {s.available} of {s.requested} units" for s in exc.short)
        return _render_quote(_quote(number), form, [
            f"Not every unit is in stock any more ({lines} can be allocated now). Our sales team can quote you "
            "again."], status=409)
    except DomainError as exc:  # no longer open: expired, withdrawn, accepted or declined meanwhile
        flash(exc.message, "error")
        return redirect(url_for("storefront.quote_detail", number=quote.number), 303)
    flash(f"Quote {quote.number} is accepted: order {placed.number} is placed at the quoted prices.", "success")
    return redirect(url_for("storefront.order_confirmation", number=placed.number), 303)


@bp.post("/quotes/<number>/decline")
@customer_required()
def quote_decline(number: str):
    """Decline the quote; its held units go back to stock."""
    quote = _quote(number)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        run_in_transaction(sales.decline_quote, quote.number, current_customer())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Quote {quote.number} is declined.", "info")
    return redirect(url_for("storefront.quote_detail", number=quote.number), 303)
