"""Use cases and read models of complaints: a buyer files one on an order line, the company reads its own, the
quality unit works through the queue (every complaint on the same lot together), records the investigation and
closes it signed; each step announces `complaint.updated`, which e-mails the buyer who filed it.

Each use case reads, checks everything first (errors by field path, nothing stored), writes, announces; the
caller commits."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from shop.accounts.models import Company, StaffUser
from shop.complaints import rules
from shop.complaints.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintLot,
    ComplaintSequence,
    ComplaintStatus,
)
from shop.inventory.models import Batch, Stock
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine
from shop.ordering.queries import order_number_is
from shop.platform import outbox
from shop.platform.audit import audit
from shop.platform.database import utcnow
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.storage import StoredFileMissing, storage
from shop.quality import signatures

CLOSE = "close of a complaint"  # what a closing signature decides, as a refusal names it
_DRAWN = (AllocationStatus.ALLOCATED, AllocationStatus.SHIPPED)  # the units a line holds or received


class Filer(Protocol):
    """Who files: a storefront member (Customer) or an API key acting for its maker (ApiCustomer)."""

    id: int
    company_id: int
    actor_name: str


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file to keep with a new complaint: the name the buyer's computer gave it, and its checked content."""

    file_name: str
    data: bytes
    content_type: str
    suffix: str


@dataclass(frozen=True, slots=True)
class AttachmentView:
    id: int
    file_name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ComplaintView:
    """A complaint as the buyer, the API and the events see it (the API's members), with the investigation and
    its signed close for the pages."""

    number: str
    status: ComplaintStatus
    order: str
    sku: str
    lot_numbers: tuple[str, ...]
    category: ComplaintCategory
    description: str
    filed_at: datetime
    filed_by: str
    resolution: str | None
    root_cause: str = ""
    corrective_action: str = ""
    preventive_action: str = ""
    closed_at: datetime | None = None
    signed_by: str = ""  # 'Name (e-mail)' of the quality user who signed the close
    signature_meaning: str = ""
    recalled_lot_number: str | None = None
    attachments: tuple[AttachmentView, ...] = ()

    def data(self) -> dict[str, object]:
        """The event's data: the complaint exactly as `GET /api/v1/complaints/<number>` answers it."""
        return {"number": self.number, "status": self.status.value, "order": self.order, "sku": self.sku,
                "lot_numbers": list(self.lot_numbers), "category": self.category.value,
                "description": self.description, "filed_at": self.filed_at.isoformat(),
                "resolution": self.resolution}


@dataclass(frozen=True, slots=True)
class StaffComplaint:
    """The quality unit's page of a complaint: it, and every other complaint on any of its lots (newest first)."""

    complaint: ComplaintView
    company: str
    same_lot: tuple[ComplaintView, ...] = field(default_factory=tuple)


# --- filing ---------------------------------------------------------------------------------------------------


def file_complaint(filer: Filer, order_number: object, sku: object, lot_number: object, category: object,
                   description: object, attachments: Sequence[NewAttachment] = ()) -> ComplaintView:
    """File a complaint on a line of one of the filer's company's orders, about the lots the line drew (or the one
    of them named); raise InvalidInput with every error by field path (unknown order, SKU or lot, a bad category
    or description; another company's order as an unknown one), storing nothing. The caller commits."""
    errors = rules.filing_errors(category, description)
    if len(attachments) > rules.MAX_ATTACHMENTS:
        errors["attachments"] = [f"At most {rules.MAX_ATTACHMENTS} files."]
    order = _order(order_number) if isinstance(order_number, str) and order_number.strip() else None
    if order is not None and order.company_id != filer.company_id:
        order = None  # answered as an unknown one: whether another company has an order of that number is theirs
    line, lot_ids = None, {}
    if order is None:
        errors["order"] = [f"Your company has no order '{order_number}'."]
    else:
        line = next((ln for ln in order.lines if isinstance(sku, str) and ln.sku.lower() == sku.strip().lower()),
                    None)
        if line is None:
            errors["sku"] = [f"Order {order.number} has no line of SKU '{sku}'."]
        else:
            drawn = drawn_lots(line.id)
            lots, refusal = rules.chosen_lots(list(drawn), lot_number if isinstance(lot_number, str) else None)
            if refusal:
                errors["lot_number"] = [refusal]
            lot_ids = {drawn[lot]: lot for lot in lots}
    if lot_number is not None and not isinstance(lot_number, str):
        errors["lot_number"] = ["A lot number is text, or leave it out."]
    if errors:
        raise InvalidInput(errors)
    assert order is not None and line is not None
    now = utcnow()
    complaint = Complaint(
        number=rules.format_number(now.year, _next_serial(now.year)), company_id=filer.company_id,
        customer_id=filer.id, filed_by=filer.actor_name, order_id=order.id, order_line_id=line.id,
        order_number=order.number, sku=line.sku, category=ComplaintCategory(category),
        description=str(description).strip(), filed_at=now, updated_at=now, status=ComplaintStatus.OPEN,
        lots=[ComplaintLot(batch_id=batch_id, lot_number=lot)
              for batch_id, lot in sorted(lot_ids.items(), key=lambda item: item[1])])
    complaint.attachments = [_kept(a) for a in attachments]
    db.session.add(complaint)
    db.session.flush()
    _announce(complaint)
    return view(complaint)


