"""A Chroma server client whose every request has a timeout and whose failures are one line.

chromadb's HTTP client (1.5) sends every request with ``timeout=None``, and its constructor
already talks to the server, so a listener that accepts and never answers hangs ``opsqa``
forever. This client sets the timeout on the HTTP session before the first request (the
hook is chromadb's shared-system constructor, the one point between creating the system
and instantiating its server API) and turns transport failures, timeouts and answers that
are not Chroma's JSON into one ``IndexStoreError`` line that names the server.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx
import orjson
from chromadb.api.base_http_client import BaseHTTPClient
from chromadb.api.client import Client
from chromadb.api.fastapi import FastAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings
from overrides import override

from ingest.errors import IndexStoreError


class TimedSettings(Settings):
    """chromadb settings plus the request timeout (seconds) for every call to the server."""

    opsqa_request_timeout: float = 30.0


class _TimedFastAPI(FastAPI):
    """chromadb's HTTP API with a bounded session and one-line errors (no state of its own:
    an existing ``FastAPI`` instance becomes one through ``_bound``)."""

    timeout: float
    where: str

    @classmethod
    def _bound(cls, api: FastAPI, timeout: float) -> None:
        api.__class__ = cls
        assert isinstance(api, cls)
        api.timeout = timeout
        api._session.timeout = httpx.Timeout(timeout)
        s = api._settings
        api.where = f"{s.chroma_server_host}:{s.chroma_server_http_port}"

    @override  # chromadb's classes enforce the decorator on overrides
    def _make_request(self, method: str, path: str, **kwargs: Any) -> Any:
        if "json" in kwargs:  # as chromadb does: orjson, numpy arrays included
            kwargs["content"] = orjson.dumps(kwargs.pop("json"), option=orjson.OPT_SERIALIZE_NUMPY)
        url = self._api_url + urllib.parse.quote(path, safe="/")
        try:
            resp = self._session.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise IndexStoreError(
                f"the Chroma server at {self.where} did not answer within {self.timeout:g} s "
                "(chroma_timeout): is `chroma run` up there and not stuck?") from None
        except httpx.HTTPError as exc:
            raise IndexStoreError(
                f"cannot reach the Chroma server at {self.where}: {one_line(exc)}. "
                "Is `chroma run` up and reachable?") from None
        kind = resp.headers.get("content-type", "").split(";")[0].strip()
        if kind != "application/json":
            raise IndexStoreError(
                f"{self.where} answered HTTP {resp.status_code} with {kind or 'no content type'}"
                ", not Chroma's JSON: is chroma_host/chroma_port a Chroma server?")
        BaseHTTPClient._raise_chroma_error(resp)
        try:
            return orjson.loads(resp.text)
        except orjson.JSONDecodeError:
            raise IndexStoreError(
                f"{self.where} answered with malformed JSON: is it a Chroma server?") from None


class _TimedSystemHook(SharedSystemClient):
    """Bounds a new client's server API after its system is made, before any request."""

    def __init__(self, settings: Settings = Settings()) -> None:  # noqa: B008 - as chromadb
        super().__init__(settings=settings)
        api = self._system.instance(FastAPI)  # the one made for ServerAPI (its impl)
        _TimedFastAPI._bound(api, float(getattr(settings, "opsqa_request_timeout", 30.0)))


class _TimedClient(Client, _TimedSystemHook):
    """``chromadb.HttpClient`` with timeouts: Client -> hook -> SharedSystemClient (MRO)."""


def http_client(host: str, port: int, timeout: float) -> Any:
    """A chromadb client for the server at ``host:port``; every request times out.

    Raises:
        IndexStoreError: the server does not answer, is not Chroma, or is unreachable.
    """
    settings = TimedSettings(anonymized_telemetry=False, allow_reset=False,
                             chroma_api_impl="chromadb.api.fastapi.FastAPI",
                             chroma_server_host=host, chroma_server_http_port=port,
                             opsqa_request_timeout=timeout)
    return _TimedClient(settings=settings)


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, at most ``limit`` characters."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
