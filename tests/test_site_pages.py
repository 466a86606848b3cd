"""A reader's story: an author registers, writes and publishes; a reader opens the front page,
the post, its tag and the author, and IndieWeb tools, link previews and search engines read
what each page says about itself (mf2py, OpenGraph, JSON-LD)."""

from __future__ import annotations

from tests.support.accounts import sign_up
from tests.support.posts import published_post
from tests.support.site import (
    HOSTILE_TITLE,
    RTL_TITLE,
    items_of,
    json_ld,
    meta_content,
    rich_post,
    set_profile,
)

SITE = "http://localhost"


def test_an_author_publishes_and_a_reader_reads_every_page(app, client):
    ada = sign_up(client, app, "ada")
    set_profile(client, ada, display_name="Ada Lovelace", bio="Writes about engines & <code>.")
    post = rich_post(client, ada)
    url = f"{SITE}/posts/{post['slug']}"
    image = post["feature_image"]["url"]

    page = client.get(f"/posts/{post['slug']}")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    [entry] = items_of(html, url, "h-entry")
    props = entry["properties"]
    assert props["name"] == [RTL_TITLE]
    assert props["url"] == [url]
    assert props["published"] == [post["published_at"].replace(".000000", "")[:19] + "Z"]
    assert props["updated"] == [post["updated_at"][:19] + "Z"]
    assert props["category"] == ["Python", "Web Dev"]
    assert props["photo"] == [{"value": image, "alt": "A red cover"}]
    assert props["summary"] == [post["summary"]]
    content = props["content"][0]
    assert '<pre tabindex="0"><code>def greet(name: str) -&gt; str:' in content["html"]
    assert 'alt="A red square"' in content["html"] and f'src="{image}"' in content["html"]
    assert "horizontal scroll on a phone" in content["value"]
    [author] = props["author"]
    assert author["type"] == ["h-card"]
    assert author["properties"]["name"] == ["Ada Lovelace"]
    assert author["properties"]["url"] == [f"{SITE}/authors/ada"]
    assert f'<link rel="canonical" href="{url}">' in html

    home = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    [feed] = items_of(home, f"{SITE}/", "h-feed")
    [listed] = feed["children"]
    assert listed["properties"]["name"] == [RTL_TITLE]
    assert listed["properties"]["url"] == [url]
    assert listed["properties"]["photo"][0]["value"] == image
    assert listed["properties"]["category"] == ["Python", "Web Dev"]
    assert listed["properties"]["author"][0]["properties"]["url"] == [f"{SITE}/authors/ada"]
    assert "content" not in listed["properties"]  # list pages carry the summary only
    assert listed["properties"]["summary"] == [post["summary"]]

    tag = client.get("/tags/python").get_data(as_text=True)
    [tagged] = items_of(tag, f"{SITE}/tags/python", "h-feed")
    assert [child["properties"]["url"] for child in tagged["children"]] == [[url]]
    assert f'href="{SITE}/feed.atom?tag=python"' in tag

    profile = client.get("/authors/ADA").get_data(as_text=True)
    [card] = items_of(profile, f"{SITE}/authors/ada", "h-card")
    assert card["properties"]["name"] == ["Ada Lovelace"]
    assert card["properties"]["note"] == ["Writes about engines & <code>."]
    assert card["properties"]["url"] == [f"{SITE}/authors/ada"]
    [theirs] = items_of(profile, f"{SITE}/authors/ada", "h-feed")
    assert [child["properties"]["url"] for child in theirs["children"]] == [[url]]
    assert f'href="{SITE}/feed.json?author=ada"' in profile


def test_a_post_page_tells_link_previews_and_search_engines_about_it(app, client):
    ada = sign_up(client, app, "ada")
    post = rich_post(client, ada)
    url = f"{SITE}/posts/{post['slug']}"
    html = client.get(f"/posts/{post['slug']}").get_data(as_text=True)
    image = post["feature_image"]

    def prop(name):
        return meta_content(html, "property", name)

    assert prop("og:title") == [RTL_TITLE]
    assert prop("og:type") == ["article"]
    assert prop("og:url") == [url]
    assert prop("og:site_name") == ["blogapi"]
    assert prop("og:description") == [post["summary"]]
    assert prop("og:image") == [image["url"]]
    assert prop("og:image:width") == ["1200"] and prop("og:image:height") == ["630"]
    assert prop("og:image:alt") == ["A red cover"]
    assert prop("article:tag") == ["Python", "Web Dev"]
    assert prop("article:published_time")[0].startswith(post["published_at"][:19])
    assert meta_content(html, "name", "twitter:card") == ["summary_large_image"]
    assert meta_content(html, "name", "description") == [post["summary"]]
    data = json_ld(html)
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == RTL_TITLE
    assert data["mainEntityOfPage"]["@id"] == url
    assert data["author"] == {"@type": "Person", "name": "ada", "url": f"{SITE}/authors/ada"}
    assert data["image"]["url"] == image["url"]
    assert data["keywords"] == ["Python", "Web Dev"]
    assert data["datePublished"].startswith(post["published_at"][:19])

    plain = published_post(client, ada, title="No image", body="Just *text* here.")
    html = client.get(f"/posts/{plain['slug']}").get_data(as_text=True)
    assert meta_content(html, "name", "twitter:card") == ["summary"]
    assert meta_content(html, "property", "og:image") == []
    assert meta_content(html, "name", "description") == ["Just text here."]


def test_a_hostile_title_is_text_in_the_body_the_meta_tags_and_the_json_ld(app, client):
    ada = sign_up(client, app, "ada")
    post = published_post(client, ada, title=HOSTILE_TITLE, summary=HOSTILE_TITLE, tags=["x"])
    for path in (f"/posts/{post['slug']}", "/", "/tags/x", "/authors/ada"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<!--" not in html, path
        assert html.count("</script>") == (1 if path.startswith("/posts/") else 0), path
    html = client.get(f"/posts/{post['slug']}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert meta_content(html, "property", "og:title") == [HOSTILE_TITLE]
    assert json_ld(html)["headline"] == HOSTILE_TITLE
    [entry] = items_of(html, SITE, "h-entry")
    assert entry["properties"]["name"] == [HOSTILE_TITLE]


def test_the_site_speaks_the_configured_language_and_title(app, client):
    app.config.update(SITE_LANGUAGE="fr-CA", SITE_TITLE="Le blogue & co", SITE_DESCRIPTION="Ça")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fr-CA">' in html
    assert "<title>Le blogue &amp; co</title>" in html
    assert meta_content(html, "property", "og:site_name") == ["Le blogue & co"]
    assert meta_content(html, "name", "description") == ["Ça"]
