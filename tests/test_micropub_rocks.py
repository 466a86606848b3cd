"""The micropub.rocks server tests (100-805), one test per numbered case, over real HTTP under
gunicorn in production mode; after each create, the post's public page, read with mf2py,
agrees with what q=source says of it.

The cases send what micropub.rocks sends (its views/server-tests/*.php) and check what it
checks, plus what its reviewer checks by eye (categories, photos, HTML shown as HTML).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import mf2py
import pytest
import requests

from blogapi.posts.markdown import render_markdown
from devtools.live import LiveServer
from tests.support.live import production_server, sign_up_over_http
from tests.support.media import gradient_jpeg, image_bytes
from tests.support.micropub import bearer, live_token

pytestmark = pytest.mark.slow
TIMEOUT = 60
SUNSET = "https://micropub.rocks/media/sunset.jpg"
CITY = "https://micropub.rocks/media/city-at-night.jpg"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One production instance for the whole module."""
    with production_server(tmp_path_factory.mktemp("micropub-rocks")) as live:
        yield live


@pytest.fixture(scope="module")
def session(server: LiveServer) -> dict[str, str]:
    """A signed-up author's session (the Authorization header of its access token)."""
    return sign_up_over_http(server.api, "rocks")


@pytest.fixture(scope="module")
def token(server: LiveServer, session: dict[str, str]) -> str:
    """A personal access token with every scope Micropub uses, made as a writer makes one."""
    return live_token(server.api, session)


def endpoint(server: LiveServer) -> str:
    """The Micropub endpoint's URL."""
    return f"{server.url}/micropub"


def create(server: LiveServer, token: str, **kwargs: Any) -> str:
    """POST a create; its 201 and the Location."""
    response = requests.post(endpoint(server), headers=bearer(token), timeout=TIMEOUT, **kwargs)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    assert location.startswith(f"{server.url}/posts/")
    return location


def query(server: LiveServer, token: str, **params: Any) -> requests.Response:
    """GET /micropub with a query."""
    return requests.get(endpoint(server), params=params, headers=bearer(token), timeout=TIMEOUT)


def source(server: LiveServer, token: str, url: str) -> dict[str, list[Any]]:
    """q=source's properties of the post at `url`."""
    response = query(server, token, q="source", url=url)
    assert response.status_code == 200, response.text
    properties: dict[str, list[Any]] = response.json()["properties"]
    return properties


def normalized(html: str) -> str:
    """HTML with white space between tags and the pages' tabindex left out."""
    html = html.replace(' tabindex="0"', "")
    return re.sub(r">\s+<", "><", html).strip()


def checked(server: LiveServer, token: str, url: str) -> dict[str, list[Any]]:
    """q=source of the post at `url`, after checking that its page's h-entry agrees."""
    properties = source(server, token, url)
    page = requests.get(url, timeout=TIMEOUT)
    assert page.status_code == 200
    entry = next(i for i in mf2py.parse(doc=page.text, url=url)["items"] if "h-entry" in i["type"])
    shown = entry["properties"]
    assert shown["url"] == properties["url"] == [url]
    if "name" in properties:
        assert shown["name"] == properties["name"]
    stamp = datetime.fromisoformat(shown["published"][0].replace(" ", "T"))
    assert stamp == datetime.fromisoformat(properties["published"][0])
    assert sorted(shown.get("category", [])) == sorted(properties.get("category", []))
    if "summary" in properties:
        assert shown["summary"] == properties["summary"]
    content = properties.get("content", [""])[0]
    expected = content["html"] if isinstance(content, dict) else render_markdown(content)
    assert normalized(shown["content"][0]["html"]).startswith(normalized(expected))
    photos = [p["value"] if isinstance(p, dict) else p for p in properties.get("photo", [])]
    page_photos = [p["value"] if isinstance(p, dict) else p for p in shown.get("photo", [])]
    for photo in photos:  # the feature image as u-photo, others as images in the content
        assert photo in page_photos or photo in shown["content"][0]["html"]
    return properties


