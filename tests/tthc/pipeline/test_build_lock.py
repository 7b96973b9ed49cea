"""dbt builds of one warehouse take turns (the nightly build, the marts, an intraday refresh of
the act-today lists all write the per-dossier intermediates): a build waits for the lock and
gives up with a clear error, having started nothing, when it stays held."""

import psycopg
import pytest

from tthc.pipeline import dbt
from tthc.pipeline.locks import LockBusy
from tthc.warehouse import as_stage


def test_a_build_waits_for_the_one_running_and_gives_up_cleanly(fresh_db, monkeypatch):
    monkeypatch.setenv("TTHC_DBT_LOCK_WAIT_SECONDS", "1.5")
    transformer = as_stage(fresh_db, "transformer")
    with psycopg.connect(transformer.conninfo(), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtext(%s))", (dbt.BUILD_LOCK,))
        with pytest.raises(LockBusy, match="another dbt build of this warehouse"):
            dbt.run_dbt(["build", "--select", "dim_date"], fresh_db, phase="lock-test")
        with pytest.raises(LockBusy):
            dbt.run_dbt(["run", "--select", "dim_date"], fresh_db, phase="lock-test")
    with psycopg.connect(transformer.conninfo()) as conn:
        # nothing was built while it waited, and the lock is free again
        assert conn.execute("select to_regclass('core.dim_date')").fetchone()[0] is None
        assert conn.execute("select pg_try_advisory_lock(hashtext(%s))", (dbt.BUILD_LOCK,)).fetchone()[0]
