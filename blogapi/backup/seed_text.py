"""Demo people, titles, tags and Markdown bodies for `seed`, from word lists (no network)."""

from __future__ import annotations

import random

from blogapi.posts.markdown import render_markdown

FIRST_NAMES = (
    "Ada", "Alan", "Barbara", "Brian", "Claude", "Dennis", "Donald", "Edsger", "Frances",
    "Grace", "Guido", "Hedy", "Ivan", "Jean", "John", "Joan", "Ken", "Karen", "Leslie", "Linus",
    "Lynn", "Margaret", "Mary", "Niklaus", "Radia", "Rasmus", "Rob", "Shafi", "Sophie", "Tim",
    "Ward", "Yukihiro", "Zed", "Anita", "Bjarne", "Carol", "Dana", "Evelyn", "Fran", "Gilles",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Liskov", "Kernighan", "Shannon", "Ritchie", "Knuth", "Dijkstra",
    "Allen", "Hopper", "Rossum", "Lamarr", "Sutherland", "Sammet", "Backus", "Clarke",
    "Thompson", "Jones", "Lamport", "Torvalds", "Conway", "Hamilton", "Keller", "Wirth",
    "Perlman", "Lerdorf", "Pike", "Goldwasser", "Wilson", "Berners-Lee", "Cunningham",
    "Matsumoto", "Borg", "Stroustrup", "Shaw", "Estrin", "Holberton", "Allen", "Kahn", "Ng",
)  # fmt: skip
TAG_NAMES = (
    "Python", "Flask", "PostgreSQL", "SQLite", "APIs", "Security", "Testing", "DevOps",
    "Docker", "Kubernetes", "Performance", "Databases", "JavaScript", "TypeScript", "Rust",
    "Go", "Linux", "Open Source", "Career", "Design", "Accessibility", "Machine Learning",
    "Data Engineering", "Observability", "Cloud", "Networking", "Git", "Web Development",
    "Tutorials", "Announcements",
)  # fmt: skip
TECH = (
    "Python", "Flask", "PostgreSQL", "SQLite", "Rust", "Go", "TypeScript", "Docker",
    "Kubernetes", "Redis", "Nginx", "Linux", "Git", "SQLAlchemy", "pytest", "Terraform",
)  # fmt: skip
THINGS = (
    "connection pools", "database migrations", "rate limiting", "feature flags", "caching",
    "background jobs", "JSON APIs", "password hashing", "structured logging", "load testing",
    "zero-downtime deploys", "schema design", "full-text search", "error budgets",
    "code review", "pagination", "access tokens", "dependency upgrades", "monorepos",
    "timeouts and retries", "type hints", "property-based tests", "small pull requests",
    "incident reviews", "read replicas", "backups", "on-call rotations", "API versioning",
)  # fmt: skip
VERBS = (
    "tame", "debug", "measure", "simplify", "scale", "secure", "test", "document",
    "refactor", "monitor", "automate", "untangle",
)  # fmt: skip
ADJECTIVES = (
    "practical", "boring", "honest", "gentle", "pragmatic", "quiet", "surprising", "careful",
    "humble", "opinionated", "small", "friendly",
)  # fmt: skip
TITLE_TEMPLATES = (
    "How to {verb} {thing} with {tech}",
    "A {adjective} guide to {thing}",
    "Why getting {thing} right matters more than you think",
    "{n} lessons from a year of {thing}",
    "What I learned trying to {verb} {thing} in {tech}",
    "Notes on {thing}",
    "Understanding {thing} in {tech}",
    "The case for {adjective} {thing}",
    "{tech} and {thing}: a field guide",
    "Stop worrying and {verb} your {thing}",
    "{thing} without tears",
    "When {thing} went wrong: a {tech} story",
)
SENTENCES = (
    "We started with {thing} because the {tech} defaults were not enough.",
    "The first version was {adjective}, and that turned out to be a feature.",
    "Most teams only notice {thing} when something breaks at three in the morning.",
    "It took us two weeks to {verb} {thing}, and most of that was reading.",
    "A {adjective} checklist beats a clever tool every time.",
    "Measure before you {verb} anything; the numbers are often surprising.",
    "{tech} makes the easy parts easy, but getting {thing} right still takes care.",
    "The trick is to keep each change small enough to review in ten minutes.",
    "Nobody enjoys working on {thing}, yet everyone gains when it is done well.",
    "We wrote the runbook first and the code second.",
    "Our error rate dropped by half once we started to {verb} {thing}.",
    "If you remember one thing, make it this: write the test before the fix.",
    "The {adjective} answer is usually the right one for a team of five.",
    "Logs told us what happened; metrics told us how often.",
)
LIST_ITEMS = (
    "Write down what *done* means before you start.",
    "Keep the {adjective} path the default one.",
    "Add a test for every bug you fix.",
    "Prefer `{tech}` defaults until you can measure a problem.",
    "Review **{thing}** once a quarter.",
    "Automate the boring parts of {thing}.",
    "Make failures loud and recoveries quiet.",
    "Document the why, not the what.",
)
CODE_BLOCKS = (
    "```python\ndef retry(call, attempts=3):\n    for attempt in range(attempts):\n"
    "        try:\n            return call()\n        except TimeoutError:\n"
    "            if attempt == attempts - 1:\n                raise\n```",
    "```sql\nSELECT author_id, count(*)\n  FROM posts\n WHERE published_at <= now()\n"
    " GROUP BY author_id;\n```",
    "```sh\npython manage.py db upgrade\npython manage.py seed --posts 1000\n```",
    "```python\n@app.get('/health')\ndef health():\n    return {'status': 'ok'}\n```",
)
BLOCK_POOL = 400  # distinct paragraphs; bodies mix them, so each is rendered only once


