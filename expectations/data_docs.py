"""Browsable Data Docs: a static HTML site of every gate run, built by GX itself.

The gate's context is ephemeral (suites are code), except for two folders: the site and, beside
it, the validation results GX renders it from, so the site's index lists past runs too. Only the
last KEEP_RUNS runs are kept, so the folder does not grow without bound.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from tthc.paths import LOCAL

log = logging.getLogger(__name__)

SITE_NAME = "tthc_quality_gate"
RESULTS_FOLDER = ".validation_results"  # inside the site folder: one folder to copy or serve
KEEP_RUNS = int(os.environ.get("TTHC_DATA_DOCS_KEEP_RUNS", "30"))


def default_docs_dir() -> Path:
    """TTHC_DATA_DOCS_DIR, else .local/data_docs under the project."""
    explicit = os.environ.get("TTHC_DATA_DOCS_DIR")
    return Path(explicit) if explicit else LOCAL / "data_docs"


def context_config(docs_dir: Path | None):
    """An in-memory GX project, with the site and its results on disk when docs_dir is set.

    No temporary default site (GX's ephemeral default would leave a temp folder per run)."""
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    sites = {}
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir / RESULTS_FOLDER),
        }
        sites[SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    return DataContextConfig(store_backend_defaults=defaults, data_docs_sites=sites)


def prune(docs_dir: Path, keep: int = KEEP_RUNS) -> None:
    """Drop results and pages of all but the newest `keep` runs of each suite.

    Layout (GX): <results>/<suite>/<run name>/<run time>/<batch>.json and
    validations/<suite>/<run name>/<run time>/<batch>.html."""
    try:
        _prune(docs_dir, keep)
    except OSError:  # another gate pruning the same folder; the next run tidies up
        log.warning("could not prune Data Docs in %s", docs_dir, exc_info=True)


def _prune(docs_dir: Path, keep: int) -> None:
    results = docs_dir / RESULTS_FOLDER
    if not results.is_dir():
        return
    for suite in (p for p in results.iterdir() if p.is_dir()):
        runs = sorted(
            (
                (run_time.name, run_time)
                for run_name in suite.iterdir()
                if run_name.is_dir()
                for run_time in run_name.iterdir()
                if run_time.is_dir()
            ),
            reverse=True,
        )
        for _, old in runs[keep:]:
            page = docs_dir / "validations" / old.relative_to(results)
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(page, ignore_errors=True)
            for folder in (old.parent, page.parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


def build(context, docs_dir: Path, result_ids: list, suite_names: list[str]) -> Path | None:
    """Render this run's pages and the index once (not per suite, as GX's checkpoint action
    does, which costs seconds). A site that cannot be written is logged, never fails the gate."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from expectations.data_docs_assets import localize

    started = time.time()
    try:
        context.build_data_docs(
            site_names=[SITE_NAME],
            resource_identifiers=result_ids + [ExpectationSuiteIdentifier(name) for name in suite_names],
        )
    except Exception:  # noqa: BLE001 - the docs are a view of results already kept in the warehouse
        log.warning("Data Docs could not be built in %s", docs_dir, exc_info=True)
        return None
    index = docs_dir / "index.html"
    written = [page for page in docs_dir.rglob("*.html") if page.stat().st_mtime >= started - 1]
    try:
        localize(docs_dir, written)
    except OSError:  # a page pruned by a concurrent gate; that gate localizes its own pages
        log.warning("Data Docs pages could not all be pointed at the local assets", exc_info=True)
    log.info("Data Docs: %s", index.resolve().as_uri())
    return index.resolve()
