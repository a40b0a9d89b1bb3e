"""The domain: catalog, inventory and orders; plain values in, models out, domain errors raised."""
