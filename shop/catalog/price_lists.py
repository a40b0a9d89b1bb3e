"""Contract price lists: staff make them for a company (from CSV), and every price a company sees reads them.

A CSV (`sku,min_quantity,unit_price`, a header line first) is checked whole before anything is written: an
unknown SKU, a price that is not a plain positive amount (`1,500` is refused, never guessed), a quantity that
is not a whole number of at least 1, or a SKU and quantity given twice refuse the import, naming each row, and
the list stays as it was. A company's lists never overlap in time, so on any day at most one applies.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Date, and_, bindparam, column, exists, or_, select, table, true
from sqlalchemy.orm import selectinload

from shop.accounts.companies import PLAIN_AMOUNT
from shop.accounts.models import Company, StaffUser
from shop.catalog.models import PriceList, PriceListItem, Variant
from shop.catalog.tiers import Price, PriceStep, Tier, price_for, price_steps
from shop.platform.audit import audit
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.names import checked_name

COLUMNS = ["sku", "min_quantity", "unit_price"]
MAX_ROWS = 5000
_QUANTITY = re.compile(r"[1-9][0-9]{0,6}")


# The order lines that recorded a list, named by table: ordering sits above the catalog and imports it, not the
# other way round.
_ORDER_LINE = table("order_line", column("price_list_id"))

def today() -> date:
    """The day prices are taken for: today in UTC (a list's dates are UTC days)."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class ItemRow:
    sku: str
    min_quantity: int
    unit_price: Decimal


def parse_csv(text: str) -> list[ItemRow]:
    """The rows of a price-list CSV; InvalidInput naming every bad row (`rows.3`: the file's line 3)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header != COLUMNS:
        raise InvalidInput({"file": [f"The first line must be the header {','.join(COLUMNS)}."]})
    rows, errors, seen = [], {}, {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        problems = _row_problems(cells)
        if not problems:
            key = (cells[0].strip(), int(cells[1]))
            if key in seen:
                problems.append(f"{key[0]} from {key[1]} units is already on line {seen[key]}.")
            seen[key] = line
        if problems:
            errors[f"rows.{line}"] = problems
        else:
            rows.append(ItemRow(cells[0].strip(), int(cells[1]), Decimal(cells[2].strip())))
    if len(rows) > MAX_ROWS:
        errors["file"] = [f"At most {MAX_ROWS} rows."]
    elif not rows and not errors:
        errors["file"] = ["The file has no price rows."]
    if errors:
        raise InvalidInput(errors)
    return rows


def _row_problems(cells: list[str]) -> list[str]:
    if len(cells) != 3:
        return [f"Three columns ({','.join(COLUMNS)}), not {len(cells)}."]
    sku, quantity, price = (cell.strip() for cell in cells)
    problems = []
    if not sku:
        problems.append("The SKU is missing.")
    if not _QUANTITY.fullmatch(quantity):
        problems.append(f"min_quantity {cells[1]!r} is not a whole number of units, at least 1.")
    if not PLAIN_AMOUNT.fullmatch(price) or Decimal(price) <= 0:
        problems.append(f"unit_price {cells[2]!r} is not a positive amount with a point for cents, such as "
                        "1725.00.")
    return problems


def _variant_ids(rows: list[ItemRow]) -> dict[str, int]:
    """The variant id of every SKU in `rows`; InvalidInput naming the unknown ones."""
    skus = {row.sku for row in rows}
    found = dict(db.session.execute(select(Variant.sku, Variant.id).where(Variant.sku.in_(skus))).all())
    unknown = sorted(skus - set(found))
    if unknown:
        raise InvalidInput({"file": [f"Unknown SKU: {', '.join(unknown)}. Nothing was imported."]})
    return found


def _check_dates(company_id: int, valid_from: date | None, valid_to: date | None,
                 other_than: int | None = None) -> None:
    if valid_from and valid_to and valid_from > valid_to:
        raise InvalidInput({"valid_to": ["The last day comes before the first."]})
    # Two spans overlap when each starts before the other ends (an open end reaches every day).
    ends_after_start = true() if valid_from is None else or_(PriceList.valid_to.is_(None),
                                                             PriceList.valid_to >= valid_from)
    starts_before_end = true() if valid_to is None else or_(PriceList.valid_from.is_(None),
                                                            PriceList.valid_from <= valid_to)
    overlapping = select(PriceList.name).where(PriceList.company_id == company_id, ends_after_start,
                                               starts_before_end)
    if other_than is not None:
        overlapping = overlapping.where(PriceList.id != other_than)
    clash = db.session.scalar(overlapping.limit(1))
    if clash is not None:
        raise InvalidInput({"valid_from": [f"The dates overlap the company's list '{clash}': on any day at most "
                                           "one list may apply. Change the dates of one of them."]})


def _items(rows: list[ItemRow]) -> list[PriceListItem]:
    variant_ids = _variant_ids(rows)
    return [PriceListItem(variant_id=variant_ids[row.sku], min_quantity=row.min_quantity, unit_price=row.unit_price)
            for row in rows]


def create_price_list(company: Company, name: str, csv_text: str, valid_from: date | None = None,
                      valid_to: date | None = None, *, staff: StaffUser | None = None) -> PriceList:
    """A new contract list for the company from a CSV; refused whole when any row or the dates are wrong."""
    errors: dict[str, list[str]] = {}
    name = checked_name(name, "name", 100, errors, required="Name the list, such as 'Contract 2027'.")
    if errors:
        raise InvalidInput(errors)
    rows = parse_csv(csv_text)
    _check_dates(company.id, valid_from, valid_to)
    price_list = PriceList(company=company, name=name, valid_from=valid_from, valid_to=valid_to, items=_items(rows))
    db.session.add(price_list)
    db.session.flush()
    audit(staff, "price_list.created", f"company {company.id}", f"list {price_list.id} {name}: {len(rows)} items")
    return price_list


def replace_items(price_list: PriceList, csv_text: str, valid_from: date | None, valid_to: date | None,
                  *, staff: StaffUser | None = None) -> PriceList:
    """Replace a list's items and dates from a CSV; the old list stays as it was when anything is refused."""
    rows = parse_csv(csv_text)
    _check_dates(price_list.company_id, valid_from, valid_to, other_than=price_list.id)
    items = _items(rows)  # every check is done before the first write
    # Hold the list while its items change, so that a second replace at the same time waits for this one.
    db.session.refresh(price_list, with_for_update=True)
    # The old items are deleted first: a new one may repeat an old one's pack size and quantity, which the unique
    # constraint allows only once, and the unit of work would insert the new rows before deleting the old.
    price_list.items.clear()
    db.session.flush()
    price_list.items = items
    price_list.valid_from, price_list.valid_to = valid_from, valid_to
    db.session.flush()
    audit(staff, "price_list.replaced", f"company {price_list.company_id}",
          f"list {price_list.id} {price_list.name}: {len(rows)} items")
    return price_list


def import_for_company(company: Company, csv_text: str, valid_from: date | None = None,
                       valid_to: date | None = None) -> PriceList:
    """The CLI's import: the company's one price list becomes the CSV's (made when it has none)."""
    lists = company.price_lists
    if len(lists) > 1:
        raise InvalidInput({"customer": [f"{company.name} has {len(lists)} price lists; replace one on the staff "
                                         "companies page."]})
    if lists:
        return replace_items(lists[0], csv_text, valid_from, valid_to)
    return create_price_list(company, "Contract prices", csv_text, valid_from, valid_to)


def get_price_list(company_id: int, list_id: int) -> PriceList:
    price_list = db.session.get(PriceList, list_id)
    if price_list is None or price_list.company_id != company_id:
        raise NotFound("No such price list for this company.")
    return price_list


def delete_price_list(price_list: PriceList, *, staff: StaffUser | None = None) -> None:
    """Delete a list no order was priced from (a used one is kept: its orders name it); end it by its dates."""
    if db.session.scalar(select(exists().where(_ORDER_LINE.c.price_list_id == price_list.id))):
        raise InvalidInput({"list": [f"Orders were priced from '{price_list.name}': it is kept for them. Set its "
                                     "last day instead."]})
    audit(staff, "price_list.deleted", f"company {price_list.company_id}", f"list {price_list.id} {price_list.name}")
    db.session.delete(price_list)
    db.session.flush()


def applies_on(day):
    """The SQL condition for a PriceList that applies on `day` (a date, or a bind parameter): both ends
    inclusive, an empty end open."""
    return and_(or_(PriceList.valid_from.is_(None), PriceList.valid_from <= day),
                or_(PriceList.valid_to.is_(None), PriceList.valid_to >= day))


# Built once: the product page and the API run it on every request of a signed-in company.
_CONTRACT_TIERS = (
    select(PriceListItem.variant_id, PriceListItem.min_quantity, PriceListItem.unit_price,
           PriceListItem.price_list_id)
    .join(PriceList, PriceList.id == PriceListItem.price_list_id)
    .where(PriceList.company_id == bindparam("company_id"), applies_on(bindparam("day", type_=Date)),
           PriceListItem.variant_id.in_(bindparam("variant_ids", expanding=True)))
)


def contract_tiers(company_id: int | None, variant_ids: Iterable[int], day: date | None = None
                   ) -> dict[int, list[Tier]]:
    """Per variant id, the company's contract tiers that apply on `day` (default today, UTC): one statement,
    whatever the number of lists and companies; none for no company (a visitor)."""
    ids = list(variant_ids)
    if company_id is None or not ids:
        return {}
    tiers: dict[int, list[Tier]] = defaultdict(list)
    params = {"company_id": company_id, "day": day or today(), "variant_ids": ids}
    for variant_id, min_quantity, unit_price, list_id in db.session.execute(_CONTRACT_TIERS, params):
        tiers[variant_id].append(Tier(min_quantity, unit_price, list_id))
    return dict(tiers)


def public_tiers(variant: Variant) -> list[Tier]:
    return [Tier(pb.min_quantity, pb.unit_price) for pb in variant.price_breaks]


def variant_price_steps(variant: Variant, contract: Iterable[Tier] = (), start: int | None = None) -> list[PriceStep]:
    """A pack size's price table for a company with these contract tiers, from `start` units (default: its
    minimum order) up."""
    return price_steps(start or variant.min_order_quantity, variant.unit_price, public_tiers(variant),
                       tuple(contract))


def variant_price(variant: Variant, quantity: int, contract: Iterable[Tier] = ()) -> Price:
    """The unit price of `quantity` units of a pack size for a company with these contract tiers."""
    return price_for(quantity, variant.unit_price, public_tiers(variant), tuple(contract))


def lists_of(company_id: int) -> list[PriceList]:
    """The company's lists with their items and pack sizes (three statements), earliest first."""
    return list(db.session.scalars(
        select(PriceList).where(PriceList.company_id == company_id)
        .options(selectinload(PriceList.items).selectinload(PriceListItem.variant))
        .order_by(PriceList.valid_from.nulls_first(), PriceList.id)))
