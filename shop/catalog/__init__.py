"""The catalog: products (grades) and their specifications, pack sizes, price breaks, contract price lists and
the price rule (`tiers`) that every page, the API and orders apply."""
