"""Flask-only plumbing: errors, bodies, headers, CORS, paging, ETags, the public cache."""
