"""Flask-WTF forms of the staff pages (CSRF on every POST; GET filter forms carry no token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shop.accounts.models import StaffRole
from shop.accounts.passwords import MIN_PASSWORD_LENGTH
from shop.catalog.models import SpecTest, Variant
from shop.documents.rules import DocumentKind
from shop.documents.service import TITLE_MAX, VERSION_MAX
from shop.events.types import EVENT_TYPES
from shop.fulfilment.picking import Held, LineHolding, shippable
from shop.inventory.models import DateKind, MovementKind
from shop.ordering.models import OrderStatus
from shop.platform.bounds import INT_MAX, MAX_DATE, MIN_DATE, is_plain_date, is_row_id
from shop.platform.form_fields import WholeNumberField


def plain_date(form: FlaskForm, field: DateField) -> None:
    """A date people can mean (a year from 1900 to 2999), so that filtering up to it cannot overflow."""
    if field.data is not None and not is_plain_date(field.data):
        raise ValidationError(f"Enter a date from {MIN_DATE.year} to {MAX_DATE.year}.")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""


class StaffRolesForm(FlaskForm):
    """The roles a staff user holds, a check box each (made with a prefix per user: several on one page)."""

    # Not checked against the choices here: the service names an unknown role beside the field.
    roles = SelectMultipleField("Roles", choices=[SelectChoice(r.value) for r in StaffRole], validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class SetPasswordForm(FlaskForm):
    """A new password, twice (a reset link); ChangePasswordForm adds the current one."""
    password = PasswordField(f"New password (at least {MIN_PASSWORD_LENGTH} characters, not easy to guess)",
                             validators=[DataRequired()])
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", "The two passwords differ.")])
    submit = SubmitField("Set new password")


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Change password")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")


def _trimmed(value):
    """A filter's choice without surrounding spaces: a hand-typed `?status=%20` is the blank "Any" choice (a
    SelectField's Optional() lets blank text through unchecked, and no status or outcome is named ' ')."""
    return value.strip() if isinstance(value, str) else value


class FilterForm(FlaskForm):
    """Base of the GET filter forms: bookmarkable URLs, so no CSRF token (they change nothing)."""

    class Meta:
        csrf = False


class DashboardForm(FilterForm):
    days = WholeNumberField("Lots expiring within (days)", default=90,
                        validators=[Optional(), NumberRange(min=0, max=3650)])
    submit = SubmitField("Show")


class ChooseProductForm(FilterForm):
    product = SelectField("Product", validators=[DataRequired()])
    submit = SubmitField("Choose product")


class ReceiveForm(FlaskForm):
    product = HiddenField()
    lot_number = StringField("Lot number", validators=[DataRequired(), Length(max=40)])
    manufactured_on = DateField("Manufactured on", validators=[InputRequired(), plain_date])
    expires_on = DateField("Expiry or retest date", validators=[InputRequired(), plain_date])
    # Checked by default, so it is always sent; a post without it (a script) means an expiry date.
    date_kind = RadioField("The date above is the lot's", default=DateKind.EXPIRY.value,
                           choices=[SelectChoice(DateKind.EXPIRY.value, "Expiry date"),
                                    SelectChoice(DateKind.RETEST.value, "Retest date")])
    submit = SubmitField("Receive lot")


def receive_form(variants: list[Variant], **kwargs) -> ReceiveForm:
    """The receipt form with one units field per pack size of the chosen product."""
    class Form(ReceiveForm):
        pass

    for v in variants:
        size = format(v.pack_size_kg.normalize(), "f")
        setattr(Form, f"units_{v.id}", WholeNumberField(f"{v.sku} ({size} kg packs): units", default=0,
                                                    validators=[Optional(), NumberRange(min=0, max=1_000_000)]))
    return Form(**kwargs)


class ResultsForm(FlaskForm):
    check = SubmitField("Check results")  # judges the values and shows pass or fail; saves nothing
    submit = SubmitField("Save results")


QUALITATIVE_CHOICES = [SelectChoice("", "— not recorded —"), SelectChoice("conforms"), SelectChoice("does not conform")]


