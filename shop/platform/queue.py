"""The task queue (Huey): background work, and the periodic jobs that used to be cron's.

Huey because it is small, well kept and needs no server by default: its SQLite storage (a file in the
instance folder) serves `make run` and a single machine; with REDIS_URL set it stores the queue in Redis,
where any number of workers on any number of machines share the work. Both are storage swapped by
configuration, not code. Tasks are thin: each runs one function of shop.events in an app context.

Tasks are registered on the app's own Huey instances (built from its config), so a test's app gets its own
queue; the names are fixed so that every process finds the same task by name. There are two lanes, two queues of
one storage: webhook deliveries have a lane and threads of their own (`TaskQueue.webhooks`), so that receivers slow
to answer (up to WEBHOOK_TIMEOUT_SECONDS each) hold up only other deliveries, never the e-mail, the events' fan-out
or the periodic jobs of the main lane (`TaskQueue.huey`).
"""
from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from redis import ConnectionPool

from shop.platform.config import QUEUE_REDIS_TIMEOUT_SECONDS, redis_timeouts
from shop.platform.extensions import db

log = logging.getLogger(__name__)
EXTENSION = "shop.queue"
MAIN, WEBHOOKS = "main", "webhooks"  # the lanes
# After a hand-over to the queue failed, this process leaves hand-overs to the sweeps for this many seconds: a hung
# Redis costs one request its timeout, not every request.
QUEUE_RETRY_AFTER_SECONDS = 10


class TaskQueue:
    """The app's two Huey instances (the main lane and the webhooks' lane) and their tasks, by name."""

    def __init__(self, app: Flask, huey: Huey, webhooks: Huey) -> None:
        self.app = app
        self.huey = huey  # events' fan-out, e-mail and the periodic jobs
        self.webhooks = webhooks  # webhook deliveries only
        self._tasks: dict[str, Any] = {}
        self.failed_until = 0.0  # time.monotonic() before which hand_over does not try the queue

    def task(self, name: str, func: Callable, *, lane: str = MAIN, **options) -> None:
        """Register `func` as the task `name` of `lane` (MAIN or WEBHOOKS), run in an app context on a worker."""
        self._tasks[name] = self.lane(lane).task(name=name, **options)(_in_app(self.app, func))

    def lane(self, name: str) -> Huey:
        """The queue of the lane `name` (MAIN or WEBHOOKS)."""
        return self.webhooks if name == WEBHOOKS else self.huey

    def periodic(self, name: str, func: Callable, when) -> None:
        """Register `func` to run on a worker whenever the crontab `when` says."""
        self._tasks[name] = self.huey.periodic_task(when, name=name)(_in_app(self.app, func))

    def enqueue(self, name: str, *args, delay: float = 0) -> None:
        """Hand `name(*args)` to a worker, after `delay` seconds."""
        task = self._tasks[name]
        if delay > 0:
            task.schedule(args=args, delay=delay)
        else:
            task(*args)

    def run_pending(self) -> int:
        """Run every task waiting in either lane in this process, until none is left (tests, `shop drain`)."""
        ran, lanes = 0, (self.huey, self.webhooks)
        while any(lane.pending_count() for lane in lanes):
            for lane in lanes:
                while (task := lane.dequeue()) is not None:
                    lane.execute(task)
                    ran += 1
        return ran

    def worker(self, workers: int = 1, *, webhook_workers: int | None = None, periodic: bool = True,
               keep_signals: bool = False) -> Workers:
        """Started consumers in this process: `workers` threads on the main lane, `webhook_workers` (as many by
        default) on the webhooks' lane. `keep_signals`: leave this process's signal handlers as they were (an
        embedded worker must not take Ctrl-C away from the web server)."""
        return Workers([self.start_consumer(MAIN, workers, periodic=periodic, keep_signals=keep_signals),
                        self.start_consumer(WEBHOOKS, webhook_workers or workers, keep_signals=keep_signals)])

    def start_consumer(self, lane: str, workers: int, *, periodic: bool = False,
                       keep_signals: bool = False) -> Consumer:
        """A started consumer of one lane with `workers` threads (the periodic jobs only if `periodic`)."""
        consumer = self.lane(lane).create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                                   initial_delay=0.05, backoff=1.2, max_delay=1.0,
                                                   check_worker_health=False)
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer.start()
        if keep_signals:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
        return consumer


