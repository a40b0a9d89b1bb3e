"""Request checks: what an order asks for, refused field by field (`lines.0.quantity`) before anything is
written. The checks that need the catalog (an unknown SKU, a minimum order) run once the pack sizes are read."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shop.inventory.availability import default_shelf_life_days
from shop.ordering.reading import PackSize
from shop.platform.countries import COUNTRY_CODE_MESSAGE, is_country_code
from shop.platform.errors import InvalidInput
from shop.platform.names import name_problem
from shop.platform.wording import units

MAX_LINES = 100
MAX_LINE_QUANTITY = 1_000_000
MAX_SHELF_LIFE_DAYS = 3650
MAX_PURCHASE_ORDER = 100
ADDRESS_FIELDS = {"name": 200, "line1": 200, "line2": 200, "city": 100, "postal_code": 20, "country": 2}
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")

Errors = dict[str, list[str]]


MAX_LOT_NUMBER = 40


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    lot_number: str | None = None  # the one lot to draw from (any letter case); None: any lot, FEFO


@dataclass(frozen=True)
class OrderRequest:
    """An order as asked for, after the checks that need no database (values may still be refused)."""

    customer_id: int
    company_id: int
    lines: tuple[LineRequest, ...]
    address: dict[str, str]
    purchase_order: str
    shelf_life_days: int | None  # as asked, else the shop's default: recorded on the order
    single_lot: bool = False  # each line from one lot
    allow_backorder: bool = False  # take what there is, backorder the rest of each short line

    def pinned(self) -> dict[int, str]:
        """The lot each pinned line asks for, by position (as asked: matched to a lot in any letter case)."""
        return {i: line.lot_number.strip() for i, line in enumerate(self.lines)
                if isinstance(line.lot_number, str) and line.lot_number.strip()}

    def quantities(self) -> dict[str, int]:
        """Units per SKU for reading prices and lots: an invalid quantity counts as 0 (it is refused anyway)."""
        wanted: dict[str, int] = {}
        for line in self.lines:
            if isinstance(line.sku, str) and line.sku not in wanted:
                valid = type(line.quantity) is int and 1 <= line.quantity <= MAX_LINE_QUANTITY
                wanted[line.sku] = line.quantity if valid else 0
        return wanted if len(self.lines) <= MAX_LINES else {}


def unknown_sku_message(sku: str) -> str:
    return f"Unknown SKU '{sku}'."


def check_request(customer_id: int, company_id: int, lines: Sequence[Mapping[str, object] | LineRequest],
                  shipping_address: Mapping[str, object] | None, purchase_order: str | None,
                  shelf_life_days: int | None, single_lot: object = False,
                  allow_backorder: object = False) -> tuple[OrderRequest, Errors]:
    """The request with what the checks found wrong so far, by field path; an order that asks for no shelf
    life gets the shop's default."""
    requests = tuple(as_line(line) for line in lines)
    errors: Errors = {}
    _check_lines(requests, errors)
    address = _check_address(shipping_address, errors)
    po = (purchase_order or "").strip()
    if len(po) > MAX_PURCHASE_ORDER:
        errors["purchase_order"] = [f"At most {MAX_PURCHASE_ORDER} characters."]
    shelf = shelf_life_days if shelf_life_days is not None else default_shelf_life_days()
    if shelf is not None and (isinstance(shelf, bool) or not isinstance(shelf, int)
                              or not 0 <= shelf <= MAX_SHELF_LIFE_DAYS):
        errors["min_remaining_shelf_life_days"] = [f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}."]
    if not isinstance(single_lot, bool):
        errors["single_lot"] = ["true or false."]
    if not isinstance(allow_backorder, bool):
        errors["allow_backorder"] = ["true or false."]
    return OrderRequest(customer_id, company_id, requests, address, po, shelf, single_lot is True,
                        allow_backorder is True), errors


