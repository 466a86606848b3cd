"""The search benchmark's corpus and bulk loader (bench/search.py) keep working: a few hundred
generated posts load into the database in use and search finds what the generator planted."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from bench.search import (
    SizeResult,
    Vocabulary,
    Writers,
    choose_queries,
    generate_posts,
    load_posts,
    report,
    rotation_script,
)
from bench.wrk import WrkResult
from blogapi.backup.seed import seed
from blogapi.db.models import Post, post_tags
from blogapi.extensions import db
from blogapi.posts.search.document import plain_text, tag_text
from tests.support.apps import dispose, file_database_app

POSTS = 300


def test_the_vocabulary_has_rare_and_common_words_and_recurring_phrases():
    vocabulary = Vocabulary(seed=7)
    writers = Writers([1], [1, 2], [(1, "Python"), (2, "Go"), (3, "Rust"), (4, "Git")])
    now = datetime(2026, 11, 30, tzinfo=UTC)
    posts = list(generate_posts(vocabulary, writers, 2000, first_id=1, seed=7, now=now))
    again = generate_posts(vocabulary, writers, 5, first_id=1, seed=7, now=now)
    assert [p.row for p in posts[:5]] == [p.row for p in again]
    holding = Counter(word for p in posts for word in set(p.row[6].lower().split()))
    queries = choose_queries(vocabulary, 100_000, seed=7).kinds
    # Common words were planned for 1-5% of posts; in 2,000 posts each appears in some.
    common = [holding[word] for word in queries["common term"]]
    assert all(5 <= n <= 200 for n in common), common
    # Rare ones (tens of posts in 100,000) are mostly absent from 2,000.
    assert sum(holding[word] for word in queries["rare term"]) < len(queries["rare term"])
    phrase = queries["phrase"][0].strip('"')
    assert any(phrase in p.row[6] for p in posts)


def test_generated_posts_load_and_search_finds_them(tmp_path):
    app = file_database_app(tmp_path)
    try:
        with app.app_context():
            seed(users=6, posts=0, seed=3)
            url = db.engine.url.render_as_string(hide_password=False)
        assert load_posts(url, POSTS, seed=3, batch=128) == POSTS
        with app.app_context():
            posts = db.session.scalars(select(Post).order_by(Post.id)).all()
            links: dict[int, list[str]] = {}
            for post_id, name in db.session.execute(select(post_tags.c.post_id, post_tags.c.name)):
                links.setdefault(post_id, []).append(name)
            db.session.expunge_all()
        assert len(posts) == POSTS
        assert all(post.body_text == plain_text(post.body_html) for post in posts)
        assert all(post.tag_names == tag_text(links.get(post.id, [])) for post in posts)
        assert {post.status_at(post.updated_at) for post in posts} >= {"draft", "published"}

        # What the API finds for a word is what the loaded text holds (visible posts only).
        client = app.test_client()
        now = max(post.updated_at for post in posts)
        visible = [p for p in posts if p.published_at is not None and p.published_at <= now]
        word = Counter(w for p in visible for w in set(p.body_text.lower().split())).most_common(
            200
        )[-1][0]
        response = client.get("/api/v1/posts", query_string={"q": word, "per_page": 100})
        assert response.status_code == 200
        found = {item["id"] for item in response.get_json()["items"]}
        holding = {p.id for p in visible if word in p.body_text.lower().split()}
        assert holding and holding <= found
    finally:
        dispose(app)


def test_the_report_and_the_wrk_script_are_written(tmp_path):
    script = rotation_script(['/api/v1/posts?q="a b"', "/api/v1/posts?q=c"], tmp_path / "r.lua")
    assert '"/api/v1/posts?q=\\"a b\\""' in script.read_text()
    run = WrkResult(100.0, 5.0, 9.0, 0, 0)
    result = SizeResult("sqlite", 300, 1.0, 2.0, 3.0, 0.1, {"FTS5 total": 1048576})
    result.runs["rare term (uncached)"] = [(run, run, run)]
    result.matches["rare term"] = [3, 5, 8]
    args = argparse.Namespace(
        workers=2, threads=2, connections=16, seconds=10, rounds=1, index_during_load=False
    )
    text = report(args, [result])
    assert (
        "| sqlite | 300 | rare term (uncached) | 100 | 5.0 | 9.0 | 5.0 | 9.0 | 100 | 1.00" in text
    )
    assert "FTS5 total 1.0 MB" in text
