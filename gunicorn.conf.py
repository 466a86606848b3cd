"""gunicorn settings that belong to the app; gunicorn reads this file from its working directory.

Command-line flags (workers, bind, timeouts: see DEPLOY.md) add to these or override them.
"""

# gunicorn's own limit (4094 bytes by default) answers a longer request line itself, with an
# HTML page. At its maximum, 8190, URLs up to that size reach the app, which refuses those over
# MAX_URL_LENGTH (default 4096) with a 414 problem+json like every other error.
limit_request_line = 8190
