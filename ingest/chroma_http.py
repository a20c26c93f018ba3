"""A Chroma server client whose every answer has a deadline and whose failures are one line.

chromadb's HTTP client (1.5) sends every request with ``timeout=None``, and its constructor
already talks to the server, so a listener that accepts and never answers hangs ``opsqa``
forever. This client bounds the HTTP session before the first request (the hook is
chromadb's shared-system constructor, the one point between creating the system and
instantiating its server API) and turns transport failures, timeouts and answers that are
not Chroma's JSON into one ``IndexStoreError`` line that names the server.

A timeout in httpx holds for each read, so a server that sends a byte now and then (a
header line every two seconds) would keep a request alive for ever. Each request therefore
also has one deadline, ``timeout`` seconds from its start: the sockets of the session are
opened through a network backend that gives every connect, read and write only the time
left until it, and fails the request once none is left.
"""

from __future__ import annotations

import contextvars
import time
import urllib.parse
from typing import Any

import httpcore
import httpx
import orjson
from chromadb.api.base_http_client import BaseHTTPClient
from chromadb.api.client import Client
from chromadb.api.fastapi import FastAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings
from overrides import override

from ingest.errors import IndexStoreError

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "opsqa_chroma_deadline", default=None)


def _time_left(timeout: float | None) -> float | None:
    """``timeout`` cut to the time left before the current request's deadline.

    Raises:
        httpcore.ReadTimeout: the deadline has passed (httpx reports it as a timeout).
    """
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the deadline of the request has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _time_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with ``_DeadlineStream``s."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None
                    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(
            host, port, _time_left(timeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(
            path, _time_left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _with_deadlines(session: httpx.Client) -> None:
    """Open every socket of ``session`` through ``_DeadlineBackend`` (its transports'
    connection pools are httpx's; a test with a trickling server fails should that change)."""
    for transport in (session._transport, *session._mounts.values()):
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            pool._network_backend = _DeadlineBackend(pool._network_backend)


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
        _with_deadlines(api._session)
        s = api._settings
        api.where = f"{s.chroma_server_host}:{s.chroma_server_http_port}"

    @override  # chromadb's classes enforce the decorator on overrides
    def _make_request(self, method: str, path: str, **kwargs: Any) -> Any:
        if "json" in kwargs:  # as chromadb does: orjson, numpy arrays included
            kwargs["content"] = orjson.dumps(kwargs.pop("json"), option=orjson.OPT_SERIALIZE_NUMPY)
        url = self._api_url + urllib.parse.quote(path, safe="/")
        token = _DEADLINE.set(time.monotonic() + self.timeout)
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
        finally:
            _DEADLINE.reset(token)
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
