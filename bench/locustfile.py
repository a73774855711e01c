"""The load scenario (locust) for a kiban cluster: residents, an office and agencies.

The mix (locust weights; the office is one fixed user):

- Resident, weight 8. Signs in to the portal with the card once at start, by the real flow
  (/portal/login, /oidc/authorize, the sign-in page, the card's signatures, consent,
  /portal/callback); then, by task weight: My page 5, "who used my data" 3, sign in again 1,
  file a move within the municipality through the API with a card-signed submission 1 (once
  per card: the move revokes the signing certificate).
- Agency, weight 3. One signed X-Road request through the gateway for a person's basic four
  (an access record on each side).
- Office, one fixed user. Reads Chiyoda's task queue with the office's API key, claims the
  oldest task and completes it (the register changes).

Environment (set by ``bench/cluster.py``): ``KIBAN_LOAD_SCENARIO`` (the JSON that
``cluster.py prepare`` wrote), ``KIBAN_LOAD_HOSTS`` (the serve processes, comma-separated: a
host whose connection failed is skipped for two seconds, as a load balancer's passive health
check does), ``KIBAN_LOAD_LOG`` (each request and each acknowledged write, one JSON a line),
and the cluster's ``KIBAN_DATA_DIR`` (the card store and the agencies' keys live there).

Run by hand: ``locust -f bench/locustfile.py --headless -u 20 -t 60s --host http://127.0.0.1:8000``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import random
import re
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from locust import HttpUser, between, events, task

from kiban.blocks import identity, mesh
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.kernel import clock

SCENARIO: dict[str, Any] = json.loads(
    Path(os.environ["KIBAN_LOAD_SCENARIO"]).read_text(encoding="utf-8")
)
HOSTS = os.environ.get("KIBAN_LOAD_HOSTS", "").split(",")
_LOG = Path(os.environ.get("KIBAN_LOAD_LOG", os.devnull)).open("a", encoding="utf-8")  # noqa: SIM115
PINS = {"auth": "1234", "signing": "KIBAN2026"}
API = "/api/v1/registration"
STORE = CardStore(Path(SCENARIO["card_store"]))
_CARDS = itertools.cycle(SCENARIO["cards"])
_MOVED: set[str] = set()
_DOWN_UNTIL: dict[str, float] = {}
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _write(entry: dict[str, Any]) -> None:
    _LOG.write(json.dumps(entry) + "\n")
    _LOG.flush()


@events.request.add_listener
def _record(name: str, exception: BaseException | None, url: str = "", **_: Any) -> None:
    ok = exception is None
    if not ok and isinstance(exception, ConnectionError | OSError):
        # Passive health check: leave a host whose connection failed alone for two seconds.
        base = "/".join(url.split("/")[:3])
        _DOWN_UNTIL[base] = time.time() + 2.0
    _write({"kind": "request", "t": time.time(), "name": name, "ok": ok})


def acknowledged(what: str, ident: str) -> None:
    """A write the cluster answered 2xx: it must be there, once, after every fault."""
    _write({"kind": "write", "t": time.time(), "what": what, "id": ident})


def _host() -> str:
    now = time.time()
    up = [h for h in HOSTS if _DOWN_UNTIL.get(h, 0) <= now]
    return random.choice(up or HOSTS)


def _path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class Kiban(HttpUser):
    abstract = True

    def go(self, method: str, path: str, name: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_redirects", False)
        return self.client.request(method, _host() + path, name=name or path, **kwargs)


class Resident(Kiban):
    weight = 8
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.card = next(_CARDS)
        self.sign_in()

    def _card_flow(self, authorize_path: str) -> str | None:
        """From the authorization request to the redirect back to the client; its URL."""
        response = self.go("GET", authorize_path, name="/oidc/authorize")
        if response.status_code != 303:
            return None
        page = self.go("GET", _path(response.headers["location"]), name="/oidc/signin")
        fields = dict(_HIDDEN.findall(page.text))
        if "challenge" not in fields:
            return None
        keys = fields["keys"].split(",")
        signed = sign_challenge(
            STORE, self.card, {k: PINS[k] for k in keys}, fields["challenge"], keys
        )
        body = {"request_id": fields["request_id"], **signed}
        if fields.get("response_mode") == "form_post":
            back = self.go("POST", _path(fields["return_to"]), name="/oidc/card", data=body)
        else:
            back = self.go(
                "GET", _path(fields["return_to"]) + "?" + urlencode(body), name="/oidc/card"
            )
        if back.status_code != 303:
            return None
        location = back.headers["location"]
        if "/oidc/consent" in location:
            consent = self.go("GET", _path(location), name="/oidc/consent")
            ticked = re.findall(r'name="scope" value="([a-z]+)"', consent.text)
            decided = self.go(
                "POST",
                _path(location),
                name="/oidc/consent",
                data={"decision": "approve", "scope": ticked},
            )
            if decided.status_code != 303:
                return None
            location = decided.headers["location"]
        return str(location)

    def sign_in(self) -> None:
        self.client.cookies.clear()
        login = self.go("GET", "/portal/login?next=/portal/", name="/portal/login")
        if login.status_code != 303:
            return
        back = self._card_flow(_path(login.headers["location"]))
        if back is not None:
            self.go("GET", _path(back), name="/portal/callback")

    def _bearer(self) -> dict[str, str] | None:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        redirect = f"{HOSTS[0]}/portal/callback"
        query = urlencode(
            {
                "response_type": "code",
                "client_id": identity.PORTAL_CLIENT_ID,
                "redirect_uri": redirect,
                "scope": "openid",
                "state": secrets.token_urlsafe(12),
                "nonce": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        back = self._card_flow(f"/oidc/authorize?{query}")
        if back is None:
            return None
        code = parse_qs(urlsplit(back).query).get("code", [""])[0]
        tokens = self.go(
            "POST",
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "code_verifier": verifier,
                "client_id": identity.PORTAL_CLIENT_ID,
            },
        )
        if tokens.status_code != 200:
            return None
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}

    @task(5)
    def my_page(self) -> None:
        if self.go("GET", "/portal/").status_code == 303:
            self.sign_in()

    @task(3)
    def who_used_my_data(self) -> None:
        self.go("GET", "/portal/records")

    @task(1)
    def sign_in_again(self) -> None:
        self.sign_in()

    @task(1)
    def file_a_move(self) -> None:
        if self.card in _MOVED:
            return
        _MOVED.add(self.card)
        me = self._bearer()
        if me is None:
            return
        started = self.go(
            "POST", f"{API}/applications", json={"service": "move_within"}, headers=me
        )
        if started.status_code != 201:
            return
        app = started.json()
        chome = random.choice(("一", "二", "三"))
        saved = self.go(
            "PATCH",
            f"{API}/applications/{app['id']}",
            name=f"{API}/applications/[id]",
            headers=me,
            json={
                "values": {
                    "destination": f"千代田区丸の内{chome}丁目{random.randint(1, 9)}-1",
                    "moved_on": clock.today_jst().isoformat(),
                },
                "expected_version": app["version"],
            },
        )
        if saved.status_code != 200:
            return
        to_sign = self.go(
            "GET",
            f"{API}/applications/{app['id']}/submission",
            name=f"{API}/applications/[id]/submission",
            headers=me,
        )
        if to_sign.status_code != 200:
            return
        answer = sign_challenge(
            STORE, self.card, PINS, to_sign.json()["signed_data"], ("auth", "signing")
        )
        submitted = self.go(
            "POST",
            f"{API}/applications/{app['id']}/submit",
            name=f"{API}/applications/[id]/submit",
            headers=me,
            json={
                "expected_version": to_sign.json()["version"],
                "signing_certificate": answer["signing_certificate"],
                "signature": answer["signing_signature"],
            },
        )
        if submitted.status_code == 200:
            acknowledged("submit", app["id"])


class Office(Kiban):
    fixed_count = 1
    wait_time = between(0.5, 1.0)

    @task
    def complete_the_oldest_task(self) -> None:
        key = {"Authorization": f"Bearer {SCENARIO['office_key']}"}
        queue = self.go("GET", f"{API}/tasks?office={SCENARIO['office']}", name=f"{API}/tasks",
                        headers=key)  # fmt: skip
        if queue.status_code != 200 or not queue.json()["items"]:
            return
        task_ = queue.json()["items"][0]
        claimed = self.go(
            "POST",
            f"{API}/tasks/{task_['id']}/claim",
            name=f"{API}/tasks/[id]/claim",
            headers=key,
            json={"expected_version": task_["version"]},
        )
        if claimed.status_code != 200:
            return
        done = self.go(
            "POST",
            f"{API}/tasks/{task_['id']}/complete",
            name=f"{API}/tasks/[id]/complete",
            headers=key,
            json={"action": "complete", "expected_version": claimed.json()["version"]},
        )
        if done.status_code == 200:
            acknowledged("complete", task_["id"])


class Agency(Kiban):
    weight = 3
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.agency = random.choice(SCENARIO["agencies"])
        self.key = mesh.subsystem_key(self.agency["subsystem"])

    @task
    def ask_the_register(self) -> None:
        service = SCENARIO["basic_four_service"]
        token, data = mesh.client_request(
            client=self.agency["subsystem"],
            certificate_pem=self.agency["certificate_pem"],
            key=self.key,
            service=service,
            agency_code=random.choice(self.agency["codes"]),
            items=SCENARIO["items"],
        )
        reply = self.go(
            "POST",
            f"/r1/{service}",
            name="/r1/[basic-four]",
            data=data,
            headers={"X-Road-Client": self.agency["subsystem"], "X-Road-Signature": token},
        )
        if reply.status_code == 200:
            acknowledged("exchange", reply.headers["X-Road-Id"])
