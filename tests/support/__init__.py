"""Helpers the tests share: accounts, apps and databases, posts, problems, tokens, the CLI."""
