"""Inventory: lots and their stock per pack size, the ledger of stock movements, and what can be sold
(`availability`, the one rule for a sellable lot)."""
