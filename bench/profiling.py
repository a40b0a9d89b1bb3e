"""Where a product page and an API order spend their time: cProfile over a few hundred in-process requests.

Run by bench/run.py (`make profile`, or `make bench BENCH_ARGS=--profile`) as `python bench/profiling.py` with
DATABASE_URL pointing at bench_shop and BENCH_API_KEY set, after the bench's setup. Each case is requested
`--requests` times with Flask's test client (the whole app, without gunicorn's HTTP parsing) after a few untimed
warm-up requests, each request in its own app context as under gunicorn, the loaded shop frozen out of the garbage
collector's sight as in a gunicorn worker. Prints, per case, the wall time per
request and the own time (cProfile's tottime) summed by where the code lives (a package of the shop, a
library, the standard library, the database driver's wait), then the functions with the most own time;
with --json, one JSON object on stdout instead.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ORDER_SKU, PRODUCT_PATH, order_body  # noqa: E402
from shop import create_app  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STDLIB = Path(os.__file__).resolve().parent


def where(filename: str, function: str) -> str:
    """The place a profiled function belongs to: 'shop.<area>', the templates, a library's top package,
    'stdlib: <module>', or C functions. The database's own work is the driver's wait (psycopg's
    connection.wait): the time the app sat waiting for PostgreSQL's answers."""
    if filename == "~" or filename.startswith("<"):
        return "C functions (str, dict, isinstance…: called from all of the above)"
    path = Path(filename).resolve()
    if path.is_relative_to(REPO / "shop"):
        parts = path.relative_to(REPO).with_suffix("").parts
        return ".".join(parts[:2])
    if path.is_relative_to(REPO / "templates"):
        return "templates (compiled Jinja)"
    for folder in ("site-packages", "dist-packages"):
        if folder in path.parts:
            rest = path.parts[path.parts.index(folder) + 1:]
            return rest[0].removesuffix(".py")
    if path.is_relative_to(STDLIB):
        return "stdlib: " + path.relative_to(STDLIB).parts[0].removesuffix(".py")
    return str(path)


def profile_case(call, expected: int, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        response = call()
        if response.status_code != expected:
            raise SystemExit(f"warm-up answered {response.status_code}, not {expected}: "
                             f"{response.get_data(as_text=True)[:300]}")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()
    elapsed = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # own time of every function: the whole run
    places: dict[str, float] = defaultdict(float)
    functions = []
    for (filename, line, name), (_calls, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        place = where(filename, name)
        places[place] += tottime
        functions.append({"function": f"{Path(filename).name}:{line}({name})" if filename != "~" else name,
                          "place": place, "calls_per_request": ncalls / requests,
                          "own_ms_per_request": 1000 * tottime / requests, "share": tottime / total,
                          "cumulative_ms_per_request": 1000 * cumtime / requests})
    functions.sort(key=lambda f: -f["own_ms_per_request"])
    return {
        "requests": requests,
        "wall_ms_per_request": 1000 * elapsed / requests,
        "profiled_ms_per_request": 1000 * total / requests,
        "places": sorted(({"place": p, "own_ms_per_request": 1000 * t / requests, "share": t / total}
                          for p, t in places.items()), key=lambda p: -p["share"]),
        "functions": functions,
    }


def print_case(name: str, result: dict, top: int) -> None:
    print(f"\n{name}: {result['wall_ms_per_request']:.2f} ms per request in-process under the profiler "
          f"({result['requests']} requests); own time by place:")
    for place in result["places"][:top]:
        print(f"  {place['share']:6.1%}  {place['own_ms_per_request']:6.3f} ms  {place['place']}")
    print("  functions with the most own time:")
    for f in result["functions"][:top]:
        print(f"  {f['share']:6.1%}  {f['own_ms_per_request']:6.3f} ms  {f['calls_per_request']:7.1f} calls  "
              f"{f['function']}  [{f['place']}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    key = os.environ["BENCH_API_KEY"]
    app = create_app()
    client = app.test_client()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init does in every worker once the shop is loaded

    def order():
        return client.post("/api/v1/orders", data=order_body([ORDER_SKU]),
                           headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4()),
                                    "Content-Type": "application/json"})

    results = {"product_page": profile_case(lambda: client.get(PRODUCT_PATH), 200, args.requests, args.warmup),
               "order": profile_case(order, 201, args.requests, args.warmup)}
    if args.json:
        print(json.dumps(results))
    else:
        for name, result in results.items():
            print_case(name, result, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
