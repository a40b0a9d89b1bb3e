"""Storefront forms (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.accounts.companies import MAX_INVITEE_NAME
from shop.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from shop.events.types import EVENT_TYPES
from shop.ordering.checks import ADDRESS_FIELDS, MAX_LINE_QUANTITY, MAX_PURCHASE_ORDER, MAX_SHELF_LIFE_DAYS
from shop.platform.countries import country_choices
from shop.platform.form_fields import WholeNumberField


class RegisterForm(FlaskForm):
    """Asking for an account: the link that opens it goes to the address (accounts.registration)."""
    company = StringField("Company", validators=[DataRequired("The company name is required."), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired("An email address is required."), Length(max=254)])


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class AddToCartForm(FlaskForm):
    sku = HiddenField(validators=[DataRequired()])
    quantity = WholeNumberField("Quantity (units)", default=1,
                            validators=[InputRequired("Enter a number of units."),
                                        NumberRange(1, MAX_LINE_QUANTITY,
                                                    f"Enter a whole number of units from 1 to {MAX_LINE_QUANTITY:,}.")])


class UpdateCartForm(FlaskForm):
    sku = HiddenField(validators=[DataRequired()])
    # 0 removes the line, like the Remove button.
    quantity = WholeNumberField("Quantity", validators=[
        InputRequired("Enter a number of units."),
        NumberRange(0, MAX_LINE_QUANTITY, f"Enter a whole number of units from 0 to {MAX_LINE_QUANTITY:,}.")])


class ShippingAddressForm(FlaskForm):
    """Where goods go: the checkout's address, a quote's acceptance's and a sample request's."""

    name = StringField("Recipient or company", validators=[DataRequired("Who receives the goods?"),
                                                           Length(max=ADDRESS_FIELDS["name"])])
    line1 = StringField("Address line 1", validators=[DataRequired("The street address is required."),
                                                      Length(max=ADDRESS_FIELDS["line1"])])
    line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=ADDRESS_FIELDS["line2"])])
    city = StringField("City", validators=[DataRequired("The city is required."), Length(max=ADDRESS_FIELDS["city"])])
    postal_code = StringField("Postal code", validators=[DataRequired("The postal code is required."),
                                                         Length(max=ADDRESS_FIELDS["postal_code"])])
    # A callable: the sorted list is made on first use, not when this module is imported.
    country = SelectField("Country", choices=lambda: list(country_choices()),
                          validators=[DataRequired("Choose the country.")])

    def address(self) -> dict[str, str]:
        return {f: (getattr(self, f).data or "").strip()
                for f in ("name", "line1", "line2", "city", "postal_code", "country")}


class CheckoutForm(ShippingAddressForm):
    token = HiddenField()
    # The VAT rate the page showed, and for which country: "DE 19.00" (storefront.cart._vat_shown).
    vat_shown = HiddenField()
    purchase_order = StringField("Your purchase-order reference (optional)",
                                 validators=[Optional(), Length(max=MAX_PURCHASE_ORDER)])
    min_remaining_shelf_life_days = WholeNumberField(
        "Minimum remaining shelf life in days (optional)",
        validators=[Optional(), NumberRange(0, MAX_SHELF_LIFE_DAYS,
                                            f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}.")])

    single_lot = BooleanField("Ship each line from one lot")
    allow_backorder = BooleanField("Ship what is in stock now, the rest when it is made")


ANY_LOT = SelectChoice("", "Any lot (first expiry first)")
MAX_LOT_NUMBER = 40  # inventory.models.Batch.lot_number


class LineLotForm(FlaskForm):
    """One checkout line's lot: any (first expiry first), or the same lot as an earlier order. Made per line with
    `prefix=line_lot_prefix(sku)` inside the checkout form, whose CSRF token covers it. The choices offered are
    the lots the company's earlier orders drew from that still have stock; a lot sold out meanwhile is still
    sent on, for the order service to say what happened to it (so the choice is not checked against them)."""

    class Meta:
        csrf = False

    lot_number = SelectField("Same lot as order …", choices=[ANY_LOT], validate_choice=False,
                             validators=[Optional(), Length(max=MAX_LOT_NUMBER, message="Choose a lot from the list.")])


def line_lot_prefix(sku: str) -> str:
    return f"lot-{sku}"


class WebhookEndpointForm(FlaskForm):
    url = StringField("Endpoint URL (https)", validators=[DataRequired(), Length(max=2000)])
    events = SelectMultipleField("Events to send",
                                 choices=[SelectChoice("*", "Every event")] + [SelectChoice(t) for t in EVENT_TYPES],
                                 default=["*"], validators=[DataRequired(message="Choose at least one event.")],
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    description = StringField("Description (optional)", validators=[Optional(), Length(max=200)])


ROLE_CHOICES = [SelectChoice("buyer", "Buyer: orders"),
                SelectChoice("approver", "Approver: also approves orders above the threshold"),
                SelectChoice("admin", "Admin: also manages members and API keys")]
KEY_ROLE_CHOICES = [*ROLE_CHOICES[:2], SelectChoice("admin", "Admin: also manages the webhook endpoints")]


class CompanyForm(FlaskForm):
    """Every field is checked by accounts.companies.update_details, all at once (a required name, lengths, the VAT
    ID, a billing address whole or empty): the form checks none itself, so that no mistake waits behind another."""

    name = StringField("Legal name")
    vat_id = StringField("VAT ID (optional, with its country prefix)")
    billing_line1 = StringField("Billing address line 1")
    billing_line2 = StringField("Billing address line 2 (optional)")
    billing_city = StringField("City")
    billing_postal_code = StringField("Postal code")
    billing_country = SelectField("Country", choices=lambda: list(country_choices()), validate_choice=False)

    def billing(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in (
            "billing_line1", "billing_line2", "billing_city", "billing_postal_code", "billing_country")}


class InviteForm(FlaskForm):
    email = EmailField("Email of the person to invite",
                       validators=[DataRequired("An email address is required."), Length(max=254)])
    name = StringField("Name (optional)", validators=[Optional(), Length(max=MAX_INVITEE_NAME)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="buyer")


class MemberRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ApiKeyForm(FlaskForm):
    name = StringField("Name (what uses the key, such as 'ERP')",
                       validators=[DataRequired("Name the key, to recognise it later."), Length(max=100)])
    role = SelectField("Acts as", choices=KEY_ROLE_CHOICES, default="buyer")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AcceptQuoteForm(ShippingAddressForm):
    """Accept a quote into an order: where it goes and the buyer's reference; `token` makes a form sent twice
    one order."""

    token = HiddenField()
    purchase_order = StringField("Your purchase-order reference (optional)",
                                 validators=[Optional(), Length(max=MAX_PURCHASE_ORDER)])


class SetPasswordForm(FlaskForm):
    """A new password, twice (joining by invitation, a reset link); ChangePasswordForm adds the current one."""
    # The rules themselves live in accounts.passwords; this only tells the label.
    password = PasswordField(f"New password (at least {MIN_PASSWORD_LENGTH} characters)",
                             validators=[DataRequired("Choose a password.")])
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired("Repeat the password."),
                                        EqualTo("password", "The two passwords differ.")])


class OpenAccountForm(SetPasswordForm):
    """The page a registration link opens: the company's name asked for (to be checked) and a password."""
    company = StringField("Company", validators=[DataRequired("The company name is required."), Length(max=200)])


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                      Length(max=MAX_PASSWORD_LENGTH)])


class ResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])


class DecisionForm(FlaskForm):
    note = StringField("Note to the buyer (optional)", validators=[Optional(), Length(max=500)])
