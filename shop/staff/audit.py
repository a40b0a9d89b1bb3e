"""The audit log: staff actions that leave no ledger row or order history (lot QC decisions, recall follow-up)."""
from __future__ import annotations

from flask import render_template, request

from shop.accounts.models import StaffRole
from shop.reporting import reports
from shop.staff import bp
from shop.staff.auth import role_required
from shop.staff.forms import AuditFilterForm
from shop.staff.helpers import filtered_page, page_link_args


@bp.get("/audit")
@role_required(StaffRole.QUALITY)
def audit_log():
    """Audit entries newest first, filtered by action, subject, staff email and date; keyset pages."""
    form = AuditFilterForm(request.args)
    page, status = filtered_page(form, lambda: reports.audit_page(
        form.action.data or "", form.subject.data or "", form.staff.data or "", form.date_from.data,
        form.date_to.data, cursor=request.args.get("cursor")))
    return render_template("staff/audit.html", form=form, page=page, actions=reports.audit_actions(),
                           args=page_link_args()), status