# 100-107: creating posts, form-encoded


def test_100_create_an_h_entry_form_encoded(server, token):
    text = "Micropub test of creating a basic h-entry"
    url = create(server, token, data={"h": "entry", "content": text})
    assert checked(server, token, url)["content"] == [text]


def test_101_create_with_multiple_categories_form_encoded(server, token):
    data = {
        "h": "entry",
        "content": "Two categories, test1 and test2",
        "category[]": ["test1", "test2"],
    }
    url = create(server, token, data=data)
    assert checked(server, token, url)["category"] == ["test1", "test2"]


def test_102_create_with_categories_by_numbered_offsets(server, token):
    data = {
        "h": "entry",
        "content": "Numbered categories",
        "category[0]": "test1",
        "category[1]": "test2",
    }
    url = create(server, token, data=data)
    assert checked(server, token, url)["category"] == ["test1", "test2"]


def test_103_create_with_html_content_form_encoded(server, token):
    html = "<p>This post has <b>bold</b> and <i>italic</i> text.</p>"
    url = create(server, token, data={"h": "entry", "content[html]": html})
    content = checked(server, token, url)["content"]
    assert content == [
        {"html": "<p>This post has <strong>bold</strong> and <em>italic</em> text.</p>"}
    ]


def test_104_create_with_a_photo_by_url_form_encoded(server, token):
    data = {
        "h": "entry",
        "content": "Micropub test of creating a photo referenced by URL",
        "photo": SUNSET,
    }
    url = create(server, token, data=data)
    assert checked(server, token, url)["photo"] == [SUNSET]


def test_105_create_with_a_photo_and_alt_text_form_encoded(server, token):
    data = {
        "h": "entry",
        "content": "A photo with alt text",
        "photo[value]": SUNSET,
        "photo[alt]": "Photo of a sunset",
    }
    url = create(server, token, data=data)
    assert checked(server, token, url)["photo"] == [{"value": SUNSET, "alt": "Photo of a sunset"}]


def test_106_create_with_a_nested_object_form_encoded(server, token):
    data = {
        "h": "entry",
        "summary": "Weighed 70.64 kg",
        "x-weight[type]": "h-measure",
        "x-weight[properties][num]": "70.64",
        "x-weight[properties][unit]": "kg",
    }
    url = create(server, token, data=data)
    properties = checked(server, token, url)
    assert properties["summary"] == ["Weighed 70.64 kg"] and "x-weight" not in properties


def test_107_create_with_one_category_form_encoded(server, token):
    url = create(server, token, data={"h": "entry", "content": "One category", "category": "test1"})
    assert checked(server, token, url)["category"] == ["test1"]


# 200-206: creating posts, JSON


def entry(**properties: list[Any]) -> dict[str, Any]:
    """A JSON create."""
    return {"type": ["h-entry"], "properties": properties}


def test_200_create_an_h_entry_json(server, token):
    url = create(
        server,
        token,
        json=entry(content=["Micropub test of creating an h-entry with a JSON request"]),
    )
    assert checked(server, token, url)["content"] == [
        "Micropub test of creating an h-entry with a JSON request"
    ]


def test_201_create_with_multiple_categories_json(server, token):
    url = create(server, token, json=entry(content=["Two categories"], category=["test1", "test2"]))
    assert checked(server, token, url)["category"] == ["test1", "test2"]


def test_202_create_with_html_content_json(server, token):
    html = "<p>This post has <b>bold</b> and <i>italic</i> text.</p>"
    url = create(server, token, json=entry(content=[{"html": html}]))
    html_shown = "<p>This post has <strong>bold</strong> and <em>italic</em> text.</p>"
    assert checked(server, token, url)["content"] == [{"html": html_shown}]


