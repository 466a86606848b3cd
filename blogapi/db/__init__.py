"""The database layer: engine set-up, column types, tables, triggers and the content version."""
