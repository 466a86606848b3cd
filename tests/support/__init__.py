"""Helpers the tests share: accounts, apps, databases, posts, problems, tokens, the admin CLI,
races between live instances, and what a test needs from the machine."""