def test_203_create_with_a_photo_by_url_json(server, token):
    url = create(server, token, json=entry(content=["A photo by URL"], photo=[SUNSET]))
    assert checked(server, token, url)["photo"] == [SUNSET]


def test_204_create_with_a_nested_object_json(server, token):
    nested = {"type": ["h-measure"], "properties": {"num": ["70.64"], "unit": ["kg"]}}
    url = create(server, token, json=entry(summary=["Weighed 70.64 kg"], **{"x-weight": [nested]}))
    assert checked(server, token, url)["summary"] == ["Weighed 70.64 kg"]


def test_205_create_with_a_photo_and_alt_text_json(server, token):
    photo = {"value": SUNSET, "alt": "Photo of a sunset"}
    url = create(server, token, json=entry(content=["A photo with alt text"], photo=[photo]))
    assert checked(server, token, url)["photo"] == [photo]


def test_206_create_with_multiple_photos_json(server, token):
    url = create(server, token, json=entry(content=["Two photos"], photo=[SUNSET, CITY]))
    assert checked(server, token, url)["photo"] == [SUNSET, CITY]


# 300-301: creating posts, multipart


def test_300_create_with_an_uploaded_photo(server, token):
    files = {"photo": ("sunset.jpg", gradient_jpeg((640, 480)), "image/jpeg")}
    url = create(
        server, token, data={"h": "entry", "content": "Nice image of a sunset"}, files=files
    )
    photos = checked(server, token, url)["photo"]
    assert len(photos) == 1 and photos[0].startswith(f"{server.url}/media/")
    assert requests.get(photos[0], timeout=TIMEOUT).headers["Content-Type"] == "image/jpeg"


def test_301_create_with_two_uploaded_photos(server, token):
    files = [
        ("photo[]", ("sunset.jpg", gradient_jpeg((640, 480)), "image/jpeg")),
        ("photo[]", ("city.png", image_bytes("PNG", (300, 200)), "image/png")),
    ]
    url = create(
        server,
        token,
        data={"h": "entry", "content": "This post should have two photos"},
        files=files,
    )
    photos = checked(server, token, url)["photo"]
    assert len(photos) == 2 and all(p.startswith(f"{server.url}/media/") for p in photos)


# 400-405: updates


def update(server: LiveServer, token: str, body: dict[str, Any]) -> requests.Response:
    """POST an update."""
    return requests.post(endpoint(server), json=body, headers=bearer(token), timeout=TIMEOUT)


def test_400_replace_a_property(server, token):
    url = create(server, token, json=entry(content=["Micropub update test."]))
    changed = update(
        server,
        token,
        {"action": "update", "url": url, "replace": {"content": ["This is the updated text."]}},
    )
    assert changed.status_code in (200, 201, 204), changed.text
    assert checked(server, token, url)["content"] == ["This is the updated text."]


def test_401_add_a_value_to_an_existing_property(server, token):
    url = create(server, token, json=entry(content=["Add a category."], category=["test1"]))
    changed = update(
        server, token, {"action": "update", "url": url, "add": {"category": ["test2"]}}
    )
    assert changed.status_code in (200, 204), changed.text
    assert checked(server, token, url)["category"] == ["test1", "test2"]


def test_402_add_a_value_to_a_property_the_post_lacks(server, token):
    url = create(server, token, json=entry(content=["Add a first category."]))
    changed = update(
        server, token, {"action": "update", "url": url, "add": {"category": ["test1"]}}
    )
    assert changed.status_code in (200, 204), changed.text
    assert checked(server, token, url)["category"] == ["test1"]


def test_403_remove_a_value_from_a_property(server, token):
    url = create(
        server, token, json=entry(content=["Delete a category."], category=["test1", "test2"])
    )
    changed = update(
        server, token, {"action": "update", "url": url, "delete": {"category": ["test2"]}}
    )
    assert changed.status_code in (200, 204), changed.text
    assert checked(server, token, url)["category"] == ["test1"]


