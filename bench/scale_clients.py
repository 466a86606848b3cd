"""A writer's life, looped: register, log in, write, edit, publish, read, list, log out."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter

import requests

from bench.ledger import NO_ANSWER, Ledger

PASSWORD = "scale test passphrase 42"
RETRYABLE = {429, 502, 503, 504}


class Writer:
    """One simulated client, spreading its requests over every instance."""

    def __init__(self, apis: list[str], ledger: Ledger, seed: int) -> None:
        self.apis = apis
        self.ledger = ledger
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.username = f"w{uuid.uuid4().hex[:12]}"
        self.token: str | None = None
        self.posts: list[int] = []
        # The webhook events the acknowledged writes made: (post id, type) -> how many.
        self.events: Counter[tuple[int, str]] = Counter()
        self.unsure: set[int] = set()  # posts with a write of unknown outcome

    def call(self, action: str, method: str, path: str, **kwargs) -> requests.Response | None:
        """One request to a random instance; None when the network failed."""
        instance = self.random.randrange(len(self.apis))
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        ticket, phase = self.ledger.begin(instance)
        start = time.perf_counter()
        try:
            response = self.session.request(
                method, f"{self.apis[instance]}{path}", headers=headers, timeout=15, **kwargs
            )
        except requests.RequestException:
            millis = (time.perf_counter() - start) * 1000
            self.ledger.outcome(phase, action, NO_ANSWER, millis, ticket)
            return None
        millis = (time.perf_counter() - start) * 1000
        self.ledger.outcome(phase, action, response.status_code, millis, ticket)
        return response

    def retrying(self, action: str, method: str, path: str, tries: int = 20, **kwargs):
        """Retry a request that failed in a retryable way (503, 429, network)."""
        for attempt in range(tries):
            response = self.call(action, method, path, **kwargs)
            if response is not None and response.status_code not in RETRYABLE:
                return response
            time.sleep(min(2.0, 0.1 * 2**attempt) * self.random.uniform(0.5, 1.0))
        return None

    def sign_in(self) -> bool:
        """Register once, then log in."""
        if self.username not in self.ledger.registered:
            response = self.retrying(
                "register",
                "POST",
                "/auth/register",
                json={
                    "username": self.username,
                    "email": f"{self.username}@example.com",
                    "password": PASSWORD,
                },
            )
            if response is None or response.status_code not in (201, 409):
                return False
            self.ledger.registered.append(self.username)
        self.token = None
        response = self.retrying(
            "login", "POST", "/auth/login", json={"username": self.username, "password": PASSWORD}
        )
        if response is None or response.status_code != 200:
            return False
        self.token = response.json()["access_token"]
        return True

    def write_post(self) -> None:
        """Create a post; remember it only if acknowledged."""
        state = {
            "title": f"Post {uuid.uuid4().hex[:10]}",
            "body": f"Body {uuid.uuid4().hex}",
            "published": False,
        }
        response = self.call(
            "create", "POST", "/posts", json={"title": state["title"], "body": state["body"]}
        )
        if response is not None and response.status_code == 201:
            self.posts.append(response.json()["id"])
            self.ledger.acked_post(response.json()["id"], state)

    def edit_post(self) -> None:
        """Edit one of my posts with If-Match, as a careful client does."""
        post_id = self.random.choice(self.posts)
        current = self.call("read", "GET", f"/posts/{post_id}")
        if current is None or current.status_code != 200:
            return
        state = {
            "title": f"Edited {uuid.uuid4().hex[:10]}",
            "body": current.json()["body"],
            "published": current.json()["status"] == "published",
        }
        response = self.call(
            "edit",
            "PATCH",
            f"/posts/{post_id}",
            json={"title": state["title"]},
            headers={"If-Match": current.headers["ETag"]},
        )
        self.settle(post_id, state, response, "post.updated" if state["published"] else None)

    def publish_post(self) -> None:
        """Publish one of my posts."""
        post_id = self.random.choice(self.posts)
        current = self.call("read", "GET", f"/posts/{post_id}")
        if current is None or current.status_code != 200:
            return
        body = current.json()
        state = {"title": body["title"], "body": body["body"], "published": True}
        response = self.call("publish", "POST", f"/posts/{post_id}/publish")
        went_live = body["status"] != "published"  # publishing a live post changes nothing
        self.settle(post_id, state, response, "post.published" if went_live else None)

    def settle(
        self,
        post_id: int,
        state: dict,
        response: requests.Response | None,
        event: str | None = None,
    ) -> None:
        """Record a write: acknowledged, refused (nothing to record) or of unknown outcome,
        and the webhook event it makes when acknowledged."""
        if response is not None and response.status_code == 200:
            self.ledger.acked_post(post_id, state)
            if event:
                self.events[post_id, event] += 1
        elif response is None or response.status_code >= 500:
            self.ledger.maybe_post(post_id, state)
            self.unsure.add(post_id)

    def log_out_and_back_in(self) -> None:
        """Log out (the token must stay revoked everywhere), then log in again."""
        token = self.token
        response = self.call("logout", "POST", "/auth/logout")
        if response is not None and response.status_code == 204:
            self.ledger.acked_logout(token)
        self.sign_in()

    def step(self) -> None:
        """One action, weighted like a writer's day."""
        if self.token is None and not self.sign_in():
            time.sleep(0.2)
            return
        roll = self.random.random()
        if roll < 0.2 or not self.posts:
            self.write_post()
        elif roll < 0.35:
            self.edit_post()
        elif roll < 0.45:
            self.publish_post()
        elif roll < 0.7:
            self.call("list", "GET", "/posts", params={"per_page": 20})
        elif roll < 0.95:
            self.call("read", "GET", f"/posts/{self.random.choice(self.posts)}")
        else:
            self.log_out_and_back_in()

    def run(self, deadline: float) -> None:
        """Act until the deadline."""
        while time.monotonic() < deadline:
            self.step()
