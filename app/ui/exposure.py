"""Who can reach the web UI: loopback is private; beyond it a login is required for writing.

Serving beyond loopback without ``auth`` is refused unless the user passes
``--insecure-no-auth``, which names the risk; even then uploads and deletes stay off, so a
server without a login never lets the network change the index.
"""

from __future__ import annotations

import ipaddress

from app.errors import ConfigError
from app.settings import Settings

INSECURE_FLAG = "--insecure-no-auth"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def has_auth(settings: Settings) -> bool:
    return bool(settings.auth.get_secret_value())


def check_exposure(settings: Settings, insecure_no_auth: bool = False) -> None:
    """Refuse to serve beyond loopback without a login, unless the user said so explicitly.

    Raises:
        ConfigError: ``host`` is not loopback, ``auth`` is empty, and no ``insecure_no_auth``.
    """
    if is_loopback(settings.host) or has_auth(settings) or insecure_no_auth:
        return
    raise ConfigError(
        f"refusing to serve the UI on {settings.host or 'all interfaces'} without a login: "
        "anyone who can reach it could read the documents. Set OPSQA_AUTH=user:password, "
        f"or pass {INSECURE_FLAG} to serve it open (uploads and deletes stay off without a "
        "login).")


def writes_refused(settings: Settings) -> str:
    """Why uploads and deletes are off ("" when they are on: a login, or loopback only)."""
    if has_auth(settings) or is_loopback(settings.host):
        return ""
    return (f"uploads and deletes are off: this server listens on {settings.host or 'all interfaces'}"
            " without a login. Set OPSQA_AUTH=user:password to turn them on.")
