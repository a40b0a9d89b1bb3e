"""Complaints and their CAPA: a buyer files a complaint on an order line (and so on the lots the line drew), the
quality unit investigates it (root cause, corrective and preventive action) and closes it signed, as a release is
signed; a complaint can lead to a recall of its lot. Above quality (signatures, recall), below reporting.

Reading order: `rules` (numbering, categories, the allowed transitions: pure), `models`, `service` (the use
cases: file, investigate, close; the read models that the pages, the API and the events share)."""
