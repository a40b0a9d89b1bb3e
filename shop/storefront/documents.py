"""Product documents as downloads: every stored version of an SDS, specification sheet or certificate, to anyone
(they are what a buyer's quality department asks for before the first order)."""
from __future__ import annotations

from io import BytesIO

from flask import abort, redirect, send_file, url_for

from shop.documents import service
from shop.platform.conditional import file_etag
from shop.platform.errors import NotFound
from shop.storefront import bp


@bp.get("/documents/<id:document_id>/<file_name>")
def document_file(document_id: int, file_name: str):
    """One stored version as a PDF download, never shown inline; an outdated file name redirects to the right one."""
    try:
        document, data = service.read_file(document_id)
    except NotFound as missing:
        abort(404, description=missing.message)
    if file_name != document.file_name:
        return redirect(url_for("storefront.document_file", document_id=document_id, file_name=document.file_name),
                        301)
    # A stored version never changes: it may be kept for a day, then revalidated by its ETag (the security
    # headers add nosniff).
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=document.file_name, max_age=86400, etag=file_etag(data))
