"""The test servers' ports: a gateway and its sandbox once got the same "free" port (each chosen by a socket
closed before the next was bound) and one of them could not start."""

from __future__ import annotations

from agtest.servers import free_ports


def test_ports_chosen_together_are_distinct() -> None:
    for _ in range(20):
        ports = free_ports(8)
        assert len(set(ports)) == len(ports)
