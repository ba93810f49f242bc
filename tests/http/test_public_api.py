"""The edge's public surface is what ``rayguild.http_api.__all__`` says, and all of it exists."""

from __future__ import annotations

import rayguild.http_api as http_api


def test_public_api_is_curated() -> None:
    assert sorted(http_api.__all__) == [
        "EdgeContext", "GuildDirectory", "LocalCluster", "PresenceDirectory", "RunningEdge",
        "build_app", "create_user", "start_edge",
    ]  # fmt: skip
    for name in http_api.__all__:
        assert getattr(http_api, name) is not None