def min_order_message(sku: str, minimum: int) -> str:
    """What a line below its pack size's minimum order is told (orders and quotes alike)."""
    return f"The minimum order for {sku} is {units(minimum)}."


def check_pack_sizes(request: OrderRequest, pack_sizes: Mapping[str, PackSize], errors: Errors) -> None:
    """Raise InvalidInput with every error found: the earlier ones and each line's unknown SKU or minimum."""
    for i, line in enumerate(request.lines):
        if f"lines.{i}.sku" in errors or not isinstance(line.sku, str):
            continue
        pack = pack_sizes.get(line.sku)
        if pack is None or not pack.active:
            errors.setdefault(f"lines.{i}.sku", []).append(unknown_sku_message(line.sku))
        elif f"lines.{i}.quantity" not in errors and line.quantity < pack.min_order_quantity:
            errors[f"lines.{i}.quantity"] = [min_order_message(line.sku, pack.min_order_quantity)]
    if errors:
        raise InvalidInput(errors)


def as_line(line: Mapping[str, object] | LineRequest) -> LineRequest:
    """A line as asked for, from the API's or a page's mapping (values unchecked)."""
    if isinstance(line, LineRequest):
        return line
    return LineRequest(sku=line.get("sku"), quantity=line.get("quantity"),  # type: ignore[arg-type]
                       lot_number=line.get("lot_number"))  # type: ignore[arg-type]


def _check_lines(requests: tuple[LineRequest, ...], errors: Errors) -> None:
    if not requests:
        errors["lines"] = ["An order needs at least one line."]
        return
    if len(requests) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines per order."]
        return
    seen: dict[str, int] = {}
    for i, req in enumerate(requests):
        if not isinstance(req.sku, str) or not req.sku.strip():
            errors[f"lines.{i}.sku"] = ["A SKU is required."]
        elif req.sku in seen:
            errors[f"lines.{i}.sku"] = [f"{req.sku} is already on line {seen[req.sku]}; "
                                        "put the whole quantity on one line."]
        else:
            seen[req.sku] = i
        q = req.quantity
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            errors[f"lines.{i}.quantity"] = ["The quantity must be a whole number of units, at least 1."]
        elif q > MAX_LINE_QUANTITY:
            errors[f"lines.{i}.quantity"] = [f"At most {MAX_LINE_QUANTITY:,} units per line."]
        lot = req.lot_number
        if lot is not None and (not isinstance(lot, str) or not lot.strip() or len(lot) > MAX_LOT_NUMBER):
            errors[f"lines.{i}.lot_number"] = [f"A lot number of 1 to {MAX_LOT_NUMBER} characters, or none."]


def shipping_address(raw: object) -> tuple[dict[str, str], Errors]:
    """An address to ship to (an order's, a sample's), checked field by field: the trimmed values (the country
    code in upper case) and every error by path (`shipping_address.city`)."""
    errors: Errors = {}
    address = _check_address(raw if isinstance(raw, Mapping) else None, errors)
    return address, errors


def _check_address(raw: Mapping[str, object] | None, errors: Errors) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        errors["shipping_address"] = ["A shipping address is required."]
        return {}
    address: dict[str, str] = {}
    for name, limit in ADDRESS_FIELDS.items():
        value = raw.get(name)
        path = f"shipping_address.{name}"
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in REQUIRED_ADDRESS_FIELDS:
                errors[path] = ["This field is required."]
            continue
        if not isinstance(value, str):
            errors[path] = ["Must be text."]
            continue
        value = value.strip()
        problem = name_problem(value, limit)
        if problem:
            errors[path] = [problem]
        address[name] = value
    _check_country(address, errors)
    return address


def _check_country(address: dict[str, str], errors: Errors) -> None:
    country = address.get("country")
    if country is None or "shipping_address.country" in errors:
        return
    if not is_country_code(country):
        errors["shipping_address.country"] = [COUNTRY_CODE_MESSAGE]
    else:
        address["country"] = country.upper()
