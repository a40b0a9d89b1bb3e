"""The cart (kept in the session as SKU -> units) and checkout, which places the order through ordering."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop import ordering
from shop.accounts.models import Customer, needs_approval
from shop.catalog import price_lists
from shop.catalog.models import Product, Variant
from shop.catalog.tiers import Price, Tier
from shop.inventory import availability
from shop.invoicing.vat import VatDecision
from shop.ordering.checks import MAX_LINE_QUANTITY
from shop.ordering.idempotency import FORM_RULES, KeyReused
from shop.ordering.models import Order
from shop.ordering.preview import preview, vat_for
from shop.ordering.queries import earlier_lots
from shop.platform import metrics
from shop.platform.countries import country_name, is_country_code
from shop.platform.errors import CreditLimitExceeded, InsufficientStock, InvalidInput
from shop.platform.extensions import db
from shop.platform.ratelimits import checkout_rate
from shop.platform.wording import units
from shop.specifications import availability as company_availability
from shop.storefront import bp
from shop.storefront.common import (
    CART_KEY,
    CHECKOUT_TOKEN_KEY,
    REORDER_KEY,
    apply_errors,
    current_customer,
    customer_required,
)
from shop.storefront.forms import AddToCartForm, CheckoutForm, LineLotForm, UpdateCartForm, line_lot_prefix
from shop.storefront.orderable import LineFacts, LineProblem, Reason, line_problems
from shop.storefront.views import render_product

CENT = Decimal("0.01")
# Checkout tokens share the idempotency table with the API's Idempotency-Key; the prefix keeps them apart.
CHECKOUT_KEY_PREFIX = "storefront-checkout:"
# A line's problems that a backorder answers: too few units now (the order service's refusal is one too).
_STOCK_REASONS = (Reason.SHORT, Reason.SHELF_LIFE, Reason.REFUSED)


@dataclass
class CartLine:
    variant: Variant
    quantity: int
    available: int
    problems: list[LineProblem] = field(default_factory=list)
    was: tuple[str, Decimal] | None = None  # put back by "Order again": (that order's number, its unit price)
    contract: list[Tier] = field(default_factory=list)  # the company's contract tiers for the pack, today
    lot_form: LineLotForm | None = None  # at checkout: the line's "same lot as order …" choice

    @property
    def price(self) -> Price:
        return price_lists.variant_price(self.variant, self.quantity, self.contract)

    @property
    def unit_price(self) -> Decimal:
        return self.price.unit_price

    @property
    def price_changed(self) -> bool:
        return self.was is not None and self.was[1] != self.unit_price

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)

    @property
    def sku(self) -> str:
        return self.variant.sku


@dataclass
class Cart:
    lines: list[CartLine]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def has_problems(self) -> bool:
        return any(line.problems for line in self.lines)

    @property
    def short_of_stock(self) -> bool:
        """Whether a line lacks units now (in stock, or within the shelf life): what a backorder would wait for."""
        return any(p.reason in _STOCK_REASONS for line in self.lines for p in line.problems)

    @property
    def flagged(self) -> bool:
        """Whether the cart page marks a line: one that cannot be ordered as it is, or a changed price."""
        return any(line.problems or line.price_changed for line in self.lines)


def _session_cart() -> dict[str, int]:
    raw = session.get(CART_KEY)
    if not isinstance(raw, dict):
        return {}
    return {sku: q for sku, q in raw.items() if isinstance(sku, str) and isinstance(q, int) and q > 0}


def _save(cart: dict[str, int]) -> None:
    session[CART_KEY] = cart
    reordered = _reordered()
    if any(sku not in cart for sku in reordered):  # a removed line takes its note along
        session[REORDER_KEY] = {sku: [number, str(price)] for sku, (number, price) in reordered.items()
                                if sku in cart}


def _reordered() -> dict[str, tuple[str, Decimal]]:
    """SKU -> (order number, unit price on that order) of the lines "Order again" put in the cart."""
    raw = session.get(REORDER_KEY)
    if not isinstance(raw, dict):
        return {}
    notes = {}
    for sku, note in raw.items():
        if isinstance(note, list) and len(note) == 2 and all(isinstance(part, str) for part in note):
            try:
                notes[sku] = (note[0], Decimal(note[1]))
            except ArithmeticError:
                continue
    return notes


def _sold(variant: Variant) -> bool:
    return variant.active and variant.product.active


def load_cart(*, keep_withdrawn: bool = False, shelf_life_days: int | None = None) -> Cart:
    """The session cart priced and checked against live availability (two queries plus eager loads).

    Each line that cannot be ordered as it is carries its reasons (orderable.line_problems), counting only lots
    with more than `shelf_life_days` left (the shop's default when None, as for an order that asks for none), and
    its `available` units are those an order would get. Pack sizes no longer sold are dropped from the session with
    a message, unless `keep_withdrawn` (checkout: the order must not silently differ from the cart the buyer
    reviewed, so the line stays, flagged).
    """
    raw = _session_cart()
    variants = {
        v.sku: v for v in db.session.scalars(
            select(Variant).where(Variant.sku.in_(list(raw)))
            .options(selectinload(Variant.product), selectinload(Variant.price_breaks))
        )
    } if raw else {}
    dropped = [sku for sku in raw if sku not in variants or (not keep_withdrawn and not _sold(variants[sku]))]
    if dropped:
        for sku in dropped:
            del raw[sku]
        _save(raw)
        flash(f"No longer sold, so removed from your cart: {', '.join(sorted(dropped))}.", "info")
    days = availability.default_shelf_life_days() if shelf_life_days is None else shelf_life_days
    customer = current_customer()
    # A company with a specification of a grade can be sold only lots that meet it (one statement more then).
    stock = company_availability.availability_by_variant(customer.company_id if customer else None,
                                                         [variants[sku].id for sku in raw], days)
    contract = price_lists.contract_tiers(customer.company_id if customer else None,
                                          [variants[sku].id for sku in raw])
    reordered = _reordered()
    lines = []
    for sku, quantity in raw.items():
        variant = variants[sku]
        in_stock, fresh_enough = stock.get(variant.id, (0, 0))
        line = CartLine(variant, quantity, fresh_enough, was=reordered.get(sku), contract=contract.get(variant.id, []))
        line.problems = line_problems(LineFacts(quantity, _sold(variant), variant.min_order_quantity, in_stock,
                                                fresh_enough, days))
        lines.append(line)
    lines.sort(key=lambda ln: (ln.variant.product.position, ln.variant.product.id, ln.variant.pack_size_kg))
    return Cart(lines)


def _render_cart(cart: Cart, forms: dict[str, UpdateCartForm] | None = None, status: int = 200):
    forms = forms or {}
    for line in cart.lines:
        forms.setdefault(line.sku, UpdateCartForm(formdata=None, sku=line.sku, quantity=line.quantity))
    return render_template("storefront/cart.html", cart=cart, forms=forms), status


@bp.get("/cart")
def cart():
    """Show the cart with prices after price breaks, and flag lines that cannot be ordered as they are."""
    return _render_cart(load_cart())


@bp.post("/cart/add")
def cart_add():
    """Add units of a pack size to the cart."""
    form = AddToCartForm()
    sku = form.sku.data or ""
    variant = db.session.scalar(select(Variant).where(Variant.sku == sku).options(selectinload(Variant.product)))
    if variant is None or not variant.active or not variant.product.active:
        flash("That pack size is not sold any more.", "error")
        return redirect(url_for("storefront.index"))
    if not form.validate():
        return render_product(variant.product.slug, {sku: form}, status=422)
    cart = _session_cart()
    cart[sku] = min(cart.get(sku, 0) + form.quantity.data, MAX_LINE_QUANTITY)
    _save(cart)
    flash(f"Added {units(form.quantity.data)} of {variant.product.name}, {variant.pack_size_kg.normalize():f} kg "
          f"({sku}) to your cart.", "success")
    return redirect(url_for("storefront.cart"))


@bp.post("/cart/update")
def cart_update():
    """Change a line's quantity; 0 removes the line."""
    form = UpdateCartForm()
    cart = _session_cart()
    sku = form.sku.data or ""
    if sku not in cart:
        flash("That line is no longer in your cart.", "info")
        return redirect(url_for("storefront.cart"))
    if not form.validate():
        return _render_cart(load_cart(), {sku: form}, status=422)
    if form.quantity.data == 0:
        del cart[sku]
        flash(f"Removed {sku} from your cart.", "info")
    else:
        cart[sku] = form.quantity.data
        flash(f"Updated {sku}: {units(form.quantity.data)}.", "success")
    _save(cart)
    return redirect(url_for("storefront.cart"))


@bp.post("/cart/remove")
def cart_remove():
    """Remove a line from the cart (the form's CSRF token is checked by CSRFProtect)."""
    cart = _session_cart()
    sku = request.form.get("sku", "")
    if cart.pop(sku, None) is not None:
        _save(cart)
        flash(f"Removed {sku} from your cart.", "info")
    return redirect(url_for("storefront.cart"))


def add_order_to_cart(order: Order) -> tuple[list[str], list[str]]:
    """Order again: put a past order's pack sizes and quantities in the cart (a line already there takes the
    order's quantity), remembering each line's unit price then so that the cart flags a change. Pack sizes no
    longer sold are left out. Returns (SKUs put in the cart, SKUs left out). The order's lines must have their
    pack sizes and products loaded."""
    cart = _session_cart()
    notes = {sku: [number, str(price)] for sku, (number, price) in _reordered().items()}
    added, withdrawn = [], []
    for line in order.lines:
        if not _sold(line.variant):
            withdrawn.append(line.sku)
            continue
        cart[line.sku] = line.quantity
        notes[line.sku] = [order.number, str(line.unit_price)]
        added.append(line.sku)
    session[REORDER_KEY] = notes
    _save(cart)
    return added, withdrawn


# --- Checkout ------------------------------------------------------------------------------------------

def _checkout_token() -> str:
    """The current one-time checkout token; kept until an order consumes it so that two tabs share it."""
    token = session.get(CHECKOUT_TOKEN_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        session[CHECKOUT_TOKEN_KEY] = token
    return token


def _checkout_key(token: str) -> str:
    """The idempotency key of a checkout form: its token, apart from the API's Idempotency-Keys by a prefix."""
    return CHECKOUT_KEY_PREFIX + token


def starting_address(customer: Customer) -> dict[str, str]:
    """Where the buyer's last order went; for a first order, the company's billing address."""
    last = db.session.scalar(select(Order).where(Order.customer_id == customer.id)
                             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(1))
    return last.shipping_address if last else customer.company.billing_address


def _render_checkout(form: CheckoutForm, cart: Cart, lot_forms: dict[str, LineLotForm],
                     problems: list[str] | None = None, *, refused: bool = False, shelf: int | None = None,
                     status: int = 200):
    customer = current_customer()
    _offer_lots(cart, customer.company_id, shelf, lot_forms)
    # VAT follows where the order ships: the country on the form (the starting address's on a first view).
    chosen = form.country.data or ""
    ship_country = chosen.upper() if is_country_code(chosen) else customer.company.billing_country or None
    order = preview(customer.company, [line.line_total for line in cart.lines], ship_country)
    threshold = customer.company.approval_threshold
    # Said before placing, from the cart's prices, which are the order's (the same contract prices and breaks), and
    # the VAT shown: a higher rate chosen on the form is shown again before the order is placed (the VAT guard).
    waits = needs_approval(threshold, customer.role, order.money.gross)
    form.vat_shown.data = _vat_shown(ship_country or current_app.config["SHOP_COUNTRY"], order.vat)
    return render_template("storefront/checkout.html", form=form, cart=cart, problems=problems or [],
                           refused=refused, shelf_days=availability.default_shelf_life_days(),
                           offers_lots=any(len(line.lot_form.lot_number.choices) > 1 for line in cart.lines),
                           approval_threshold=threshold if waits else None, preview=order, company=customer.company,
                           ship_country=ship_country or current_app.config["SHOP_COUNTRY"],
                           country_known=ship_country is not None), status


def _offer_lots(cart: Cart, company_id: int, shelf: int | None, lot_forms: dict[str, LineLotForm]) -> None:
    """Give each line its lot choice: the form sent for it (or a new one), offering the lots of the company's
    earlier orders that still have stock of that pack size for this shelf life (one statement for all lines). A
    lot sent that is no longer offered stays chosen, so that what is said about it shows beside it."""
    days = availability.default_shelf_life_days() if shelf is None else shelf
    offered = earlier_lots(company_id, [line.variant.id for line in cart.lines], days)
    for line in cart.lines:
        lot_form = lot_forms.get(line.sku) or LineLotForm(formdata=None, prefix=line_lot_prefix(line.sku))
        select_ = lot_form.lot_number
        select_.label.text = (f"{line.variant.product.name}, {line.variant.pack_size_kg.normalize():f} kg "
                              f"({line.sku}): same lot as order …")
        select_.choices = [("", "Any lot (first expiry first)")] + [
            (lot.lot_number, lot.label) for lot in offered.get(line.variant.id, [])]
        chosen = select_.data or ""
        if chosen and chosen not in {value for value, _ in select_.choices}:
            select_.choices.append((chosen, chosen))
        line.lot_form = lot_form


@bp.get("/checkout")
@customer_required(next_endpoint="storefront.cart")
def checkout():
    """The shipping address and order options, with the cart to review."""
    cart = load_cart()
    if not cart.lines:
        flash("Your cart is empty: add a pack size first.", "info")
        return redirect(url_for("storefront.cart"))
    form = CheckoutForm(formdata=None, data=starting_address(current_customer()))
    form.token.data = _checkout_token()
    return _render_checkout(form, cart, {})


@bp.post("/checkout")
@checkout_rate
@customer_required(next_endpoint="storefront.cart")
def checkout_submit():
    """Place the order: one order per checkout token, however often the form is sent.

    Every mistake shows in one answer: the address fields beside their fields, and every line that cannot be
    ordered with its own reason (stock, minimum order, shelf life, no longer sold).
    """
    customer = current_customer()
    form = CheckoutForm()
    token = form.token.data or ""
    valid = form.validate()
    shelf = form.min_remaining_shelf_life_days.data if not form.min_remaining_shelf_life_days.errors else None
    cart_skus = _session_cart()
    lot_forms = {sku: LineLotForm(prefix=line_lot_prefix(sku)) for sku in cart_skus}
    valid = all([lot_form.validate() for lot_form in lot_forms.values()]) and valid
    if token and token != session.get(CHECKOUT_TOKEN_KEY):  # spent by an order, or from an old page
        placed = ordering.placed_with_key(customer.company_id, _checkout_key(token))
        if placed is not None:
            return _already_placed(placed)
    lines = _order_lines(cart_skus, {sku: (f.lot_number.data or "").strip() for sku, f in lot_forms.items()})
    if not lines:
        flash("Your cart is empty: add a pack size first.", "info")
        return redirect(url_for("storefront.cart"))
    if not token or token != session.get(CHECKOUT_TOKEN_KEY):
        form.token.data = _checkout_token()
        return _render_checkout(form, load_cart(keep_withdrawn=True, shelf_life_days=shelf), lot_forms, problems=[
            "This checkout page was out of date. Check the cart and the address, then place the order again."],
            shelf=shelf, status=409)
    if not valid:
        cart = load_cart(keep_withdrawn=True, shelf_life_days=shelf)
        return _render_checkout(form, cart, lot_forms, refused=cart.has_problems, shelf=shelf, status=422)
    vat_changed = _vat_changed(form.vat_shown.data or "", form.country.data.upper(), customer)
    if vat_changed:
        return _render_checkout(form, load_cart(keep_withdrawn=True, shelf_life_days=shelf), lot_forms,
                                problems=[vat_changed], shelf=shelf, status=409)
    command = ordering.PlaceOrder(customer, lines, form.address(), form.purchase_order.data or "", shelf,
                                  single_lot=form.single_lot.data, allow_backorder=form.allow_backorder.data)
    try:
        placed = ordering.place(command, idempotency_key=_checkout_key(token), rules=FORM_RULES)
    except (InsufficientStock, InvalidInput) as exc:
        return _refused(form, lot_forms, exc, lines, shelf)
    except CreditLimitExceeded as exc:  # the exposure grew since the page warned, or the warning was passed by
        return _render_checkout(form, load_cart(keep_withdrawn=True, shelf_life_days=shelf), lot_forms,
                                problems=[f"No order was placed. {exc.message}"], shelf=shelf, status=409)
    except KeyReused:  # another tab placed a different cart with this page's token at the same moment
        form.token.data = _checkout_token()
        return _render_checkout(form, load_cart(keep_withdrawn=True, shelf_life_days=shelf), lot_forms, problems=[
            "This checkout page was used for another order a moment ago. Check the cart and the address, then "
            "place the order again."], shelf=shelf, status=409)
    for key in (CHECKOUT_TOKEN_KEY, CART_KEY, REORDER_KEY):
        session.pop(key, None)
    if placed.replayed:  # the same form sent twice at once: the other request placed the order
        return _already_placed(placed)
    metrics.order_placed("storefront")
    return redirect(url_for("storefront.order_confirmation", number=placed.number))


_SHOWN_RATE = re.compile(r"[0-9]{1,3}\.[0-9]{2}")  # as _vat_shown writes it; anything else was not this page's


def _vat_shown(country: str, vat: VatDecision) -> str:
    """What the checkout page says of VAT, carried by its form: the country it was worked out for and the rate."""
    return f"{country} {vat.rate:.2f}"


def _vat_changed(shown: str, country: str, customer: Customer) -> str | None:
    """Why the order is not placed yet, when the buyer chose another country than the one the page's VAT was
    worked out for and its rate is higher than the page showed: the buyer sees the new total before paying more
    than the page said. None when the rate is the one shown or lower (a statement more only when the country
    changed)."""
    told = shown.split(" ")
    if len(told) != 2 or told[0] == country or not _SHOWN_RATE.fullmatch(told[1]):
        return None
    vat = vat_for(customer.company, country)
    if vat.rate <= Decimal(told[1]):
        return None
    return (f"No order was placed: VAT for delivery to {country_name(country)} is {vat.rate:.2f} %, more than the "
            f"{told[1]} % this page showed for {country_name(told[0])}. Check the total below, then place the "
            "order.")


def _order_lines(cart: dict[str, int], lots: dict[str, str] | None = None) -> list[dict[str, object]]:
    """The cart's lines as the order's, in the order the cart page lists them (by product, then pack size), so
    that the order's lines are numbered as the buyer reviewed them; SKUs the catalog no longer has go last, for
    the order service to refuse. A line whose lot the buyer chose (`lots`: SKU -> lot number) carries it."""
    lots = lots or {}
    listed = list(db.session.scalars(
        select(Variant.sku).join(Product, Product.id == Variant.product_id).where(Variant.sku.in_(list(cart)))
        .order_by(Product.position, Product.id, Variant.pack_size_kg))) if cart else []
    skus = listed + [sku for sku in cart if sku not in listed]
    return [{"sku": sku, "quantity": cart[sku], **({"lot_number": lots[sku]} if lots.get(sku) else {})}
            for sku in skus]


def _already_placed(placed: ordering.Placed):
    """The order a checkout form placed before, shown again: a form sent twice makes one order."""
    flash(f"Order {placed.number} was already placed with this form; here it is.", "info")
    return redirect(url_for("storefront.order_confirmation", number=placed.number))


def _refused(form: CheckoutForm, lot_forms: dict[str, LineLotForm], error: InsufficientStock | InvalidInput,
             sent: list[dict], shelf: int | None):
    """The order service refused the cart: check it from fresh facts for each line's reason (stock, minimum
    order, shelf life, no longer sold: what the cart page shows); a line the fresh check finds in order (another
    order or a catalog change came in between) keeps what the service said about it. What it said about a line's
    chosen lot shows beside that line's lot choice too. A cart with problems of its own is 409, as the cart page
    has them; else the service's refusal says."""
    cart = load_cart(keep_withdrawn=True, shelf_life_days=shelf)
    own_problems = cart.has_problems
    lines = {line.sku: line for line in cart.lines}
    said: dict[str, list[str]] = {}
    if isinstance(error, InsufficientStock):
        for s in error.short:
            if s.lot_number:
                message = _pinned_lot_short(s.lot_number, s.reason, s.available, s.requested)
                _lot_error(lot_forms, s.sku, message)
            else:
                message = f"Only {s.available} can be allocated to this order now: you asked for {s.requested}."
            said.setdefault(s.sku, []).append(message)
        leftover: list[str] = []
    else:
        aliases = {f"shipping_address.{f}": f for f in ("name", "line1", "line2", "city", "postal_code", "country")}
        leftover = apply_errors(form, {k: v for k, v in error.errors.items() if not k.startswith("lines")}, aliases)
        for path, messages in error.errors.items():
            position = path.split(".")[1] if path.startswith("lines.") else ""
            sku = sent[int(position)]["sku"] if position.isdigit() and int(position) < len(sent) else None
            if sku is None:
                leftover.extend(messages)
            else:
                said.setdefault(sku, []).extend(messages)
                if path == f"lines.{position}.lot_number":
                    for message in messages:
                        _lot_error(lot_forms, sku, message)
    for sku, messages in said.items():
        line = lines.get(sku)
        if line is None:
            leftover.extend(f"{sku}: {m}" for m in messages)
        elif not line.problems:
            line.problems = [LineProblem(Reason.REFUSED, m) for m in messages]
    return _render_checkout(form, cart, lot_forms, leftover, refused=cart.has_problems, shelf=shelf,
                            status=409 if own_problems or isinstance(error, InsufficientStock) else 422)


def _pinned_lot_short(lot_number: str, reason: str, available: int, requested: int) -> str:
    """What a short line says when it is its chosen lot that cannot fill it."""
    if reason:
        return f"Lot {lot_number} cannot fill this line: {reason}"
    return f"Lot {lot_number} has only {units(available)} for this order: you asked for {units(requested)}."


def _lot_error(lot_forms: dict[str, LineLotForm], sku: str, message: str) -> None:
    lot_form = lot_forms.get(sku)
    if lot_form is not None:
        lot_form.lot_number.errors = [*lot_form.lot_number.errors, message]
