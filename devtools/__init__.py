"""Test servers and live-app plumbing used by tests and bench."""
