"""Chromium screenshots of the reader pages at 360 px and 1280 px, light and dark.

    .venv/bin/python -m devtools.screenshots [OUT_DIR]   (default docs/screenshots)

Starts gunicorn (production settings) on a fresh SQLite database with `manage.py seed` demo
content and one post written through the API with a feature image, code, a list, an image in
its body and tags, then saves home-<width>-<scheme>.png (the first screenful) and
post-<width>-<scheme>.png (the whole page).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

from devtools.chromium import CHROMIUM_ARGS, find_chromium
from devtools.live import OPEN_REGISTRATION, ROOT, LiveServer, migrate, production_env

WIDTHS = {360: 740, 1280: 800}  # viewport width: height
SCHEMES = ("light", "dark")
WHOLE = frozenset({"post"})  # shown whole: its code block, list, image and tags
PASSWORD = "screenshot passphrase 4 pages"
DEMO_BODY = """Reader pages are plain HTML: no script, one stylesheet, and microformats that
IndieWeb readers understand. A long word must wrap on a phone:
Pneumonoultramicroscopicsilicovolcanoconiosis.

```python
def greet(name: str) -> str:
    return "Hello, " + name + "! This line is long enough to scroll sideways on a phone."
```

- Light and dark themes follow the reader's system setting.
- Images never overflow the screen.
- Code blocks scroll on their own.

![A gradient, uploaded through the API]({image})
"""


def demo_image() -> bytes:
    """A 1200x630 JPEG gradient (a feature image's usual shape)."""
    from PIL import Image

    gradient = Image.linear_gradient("L")
    across = gradient.rotate(90).resize((1200, 630))
    image = Image.merge(
        "RGB", (across, gradient.resize((1200, 630)), across.point(lambda v: 255 - v))
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_demo_post(api: str, username: str = "ada", **fields: Any) -> dict[str, Any]:
    """Register an author, upload a feature image and publish a post through the API."""
    requests.post(
        f"{api}/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=30,
    )
    login = requests.post(
        f"{api}/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    requests.patch(
        f"{api}/auth/me",
        json={"display_name": "Ada Lovelace", "bio": "Writes about engines and notes."},
        headers=auth,
        timeout=30,
    ).raise_for_status()
    media = requests.post(
        f"{api}/media",
        files={"file": ("cover.jpg", demo_image(), "image/jpeg")},
        data={"alt": "A soft purple and green gradient"},
        headers=auth,
        timeout=30,
    )
    media.raise_for_status()
    image = media.json()
    values = {
        "title": "Reading this blog on a phone and a desktop",
        "summary": "What the reader pages look like, in light and dark.",
        "body": DEMO_BODY.replace("{image}", image["url"]),
        "tags": ["Web Development", "Accessibility"],
        "feature_image_id": image["id"],
    } | fields
    post = requests.post(f"{api}/posts", json=values, headers=auth, timeout=30)
    post.raise_for_status()
    published = requests.post(f"{api}/posts/{post.json()['id']}/publish", headers=auth, timeout=30)
    published.raise_for_status()
    result: dict[str, Any] = published.json()
    return result


def shrink(path: Path) -> None:
    """Store a screenshot with a 256-colour palette: a fraction of the size, the text as sharp."""
    from PIL import Image

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def shoot(
    executable: str, base: str, pages: dict[str, str], out_dir: Path, whole: frozenset[str] = WHOLE
) -> list[Path]:
    """Screenshots of each named page at each width and scheme: the first screenful, or the
    whole page for those named in `whole`."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for width, height in WIDTHS.items():
            for scheme in SCHEMES:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                for name, path in pages.items():
                    page.goto(base + path, wait_until="networkidle")
                    target = out_dir / f"{name}-{width}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=name in whole)
                    shrink(target)
                    saved.append(target)
                page.close()
        browser.close()
    return saved


def main() -> None:
    """Seed a throwaway instance and save the screenshots."""
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    executable = find_chromium()
    if executable is None:
        sys.exit("screenshots: chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as workdir:
        env = production_env(
            f"sqlite:///{Path(workdir) / 'shots.db'}",
            RATELIMIT_ENABLED="false",
            SITE_TITLE="blogapi demo",
            SITE_DESCRIPTION="Notes on building small, careful web services.",
            **OPEN_REGISTRATION,
        )
        migrate(env)
        subprocess.run(
            [sys.executable, "manage.py", "seed", "--users", "4", "--posts", "40", "--seed", "16"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        with LiveServer(env, log_path=Path(workdir) / "gunicorn.log") as server:
            post = write_demo_post(server.api)
            pages = {"home": "/", "post": f"/posts/{post['slug']}"}
            for path in shoot(executable, server.url, pages, out_dir):
                print(path)


if __name__ == "__main__":
    main()
