"""A renamed post keeps its old slugs, so its old address can lead to the new one; a slug
leads to the post that gave it up last, and only while no post holds it."""

from __future__ import annotations

from blogapi.extensions import db
from blogapi.posts.slug_history import renamed_post
from tests.support.posts import API, new_post, published_post


def leads_to(app, slug: str) -> int | None:
    """The id of the post an old slug leads to now, or None."""
    with app.app_context():
        post = renamed_post(slug)
        db.session.rollback()
        return None if post is None else post.id


def rename(client, account, post: dict, slug: str) -> dict:
    """PATCH the post's slug; the post as now stored."""
    response = client.patch(
        f"{API}/posts/{post['id']}", json={"slug": slug}, headers=account.headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_renamed_post_keeps_each_slug_it_gave_up(app, client, author):
    post = published_post(client, author, title="First thoughts", body="Words.")
    assert leads_to(app, "first-thoughts") is None  # it still holds it
    rename(client, author, post, "second-thoughts")
    rename(client, author, post, "final-thoughts")
    assert leads_to(app, "first-thoughts") == post["id"]
    assert leads_to(app, "second-thoughts") == post["id"]
    assert leads_to(app, "final-thoughts") is None
    rename(client, author, post, "first-thoughts")  # back again: the slug is its own once more
    assert leads_to(app, "first-thoughts") is None
    assert leads_to(app, "final-thoughts") == post["id"]


def test_a_title_change_alone_keeps_the_slug_and_records_nothing(app, client, author):
    post = published_post(client, author, title="Stable", body="Words.")
    response = client.patch(
        f"{API}/posts/{post['id']}", json={"title": "Stable, retitled"}, headers=author.headers
    )
    assert response.get_json()["slug"] == "stable"
    assert leads_to(app, "stable") is None


def test_a_post_that_takes_an_old_slug_wins_it(app, client, author):
    renamed = published_post(client, author, title="Old name", body="Words.")
    rename(client, author, renamed, "new-name")
    newcomer = new_post(client, author, title="Old name", body="Other words.")
    assert newcomer["slug"] == "old-name"  # an old slug is free to take
    assert leads_to(app, "old-name") is None  # the post holding it answers there
    assert client.delete(f"{API}/posts/{newcomer['id']}", headers=author.headers).status_code == 204
    assert leads_to(app, "old-name") is None  # in the trash, it keeps holding its slug


def test_the_slug_goes_to_whoever_gave_it_up_last(app, client, author, make_account):
    editor = make_account("editor")
    first = published_post(client, author, title="Shared", body="One.")
    rename(client, author, first, "first-elsewhere")
    second = new_post(client, editor, title="Shared", body="Two.")
    assert second["slug"] == "shared"
    rename(client, editor, second, "second-elsewhere")
    assert leads_to(app, "shared") == second["id"]


def test_restoring_a_revision_with_another_slug_renames_the_post(app, client, author):
    post = published_post(client, author, title="Drafty", body="One.")
    rename(client, author, post, "polished")
    restored = client.post(f"{API}/posts/{post['id']}/revisions/1/restore", headers=author.headers)
    assert restored.status_code == 200 and restored.get_json()["slug"] == "drafty"
    assert leads_to(app, "polished") == post["id"]
    assert leads_to(app, "drafty") is None


def test_old_slugs_go_with_a_purged_post_and_never_lead_to_the_trash(app, client, author):
    post = published_post(client, author, title="Short lived", body="Words.")
    rename(client, author, post, "shorter-lived")
    assert client.delete(f"{API}/posts/{post['id']}", headers=author.headers).status_code == 204
    assert leads_to(app, "short-lived") is None  # trashed: no redirect to it
    assert (
        client.post(f"{API}/posts/{post['id']}/restore", headers=author.headers).status_code == 200
    )
    assert leads_to(app, "short-lived") == post["id"]
    assert client.delete(f"{API}/posts/{post['id']}", headers=author.headers).status_code == 204
    assert client.delete(f"{API}/trash/{post['id']}", headers=author.headers).status_code == 204
    with app.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM post_slugs")).scalar() == 0


def test_a_slug_that_is_no_slug_leads_nowhere(app):
    for wanted in ("", "Not A Slug", "x" * 81, "a\x00b", "../etc"):
        assert leads_to(app, wanted) is None
