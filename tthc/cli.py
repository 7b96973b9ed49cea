"""`tthc`: run any step of the pipeline by hand, for any window, unit or month.

Outside Airflow, sources and the warehouse come from the environment: ONE_STOP_BASE_URL,
ONE_STOP_CLIENT_ID, ONE_STOP_CLIENT_SECRET, DVC_PORTAL_BASE_URL, DVC_PORTAL_API_KEY,
WAREHOUSE_DSN (unset: the embedded warehouse under .local/pg). Each command logs in as its
stage's role (ingest: tthc_loader; build, gate, marts, docs, summary: tthc_transformer; publish,
scorecard: tthc_publisher; bi-url: tthc_bi), given by WAREHOUSE_<STAGE>_DSN or derived from the admin's
login (tthc/warehouse/stages.py).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import uuid
from datetime import date, datetime

from extractors.timefmt import LOCAL


def _moment(text: str | None) -> datetime:
    if not text:
        return datetime.now(LOCAL)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


NIGHT_CHECKS_HELP = (
    "check only the rows of incremental tables loaded in the last two days, as the nightly "
    "DAG does except on Sundays (default by hand: every row)"
)


def _day(text: str | None) -> date:
    return date.fromisoformat(text) if text else datetime.now(LOCAL).date()


def cmd_warehouse(args) -> int:
    from tthc.warehouse import embedded_cluster, resolve_dsn, stage_dsn

    if args.action in ("backup", "backups", "restore"):
        from tthc.warehouse.backup import cli

        return cli(args)
    if args.action == "unit-login":
        return cmd_unit_login(args)
    cluster = embedded_cluster()
    if args.action == "start":
        print(f"warehouse running: {resolve_dsn()}")
    elif args.action == "stop":
        cluster.stop()
        print("embedded warehouse stopped")
    elif args.action == "status":
        print("running" if cluster.running() else "stopped", f"({cluster.data_dir})")
    elif args.action == "url":
        dsn = resolve_dsn()
        print((dsn.with_database(args.database) if args.database else dsn).url())  # with the password: for psql
    elif args.action == "bi-url":
        dsn = stage_dsn("bi")  # for Superset / Metabase: tthc_bi, which reads the marts only
        print((dsn.with_database(args.database) if args.database else dsn).url())
    elif args.action == "bootstrap":
        from tthc.warehouse.stages import admin_dsn, bootstrap

        admin = admin_dsn()
        bootstrap(admin)  # as the superuser: roles, passwords, schemas and owners, grants, extensions
        print(f"warehouse roles ready on {admin}")
    return 0


def cmd_unit_login(args) -> int:
    """Per-unit login roles (tthc/warehouse/unit_logins.py), as the admin; messages for people."""
    from pathlib import Path

    from tthc.paths import LOCAL
    from tthc.warehouse.stages import admin_dsn
    from tthc.warehouse.unit_logins import (
        UnitLoginError,
        create_unit_login,
        drop_unit_login,
        list_unit_logins,
        read_password_file,
        role_name_for,
        write_new_password,
    )

    if args.unit_login_action is None:
        print("cần một việc: create, list hoặc drop", file=sys.stderr)
        return 2
    if args.unit_login_action != "list" and not args.unit:
        print(f"unit-login {args.unit_login_action}: cần --unit MÃ_ĐƠN_VỊ", file=sys.stderr)
        return 2
    admin = admin_dsn()
    try:
        if args.unit_login_action == "list":
            logins = list_unit_logins(admin.conninfo())
            for login in logins:
                state = "" if login.can_login else "  (vai trò không còn đăng nhập được)"
                print(f"{login.unit_code}\t{login.role_name}\t{login.created_at:%Y-%m-%d %H:%M}{state}")
            if not logins:
                print("chưa có tài khoản đơn vị nào")
        elif args.unit_login_action == "drop":
            print(f"đã xoá tài khoản {drop_unit_login(admin.conninfo(), args.unit)} của đơn vị {args.unit.strip()}")
        else:
            written = None
            if args.password_file:
                password = read_password_file(Path(args.password_file))
            else:
                role = role_name_for(args.unit)
                written = LOCAL / "unit-logins" / f"{admin.host}-{admin.port}-{admin.dbname}" / f"{role}.password"
                password = write_new_password(written)
            try:
                role, notice = create_unit_login(admin.conninfo(), args.unit, password)
            except BaseException:
                if written is not None:
                    written.unlink(missing_ok=True)
                raise
            print(
                f"đã tạo tài khoản {role} cho đơn vị {args.unit.strip()} trên {admin.host}:{admin.port}/{admin.dbname}"
            )
            if notice:
                print(f"lưu ý: {notice}")
            if written is not None:
                print(f"mật khẩu ở {written} (chỉ người chạy lệnh đọc được): trao cho đơn vị rồi xoá tệp")
    except UnitLoginError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_ingest(args) -> int:
    from extractors.entities import entity, of_source
    from extractors.paging import Window
    from extractors.run import extract_entity
    from extractors.sources import make_client, settings_from_env
    from tthc import settings
    from tthc.warehouse import stage_dsn

    dsn = stage_dsn("loader")
    targets = [entity(args.source, n) for n in args.entity] if args.entity else of_source(args.source)
    upper = _moment(args.upper)
    window = Window(_moment(args.window_from), _moment(args.window_to)) if args.window_from else None
    client = make_client(args.source, settings_from_env(args.source))
    try:
        for target in targets:
            extract_entity(
                dsn.conninfo(),
                client,
                target,
                window.end if window else upper,
                initial_from=settings.initial_from(),
                lookback=settings.lookback(),
                window=window,
                run_id="cli",
            )
    finally:
        client.close()
    if args.source == "dvc_portal" and not args.entity:
        # The whole portal, as its nightly DAG takes it: the official scores too, or the
        # reconciliation a run by hand publishes would be empty without a word.
        from tthc.orchestration.tasks import fetch_official_scores

        stored = fetch_official_scores(window.end if window else upper)
        print(f"official scores: {stored} new version(s) stored")
    return 0


def cmd_build(args) -> int:
    from tthc.pipeline import dbt
    from tthc.warehouse import stage_dsn

    dbt.build_warehouse(
        stage_dsn("transformer"),
        _day(args.as_of),
        full_refresh=args.full_refresh,
        checks="night" if args.night else "all",
    )
    return 0


def cmd_gate(args) -> int:
    from expectations.runner import run_gate
    from expectations.suites import GATE_SUITES
    from tthc.warehouse import stage_dsn

    # A run id of its own per call: the manifest counts the checks of one run (tthc/province_package/monthly.py).
    run_id = f"cli-{datetime.now(LOCAL):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    gate = run_gate(stage_dsn("transformer"), GATE_SUITES, run_id, night_only=args.night)
    print(gate.summary())
    return 0 if gate.passed else 1


def cmd_marts(args) -> int:
    from expectations.runner import QualityGateFailed
    from tthc.pipeline import dbt
    from tthc.warehouse import stage_dsn

    try:
        gate = dbt.build_marts(stage_dsn("transformer"), _day(args.as_of))
    except QualityGateFailed as exc:  # the published marts are unchanged
        print(exc)
        return 1
    print(gate.summary())
    return 0


def cmd_docs(args) -> int:
    if args.what == "metrics":
        from tthc.metrics import docs_page

        return docs_page.main(["--check"] if args.check else [])
    from tthc.pipeline import dbt
    from tthc.warehouse import stage_dsn

    print(f"dbt docs: file://{dbt.generate_docs(stage_dsn('transformer'))}")
    return 0


def cmd_publish(args) -> int:
    from tthc.orchestration.tasks import publish

    outcome = publish(_moment(args.now), args.period, args.unit)
    for path in outcome["written"]:
        print(path)
    return 0


def cmd_summary(args) -> int:
    from tthc.warehouse import stage_dsn
    from tthc.warehouse.summary import latest_night

    print(latest_night(stage_dsn("transformer").conninfo()))
    return 0


def cmd_quarantine(args) -> int:
    """List the dead-letter queue (raw.quarantine), or replay records against the current contract."""
    import psycopg

    from extractors.quarantine import list_quarantined, replay
    from tthc.warehouse import stage_dsn

    conninfo = stage_dsn("loader").conninfo()  # raw's writer, as for `tthc ingest`
    if args.action == "list":
        with psycopg.connect(conninfo) as conn:
            rows = list_quarantined(conn, args.source, args.entity, open_only=not args.all, limit=args.limit)
        for q in rows:
            state = f"replayed {q.replayed_at:%Y-%m-%d %H:%M} (batch {q.replay_batch_id})" if q.replayed_at else "open"
            print(
                f"{q.id}\t{q.source}/{q.entity}\t{q.record_key or '(no key)'}\t{q.quarantined_at:%Y-%m-%d %H:%M}"
                f"\t{state}\tattempts {q.attempts}\t{q.current_reason}"
            )
        print(f"{len(rows)} {'quarantined' if args.all else 'open quarantined'} record(s)", file=sys.stderr)
        return 0
    if not (args.id or args.source or args.all):
        print("tthc quarantine replay: give --id N ..., --source S [--entity E], or --all", file=sys.stderr)
        return 2
    results = replay(conninfo, ids=args.id, source=args.source, entity=args.entity, everything=args.all)
    for result in results:
        print(result.summary())
    if not results:
        print("no open quarantined record matches", file=sys.stderr)
    return 1 if any(r.still_failing for r in results) else 0


def cmd_retain_pii(args) -> int:
    """Clear raw's personal fields of records closed longer than the retention (tthc/privacy/retention.py)."""
    from tthc.privacy.retention import run_retention
    from tthc.warehouse import stage_dsn

    # the loader owns raw and meta; the transformer reads staging and owns what dbt built
    report = run_retention(
        stage_dsn("loader"), stage_dsn("transformer"), days=args.days, now=_moment(args.now) if args.now else None
    )
    print(
        f"retention run {report.run_id}: closed before {report.cutoff:%Y-%m-%d %H:%M %Z}: {report.records} records"
        f" ({report.raw_versions} raw versions), {report.built_rows} built rows, {report.quarantined} quarantined"
        " texts cleared (meta.pii_retention_runs, meta.pii_retention_cleared)"
    )
    return 0


