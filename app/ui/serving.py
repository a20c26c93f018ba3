"""Serving the web UI: launch options (loopback, logins, limits, no sharing) and the server loop.

Serving is loopback by default and never shared; ``auth`` (one or several logins) is required
beyond loopback (``app.ui.exposure``). What each browser keeps is encrypted with the key of
``app.ui.session.browser_secret``.
"""

from __future__ import annotations

import contextlib

from app import Assistant, ConfigError
from app.ui.assets import CSS, JS
from app.ui.exposure import check_exposure


def launch_options(bot: Assistant) -> dict[str, object]:
    """Keyword arguments for ``Blocks.launch``: loopback host, auth, limits, no sharing.

    Raises:
        ConfigError: ``auth`` is set but not ``user:password``.
    """
    s = bot.settings
    opts: dict[str, object] = {
        "server_name": s.host,
        "server_port": s.port,
        "share": False,
        "show_error": False,
        "max_file_size": int(s.upload_max_mb * 1_000_000),
        "css": CSS,
        "js": JS,
        "footer_links": ["api"],
    }
    logins = parse_auth(s.auth.get_secret_value())
    if logins:
        opts["auth"] = logins
    return opts


def parse_auth(auth: str) -> list[tuple[str, str]]:
    """``user:password``, or several separated by commas (each user then has their own chats).

    Raises:
        ConfigError: a login is not ``user:password``.
    """
    logins = []
    for part in (p.strip() for p in auth.split(",") if auth.strip()):
        user, sep, password = part.partition(":")
        if not (sep and user.strip() and password):
            raise ConfigError("auth must look like user:password, or several separated by "
                              "commas (OPSQA_AUTH)")
        logins.append((user.strip(), password))
    return logins


def serve(bot: Assistant, insecure_no_auth: bool = False) -> None:
    """Serve the UI until interrupted (blocking).

    Raises:
        ConfigError: exposed beyond loopback without auth (see ``app.ui.exposure``), or the
            server cannot listen on its host and port or reach itself there.
    """
    from app.ui.layout import build_ui

    check_exposure(bot.settings, insecure_no_auth)
    demo = build_ui(bot)
    opts = launch_options(bot)
    where = f"{opts['server_name']}:{opts['server_port']}"
    try:
        # quiet: gradio's own start-up lines suggest share=True, which opsqa never does.
        demo.launch(**opts, quiet=True, prevent_thread_lock=True)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - gradio raises OSError, ValueError, httpx errors
        with contextlib.suppress(Exception):
            demo.close()
        raise ConfigError(f"cannot serve the UI on {where}: {_launch_problem(exc)}") from None
    print(f"opsqa UI on {demo.local_url} (Ctrl+C stops it)", flush=True)
    demo.block_thread()


def _launch_problem(exc: Exception) -> str:
    """One line for a failed launch (gradio's own messages suggest share=True or env vars)."""
    import httpx

    text = str(exc)
    if isinstance(exc, OSError) and "empty port" in text:
        return "the port is in use or not allowed; choose another with --port"
    if isinstance(exc, httpx.HTTPError) or "localhost is not accessible" in text:
        reason = (text.strip().splitlines() or [type(exc).__name__])[0]
        return (f"it cannot reach itself over loopback ({reason}); is the loopback "
                "interface up, and no proxy (HTTP_PROXY) in the way?")
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]
