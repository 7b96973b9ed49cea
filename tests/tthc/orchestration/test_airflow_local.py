"""The project's Airflow home says in airflow.cfg what the project needs, so a person opening the
UI with it (the demo prints the command) sees the project's DAGs only."""

from __future__ import annotations

import os
import subprocess

from tthc.orchestration.airflow_local import airflow_bin, write_config
from tthc.paths import DAGS_DIR


def config_value(home, section: str, key: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {"AIRFLOW_HOME": str(home)}
    out = subprocess.run(
        [airflow_bin(), "config", "get-value", section, key], env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_airflow_itself_reads_the_project_settings_from_the_home(tmp_path):
    assert config_value(tmp_path, "core", "load_examples") == "True"  # Airflow's own default, generated
    generated = (tmp_path / "airflow.cfg").read_text()
    write_config(tmp_path / "airflow.cfg")
    assert config_value(tmp_path, "core", "load_examples") == "False"
    assert config_value(tmp_path, "core", "dags_folder") == str(DAGS_DIR)
    kept = [line for line in generated.splitlines() if line.startswith(("jwt_secret", "fernet_key", "secret_key"))]
    assert set(kept) <= set((tmp_path / "airflow.cfg").read_text().splitlines())


def test_settings_replace_their_lines_and_keep_the_rest(tmp_path):
    cfg = tmp_path / "airflow.cfg"
    cfg.write_text("[core]\n# load_examples = True\nload_examples = True\nparallelism = 32\n\n[api]\nport = 8080\n")
    write_config(cfg, {"core": {"load_examples": "False"}, "logging": {"logging_level": "INFO"}})
    assert cfg.read_text() == (
        "[core]\n# load_examples = True\nload_examples = False\nparallelism = 32\n\n"
        "[api]\nport = 8080\n\n[logging]\nlogging_level = INFO\n"
    )
    write_config(cfg, {"core": {"load_examples": "False"}, "logging": {"logging_level": "INFO"}})
    assert cfg.read_text().count("load_examples = False") == 1
