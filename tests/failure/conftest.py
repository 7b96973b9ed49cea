"""The failure suite's shared nights: one simulated province, the reference nights, scenario databases.

The reference first night (an empty warehouse, CLOCK) runs once for the whole suite, with a copy
of its database taken before each stage (CREATE DATABASE … TEMPLATE); the reference second night
(SECOND_CLOCK: a day later on the first night's warehouse, so the build merges increments) starts
from a copy of the first night's end, with copies before the stages its tests break. A test copies
the state just before the stage it breaks, so only that stage and what follows run again.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors.entities import ONE_STOP, entity
from simulator import SimulatorServer, World
from tests.failure import fingerprint
from tests.failure.night import (
    CLOCK,
    SECOND_CLOCK,
    STAGES,
    WORLD,
    Night,
    create_database,
    drop_database,
    run_night,
)

SNAPSHOTS = {"build": "before_build", "gate": "before_gate", "marts": "before_marts", "publish": "before_publish"}
# The second night has no publish (the extract is monthly); its tests break the extracts, the build, the marts.
SECOND_STAGES = ("ingest", "build", "gate", "marts")
SECOND_SNAPSHOTS = {"ingest": "n2_before_ingest", "build": "n2_before_build", "marts": "n2_before_marts"}


@dataclass
class Reference:
    prints: fingerprint.Fingerprint
    templates: dict[str, str]  # stage -> database holding the state just before it
    raw_counts: dict[str, int]  # raw table -> versions
    outbox: Path | None = None


@pytest.fixture(scope="package")
def world() -> World:
    return World(WORLD)


@pytest.fixture(scope="package")
def simulator(world):
    with SimulatorServer(world, port=0, clock=CLOCK) as server:
        yield server


@pytest.fixture(scope="package")
def later_simulator(world):
    """The same province a day later (the sources as the second night sees them)."""
    with SimulatorServer(world, port=0, clock=SECOND_CLOCK) as server:
        yield server


def _counts(prints: fingerprint.Fingerprint) -> dict[str, int]:
    return {name: len(versions) for name, versions in prints.raw.items()}


@pytest.fixture(scope="package")
def reference(pg_cluster, simulator, tmp_path_factory) -> Reference:
    """The first night that never failed, with a copy of its database before each stage and at its end."""
    admin = pg_cluster.admin_dsn()
    tag = uuid.uuid4().hex[:6]
    dsn = create_database(admin, f"fail_ref_{tag}")
    night = Night(dsn, simulator.url, tmp_path_factory.mktemp("reference-outbox"))
    templates = {}
    for stage in STAGES:
        if stage in SNAPSHOTS:
            templates[stage] = create_database(admin, f"fail_{SNAPSHOTS[stage]}_{tag}", template=dsn.dbname).dbname
        report = run_night(night, start=stage, until=stage)
        assert not report.failed_extracts, report.failed_extracts
    templates["end"] = dsn.dbname
    prints = fingerprint.take(dsn.conninfo(), night.outbox)
    assert prints.packages, "the reference night wrote no extract package"
    assert any(n.startswith("marts.") and f.rows for n, f in prints.warehouse.items())
    counts = _counts(prints)
    assert counts[entity(ONE_STOP, "ho_so").qualified_table] > 1000
    yield Reference(prints, templates, counts, night.outbox)
    for name in templates.values():
        drop_database(admin, name)


@pytest.fixture(scope="package")
def second_reference(pg_cluster, reference, later_simulator) -> Reference:
    """The second night that never failed, on a copy of the first night's warehouse."""
    admin = pg_cluster.admin_dsn()
    tag = uuid.uuid4().hex[:6]
    dsn = create_database(admin, f"fail_ref2_{tag}", template=reference.templates["end"])
    night = Night(dsn, later_simulator.url, reference.outbox, clock=SECOND_CLOCK)
    templates = {}
    for stage in SECOND_STAGES:
        if stage in SECOND_SNAPSHOTS:
            templates[stage] = create_database(
                admin, f"fail_{SECOND_SNAPSHOTS[stage]}_{tag}", template=dsn.dbname
            ).dbname
        report = run_night(night, start=stage, until=stage)
        assert not report.failed_extracts, report.failed_extracts
    templates["end"] = dsn.dbname
    prints = fingerprint.take(dsn.conninfo())
    counts = _counts(prints)
    # the second night really brought changes to merge
    assert (
        counts[entity(ONE_STOP, "ho_so").qualified_table]
        > reference.raw_counts[entity(ONE_STOP, "ho_so").qualified_table]
    )
    yield Reference(prints, templates, counts)
    for name in templates.values():
        drop_database(admin, name)


@pytest.fixture
def scenario(pg_cluster, simulator, later_simulator, tmp_path):
    """A database of its own for one test, empty or copied from a reference snapshot; with
    `second=True` the night is the second night (its clock and its sources)."""
    admin = pg_cluster.admin_dsn()
    made = []

    def make(template: str | None = None, second: bool = False, outbox_from: Path | None = None) -> Night:
        name = f"fail_t_{uuid.uuid4().hex[:8]}"
        dsn = create_database(admin, name, template)
        made.append(name)
        outbox = tmp_path / "outbox"
        if outbox_from is not None and not outbox.exists():
            shutil.copytree(outbox_from, outbox)
        outbox.mkdir(exist_ok=True)
        if second:
            return Night(dsn, later_simulator.url, outbox, clock=SECOND_CLOCK)
        return Night(dsn, simulator.url, outbox)

    yield make
    simulator.set_faults(None)
    later_simulator.set_faults(None)
    if not pg_cluster.running():  # a test that crashed the warehouse and failed before restarting it
        pg_cluster.start()
    for name in made:
        drop_database(admin, name)


def assert_same_as(night: Night, reference: Reference, packages: bool = True) -> None:
    """The night's warehouse (every schema), raw, meta and, with `packages`, its extract packages
    are those of the reference night."""
    differences = reference.prints.diff(fingerprint.take(night.dsn.conninfo(), night.outbox if packages else None))
    assert not differences, "differs from the night that never failed:\n  " + "\n  ".join(differences)
