"""Sample requests for sales: the queue (waiting requests oldest first, then the latest answered), and one page per
request to ship it from a lot (from stock, whole units of a pack size; or from the lot's retained sample) or to
decline it with a reason."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from shop.accounts.models import StaffRole
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.form_fields import WholeNumberField
from shop.platform.tx import run_in_transaction
from shop.sales import samples
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.helpers import or_404, show_errors


class ShipSampleForm(FlaskForm):
    # Choices are the request's lots and pack sizes; the service checks the values and says what is wrong.
    lot_number = SelectField("Lot", validate_choice=False)
    source = SelectField("Send it from", validate_choice=False)
    units = WholeNumberField("Units (from stock only)", validators=[
        Optional(), NumberRange(1, message="A whole number of units, at least 1.")])
    tracking_reference = StringField("Tracking reference", validators=[Length(max=samples.MAX_TRACKING)])


class DeclineSampleForm(FlaskForm):
    reason = TextAreaField("Why we cannot send it (the buyer reads this)",
                           validators=[Length(max=samples.MAX_REASON)], render_kw={"rows": 3})


def _ship_form(found: samples.StaffSample, *, formdata: bool = True) -> ShipSampleForm:
    form = ShipSampleForm() if formdata else ShipSampleForm(formdata=None)
    form.lot_number.choices = [SelectChoice("", "Choose a lot…")] + [
        SelectChoice(lot.lot_number, f"{lot.lot_number} ({lot.date_kind.dated(lot.expires_on)})")
        for lot in found.lots]
    form.source.choices = [SelectChoice(samples.RETAINED, "The lot's retained sample (grams)")] + [
        SelectChoice(sku, f"Stock: units of {sku}") for sku in found.skus]
    return form


def _page(number: str, *, ship: ShipSampleForm | None = None, decline: DeclineSampleForm | None = None,
          status: int = 200):
    found = or_404(samples.staff_sample, number)
    return render_template("staff/sample.html", found=found, sample=found.sample,
                           ship=ship or _ship_form(found, formdata=False),
                           decline=decline or DeclineSampleForm(formdata=None)), status


@bp.get("/samples")
@role_required(StaffRole.SALES)
def samples_queue():
    """The sample requests waiting for sales, oldest first; then the latest shipped or declined ones."""
    return render_template("staff/samples.html", samples=samples.sales_queue())


@bp.get("/samples/<number>")
@role_required(StaffRole.SALES)
def sample(number: str):
    """One request: what the buyer asked for, where to, and the lots of its grade to ship it from."""
    return _page(number)


@bp.post("/samples/<number>/ship")
@role_required(StaffRole.SALES)
def ship_sample(number: str):
    """Ship the sample from the chosen lot; every refusal beside its field, nothing changed."""
    found = or_404(samples.staff_sample, number)
    form = _ship_form(found)
    if not form.validate_on_submit():
        return _page(number, ship=form, status=422)
    units = form.units.data if form.source.data != samples.RETAINED else None
    try:
        shipped = run_in_transaction(samples.ship_sample, number, form.lot_number.data, form.source.data, units,
                                     form.tracking_reference.data, current_staff())
    except InvalidInput as exc:
        form.form_errors.extend(show_errors(form, exc.errors))
        return _page(number, ship=form, status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.sample", number=number))
    source = (f"{shipped.units} × {shipped.sku} from stock" if shipped.from_stock else "the retained sample")
    flash(f"Sample {shipped.number} shipped from lot {shipped.lot_number} ({source}); the buyer is told.", "success")
    return redirect(url_for("staff.sample", number=shipped.number))


@bp.post("/samples/<number>/decline")
@role_required(StaffRole.SALES)
def decline_sample(number: str):
    """Decline the request with a reason the buyer reads."""
    form = DeclineSampleForm()
    if not form.validate_on_submit():
        return _page(number, decline=form, status=422)
    try:
        declined = run_in_transaction(samples.decline_sample, number, form.reason.data, current_staff())
    except InvalidInput as exc:
        form.form_errors.extend(show_errors(form, exc.errors))
        return _page(number, decline=form, status=422)
    except DomainError as exc:
        or_404(samples.staff_sample, number)
        flash(exc.message, "error")
        return redirect(url_for("staff.sample", number=number))
    flash(f"Sample request {declined.number} declined; the buyer is told why.", "success")
    return redirect(url_for("staff.sample", number=declined.number))