def cmd_actions(args) -> int:
    """Act today (docs/acting-today.md, §11): refresh the lists, or show a unit's lists and projection."""
    from tthc.actions.names import UnknownList
    from tthc.actions.readers import NotRefreshed, UnknownUnit
    from tthc.warehouse import stage_dsn

    at = _moment(args.at) if args.at else None
    if args.action == "refresh":
        from tthc.actions.refresh import refresh_actions

        try:
            result = refresh_actions(
                stage_dsn("transformer"),
                at,
                ingest=not args.no_ingest,
                run_id="cli",
                loader=None if args.no_ingest else stage_dsn("loader"),
            )
        except Exception as exc:  # the log has the details; the published lists are unchanged
            print(
                f"tthc actions refresh: failed ({type(exc).__name__}: {str(exc)[-2000:]}); "
                "the published lists are unchanged",
                file=sys.stderr,
            )
            return 1
        print(f"danh sách đã cập nhật lúc {result.at.isoformat()}: {result.history_rows} đơn vị ghi vào lịch sử")
        return 0
    from tthc.actions import formats
    from tthc.actions.readers import unit_actions

    try:
        actions = unit_actions(stage_dsn("transformer"), args.unit, at, getattr(args, "list", None))
    except (NotRefreshed, UnknownUnit, UnknownList) as exc:
        print(f"tthc actions {args.action}: {exc}", file=sys.stderr)
        return 2
    if args.action == "show":
        sys.stdout.write(formats.csv_text(actions) if args.format == "csv" else formats.text_view(actions))
    else:
        sys.stdout.write(
            formats.projection_json(actions)
            if args.format == "json"
            else formats.three_things_text(actions) + formats.projection_text(actions)
        )
    return 0


