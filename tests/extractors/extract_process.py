"""Run extractors in a process of their own, so a test can kill it mid-run.

python -m tests.extractors.extract_process URL CONNINFO UPPER_ISO source/entity ...
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime

from extractors.entities import entity
from extractors.run import extract_entity
from tests.extractors.sim_harness import INITIAL_FROM, client_for


def main(argv: list[str]) -> None:
    url, conninfo, upper = argv[0], argv[1], datetime.fromisoformat(argv[2])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    clients = {}
    for spec in argv[3:]:
        source, name = spec.split("/")
        client = clients.setdefault(source, client_for(source, url))
        extract_entity(conninfo, client, entity(source, name), upper, initial_from=INITIAL_FROM)


if __name__ == "__main__":
    main(sys.argv[1:])
