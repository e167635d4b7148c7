"""Small network helpers shared by the HTTP backend and the reward server."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address stays on this machine.

    >>> is_loopback_host("127.0.0.1"), is_loopback_host("localhost"), is_loopback_host("10.0.0.1")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
