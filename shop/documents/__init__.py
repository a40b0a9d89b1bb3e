"""Supplier documents: the versioned SDS, TDS, specification sheets and certificates of each product, and the
versions an order was confirmed with."""
