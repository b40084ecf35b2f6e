"""Facts about network addresses that several layers need (the API's access rules, the chat's URL
overrides): pure, no I/O."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether a bind address reaches this machine only (``127.0.0.1``, ``::1``, ``localhost``, empty)."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