def drawn_lots(order_line_id: int) -> dict[str, int]:
    """The lots an order line drew (units it holds or received), by lot number: their batch ids."""
    rows = db.session.execute(
        select(Batch.lot_number, Batch.id).distinct()
        .join(Stock, Stock.batch_id == Batch.id).join(Allocation, Allocation.stock_id == Stock.id)
        .where(Allocation.order_line_id == order_line_id, Allocation.status.in_(_DRAWN)))
    return {lot: batch_id for lot, batch_id in rows}


def line_lots(order_id: int) -> dict[str, list[str]]:
    """The lots each line of an order drew, by SKU, in one statement (the storefront's 'Report a problem')."""
    rows = db.session.execute(
        select(OrderLine.sku, Batch.lot_number).distinct()
        .join(Allocation, Allocation.order_line_id == OrderLine.id).join(Stock, Stock.id == Allocation.stock_id)
        .join(Batch, Batch.id == Stock.batch_id)
        .where(OrderLine.order_id == order_id, Allocation.status.in_(_DRAWN))
        .order_by(OrderLine.sku, Batch.lot_number))
    lots: dict[str, list[str]] = {}
    for sku, lot in rows:
        lots.setdefault(sku, []).append(lot)
    return lots


def _order(number: str) -> Order | None:
    return db.session.scalar(select(Order).where(order_number_is(number)).options(selectinload(Order.lines)))


def _next_serial(year: int) -> int:
    """The year's next serial: one row per year, counted up under its row lock, so two buyers filing at once never
    get the same number (the second waits for the first to commit). Numbers may skip (a filing rolled back)."""
    conn = db.session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(ComplaintSequence).values(year=year, last=0).on_conflict_do_nothing())
    return conn.execute(update(ComplaintSequence).where(ComplaintSequence.year == year)
                        .values(last=ComplaintSequence.last + 1).returning(ComplaintSequence.last)).scalar_one()


def _kept(attachment: NewAttachment) -> ComplaintAttachment:
    """Store the file (under a generated name) and its metadata row. A filing rolled back afterwards leaves the
    stored file without a row: nothing links to it, and nothing serves it."""
    key = storage().put(attachment.data, suffix=attachment.suffix)
    return ComplaintAttachment(file_name=_plain_name(attachment.file_name), content_type=attachment.content_type,
                               size=len(attachment.data), storage_key=key)


def _plain_name(name: str) -> str:
    """The file's own name without any folder a browser sent with it, bounded: shown to people, never a path."""
    plain = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return plain[:255] or "attachment"


# --- reading --------------------------------------------------------------------------------------------------


def get_complaint(company_id: int, number: str) -> ComplaintView:
    """One of the company's complaints (its number in any case); NotFound for another company's or an unknown one."""
    complaint = _stored(number)
    if complaint is None or complaint.company_id != company_id:
        raise NotFound(f"No complaint {number}.")
    return view(complaint)


def list_complaints(company_id: int, limit: int = 20,
                    cursor: tuple[datetime, int] | None = None) -> list[Listed]:
    """The company's complaints, newest first, after `cursor` (the last one's filed_at and id): `limit` of them."""
    stmt = (select(Complaint).where(Complaint.company_id == company_id)
            .options(selectinload(Complaint.lots))
            .order_by(Complaint.filed_at.desc(), Complaint.id.desc()).limit(limit))
    if cursor is not None:
        at, last_id = cursor
        stmt = stmt.where((Complaint.filed_at < at) | ((Complaint.filed_at == at) & (Complaint.id < last_id)))
    return [Listed(view(c, with_attachments=False), (c.filed_at, c.id)) for c in db.session.scalars(stmt)]


@dataclass(frozen=True, slots=True)
class Listed:
    """A complaint of a list, with the sort key that the next page's cursor is made of (its filed_at and id)."""

    complaint: ComplaintView
    key: tuple[datetime, int]


