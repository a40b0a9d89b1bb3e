"""Invoicing: what a buyer owes and pays. VAT rules and rates, invoices and credit notes with gap-free yearly
numbers (issued, never changed), payments, and the Factur-X e-invoice of each document.

This area knows orders only by id and number: the areas above it (ordering, fulfilment) decide when a document
is issued and hand over its lines; this one numbers, totals, stores and renders it."""
