"""gunicorn settings that belong to the app; gunicorn reads this file from its working directory.

Command-line flags (workers, bind, timeouts: see DEPLOY.md) add to these or override them.
"""

import os
import shutil
import tempfile

# gunicorn's own limit (4094 bytes by default) answers a longer request line itself, with an
# HTML page. At its maximum, 8190, URLs up to that size reach the app, which refuses those over
# MAX_URL_LENGTH (default 4096) with a 414 problem+json like every other error.
limit_request_line = 8190

# The app writes one access log line per request itself (ACCESS_LOG, in LOG_FORMAT, with the
# request id and route template), so gunicorn's own stays off. Its error log (worker starts and
# exits) stays gunicorn's plain text.
accesslog = None

# Prometheus metrics shared by every worker: each writes its samples to files in this folder
# and a scrape of any worker reads them all (prometheus_client's multiprocess mode). Unless the
# operator names a folder (PROMETHEUS_MULTIPROC_DIR, shared with the webhook worker's), a new
# empty one is made for this server and removed when it stops.
_made_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = tempfile.mkdtemp(prefix="blogapi-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


def child_exit(server, worker):
    """A worker that exits takes its live gauges (requests in flight, pool) with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this server made."""
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
