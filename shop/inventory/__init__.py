"""Inventory: lots and their stock per pack size, the ledger of stock movements (`ledger`, the one writer of
stock levels and movements: every area changes stock through it), and what can be sold (`availability`, the one
rule for a sellable lot)."""
