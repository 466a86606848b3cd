"""Revisions as stored: recorded by every content write in its own transaction, compact, and
read back whole (the endpoints that show them are in blogapi/posts/history)."""