def cmd_scorecard(args) -> int:
    """One unit's scorecard of one period, HTML and PDF, written under the reports root."""
    from pathlib import Path

    from tthc.paths import REPORTS
    from tthc.scorecards.data import ScorecardsUnavailable
    from tthc.scorecards.periods import BadPeriod
    from tthc.scorecards.publish import ScorecardsFailed, publish_scorecards
    from tthc.warehouse import stage_dsn

    try:
        result = publish_scorecards(
            stage_dsn("publisher"),
            args.period,
            _moment(args.now),
            root=Path(args.root) if args.root else REPORTS,
            units=[args.unit],
            pdf=not args.no_pdf,
        )
    except (BadPeriod, ScorecardsUnavailable) as exc:
        print(f"tthc scorecard: không lập được bảng điểm kỳ {args.period!r}: {exc}", file=sys.stderr)
        return 2
    except ScorecardsFailed as exc:
        print(
            f"tthc scorecard: không lập được bảng điểm của đơn vị {args.unit} kỳ {args.period!r}: "
            f"{exc.result.failed.get(args.unit, exc)}",
            file=sys.stderr,
        )
        return 2
    for written in result.written:
        print(written.html)
        if written.pdf:
            print(written.pdf)
    return 0


def cmd_demo(args) -> int:
    from tthc.demo.pipeline import run_demo

    run_demo()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tthc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("warehouse", help="start/stop the embedded warehouse")
    p.add_argument(
        "action",
        choices=["start", "stop", "status", "url", "bi-url", "backup", "backups", "restore", "bootstrap", "unit-login"],
    )
    p.add_argument("--database", help="url, bi-url: another database of the same server (the demo's is tthc_demo)")
    # unit-login create|list|drop: per-unit login roles reading their subtree's actions lists
    # through row-level security (tthc/warehouse/unit_logins.py, docs/decisions/008)
    p.add_argument(
        "unit_login_action",
        nargs="?",
        choices=["create", "list", "drop"],
        metavar="create|list|drop",
        help="unit-login: create, list or drop a unit's login",
    )
    p.add_argument("--unit", help="unit-login: the unit's code (MaDinhDanh)")
    p.add_argument(
        "--password-file",
        help="unit-login create: the password is this file's first line "
        "(default: a random one written to a new file under .local/unit-logins)",
    )
    # bootstrap: as the superuser, the stages' roles, schemas and owners, grants (tthc/warehouse/roles.py)
    # backup|backups|restore: tthc.warehouse.backup, docs/runbooks/warehouse-restore.md
    p.add_argument(
        "--keep",
        type=int,
        help="backup: base backups to keep, with the WAL archive back "
        "to the oldest (default TTHC_PG_KEEP_BACKUPS or 3)",
    )
    p.add_argument("--backup", help="restore: the backup to start from (default: the newest that ends before --to)")
    p.add_argument(
        "--to", help="restore: replay up to this time (ISO; local time if no zone); default: the end of the WAL archive"
    )
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("ingest", help="extract a source into raw (incremental, or a backfill window)")
    p.add_argument("source", choices=["one_stop", "dvc_portal"])
    p.add_argument(
        "--entity",
        action="append",
        help="entity name (repeatable); default: all of the source "
        "(for dvc_portal with the official scores, as its DAG)",
    )
    p.add_argument("--upper", help="upper bound (ISO time); default now")
    p.add_argument("--from", dest="window_from", help="backfill: window start (ISO time)")
    p.add_argument("--to", dest="window_to", help="backfill: window end (ISO time)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="dbt: seeds, staging, intermediate, core")
    p.add_argument("--as-of", help="date the marts run to (YYYY-MM-DD); default today")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild incremental models from raw (after a model or calendar change)",
    )
    p.add_argument("--night", action="store_true", help=NIGHT_CHECKS_HELP)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("gate", help="run the quality gate")
    p.add_argument("--night", action="store_true", help=NIGHT_CHECKS_HELP)
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("marts", help="dbt: the indicator marts, gated in a shadow schema and swapped in")
    p.add_argument("--as-of")
    p.set_defaults(func=cmd_marts)

    p = sub.add_parser("publish", help="write the province's monthly package (the contract's extract) and deliver it")
    p.add_argument("--period", help="YYYY-MM; default the month before --now")
    p.add_argument("--unit", help="reporting unit (MaDinhDanh); default every province unit")
    p.add_argument("--now", help="generation time (ISO); default now")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser(
        "docs",
        help="dbt docs of the warehouse as one HTML file (models, columns, lineage); "
        "'docs metrics' writes docs/metrics.md from the metric seeds",
    )
    p.add_argument("what", nargs="?", choices=("dbt", "metrics"), default="dbt")
    p.add_argument("--check", action="store_true", help="with 'metrics': exit 1 when docs/metrics.md is stale")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("summary", help="what the latest night loaded, quarantined and checked")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("quarantine", help="list quarantined records, or replay them against the current contract")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--source", choices=["one_stop", "dvc_portal"])
    p.add_argument("--entity", help="entity name (with --source)")
    p.add_argument("--id", type=int, nargs="+", help="replay: these quarantine ids")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--open", action="store_true", help="list: open records only (the default)")
    shown.add_argument("--all", action="store_true", help="list: replayed ones too; replay: every open record")
    p.add_argument("--limit", type=int, help="list: at most this many")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("retain-pii", help="clear raw's personal fields of records closed longer than the retention")
    p.add_argument("--days", type=int, help="retention in days (default: TTHC_PII_RETENTION_DAYS, else 365)")
    p.add_argument("--now", help="the moment the retention counts back from (ISO; default now)")
    p.set_defaults(func=cmd_retain_pii)

    p = sub.add_parser("actions", help="act today: refresh the lists, show a unit's lists and month-end projection")
    actions = p.add_subparsers(dest="action", required=True)
    at_help = (
        "the moment T (ISO; local time if no zone); default: the published refresh (refresh: now). "
        "Another T builds the lists as of T from what the warehouse holds"
    )
    a = actions.add_parser("refresh", help="ingest the hour's changes, rebuild the lists, publish them atomically")
    a.add_argument("--at", help=at_help)
    a.add_argument(
        "--no-ingest",
        action="store_true",
        help="neither extract from the sources nor rebuild the models the lists read (what the "
        "night does after its own build)",
    )
    a = actions.add_parser("show", help="a unit's lists (its subtree's rows)")
    a.add_argument("--unit", required=True, help="the unit (MaDinhDanh)")
    a.add_argument("--at", help=at_help)
    a.add_argument(
        "--list",
        help="one list: sap_den_han, qua_han, buoc_qua_han, chua_tra_ket_qua, "
        "thieu_ket_qua_dien_tu, chua_dong_bo, thieu_ly_do",
    )
    a.add_argument("--format", choices=["text", "csv"], default="text")
    a = actions.add_parser("projection", help="a unit's three things to do and month-end projection")
    a.add_argument("--unit", required=True, help="the unit (MaDinhDanh)")
    a.add_argument("--at", help=at_help)
    a.add_argument("--format", choices=["json", "text"], default="text")
    p.set_defaults(func=cmd_actions)

    p = sub.add_parser("scorecard", help="one unit's scorecard (bảng điểm) of a period as HTML and PDF")
    p.add_argument("--unit", required=True, help="the unit (MaDinhDanh)")
    p.add_argument(
        "--period",
        required=True,
        help="YYYY-MM (month), YYYY-Qn (quarter), YYYY (year), or mtd (month to date of the published lists)",
    )
    p.add_argument("--root", help="reports folder (default: TTHC_REPORTS, else reports/ in the project)")
    p.add_argument("--no-pdf", action="store_true", help="the HTML only")
    p.add_argument("--now", help="generation time (ISO; decides provisional or final); default now")
    p.set_defaults(func=cmd_scorecard)

    p = sub.add_parser("demo", help="run the whole pipeline on the simulator (make demo)")
    p.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    # A SIGTERM (a scheduler's timeout, `kill`) unwinds like Ctrl-C, so the demo's simulator and
    # any open transaction are closed instead of left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Great Expectations logs every decorated function it registers at INFO: not for people.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