class Workers:
    """The consumers of both lanes that `TaskQueue.worker` started; `stop` stops them all."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.consumers = consumers

    def stop(self, graceful: bool = False) -> None:
        for consumer in self.consumers:
            consumer.stop(graceful=graceful)


def _in_app(app: Flask, func: Callable) -> Callable:
    """`func` run in an app context, its session removed afterwards (a worker thread runs many tasks)."""

    def run(*args, **kwargs):
        with app.app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    run.__name__ = run.__qualname__ = func.__name__
    return run


def make_hueys(config: dict) -> tuple[Huey, Huey]:
    """The main lane and the webhooks' lane (named TASK_QUEUE_NAME and TASK_QUEUE_NAME.webhooks), two queues of the
    storage the config asks for."""
    name, make = config["TASK_QUEUE_NAME"], _storage(config)
    return make(name), make(f"{name}.webhooks")


def _storage(config: dict) -> Callable[[str], Huey]:
    """A queue of the given name on 'redis' (REDIS_URL), 'sqlite' (TASK_QUEUE_FILE) or 'memory' (tests)."""
    kind = config["TASK_QUEUE"]
    if kind == "redis":
        # Bounded waits: a hung Redis fails the hand-over after a commit in seconds (the sweep hands it over later).
        pool = ConnectionPool.from_url(config["REDIS_URL"], **redis_timeouts(QUEUE_REDIS_TIMEOUT_SECONDS))
        return lambda name: RedisHuey(name, connection_pool=pool, results=False)
    if kind == "sqlite":
        # No fsync per task (2.5 ms an order, here): the outbox in the database is what must survive a crash,
        # and the sweep hands over again whatever the queue file lost.
        return lambda name: SqliteHuey(name, filename=config["TASK_QUEUE_FILE"], results=False, fsync=False)
    if kind == "memory":
        return lambda name: MemoryHuey(name, results=False)
    raise ValueError(f"TASK_QUEUE must be redis, sqlite or memory, not {kind!r}")


def init_queue(app: Flask) -> None:
    """Build the app's queue and register its tasks."""
    app.extensions[EXTENSION] = TaskQueue(app, *make_hueys(app.config))


def task_queue() -> TaskQueue:
    return current_app.extensions[EXTENSION]


def hand_over(name: str, args_list: Iterable[tuple], *, delay: float = 0, sweeping: bool = False) -> None:
    """Enqueue `name` once per argument tuple, to run in `delay` seconds; a queue that is down is logged, not
    raised: what the queue misses, the sweeps hand over again from the database. The log names the task and how
    many were missed, never their arguments (a task's arguments are ids, but a log line is no place for data).
    A sweep (`sweeping`) always tries, failed moments ago or not: it is how what was left catches up."""
    queue = task_queue()
    pending = list(args_list)
    if pending and not sweeping and time.monotonic() < queue.failed_until:
        log.warning("the task queue failed moments ago: %d %s task(s) left to the sweep", len(pending), name)
        return
    for handed, args in enumerate(pending):
        try:
            queue.enqueue(name, *args, delay=delay)
        except Exception as exc:  # noqa: BLE001 - the commit stands; the sweep catches up
            queue.failed_until = time.monotonic() + QUEUE_RETRY_AFTER_SECONDS
            log.warning("could not hand %d %s task(s) to the task queue (%s); the sweep will", len(pending) - handed,
                        name, type(exc).__name__)
            return
    if pending:
        queue.failed_until = 0.0  # the queue answers again: hand-overs need not wait for the sweeps any longer
