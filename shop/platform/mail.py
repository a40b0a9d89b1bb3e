"""E-mail: `send()` renders a message from templates/email/ and hands it to the task queue after COMMIT.

For every part of the shop (orders, recalls, webhooks, companies' invitations and password resets):

    from shop import mail
    mail.send(customer.email, "Your order has shipped", "order_shipped", order=order)

renders `email/order_shipped.txt` (the plain-text part) and `email/order_shipped.html` (its HTML
alternative) with `context`, plus `absolute_url(endpoint, **values)` for links, which are absolute from
PUBLIC_BASE_URL (never the request's Host). The message leaves after the current transaction commits, so a
change that rolls back sends nothing; a worker sends it through Flask-Mailman (SMTP per the MAIL_*
settings; printed to the console when MAIL_SERVER is unset, as in development), retried when the
server does not take it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_mailman import EmailMultiAlternatives

from shop.platform.outbox import after_commit
from shop.platform.queue import hand_over


def send(to: str | list[str], subject: str, template: str, **context) -> None:
    """Render `email/<template>.html` and `.txt` and send them to `to` once the current transaction commits."""
    recipients = [to] if isinstance(to, str) else list(to)
    text, html = (_render(f"email/{template}.{kind}", subject, context) for kind in ("txt", "html"))
    after_commit(lambda: hand_over("send_mail", [(recipients, subject, text, html)]))


def _render(name: str, subject: str, context: dict) -> str:
    """A template rendered with only what it is given: no request, so none of the pages' context processors
    (HTML autoescaped, text not, as Flask's environment chooses by the file's extension)."""
    values = {"config": current_app.config, "shop_name": current_app.config["SHOP_NAME"], "subject": subject,
              "absolute_url": absolute_url, **context}
    return current_app.jinja_env.get_template(name).render(values)


def absolute_url(endpoint: str, **values) -> str:
    """The public address of a page (PUBLIC_BASE_URL and the route), for links in e-mail."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def deliver(recipients: list[str], subject: str, text: str, html: str) -> None:
    """Send one rendered message now (the queue's task): the plain text with its HTML alternative."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.send()
