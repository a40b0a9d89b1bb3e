"""Quotes for sales: the queue (requested first, oldest first; then the answered ones, which may be withdrawn), and
one page per quote with, per line, the units asked for, the list price and the company's contract price beside
the unit price to quote; valid until, a note, and whether to hold the stock; and Withdraw."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, DateField, FieldList, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from shop import sales
from shop.accounts.models import StaffRole
from shop.catalog import price_lists
from shop.catalog.models import Variant
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.sales.models import Quote, QuoteStatus
from shop.sales.rules import MAX_NOTE
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.helpers import or_404, show_errors

VALID_FOR_DAYS = 14  # the answer's default: two weeks


class AnswerQuoteForm(FlaskForm):
    # Text, not numbers: shop.sales reads what was typed ("1,500" is refused there, not guessed here).
    unit_prices = FieldList(StringField("Unit price", validators=[InputRequired("Enter a unit price.")]))
    valid_until = DateField("Valid until (the last day, UTC)", validators=[InputRequired("Enter a date.")])
    note = TextAreaField("Note to the buyer (optional)", validators=[Optional(), Length(max=MAX_NOTE)],
                         render_kw={"rows": 3})
    hold = BooleanField("Hold the stock (set the units aside until the quote ends)")


class WithdrawQuoteForm(FlaskForm):
    note = StringField("Why (optional, for the buyer)", validators=[Optional(), Length(max=MAX_NOTE)])


@dataclass(frozen=True)
class LinePrices:
    """What a line's pack size costs the company without a quote: the list price (with its price breaks) and its
    contract price today, if it has one."""

    list_price: Decimal
    contract_price: Decimal | None


def line_prices(quote: Quote) -> dict[int, LinePrices]:
    """Per line position, the list and contract unit price of its quantity (three statements for any number of
    lines: the pack sizes with their price breaks, and the contracts)."""
    variant_ids = [line.variant_id for line in quote.lines]
    variants = {v.id: v for v in db.session.scalars(select(Variant).where(Variant.id.in_(variant_ids))
                                                   .options(selectinload(Variant.price_breaks)))}
    contract = price_lists.contract_tiers(quote.company_id, variant_ids)
    prices = {}
    for line in quote.lines:
        variant, tiers = variants[line.variant_id], contract.get(line.variant_id, [])
        price = price_lists.variant_price(variant, line.quantity, tiers)
        prices[line.position] = LinePrices(price_lists.variant_price(variant, line.quantity).unit_price,
                                           price.unit_price if price.source == "contract" else None)
    return prices


@bp.get("/quotes")
@role_required(StaffRole.SALES)
def quotes():
    """The sales queue: requested quotes, oldest first; then the answered ones, still open to withdraw."""
    try:
        page = sales.sales_queue(cursor=request.args.get("cursor") or None)
    except InvalidInput:
        abort(400, description="This page link is no longer valid; start from the first page of the queue.")
    return render_template("staff/quotes.html", page=page)


def _page(number: str, *, answer: AnswerQuoteForm | None = None, withdraw: WithdrawQuoteForm | None = None,
          leftover: list[str] | None = None, status: int = 200):
    quote = or_404(sales.get_quote, number)
    prices = line_prices(quote)
    if answer is None and quote.status == QuoteStatus.REQUESTED:
        answer = AnswerQuoteForm(formdata=None, data={
            "unit_prices": [_suggested(prices[line.position]) for line in quote.lines],
            "valid_until": price_lists.today() + timedelta(days=VALID_FOR_DAYS)})
    if answer is not None:
        for line, entry in zip(quote.lines, answer.unit_prices, strict=False):
            entry.label.text = f"Unit price of {line.sku}"
    return render_template("staff/quote.html", quote=quote, prices=prices, answer=answer,
                           withdraw=withdraw or WithdrawQuoteForm(formdata=None), leftover=leftover or []), status


def _suggested(prices: LinePrices) -> str:
    """What the price field starts from: the price the company would pay today."""
    return f"{prices.contract_price or prices.list_price:.2f}"


@bp.get("/quotes/<number>")
@role_required(StaffRole.SALES)
def quote(number: str):
    """One quote: what the buyer asked, each line's list and contract price, and the answer (or what was
    answered, what is held, and what a recall left unheld)."""
    return _page(number)


@bp.post("/quotes/<number>/answer")
@role_required(StaffRole.SALES)
def answer_quote(number: str):
    """Answer with a unit price per line, the last valid day, a note and maybe a hold; every mistake beside its
    field, nothing stored. The buyer is told (quote.answered, an e-mail)."""
    quote = or_404(sales.get_quote, number)
    form = AnswerQuoteForm()
    positions = [line.position for line in quote.lines]
    if not form.validate_on_submit() or len(form.unit_prices.entries) != len(positions):
        return _page(number, answer=form, status=422)
    prices = {position: entry.data for position, entry in zip(positions, form.unit_prices, strict=True)}
    try:
        answered = run_in_transaction(sales.answer_quote, quote.number, prices, form.valid_until.data,
                                      form.note.data or "", bool(form.hold.data), current_staff())
    except InvalidInput as exc:
        return _page(number, answer=form, leftover=_show_answer_errors(form, positions, exc.errors), status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.quote", number=quote.number), 303)
    flash(_answered_message(answered), "success")
    return redirect(url_for("staff.quote", number=answered.number), 303)


def _show_answer_errors(form: AnswerQuoteForm, positions: list[int], errors: dict[str, list[str]]) -> list[str]:
    """The service's errors beside their fields: `lines.<position>.unit_price` beside that line's price input;
    return those no field shows."""
    prices = {f"lines.{position}.unit_price": entry for position, entry in zip(positions, form.unit_prices,
                                                                              strict=True)}
    for path in [path for path in errors if path in prices]:
        prices[path].errors = [*prices[path].errors, *errors.pop(path)]
    return show_errors(form, errors)


def _answered_message(quote: Quote) -> str:
    said = f"Quote {quote.number} is answered, valid until {quote.valid_until.isoformat()}; the buyer is e-mailed."
    if not quote.hold:
        return said
    short = [f"{line.sku}: {line.held_quantity} of {line.quantity}" for line in quote.lines
             if line.held_quantity < line.quantity]
    if short:
        return said + " Not every unit could be held (" + "; ".join(short) + ")."
    return said + " Every unit is held."


@bp.post("/quotes/<number>/withdraw")
@role_required(StaffRole.SALES)
def withdraw_quote(number: str):
    """Take the quote back; its held units go back to stock, and the buyer is told."""
    quote = or_404(sales.get_quote, number)
    form = WithdrawQuoteForm()
    if not form.validate_on_submit():
        return _page(number, withdraw=form, status=422)
    try:
        run_in_transaction(sales.withdraw_quote, quote.number, current_staff(), form.note.data or "")
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Quote {quote.number} is withdrawn.", "info")
    return redirect(url_for("staff.quote", number=quote.number), 303)
