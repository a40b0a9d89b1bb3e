"""Complaints for the quality unit: the queue (open and investigating first, oldest first), one page per complaint
with every other complaint on its lots, its attachments, the investigation (CAPA) and the signed close, and the
way to a recall of its lot."""
from __future__ import annotations

from io import BytesIO

from flask import flash, redirect, render_template, send_file, url_for
from sqlalchemy import select

from shop.accounts.models import StaffRole
from shop.complaints import service
from shop.inventory.models import Batch, BatchStatus
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.quality import release
from shop.quality.signatures import SignatureRefused
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import CloseComplaintForm, InvestigationForm
from shop.staff.helpers import or_404, show_errors


@bp.get("/complaints")
@role_required(StaffRole.QUALITY)
def complaints():
    """The quality queue: open complaints, then those under investigation, each oldest first; then the latest
    closed ones."""
    return render_template("staff/complaints.html", complaints=service.queue())


def _page(number: str, *, investigation=None, close=None, status: int = 200):
    found = or_404(service.staff_complaint, number)
    complaint = found.complaint
    if investigation is None:
        investigation = InvestigationForm(formdata=None, data={
            "root_cause": complaint.root_cause, "corrective_action": complaint.corrective_action,
            "preventive_action": complaint.preventive_action})
    close = (close or CloseComplaintForm(formdata=None)).state(service.closing_meaning(complaint.number))
    # Each lot's status: a recall is offered for a released lot only; a recalled one links its recall.
    statuses = dict(db.session.execute(select(Batch.lot_number, Batch.status)
                                       .where(Batch.lot_number.in_(complaint.lot_numbers))).all())
    refusals = {lot: release.status_refusal(lot, status, BatchStatus.RELEASED, "recalled")
                for lot, status in statuses.items()}
    return render_template("staff/complaint.html", found=found, complaint=complaint, investigation=investigation,
                           close=close, lot_statuses=statuses, recall_refusals=refusals), status


@bp.get("/complaints/<number>")
@role_required(StaffRole.QUALITY)
def complaint(number: str):
    """One complaint: what the buyer filed, every other complaint on the same lots, the investigation and the
    signed close."""
    return _page(number)


@bp.post("/complaints/<number>/investigation")
@role_required(StaffRole.QUALITY)
def save_investigation(number: str):
    """Save the root cause, corrective and preventive action; the first save starts the investigation (the buyer
    is told)."""
    form = InvestigationForm()
    if not form.validate_on_submit():
        return _page(number, investigation=form, status=422)
    try:
        saved = run_in_transaction(service.save_investigation, number, form.root_cause.data,
                                   form.corrective_action.data, form.preventive_action.data, current_staff())
    except InvalidInput as exc:
        for message in show_errors(form, exc.errors):
            flash(message, "error")
        return _page(number, investigation=form, status=422)
    except DomainError as exc:
        or_404(service.staff_complaint, number)
        flash(exc.message, "error")
        return redirect(url_for("staff.complaint", number=number))
    flash(f"Investigation of complaint {saved.number} saved; it is {saved.status}.", "success")
    return redirect(url_for("staff.complaint", number=saved.number))


@bp.post("/complaints/<number>/close")
@role_required(StaffRole.QUALITY, admin_may=False)
def close_complaint(number: str):
    """Close the complaint with its resolution, signed as a release is (the password again, the meaning, the
    signer's name and time); a refused signature or a missing text is shown beside its field, and nothing
    changes."""
    found = or_404(service.staff_complaint, number)
    form = CloseComplaintForm()
    if not form.validate_on_submit():
        return _page(number, close=form, status=422)
    staff, complaint = current_staff(), found.complaint
    try:
        signature = service.sign_close(staff, form.password.data or "", complaint.number,
                                       confirmed=bool(form.confirm.data))
    except SignatureRefused as exc:
        if exc.wrong_password:
            run_in_transaction(service.record_refusal, staff.id, complaint.number)
        show_errors(form, exc.errors)
        return _page(number, close=form, status=422)
    texts = {"root_cause": complaint.root_cause, "corrective_action": complaint.corrective_action,
             "preventive_action": complaint.preventive_action, "resolution": form.resolution.data}
    try:
        closed = run_in_transaction(service.close_complaint, complaint.number, texts, signature)
    except InvalidInput as exc:
        form.form_errors.extend(show_errors(form, exc.errors))
        return _page(number, close=form, status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.complaint", number=complaint.number))
    flash(f"Complaint {closed.number} closed. {closed.signature_meaning}", "success")
    return redirect(url_for("staff.complaint", number=closed.number))


@bp.get("/complaints/<number>/attachments/<id:attachment_id>")
@role_required(StaffRole.QUALITY)
def complaint_attachment(number: str, attachment_id: int):
    """An attachment of the complaint, always downloaded (never shown inline), as the type its content proved."""
    found, data = or_404(service.attachment, number, attachment_id)
    return send_file(BytesIO(data), mimetype=found.content_type, as_attachment=True, download_name=found.file_name,
                     max_age=0)
