"""Who may do what: JWT wiring and keys, revocation, guards, roles, rate limits, audit."""
