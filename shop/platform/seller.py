"""Who sells: the seller's identity from configuration, as one object for templates (`seller`) and documents."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Seller:
    """The legal identity a buyer needs to trust and to invoice: from the SELLER_* settings."""

    legal_name: str
    address: tuple[str, ...]  # postal address lines
    vat_id: str
    phone: str
    email: str
    manufacturing_site: tuple[str, ...]
    iban: str  # the account buyers pay into (SELLER_IBAN, SELLER_BIC), compact: DE89370400440532013000
    bic: str
    country: str = "DE"  # ISO 3166-1 code of where the seller sits and charges VAT from (SHOP_COUNTRY)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Seller:
        return cls(legal_name=str(config["SELLER_LEGAL_NAME"]), address=_lines(config["SELLER_ADDRESS"]),
                   vat_id=str(config["SELLER_VAT_ID"]), phone=str(config["SELLER_PHONE"]),
                   email=str(config["SELLER_EMAIL"]),
                   manufacturing_site=_lines(config["MANUFACTURING_SITE_ADDRESS"]),
                   iban=str(config["SELLER_IBAN"]), bic=str(config["SELLER_BIC"]),
                   country=str(config.get("SHOP_COUNTRY", "DE")).upper())

    @property
    def phone_uri(self) -> str:
        """The phone number as a tel: link, digits only (and a leading +)."""
        return "tel:" + "".join(c for c in self.phone if c.isdigit() or c == "+")

    @property
    def iban_grouped(self) -> str:
        """The IBAN in groups of four, as people read it: DE89 3704 0044 0532 0130 00."""
        return " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))

    @property
    def one_line_address(self) -> str:
        return ", ".join(self.address)

    @property
    def manufactures_elsewhere(self) -> bool:
        return self.manufacturing_site != self.address


def _lines(raw: object) -> tuple[str, ...]:
    """SELLER_ADDRESS and MANUFACTURING_SITE_ADDRESS hold their lines separated by ';'."""
    return tuple(line.strip() for line in str(raw).split(";") if line.strip())
