from __future__ import annotations

from tests.web.world import WebWorld


async def test_dashboard_renders_for_the_coordinator(web: WebWorld) -> None:
    client, _ = web.as_role("coordinator")
    response = await client.get("/dashboard")
    assert response.status_code == 200, response.text
    assert "Sanne Jansen" in response.text