def test_404_remove_a_property(server, token):
    url = create(
        server, token, json=entry(content=["Delete the categories."], category=["test1", "test2"])
    )
    changed = update(server, token, {"action": "update", "url": url, "delete": ["category"]})
    assert changed.status_code in (200, 204), changed.text
    assert "category" not in checked(server, token, url)


def test_405_reject_an_operation_that_is_not_an_object_of_arrays(server, token):
    url = create(server, token, json=entry(content=["Micropub update test #405."]))
    refused = update(
        server,
        token,
        {"action": "update", "url": url, "replace": "This is not a valid update request."},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert checked(server, token, url)["content"] == ["Micropub update test #405."]


# 500-503: delete and undelete


def action(server: LiveServer, token: str, name: str, url: str, *, as_json: bool) -> None:
    """POST action=name for url, form-encoded or JSON; it succeeds."""
    body = {"action": name, "url": url}
    sent = {"json": body} if as_json else {"data": body}
    response = requests.post(endpoint(server), headers=bearer(token), timeout=TIMEOUT, **sent)
    assert response.status_code in (200, 204), response.text


def gone(server: LiveServer, token: str, url: str) -> bool:
    """Whether the post's page and q=source no longer know the post."""
    page = requests.get(url, timeout=TIMEOUT).status_code
    return page == 404 and query(server, token, q="source", url=url).status_code == 400


def test_500_delete_a_post_form_encoded(server, token):
    url = create(server, token, data={"h": "entry", "content": "This post will be deleted"})
    action(server, token, "delete", url, as_json=False)
    assert gone(server, token, url)


def test_501_delete_a_post_json(server, token):
    url = create(server, token, json=entry(content=["This post will be deleted"]))
    action(server, token, "delete", url, as_json=True)
    assert gone(server, token, url)


def test_502_undelete_a_post_form_encoded(server, token):
    url = create(
        server, token, data={"h": "entry", "content": "This post will be deleted, then undeleted"}
    )
    action(server, token, "delete", url, as_json=False)
    assert gone(server, token, url)
    action(server, token, "undelete", url, as_json=False)
    assert checked(server, token, url)["content"] == ["This post will be deleted, then undeleted"]


def test_503_undelete_a_post_json(server, token):
    url = create(server, token, json=entry(content=["Deleted, then undeleted (JSON)"]))
    action(server, token, "delete", url, as_json=True)
    action(server, token, "undelete", url, as_json=True)
    assert checked(server, token, url)["content"] == ["Deleted, then undeleted (JSON)"]


# 600-603: queries


def test_600_configuration_query(server, token):
    config = query(server, token, q="config")
    assert config.status_code == 200 and config.headers["Content-Type"] == "application/json"
    assert config.json()["media-endpoint"] == f"{server.url}/micropub/media"
    assert config.json()["syndicate-to"] == []


def test_601_syndication_endpoint_query(server, token):
    answer = query(server, token, q="syndicate-to")
    assert (answer.status_code, answer.json()) == (200, {"syndicate-to": []})


def test_602_source_query_all_properties(server, token):
    url = create(
        server,
        token,
        json=entry(
            content=["Test of querying the endpoint for the source content"],
            category=["micropub", "test"],
        ),
    )
    answer = query(server, token, q="source", url=url).json()
    assert answer["type"] == ["h-entry"]
    assert answer["properties"]["content"] == [
        "Test of querying the endpoint for the source content"
    ]
    assert answer["properties"]["category"] == ["micropub", "test"]
    checked(server, token, url)


def test_603_source_query_specific_properties(server, token):
    url = create(
        server, token, json=entry(content=["Specific properties"], category=["micropub", "test"])
    )
    answer = query(server, token, q="source", url=url, **{"properties[]": ["content", "category"]})
    assert answer.json() == {
        "properties": {"content": ["Specific properties"], "category": ["micropub", "test"]}
    }


# 700-702: the media endpoint


def media(server: LiveServer, token: str, name: str, data: bytes, kind: str) -> None:
    """Upload to the media endpoint: 201 with the file's URL, which serves the image."""
    response = requests.post(
        f"{server.url}/micropub/media",
        headers=bearer(token),
        files={"file": (name, data, kind)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    served = requests.get(response.headers["Location"], timeout=TIMEOUT)
    assert (served.status_code, served.headers["Content-Type"]) == (200, kind)


def test_700_upload_a_jpg_to_the_media_endpoint(server, token):
    media(server, token, "sunset.jpg", gradient_jpeg((320, 240)), "image/jpeg")


def test_701_upload_a_png_to_the_media_endpoint(server, token):
    media(server, token, "micropub.png", image_bytes("PNG", (320, 240)), "image/png")


def test_702_upload_a_gif_to_the_media_endpoint(server, token):
    media(server, token, "micropub.gif", image_bytes("GIF", (320, 240)), "image/gif")


# 800-805: authentication


def test_800_accept_the_access_token_in_the_header(server, token):
    url = create(
        server,
        token,
        data={
            "h": "entry",
            "content": "Testing accepting access token in HTTP Authorization header",
        },
    )
    checked(server, token, url)


def test_801_accept_the_access_token_in_the_post_body(server, token):
    body = {
        "h": "entry",
        "content": "Testing accepting access token in post body",
        "access_token": token,
    }
    response = requests.post(endpoint(server), data=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    checked(server, token, response.headers["Location"])


def test_802_does_not_store_the_access_token(server, token):
    body = {
        "h": "entry",
        "content": "Testing accepting access token in post body",
        "access_token": token,
    }
    response = requests.post(endpoint(server), data=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    properties = checked(server, token, response.headers["Location"])
    assert properties["content"] == ["Testing accepting access token in post body"]
    assert "access_token" not in properties and token not in str(properties)


def test_803_reject_unauthenticated_requests(server, token):
    body = {
        "h": "entry",
        "content": "Testing an unauthenticated request. This should not create a post.",
    }
    response = requests.post(endpoint(server), data=body, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_804_reject_a_token_without_the_scope(server, session):
    limited = live_token(server.api, session, ("media",))
    body = {"h": "entry", "content": "Testing a request with an unauthorized access token."}
    response = requests.post(endpoint(server), data=body, headers=bearer(limited), timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json()["error"] == "insufficient_scope"


def test_805_reject_two_ways_of_sending_the_token(server, token):
    body = {
        "h": "entry",
        "content": "Token in the header and the body. This should not create a post",
        "access_token": token,
    }
    response = requests.post(endpoint(server), data=body, headers=bearer(token), timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# Beyond micropub.rocks: errors in production mode (TESTING off) are Micropub's body too.


def test_errors_under_gunicorn_are_micropubs_body(server, token):
    auth = bearer(token)
    as_json = {**auth, "Content-Type": "application/json"}
    as_text = {**auth, "Content-Type": "text/plain"}
    big = {"h": "entry", "content": "x" * 2_000_000}
    answers = [
        (requests.put(endpoint(server), headers=auth, timeout=TIMEOUT), 405),
        (requests.get(f"{endpoint(server)}/nothing", headers=auth, timeout=TIMEOUT), 404),
        (requests.post(endpoint(server), data=b"{", headers=as_json, timeout=TIMEOUT), 400),
        (requests.post(endpoint(server), data=b"x", headers=as_text, timeout=TIMEOUT), 415),
        (requests.post(endpoint(server), data=big, headers=auth, timeout=TIMEOUT), 413),
    ]
    for response, status in answers:
        assert (response.status_code, response.headers["Content-Type"]) == (
            status,
            "application/json",
        ), response.text[:200]
        assert response.json()["error"] == "invalid_request"
