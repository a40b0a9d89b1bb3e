"""Prometheus metrics at /metrics (prometheus-flask-exporter): requests by endpoint and status with latency
histograms, orders placed, failed sign-ins.

Under gunicorn, gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder, where every worker writes
its counts; /metrics, whichever worker answers it, adds them all up.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from prometheus_client import CollectorRegistry, Counter
from prometheus_flask_exporter import PrometheusMetrics


@dataclass(frozen=True)
class ShopMetrics:
    orders_placed: Counter
    signin_failures: Counter


def init_metrics(app: Flask) -> None:
    """Serve /metrics for `app`, with a registry of its own (so that tests can build many apps)."""
    registry = CollectorRegistry(auto_describe=True)
    # By endpoint, not path: one series per route, however many lots and orders there are.
    PrometheusMetrics(app, registry=registry, group_by="endpoint", excluded_paths=["^/metrics$", "^/static/"])
    app.extensions["shop_metrics"] = ShopMetrics(
        orders_placed=Counter("shop_orders_placed", "Orders placed, by channel (api, storefront).", ["channel"],
                              registry=registry),
        signin_failures=Counter("shop_signin_failures", "Failed sign-ins (wrong password or unknown email), "
                                "by side (customer, staff).", ["side"], registry=registry),
    )


def order_placed(channel: str) -> None:
    current_app.extensions["shop_metrics"].orders_placed.labels(channel).inc()


def signin_failed(side: str) -> None:
    current_app.extensions["shop_metrics"].signin_failures.labels(side).inc()
