"""What an operator sees: request ids, structured logs, Prometheus metrics and traces.

It sits just above the db layer so any feature may count or log through it; the HTTP
endpoints that expose it (/metrics, /health/ready) live in blogapi.web.
"""
