"""tthc-simulator: serve the simulated province over HTTP, or write its ground truth.

    tthc-simulator serve --port 8765 --seed 7 --dossiers-per-year 2000 \
        --start 2024-01-01 --end 2025-12-31 --as-of 2024-06-01T00:00:00+07:00 [--faults JSON] \
        [--showcase-at 2025-07-31T09:00:00+07:00 ...]
    tthc-simulator truth --as-of 2024-06-01T00:00:00+07:00 --out DIR
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

import orjson

from simulator.config import WorldConfig
from simulator.faults import FaultConfig
from simulator.timefmt import parse_iso, to_aware


def _world_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dossiers-per-year", type=int, default=2000)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    p.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    p.add_argument(
        "--as-of",
        type=lambda s: to_aware(parse_iso(s)),
        required=False,
        help="clock, ISO 8601 with offset, e.g. 2024-06-01T00:00:00+07:00",
    )
    p.add_argument(
        "--showcase-at",
        type=lambda s: to_aware(parse_iso(s)),
        action="append",
        default=[],
        help="a moment (ISO 8601 with offset) at which one commune's lists hold every case of "
        "docs/acting-today.md (§11); repeatable",
    )
    p.add_argument(
        "--faults",
        type=lambda s: FaultConfig.from_dict(json.loads(s)),
        default=None,
        help='JSON of FaultConfig fields, e.g. {"rate_limit": 0.1}',
    )


def _config(args) -> WorldConfig:
    return WorldConfig(
        seed=args.seed,
        dossiers_per_year=args.dossiers_per_year,
        start=args.start,
        end=args.end,
        showcase_at=tuple(args.showcase_at),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tthc-simulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve both source contracts until SIGTERM/SIGINT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    _world_args(serve)
    serve.add_argument("--client-id", default="tthc-demo")
    serve.add_argument("--client-secret", default="demo-secret")
    serve.add_argument("--api-key", default="demo-api-key")
    serve.add_argument("--inbox-token", default="demo-inbox-token")
    serve.add_argument("--token-ttl", type=float, default=3600.0)
    serve.add_argument("--inbox-dir", type=Path, default=None, help="also keep received extract packages here")
    serve.add_argument(
        "--allow-remote-admin",
        action="store_true",
        help="answer /_sim admin endpoints from any address (containers); loopback only otherwise",
    )
    truth = sub.add_parser("truth", help="write every entity's records as of a time, as JSON lines")
    _world_args(truth)
    truth.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        return _truth(args)
    except ValueError as e:  # bad configuration: a clear message, not a traceback
        print(f"tthc-simulator: {e}", file=sys.stderr)
        return 2


def _serve(args) -> int:
    from simulator.server import SimulatorServer
    from simulator.world import World

    started = time.monotonic()
    world = World(_config(args))
    server = SimulatorServer(
        world,
        host=args.host,
        port=args.port,
        clock=args.as_of,
        faults=args.faults,
        client_id=args.client_id,
        client_secret=args.client_secret,
        api_key=args.api_key,
        inbox_token=args.inbox_token,
        token_ttl=args.token_ttl,
        allow_remote_admin=args.allow_remote_admin,
        inbox_dir=args.inbox_dir,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(
        f"tthc-simulator serving {server.url} as of {server.clock.isoformat()} "
        f"({world.plan.n} dossiers, ready in {time.monotonic() - started:.1f}s)",
        flush=True,
    )
    print(server.url, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    print("tthc-simulator stopped", flush=True)
    return 0


def _truth(args) -> int:
    from simulator.truth import write_truth
    from simulator.world import World

    if args.as_of is None:
        raise ValueError("truth needs --as-of")
    world = World(_config(args))
    summary = write_truth(world, args.as_of, args.out, args.faults)
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
