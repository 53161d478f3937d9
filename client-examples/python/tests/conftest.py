import os
import urllib.request

import pytest


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server the tests run against (`ZEBRAT_URL`). Not reachable: the test fails."""
    url = os.environ.get("ZEBRAT_URL", "http://localhost:8000").rstrip("/")
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            assert response.status == 200
    except OSError as error:
        pytest.fail(f"no Zebrat server at {url} (set ZEBRAT_URL): {error}")
    return url


@pytest.fixture(scope="session")
def expect_open() -> bool:
    """`ZEBRAT_EXPECT_OPEN=1` (client-examples/ci.sh, whose server holds the market open): a
    closed market fails the tests instead of sending them down the queued path."""
    return os.environ.get("ZEBRAT_EXPECT_OPEN") == "1"
