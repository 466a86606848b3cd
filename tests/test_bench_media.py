"""The media benchmark (bench/media.py) keeps working: its uploads are distinct images of the
same pixels, and a tiny run through real servers on the database in use reports sane numbers."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image

from bench.media import numbered, parse_args, photo, report, run
from devtools.live import fresh_database_url
from tests.support.prerequisites import unavailable


def test_numbered_photos_differ_in_bytes_but_not_in_pixels():
    jpeg = photo((64, 48))
    first, second = numbered(jpeg, 1), numbered(jpeg, 2)
    assert len({jpeg, first, second}) == 3
    images = [Image.open(io.BytesIO(data)) for data in (jpeg, first, second)]
    assert images[1].tobytes() == images[0].tobytes() == images[2].tobytes()
    assert images[1].info["comment"] == b"upload 1"


@pytest.mark.slow
def test_a_tiny_run_reports_uploads_memory_and_serving(tmp_path):
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (scripts/install-system-deps --bench)")
    args = parse_args(
        [
            "--checkpoints=2,3",
            "--seconds=1",
            "--rounds=1",
            "--clients=1",
            f"--database-url={fresh_database_url(tmp_path)}",
            f"--output={tmp_path / 'media.md'}",
        ]
    )
    results = run(args, tmp_path)

    uploads = results.uploads
    assert uploads.failures == [] and len(uploads.latencies_ms) == 3
    assert len({media["id"] for media in uploads.media}) == 3  # none deduplicated
    assert [point.uploads for point in uploads.checkpoints] == [0, 2, 3]
    for point in uploads.checkpoints:
        assert len(point.peak_mb) == len(point.rss_mb) == 2
        assert all(peak >= rss > 0 for peak, rss in zip(point.peak_mb, point.rss_mb, strict=True))
    assert 20_000 < results.served_bytes < 200_000
    ((bare, ours),) = results.serving
    assert bare.requests_per_second > 0 and ours.requests_per_second > 0
    assert bare.non_2xx + bare.errors + ours.non_2xx + ours.errors == 0
    text = report(args, results)
    assert "| 3 | " in text and "| 0 | " in text and "`GET /media/<key>`" in text
