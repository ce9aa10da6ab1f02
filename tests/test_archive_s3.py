"""The archive on an object store: a local S3-compatible server (moto), not a mock client.

moto's server runs in this process on a free port; pyarrow (writing) and Polars
(reading) reach it through the standard AWS environment variables, as they would reach
AWS S3 or MinIO.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from test_archive import EXPIRE_DAY1, EXPIRE_DAY2, MAINTAIN, PRICES, answers, assert_same_answers
from test_queries import DAY0, DAY1, DAY2, timeline

from oddskit.archive import list_archives
from oddskit.archive_files import STOP_AFTER_ENV
from oddskit.connection import Database
from oddskit.loading import load
from oddskit.partitions import maintain, set_policy
from oddskit.queries_archive import scan_archive

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "odds-archive"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A new bucket on the local server, and the environment that reaches it."""
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",  # Polars' object store refuses http:// otherwise
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    """The bucket's objects, without the empty folder markers pyarrow leaves on delete."""
    found = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in found if not o["Key"].endswith("/"))


def test_archive_on_s3_answers_the_same(make_migrated, s3) -> None:
    db: Database = make_migrated("embedded", "native")
    set_policy(db, archive=f"s3://{BUCKET}/oddskit")
    load(timeline(), db=db)
    expected = answers(db)

    env = {**os.environ, "PYTHONPATH": str(ROOT), STOP_AFTER_ENV: "written"}
    killed = subprocess.run(
        [sys.executable, "-c", MAINTAIN, db.libpq_url, EXPIRE_DAY1.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    leftover = keys(s3)
    assert len(leftover) == 1 and leftover[0].endswith(".tmp"), leftover  # killed mid-way
    assert list_archives(db).height == 0
    assert_same_answers(db, expected)

    assert maintain(db, now=EXPIRE_DAY2).archived == [d.date() for d in (DAY0, DAY1, DAY2)]
    assert keys(s3) == [f"oddskit/day={d:%Y-%m-%d}/part-0.parquet" for d in (DAY0, DAY1, DAY2)]
    catalogue = list_archives(db)
    assert catalogue["location"].str.starts_with(f"s3://{BUCKET}/oddskit/day=").all()
    assert catalogue["rows"].to_list() == [PRICES[d] for d in (DAY0, DAY1, DAY2)]
    sizes = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    sizes = {key: size for key, size in sizes.items() if not key.endswith("/")}
    assert sorted(sizes.values()) == sorted(catalogue["bytes"].to_list())
    assert_same_answers(db, expected)

    pinnacle = scan_archive(db).filter(pl.col("bookmaker") == "Pinnacle").collect()
    direct = scan_archive(root=f"s3://{BUCKET}/oddskit", bookmakers="Pinnacle").collect()
    assert pinnacle.height == direct.height > 0
    assert pinnacle.sort(pinnacle.columns).equals(direct.sort(direct.columns))
