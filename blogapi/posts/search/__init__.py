"""Full-text search over posts on PostgreSQL and SQLite (engines.py is the interface)."""