def results_form(tests: list[SpecTest], **kwargs) -> ResultsForm:
    """One field per specification test: a number, or conforms / does not conform."""
    class Form(ResultsForm):
        pass

    for t in tests:
        if t.qualitative:
            field = SelectField(t.name, choices=QUALITATIVE_CHOICES, validators=[Optional()])
        else:  # no strip filter: ' 12 ' is refused by the result rules, not silently trimmed
            field = StringField(t.name, validators=[Optional(), Length(max=60)],
                                render_kw={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"})
        setattr(Form, f"result_{t.id}", field)
    return Form(**kwargs)


class SignForm(FlaskForm):
    """An electronic signature: assent to the stated meaning (the checkbox's label, set per lot) and the
    password again. Both are checked by quality.signatures, whose messages appear beside these fields."""

    confirm = BooleanField("I sign this decision.")
    password = PasswordField("Your password, to sign", validators=[Length(max=200)],
                             render_kw={"autocomplete": "current-password"})

    def state(self, meaning: str) -> SignForm:
        """Show the statement the signer assents to as the checkbox's label."""
        self.confirm.label.text = meaning
        return self


class ReleaseForm(SignForm):
    submit = SubmitField("Sign and release lot")


class RejectForm(SignForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField("Sign and reject lot")


class RecallForm(SignForm):
    reason = TextAreaField("Internal reason (staff only, never published)",
                           validators=[DataRequired("Give the reason for the recall."), Length(max=2000)])
    public_note = TextAreaField("Note to customers (published on their orders, in the API and on the CoA)",
                                validators=[DataRequired("Write what customers who received the lot are told."),
                                            Length(max=2000)])
    complaint = HiddenField()  # the complaint the recall was opened from, if any: it records the recall
    submit = SubmitField("Sign and recall lot")


class InvestigationForm(FlaskForm):
    """A complaint's investigation (CAPA); saved in as many sittings as it takes."""

    root_cause = TextAreaField("Root cause", validators=[Length(max=4000)], render_kw={"rows": 4})
    corrective_action = TextAreaField("Corrective action", validators=[Length(max=4000)], render_kw={"rows": 4})
    preventive_action = TextAreaField("Preventive action", validators=[Length(max=4000)], render_kw={"rows": 4})
    submit = SubmitField("Save investigation")


class CloseComplaintForm(SignForm):
    resolution = TextAreaField("Resolution (the buyer reads it on the complaint and in the e-mail)",
                               validators=[DataRequired("Write the resolution the buyer reads."), Length(max=4000)],
                               render_kw={"rows": 4})
    submit = SubmitField("Sign and close complaint")


class OnRequestForm(FlaskForm):
    on_request = HiddenField()  # '1' marks the lot, '0' sells it first-expired-first-out again


class AdjustForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice(MovementKind.ADJUSTMENT.value, "Adjustment (count correction)"),
                                        SelectChoice(MovementKind.SCRAP.value, "Scrap (damaged, destroyed)")])
    delta = WholeNumberField("Change in units (negative takes units away)",
                         validators=[InputRequired(message="Enter a whole number of units."),
                                     NumberRange(-INT_MAX, INT_MAX, "Enter a whole number of units.")])
    reason = TextAreaField("Reason", validators=[DataRequired(message="A reason is required for every adjustment."),
                                                 Length(max=2000)])
    submit = SubmitField("Record adjustment")


class LedgerFilterForm(FilterForm):
    lot = StringField("Lot number", validators=[Optional(), Length(max=40)])
    sku = StringField("SKU", validators=[Optional(), Length(max=40)])
    date_from = DateField("From", validators=[Optional(), plain_date])
    date_to = DateField("To", validators=[Optional(), plain_date])
    submit = SubmitField("Filter ledger")


class OrderFilterForm(FilterForm):
    status = SelectField("Status", choices=[SelectChoice("", "Any status")]
                         + [SelectChoice(s.value, s.value.replace("_", " ").capitalize()) for s in OrderStatus],
                         validators=[Optional()], filters=[_trimmed])
    customer = StringField("Customer (email or company)", validators=[Optional(), Length(max=200)])
    date_from = DateField("Placed from", validators=[Optional(), plain_date])
    date_to = DateField("Placed to", validators=[Optional(), plain_date])
    attention = BooleanField("Needs attention only")
    submit = SubmitField("Filter orders")


class AuditFilterForm(FilterForm):
    action = StringField("Action (or its start, e.g. batch.)", validators=[Optional(), Length(max=60)],
                         render_kw={"list": "audit-actions"})
    subject = StringField("Subject (lot or order number)", validators=[Optional(), Length(max=120)])
    staff = StringField("Staff email", validators=[Optional(), Length(max=254)])
    date_from = DateField("From", validators=[Optional(), plain_date])
    date_to = DateField("To", validators=[Optional(), plain_date])
    submit = SubmitField("Filter audit log")


class ShipForm(FlaskForm):
    carrier = StringField("Carrier", validators=[Optional(), Length(max=60)])
    tracking_reference = StringField("Tracking reference", validators=[DataRequired(), Length(max=100)])
    submit = SubmitField("Ship these units")


EARLIEST_EXPIRY = SelectChoice("", "Earliest expiry first")


def ship_form(lines: list[LineHolding], posted: ShipForm | None = None, **kwargs) -> ShipForm:
    """The ship form with, per line holding units, the units to ship (by default all it may ship now) and a choice
    of its allocated lots (earliest expiry first by default). Quantities and lots are judged by the service
    (fulfilment.picking), which says what is wrong beside each field. Given the `posted` form (`posted_ship_form`),
    it shows what was posted with the errors found."""
    class Form(ShipForm):
        pass

    for line in lines:
        lots: dict[str, list[Held]] = {}
        for h in line.held:
            lots.setdefault(h.lot_number, []).append(h)
        setattr(Form, f"units_{line.position}", WholeNumberField(f"{line.sku}: units to ship", default=shippable(line),
                                                             validators=[Optional()]))
        setattr(Form, f"lot_{line.position}", SelectField(f"{line.sku}: from lot", default="", validate_choice=False,
                                                          choices=[EARLIEST_EXPIRY, *(
            SelectChoice(lot, _lot_label(lot, held)) for lot, held in lots.items())]))
    form = Form(**kwargs)
    if posted is not None:
        for name, posted_field in posted._fields.items():
            if name in form._fields:
                form[name].errors = list(posted_field.errors)
    return form


def posted_ship_form(positions: list[int]) -> ShipForm:
    """The ship form as posted, read without the order: the lines whose units were posted (`positions`)."""
    class Form(ShipForm):
        pass

    for p in positions:
        setattr(Form, f"units_{p}", WholeNumberField(validators=[Optional()]))
        setattr(Form, f"lot_{p}", SelectField(validate_choice=False, choices=[]))
    return Form()


def _lot_label(lot_number: str, held: list[Held]) -> str:
    units = sum(h.quantity for h in held)
    recalled = " (recalled: cannot ship)" if held[0].recalled else ""
    return f"{lot_number}: {units} allocated, {held[0].expires_on.isoformat()}{recalled}"


class CancelForm(FlaskForm):
    reason = StringField("Reason for cancelling (optional)", validators=[Optional(), Length(max=500)])
    submit = SubmitField("Cancel order…")  # leads to a page that says what will happen, and asks to confirm


class HandAllocationForm(FlaskForm):
    position = HiddenField(validators=[InputRequired()])
    lot_number = SelectField("Lot", validators=[InputRequired("Choose a lot.")])
    quantity = WholeNumberField("Units", validators=[InputRequired("Enter a number of units."),
                                                 NumberRange(min=1, max=1_000_000)])
    submit = SubmitField("Allocate by hand")


class AttentionForm(FlaskForm):
    note = TextAreaField("What was done about it",
                         validators=[DataRequired(message="A note is required: say what was done about the order."),
                                     Length(max=2000)])
    submit = SubmitField("Mark as handled")


class TraceSearchForm(FilterForm):
    lot = StringField("Lot number", validators=[Optional(), Length(max=40)])
    order = StringField("Order number", validators=[Optional(), Length(max=20)])
    submit = SubmitField("Trace")


class CustomerFilterForm(FilterForm):
    q = StringField("Email or company contains", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Find customers")


class EventFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    customer = StringField("Customer (email or company)", validators=[Optional(), Length(max=200)])
    type = SelectField("Event type", choices=[SelectChoice("", "Any type"), SelectChoice("ping")]
                       + [SelectChoice(t) for t in EVENT_TYPES], validators=[Optional()], filters=[_trimmed])
    outcome = SelectField("Outcome", choices=[SelectChoice("", "Any outcome"), SelectChoice("delivered"),
                                              SelectChoice("pending", "pending (retrying)"), SelectChoice("failed"),
                                              SelectChoice("none", "no endpoint")], validators=[Optional()],
                          filters=[_trimmed])
    submit = SubmitField("Filter events")


class CompanyFilterForm(FilterForm):
    q = StringField("Company name starts with", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Find companies")


class CompanyTermsForm(FlaskForm):
    payment_terms = StringField("Payment terms (prepaid, or net_<days> such as net_30)",
                                validators=[DataRequired("Payment terms are required."), Length(max=12)])
    credit_limit = StringField("Credit limit (empty: none)", validators=[Optional(), Length(max=20)])
    approval_threshold = StringField("Approval threshold: orders by a buyer above this total wait for an approver "
                                     "(empty: none)", validators=[Optional(), Length(max=20)])


class PriceListForm(FlaskForm):
    name = StringField("Name of the list", validators=[DataRequired("Name the list."), Length(max=100)])
    valid_from = DateField("Valid from (empty: always)", validators=[Optional(), plain_date])
    valid_to = DateField("Valid to, inclusive (empty: open-ended)", validators=[Optional(), plain_date])
    csv_file = FileField("CSV file (columns sku,min_quantity,unit_price)",
                         validators=[FileRequired("Choose the CSV file to import.")])


class ReplacePriceListForm(FlaskForm):
    valid_from = DateField("Valid from (empty: always)", validators=[Optional(), plain_date])
    valid_to = DateField("Valid to, inclusive (empty: open-ended)", validators=[Optional(), plain_date])
    csv_file = FileField("CSV file replacing the prices", validators=[FileRequired("Choose the CSV file.")])


class DocumentForm(FlaskForm):
    """A new version of a product's document: the product's choices are set by the view (every product)."""

    # Not checked against the choices here: the service names an unknown product or kind beside the field.
    product = SelectField("Product", validate_choice=False,
                          validators=[InputRequired("Choose the product the document belongs to.")])
    kind = SelectField("Kind of document", validate_choice=False,
                       choices=[SelectChoice("", "Choose a kind…")] + [SelectChoice(k.value, k.label)
                                                                         for k in DocumentKind],
                       validators=[DataRequired("Choose the kind of document.")])
    title = StringField("Title", validators=[DataRequired("Give the document a title."), Length(max=TITLE_MAX)])
    version = StringField("Version", validators=[DataRequired("Give the version, as the document names it."),
                                                 Length(max=VERSION_MAX)])
    issued_on = DateField("Issued on", validators=[InputRequired("Enter the day the document was issued."),
                                                   plain_date])
    valid_until = DateField("Valid until (last valid day; empty for a document without an end)",
                            validators=[Optional(), plain_date])
    file = FileField("PDF file", validators=[FileRequired("Choose the PDF file to upload.")],
                     render_kw={"accept": "application/pdf,.pdf"})
    submit = SubmitField("Upload document")


class InvoiceFilterForm(FilterForm):
    company = SelectField("Company", choices=[SelectChoice("", "Any company")], validate_choice=False,
                          validators=[Optional()], filters=[_trimmed])
    status = SelectField("Status", choices=[SelectChoice("", "Any status"), SelectChoice("open", "Open"),
                                            SelectChoice("paid", "Paid"), SelectChoice("credited", "Credited")],
                         validators=[Optional()])
    overdue = BooleanField("Overdue only")
    submit = SubmitField("Filter invoices")

    def validate_company(self, field: SelectField) -> None:
        if field.data and not (field.data.isdigit() and field.data.isascii() and is_row_id(int(field.data))):
            raise ValidationError("Choose a company from the list.")


class AgeingForm(FilterForm):
    on = DateField("Ageing on", validators=[Optional(), plain_date])
    submit = SubmitField("Show ageing")


class StatementForm(FilterForm):
    date_from = DateField("From", validators=[Optional(), plain_date])
    date_to = DateField("To", validators=[Optional(), plain_date])
    submit = SubmitField("Show statement")

    def validate_date_to(self, field: DateField) -> None:
        if field.data is not None and self.date_from.data is not None and field.data < self.date_from.data:
            raise ValidationError("Choose a day on or after the first day (From).")


class PaymentForm(FlaskForm):
    """A payment against an invoice: the amount as typed (the service refuses what it cannot read exactly)."""

    amount = StringField("Amount received", validators=[Length(max=40)], render_kw={"inputmode": "decimal"})
    paid_on = DateField("Received on", validators=[Optional(), plain_date])
    reference = StringField("Bank reference", validators=[Length(max=140)])
    submit = SubmitField("Record payment")


class RefundForm(FlaskForm):
    """Money paid back to the buyer: the amount as typed, as a payment's."""

    amount = StringField("Amount refunded", validators=[Length(max=40)], render_kw={"inputmode": "decimal"})
    paid_on = DateField("Paid out on", validators=[Optional(), plain_date])
    reference = StringField("Bank reference", validators=[Length(max=140)])
    submit = SubmitField("Record refund")


class CreditNoteForm(FlaskForm):
    """A credit note of the whole invoice, or of the units typed per line (fields `quantity_<position>`, read from
    the request beside this form: one per invoice line)."""

    whole = BooleanField("Credit everything not yet credited")
    submit = SubmitField("Issue credit note")
