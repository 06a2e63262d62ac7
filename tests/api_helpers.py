"""Small helpers for the API tests: JSON requests with a Django test client."""

import json

from django.test import Client

from wuye.accounts.actor import Actor
from wuye.accounts.services import create_api_token

API = "/api/v1"


def send(client: Client, method: str, path: str, data=None, **headers):
    body = json.dumps(data, default=str) if data is not None else ""
    return getattr(client, method)(
        API + path, body, content_type="application/json", headers=headers
    )


def post(client, path, data=None, **headers):
    return send(client, "post", path, data if data is not None else {}, **headers)


def patch(client, path, data, **headers):
    return send(client, "patch", path, data, **headers)


def get(client, path, params=None, **headers):
    return client.get(API + path, params or {}, headers=headers)


def results(response) -> list:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in results(response)}


def bearer_client(user) -> Client:
    """A client that authenticates only with a fresh bearer token (no session)."""
    _token, secret = create_api_token(actor=Actor(user), name="test")
    return Client(headers={"Authorization": f"Bearer {secret}"})
