"""Accounts: registration, login and tokens, profiles, admin user management (API and CLI)."""
