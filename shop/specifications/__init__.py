"""Customer specifications: a company's own, tighter limits on a grade's numeric tests, and the lots that meet
them. Ordering draws a company's orders only from those lots; the CoA tells the company whether a lot meets
its specification. Below ordering and quality, above the lab results it judges."""
