"""Prometheus metrics at /metrics (prometheus-flask-exporter): requests by endpoint and status with latency
histograms, orders placed, failed sign-ins.

Under gunicorn, gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder, where every worker writes
its counts; /metrics, whichever worker answers it, adds them all up. A worker whose folder has no room turns its
metrics off: it must cost the metrics, not the shop.
"""
from __future__ import annotations

import functools
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter
from prometheus_flask_exporter import PrometheusMetrics

log = logging.getLogger(__name__)
# prometheus_client keeps each worker's counts in files of 1 MB and more that it maps into memory; a mapped page the
# disk cannot hold kills the worker (SIGBUS) on its next count, and gunicorn's new worker died the same way. So
# each worker first allocates this much in the folder (and frees it): if that fails, its metrics stay off. A disk
# that fills up later costs a worker once; the one gunicorn starts instead finds no room and serves without them.
MULTIPROCESS_RESERVE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ShopMetrics:
    orders_placed: Counter
    signin_failures: Counter


def init_metrics(app: Flask) -> None:
    """Serve /metrics for `app`, with a registry of its own (so that tests can build many apps); or, when the
    folder of the workers' counts has no room, a /metrics that says they are unavailable."""
    problem = _multiprocess_folder_problem()
    if problem:
        log.warning("Metrics are off in this process: %s", problem)
        app.extensions["shop_metrics"] = None
        app.add_url_rule("/metrics", "metrics_unavailable", _token_required(_metrics_unavailable))
        return
    registry = CollectorRegistry(auto_describe=True)
    # By endpoint, not path: one series per route, however many lots and orders there are.
    PrometheusMetrics(app, registry=registry, group_by="endpoint", excluded_paths=["^/metrics$", "^/static/"],
                      metrics_decorator=_token_required)
    app.extensions["shop_metrics"] = ShopMetrics(
        orders_placed=Counter("shop_orders_placed", "Orders placed, by channel (api, storefront).", ["channel"],
                              registry=registry),
        signin_failures=Counter("shop_signin_failures", "Failed sign-ins (wrong password or unknown email), "
                                "by side (customer, staff).", ["side"], registry=registry),
    )


def _multiprocess_folder_problem() -> str | None:
    """What keeps this process from counting in PROMETHEUS_MULTIPROC_DIR (no room, not writable), or None."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return None
    probe = Path(folder) / f"room-check-{os.getpid()}.tmp"  # not *.db: never read as counts
    try:
        descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.posix_fallocate(descriptor, 0, MULTIPROCESS_RESERVE_BYTES)
        finally:
            os.close(descriptor)
    except OSError as exc:
        return (f"PROMETHEUS_MULTIPROC_DIR ({folder}) has no room for {MULTIPROCESS_RESERVE_BYTES // 2**20} MB of "
                f"counts ({exc.strerror}); free some space there and restart the server")
    finally:
        probe.unlink(missing_ok=True)
    return None


def _token_required(view: Callable) -> Callable:
    """`view`, answered only to requests bearing METRICS_TOKEN when it is set (compared in constant time)."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        token = current_app.config["METRICS_TOKEN"]
        if token is not None:
            scheme, _, offered = (request.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
                return Response("# metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                                mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"})
        return view(*args, **kwargs)

    return guarded


def _metrics_unavailable() -> Response:
    return Response("# metrics are unavailable on this server: its PROMETHEUS_MULTIPROC_DIR has no room "
                    "(see its log)\n", status=503, mimetype="text/plain")


def order_placed(channel: str) -> None:
    metrics = current_app.extensions["shop_metrics"]
    if metrics is not None:
        metrics.orders_placed.labels(channel).inc()


def signin_failed(side: str) -> None:
    metrics = current_app.extensions["shop_metrics"]
    if metrics is not None:
        metrics.signin_failures.labels(side).inc()