class TextMaker:
    """Realistic-looking demo text, repeatable for a given random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.paragraphs = [self._paragraph() for _ in range(BLOCK_POOL)]
        self.lists = [self._list() for _ in range(BLOCK_POOL // 4)]
        self.quotes = [f"> {self._sentence()}" for _ in range(BLOCK_POOL // 8)]
        self.headings = [f"## {self.title()}" for _ in range(BLOCK_POOL // 4)]
        self.html: dict[str, str] = {}

    def _fill(self, template: str) -> str:
        """Fill a template's {placeholders} with random words."""
        rng = self.rng
        return template.format(
            verb=rng.choice(VERBS),
            thing=rng.choice(THINGS),
            tech=rng.choice(TECH),
            adjective=rng.choice(ADJECTIVES),
            n=rng.randint(3, 12),
        )

    def _sentence(self) -> str:
        return self._fill(self.rng.choice(SENTENCES))

    def _paragraph(self) -> str:
        text = " ".join(self._sentence() for _ in range(self.rng.randint(2, 4)))
        if self.rng.random() < 0.2:
            text += " See [the documentation](https://example.com/docs) for details."
        return text

    def _list(self) -> str:
        items = self.rng.sample(LIST_ITEMS, self.rng.randint(3, 5))
        if self.rng.random() < 0.5:
            return "\n".join(f"- {self._fill(item)}" for item in items)
        return "\n".join(f"{n}. {self._fill(item)}" for n, item in enumerate(items, 1))

    def person(self) -> tuple[str, str]:
        """A (first, last) name."""
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def title(self) -> str:
        """A post title."""
        title = self._fill(self.rng.choice(TITLE_TEMPLATES))
        return title[0].upper() + title[1:]

    def summary(self) -> str:
        """A one-sentence summary."""
        return self._sentence()

    def bio(self) -> str:
        """A short author bio."""
        return f"Writes about {self.rng.choice(THINGS)} and {self.rng.choice(TECH)}."

    def body(self) -> tuple[str, str]:
        """A Markdown body and its rendered HTML, built from pre-rendered blocks."""
        rng = self.rng
        blocks = [rng.choice(self.paragraphs) for _ in range(rng.randint(1, 2))]
        for heading in rng.sample(self.headings, rng.randint(0, 2)):
            blocks.append(heading)
            blocks.append(rng.choice(self.paragraphs))
            extra = rng.random()
            if extra < 0.3:
                blocks.append(rng.choice(self.lists))
            elif extra < 0.45:
                blocks.append(rng.choice(CODE_BLOCKS))
            elif extra < 0.55:
                blocks.append(rng.choice(self.quotes))
            else:
                continue
            # A paragraph after every list, code block or quote keeps them from merging.
            blocks.append(rng.choice(self.paragraphs))
        return "\n\n".join(blocks), "".join(self.render(block) for block in blocks)

    def render(self, block: str) -> str:
        """One block's HTML, rendered once; a body's HTML is its blocks' joined (none merge)."""
        if block not in self.html:
            self.html[block] = render_markdown(block)
        return self.html[block]