def _stored(number: str, *, lock: bool = False) -> Complaint | None:
    if rules.parse_number(number) is None:
        return None
    stmt = (select(Complaint).where(Complaint.number == number.strip().upper())
            .options(selectinload(Complaint.lots), selectinload(Complaint.attachments)))
    if lock:
        stmt = stmt.with_for_update(of=Complaint).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def view(complaint: Complaint, *, with_attachments: bool = True) -> ComplaintView:
    signed_by = (f"{complaint.signer_name} ({complaint.signer_email})" if complaint.signer_name
                 else complaint.signer_email)
    return ComplaintView(
        complaint.number, complaint.status, complaint.order_number, complaint.sku,
        tuple(lot.lot_number for lot in complaint.lots), complaint.category, complaint.description,
        complaint.filed_at, complaint.filed_by, complaint.resolution, complaint.root_cause,
        complaint.corrective_action, complaint.preventive_action, complaint.closed_at, signed_by,
        complaint.signature_meaning, complaint.recalled_lot_number,
        tuple(AttachmentView(a.id, a.file_name, a.content_type, a.size) for a in complaint.attachments)
        if with_attachments else ())


# --- the quality unit -----------------------------------------------------------------------------------------

QUEUE_CLOSED = 50  # the latest closed complaints shown below the open ones


def queue() -> list[tuple[ComplaintView, str]]:
    """The quality queue: every open and investigating complaint, oldest first, then the latest closed ones; each
    with its company's name (two statements and one for their lots)."""
    columns = (select(Complaint, Company.name).join(Company, Company.id == Complaint.company_id)
               .options(selectinload(Complaint.lots)))
    waiting = db.session.execute(columns.where(Complaint.status != ComplaintStatus.CLOSED).order_by(
        case((Complaint.status == ComplaintStatus.OPEN, 0), else_=1), Complaint.filed_at, Complaint.id)).all()
    closed = db.session.execute(columns.where(Complaint.status == ComplaintStatus.CLOSED)
                                .order_by(Complaint.filed_at.desc(), Complaint.id.desc()).limit(QUEUE_CLOSED)).all()
    return [(view(c, with_attachments=False), name) for c, name in [*waiting, *closed]]


def staff_complaint(number: str) -> StaffComplaint:
    """A complaint for the quality unit, with every other complaint on any of its lots; NotFound if unknown."""
    complaint = _stored(number)
    if complaint is None:
        raise NotFound(f"No complaint {number}.")
    batch_ids = [lot.batch_id for lot in complaint.lots]
    others = db.session.scalars(
        select(Complaint).where(Complaint.id.in_(select(ComplaintLot.complaint_id)
                                                 .where(ComplaintLot.batch_id.in_(batch_ids))),
                                Complaint.id != complaint.id)
        .options(selectinload(Complaint.lots)).order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    ).all() if batch_ids else []
    company = db.session.scalar(select(Company.name).where(Company.id == complaint.company_id))
    return StaffComplaint(view(complaint), company or "", tuple(view(c, with_attachments=False) for c in others))


def attachment(number: str, attachment_id: int) -> tuple[AttachmentView, bytes]:
    """An attachment of a complaint and its bytes (the quality unit downloads it); NotFound if either is unknown."""
    found = db.session.scalar(select(ComplaintAttachment).join(Complaint).where(
        ComplaintAttachment.id == attachment_id, Complaint.number == (number or "").strip().upper()))
    if found is None:
        raise NotFound(f"Complaint {number} has no attachment {attachment_id}.")
    try:
        data = storage().get(found.storage_key)
    except StoredFileMissing:
        raise NotFound(f"The file of attachment {attachment_id} is missing from storage.") from None
    return AttachmentView(found.id, found.file_name, found.content_type, found.size), data


def save_investigation(number: str, root_cause: object, corrective_action: object, preventive_action: object,
                       staff: StaffUser) -> ComplaintView:
    """Record the investigation's findings (each may be written in several sittings); the first save moves an open
    complaint to investigating and tells its buyer. InvalidInput (too long) or IllegalTransition (closed) change
    nothing. The caller commits."""
    texts = {"root_cause": root_cause, "corrective_action": corrective_action,
             "preventive_action": preventive_action}
    errors = rules.capa_errors(texts, required=())
    if errors:
        raise InvalidInput(errors)
    complaint = _locked(number)
    if complaint.status == ComplaintStatus.CLOSED:
        raise IllegalTransition(f"Complaint {complaint.number} is closed; its investigation cannot change.")
    for name, value in texts.items():
        setattr(complaint, name, str(value or "").strip())
    complaint.investigated_by_id = staff.id
    complaint.updated_at = utcnow()
    starts = complaint.status == ComplaintStatus.OPEN
    if starts:
        complaint.status = ComplaintStatus.INVESTIGATING
    audit(staff, "complaint.investigated", f"complaint {complaint.number}",
          "Investigation started." if starts else "Investigation updated.")
    db.session.flush()
    if starts:
        _announce(complaint)
    return view(complaint)


