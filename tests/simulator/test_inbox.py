"""The province inbox over real HTTP: 201/409/400/401, the listing, files on disk, faults,
and a delivery by the project's own sender."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from simulator import FaultConfig, SimulatorServer
from tthc.province_package.delivery import ALREADY_RECEIVED, DELIVERED, deliver_package

pytestmark = pytest.mark.slow
AUTH = {"Authorization": "Bearer demo-inbox-token"}
FILES = {
    "chi_so_766.csv": "\ufeffky_bao_cao,ma_don_vi\r\n2024-05,000.00.00.H56\r\n".encode("utf-8"),
    "bao_cao.xlsx": bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n",
}


def manifest(version: int = 1, files: dict[str, bytes] = FILES, **over) -> dict:
    m = {
        "schema_version": "1.0",
        "ma_don_vi": "000.00.00.H56",
        "ky_bao_cao": "2024-05",
        "phien_ban": version,
        "trang_thai": "TAM_TINH",
        "tep": [{"ten": n, "so_dong": 1, "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()],
    }
    m.update(over)
    return m


def post(url, m, files=FILES, headers=AUTH, raw_manifest: bytes | None = None):
    fields = [
        (
            "manifest",
            ("manifest.json", raw_manifest if raw_manifest is not None else json.dumps(m).encode(), "application/json"),
        )
    ]
    fields += [(name, (name, data, "application/octet-stream")) for name, data in files.items()]
    return requests.post(f"{url}/api/v1/extracts", files=fields, headers=headers, timeout=10)


@pytest.fixture
def inbox_dir():
    d = Path(tempfile.mkdtemp(prefix="tthc-inbox-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def inbox(world, inbox_dir):
    with SimulatorServer(world, port=0, inbox_dir=inbox_dir) as srv:
        yield srv


def test_receive_then_conflict_and_files_written(inbox, inbox_dir):
    r = post(inbox.url, manifest())
    assert r.status_code == 201 and r.json()["received"] is True
    assert [m["phien_ban"] for m in inbox.inbox] == [1]
    folder = inbox_dir / "000.00.00.H56" / "2024-05" / "v1"
    assert {p.name for p in folder.iterdir()} == {"manifest.json", *FILES}
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data, "bytes kept exactly (BOM, CRLF, binary)"
    again = post(inbox.url, manifest())
    assert again.status_code == 409 and again.json()["error"]
    assert post(inbox.url, manifest(version=2)).status_code == 201
    listing = requests.get(f"{inbox.url}/api/v1/extracts", headers=AUTH, timeout=10).json()
    assert listing["count"] == 2 and [p["phien_ban"] for p in listing["data"]] == [1, 2]
    assert listing["data"][0]["tep"] == sorted(FILES)
    assert len(inbox.inbox) == 2


@pytest.mark.parametrize(
    "case",
    ["bad_sha", "missing_file", "extra_file", "not_json", "no_version", "bad_period", "no_manifest", "not_multipart"],
)
def test_invalid_packages_get_400_with_a_reason(inbox, inbox_dir, case):
    m, files, raw = manifest(), dict(FILES), None
    if case == "bad_sha":
        files["chi_so_766.csv"] = FILES["chi_so_766.csv"] + b"x"
    elif case == "missing_file":
        del files["bao_cao.xlsx"]
    elif case == "extra_file":
        files["ghi_chu.txt"] = b"?"
    elif case == "not_json":
        raw = b"{not json"
    elif case == "no_version":
        del m["phien_ban"]
    elif case == "bad_period":
        m["ky_bao_cao"] = "../../etc"
    if case == "no_manifest":
        r = requests.post(
            f"{inbox.url}/api/v1/extracts", headers=AUTH, timeout=10, files=[(n, (n, d)) for n, d in files.items()]
        )
    elif case == "not_multipart":
        r = requests.post(f"{inbox.url}/api/v1/extracts", headers=AUTH, json=m, timeout=10)
    else:
        r = post(inbox.url, m, files, raw_manifest=raw)
    assert r.status_code == 400, r.text
    assert isinstance(r.json()["error"], str) and r.json()["error"]
    assert inbox.inbox == [] and list(inbox_dir.iterdir()) == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic ZGVtbzpkZW1v"}])
def test_wrong_or_missing_token_is_401(inbox, headers):
    assert post(inbox.url, manifest(), headers=headers).status_code == 401
    assert requests.get(f"{inbox.url}/api/v1/extracts", headers=headers, timeout=10).status_code == 401
    assert inbox.inbox == []


def test_custom_token_and_memory_only(world):
    with SimulatorServer(world, port=0, inbox_token="s3cret") as srv:
        assert post(srv.url, manifest()).status_code == 401
        assert post(srv.url, manifest(), headers={"Authorization": "Bearer s3cret"}).status_code == 201
        assert srv.inbox[0]["ma_don_vi"] == "000.00.00.H56"


def test_faults_reach_the_inbox(inbox):
    inbox.set_faults(FaultConfig(server_error=1.0, paths=("/api/v1/extracts",)))
    r = post(inbox.url, manifest())
    assert r.status_code in (502, 503, 504) and inbox.inbox == []
    inbox.set_faults(None)
    assert post(inbox.url, manifest()).status_code == 201


def test_a_slow_inbox_stores_the_package_then_answers_late(inbox):
    inbox.set_faults(FaultConfig(slow=1.0, slow_seconds=1.0, paths=("/api/v1/extracts",)))
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{inbox.url}/api/v1/extracts",
            headers=AUTH,
            timeout=0.3,
            files=[
                ("manifest", ("manifest.json", json.dumps(manifest()).encode(), "application/json")),
                *[(n, (n, b, "application/octet-stream")) for n, b in FILES.items()],
            ],
        )
    assert [m["phien_ban"] for m in inbox.inbox] == [1]  # received although the sender gave up
    inbox.set_faults(None)
    assert post(inbox.url, manifest()).status_code == 409


def test_the_projects_sender_delivers_once(inbox, inbox_dir):
    outbox = Path(tempfile.mkdtemp(prefix="tthc-outbox-"))
    try:
        package = outbox / "000.00.00.H56" / "2024-05" / "v3"
        package.mkdir(parents=True)
        for name, data in FILES.items():
            (package / name).write_bytes(data)
        (package / "manifest.json").write_text(json.dumps(manifest(version=3), ensure_ascii=False), encoding="utf-8")
        first = deliver_package(package, inbox.url, "demo-inbox-token", timeout=10)
        second = deliver_package(package, inbox.url, "demo-inbox-token", timeout=10)
        assert (first.status, second.status) == (DELIVERED, ALREADY_RECEIVED)
        assert (inbox_dir / "000.00.00.H56" / "2024-05" / "v3" / "manifest.json").read_bytes() == (
            package / "manifest.json"
        ).read_bytes()
    finally:
        shutil.rmtree(outbox, ignore_errors=True)
