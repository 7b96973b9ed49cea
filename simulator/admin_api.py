"""Admin endpoints (no auth, loopback only unless allowed) so another process can drive the simulator."""

from __future__ import annotations

import orjson

from simulator.faults import FaultConfig
from simulator.timefmt import parse_iso, to_aware


def handle_admin(handler, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict]:
    sim = handler.sim
    if not (handler.is_loopback or sim.allow_remote_admin):
        return 403, {"error": "admin endpoints answer loopback clients only"}
    if path == "/_sim/health" and method == "GET":
        return 200, {
            "status": "ok",
            "as_of": sim.clock.isoformat(),
            "seed": sim.world.config.seed,
            "dossiers_per_year": sim.world.config.dossiers_per_year,
        }
    if path == "/_sim/clock":
        if method == "POST":
            try:
                data = orjson.loads(body or b"{}")
                if "as_of" in data:
                    sim.set_clock(to_aware(parse_iso(str(data["as_of"]))))
                elif "advance_seconds" in data:
                    sim.advance_clock(int(data["advance_seconds"]))
                else:
                    return 400, {"error": 'send {"as_of": "2024-06-01T00:00:00+07:00"} or {"advance_seconds": N}'}
            except (ValueError, TypeError, orjson.JSONDecodeError) as e:
                return 400, {"error": f"bad clock request: {e}"}
        elif method != "GET":
            return 405, {"error": "GET or POST"}
        return 200, {"as_of": sim.clock.isoformat()}
    if path == "/_sim/faults":
        if method == "POST":
            try:
                data = orjson.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("a JSON object of FaultConfig fields")
                sim.set_faults(FaultConfig.from_dict(data))
            except (ValueError, TypeError, orjson.JSONDecodeError) as e:
                return 400, {"error": f"bad faults: {e}"}
        elif method != "GET":
            return 405, {"error": "GET or POST"}
        return 200, sim.faults.to_dict()
    if path == "/_sim/stats" and method == "GET":
        return 200, sim.stats.to_dict()
    return 404, {"error": f"no admin endpoint {method} {path}"}
