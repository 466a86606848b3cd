"""Posts with a feature image: chosen by id, shown on every read and list, refused for media a
contributor does not own, and holding the media while it is used."""

from __future__ import annotations

from tests.support.media import API, image_bytes, upload
from tests.support.posts import new_post, published_post
from tests.support.problems import assert_problem


def uploaded(client, account, color=(10, 20, 30), alt="A cover"):
    """Upload a small image; its JSON."""
    reply = upload(client, account, image_bytes("PNG", (120, 90), color=color), alt=alt)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def test_a_post_shows_its_feature_image_in_reads_lists_and_the_trash(client, author):
    cover = uploaded(client, author)
    post = published_post(client, author, feature_image_id=cover["id"])
    expected = {key: cover[key] for key in ("id", "url", "alt", "width", "height")}
    assert post["feature_image"] == expected
    assert client.get(f"{API}/posts/{post['id']}").get_json()["feature_image"] == expected
    listed = client.get(f"{API}/posts").get_json()["items"]
    assert listed[0]["feature_image"] == expected
    assert new_post(client, author)["feature_image"] is None
    client.delete(f"{API}/posts/{post['id']}", headers=author.headers)
    trash = client.get(f"{API}/trash", headers=author.headers).get_json()["items"]
    assert trash[0]["feature_image"] == expected


def test_changing_the_feature_image_records_no_revision_and_null_removes_it(client, author):
    first, second = uploaded(client, author), uploaded(client, author, color=(1, 1, 1))
    post = new_post(client, author, feature_image_id=first["id"])
    url = f"{API}/posts/{post['id']}"
    changed = client.patch(url, headers=author.headers, json={"feature_image_id": second["id"]})
    assert changed.status_code == 200
    assert changed.get_json()["feature_image"]["id"] == second["id"]
    revisions = client.get(f"{url}/revisions", headers=author.headers).get_json()
    assert revisions["meta"]["total"] == 1
    cleared = client.patch(url, headers=author.headers, json={"feature_image_id": None})
    assert cleared.get_json()["feature_image"] is None


def test_unknown_media_and_a_contributors_use_of_others_media_are_422(client, author, make_account):
    theirs = uploaded(client, author)
    contributor = make_account("contributor")
    refused = client.post(
        f"{API}/posts",
        headers=contributor.headers,
        json={"title": "T", "body": "B", "feature_image_id": theirs["id"]},
    )
    assert "feature_image_id" in assert_problem(refused, 422)["errors"]
    mine = uploaded(client, contributor, color=(9, 9, 9))
    post = new_post(client, contributor, feature_image_id=mine["id"])
    patch = client.patch(
        f"{API}/posts/{post['id']}",
        headers=contributor.headers,
        json={"feature_image_id": theirs["id"]},
    )
    assert "feature_image_id" in assert_problem(patch, 422)["errors"]
    for bad in (999_999, 0, -1, "1", 2**31, True):
        reply = client.post(
            f"{API}/posts",
            headers=author.headers,
            json={"title": "T", "body": "B", "feature_image_id": bad},
        )
        assert "feature_image_id" in assert_problem(reply, 422)["errors"], bad
    editor = make_account("editor")
    used = new_post(client, editor, feature_image_id=mine["id"])
    assert used["feature_image"]["id"] == mine["id"]


def test_media_in_use_cannot_be_deleted_and_the_problem_names_the_posts(client, author):
    cover = uploaded(client, author)
    post = new_post(client, author, feature_image_id=cover["id"])
    refused = client.delete(f"{API}/media/{cover['id']}", headers=author.headers)
    problem = assert_problem(refused, 409)
    assert problem["posts"] == [{"id": post["id"], "slug": post["slug"]}]
    assert post["slug"] in problem["detail"]
    client.delete(f"{API}/posts/{post['id']}", headers=author.headers)  # to the trash
    assert client.delete(f"{API}/media/{cover['id']}", headers=author.headers).status_code == 409
    client.delete(f"{API}/trash/{post['id']}", headers=author.headers)  # purged
    assert client.delete(f"{API}/media/{cover['id']}", headers=author.headers).status_code == 204


def test_a_new_alt_text_reaches_cached_public_reads_at_once(client, author):
    cover = uploaded(client, author, alt="Before")
    post = published_post(client, author, feature_image_id=cover["id"])
    path = f"{API}/posts/{post['slug']}"
    assert client.get(path).get_json()["feature_image"]["alt"] == "Before"
    assert client.get(f"{API}/posts").get_json()["items"][0]["feature_image"]["alt"] == "Before"
    client.patch(f"{API}/media/{cover['id']}", headers=author.headers, json={"alt": "After"})
    assert client.get(path).get_json()["feature_image"]["alt"] == "After"
    assert client.get(f"{API}/posts").get_json()["items"][0]["feature_image"]["alt"] == "After"
