"""Webhooks: signed events for integrations, written to an outbox with the change and
delivered at least once by the worker (`manage.py worker`)."""
