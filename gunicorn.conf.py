"""gunicorn's settings for the shop (read from the working folder): metrics shared by all workers.

Every worker counts its requests in files under PROMETHEUS_MULTIPROC_DIR; /metrics adds them up, whichever
worker answers. A fresh folder per server start keeps counts of an earlier run out.
"""
import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="leucine-shop-metrics-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