def closing_meaning(number: str) -> str:
    """The statement a quality user assents to when closing a complaint."""
    return (f"I close complaint {number}: its investigation is complete, and its root cause, corrective and "
            "preventive actions and resolution are as recorded.")


@dataclass(frozen=True, slots=True)
class ClosingSignature:
    """A verified signature on a complaint's close (made by `sign_close`)."""

    staff_id: int
    name: str
    email: str
    number: str
    meaning: str
    signed_at: datetime

    @property
    def record(self) -> str:
        signer = f"{self.name} ({self.email})" if self.name else self.email
        return f"Signed by {signer} at {self.signed_at:%Y-%m-%d %H:%M:%S} UTC: “{self.meaning}”"


def sign_close(staff: StaffUser | None, password: str, number: str, *, confirmed: bool) -> ClosingSignature:
    """Sign the close of a complaint as a release is signed (quality.signatures: the quality role, the password
    again, throttled, and assent to the meaning); raises signatures.SignatureRefused. Nothing is written."""
    statement = closing_meaning(number)
    signer = signatures.check_signer(staff, password, CLOSE, statement, confirmed=confirmed)
    return ClosingSignature(signer.id, signer.name, signer.email, number, statement, utcnow())


def record_refusal(staff_id: int, number: str) -> None:
    """Audit a wrong password given to close a complaint; the caller commits."""
    audit(staff_id, "signature.refused", f"complaint {number}", f"Wrong password when signing: {CLOSE}")


def close_complaint(number: str, fields: dict[str, object], signature: ClosingSignature) -> ComplaintView:
    """Close an investigated complaint, signed, with its resolution (what the buyer reads) and the complete CAPA
    (`fields`: root_cause, corrective_action, preventive_action, resolution); tells the buyer. InvalidInput (a
    missing text) or IllegalTransition (not investigating) change nothing. The caller commits."""
    if signature.number.upper() != number.strip().upper():  # a programming error: the view signs what it closes
        raise ValueError(f"closing complaint {number} needs its own signature")
    complaint = _locked(number)
    if not rules.may_move(complaint.status, ComplaintStatus.CLOSED):
        raise IllegalTransition(f"Complaint {complaint.number} is {complaint.status}; only a complaint under "
                                "investigation can be closed (save the investigation first).")
    required = ("root_cause", "corrective_action", "preventive_action", "resolution")
    errors = rules.capa_errors({name: fields.get(name) for name in required}, required=required)
    if errors:
        raise InvalidInput(errors)
    for name in required:
        setattr(complaint, name, str(fields[name]).strip())
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_by_id, complaint.closed_at = signature.staff_id, signature.signed_at
    complaint.signer_name, complaint.signer_email = signature.name, signature.email
    complaint.signature_meaning = signature.meaning
    complaint.updated_at = signature.signed_at
    audit(signature.staff_id, "complaint.closed", f"complaint {complaint.number}", signature.record)
    db.session.flush()
    _announce(complaint)
    return view(complaint)


def recall_opened(number: str, lot_number: str, at: datetime) -> None:
    """Record on a complaint that the recall of one of its lots was signed (in the recall's transaction); NotFound
    or InvalidInput (not one of its lots) change nothing."""
    complaint = _locked(number)
    lot = next((lot.lot_number for lot in complaint.lots if lot.lot_number.lower() == lot_number.lower()), None)
    if lot is None:
        raise InvalidInput({"complaint": [f"Lot {lot_number} is not a lot of complaint {complaint.number}."]})
    complaint.recalled_lot_number, complaint.recalled_at = lot, at
    db.session.flush()


def _locked(number: str) -> Complaint:
    complaint = _stored(number, lock=True)
    if complaint is None:
        raise NotFound(f"No complaint {number}.")
    return complaint


def _announce(complaint: Complaint) -> None:
    """complaint.updated to the company (its endpoints), its e-mail to the member who filed it."""
    data = view(complaint, with_attachments=False).data()
    outbox.announce(outbox.Event("complaint.updated", data, complaint.customer_id, complaint.number))
