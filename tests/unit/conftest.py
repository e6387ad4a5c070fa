"""Everything under tests/unit runs in process — fakes, SQLite in temporary directories, git in a
temporary repository; no mosquitto, influxd, browser or server process — so all of it is the fast
tier (`./scripts/test --fast`)."""

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = config.rootpath / "tests" / "unit"
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.fast)
