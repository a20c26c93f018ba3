"""The Gradio web UI: layout, handlers, rendering, upload safety and exposure checks.

``build_ui``, ``launch_options`` and ``serve`` load gradio on first use, so ``app.ui.exposure``
can vet a server's settings before anything heavy is imported.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_ui", "launch_options", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.ui import layout, serving

        return getattr(layout if name == "build_ui" else serving, name)
    raise AttributeError(f"module 'app.ui' has no attribute {name!r}")
