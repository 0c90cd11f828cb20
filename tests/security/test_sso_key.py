"""The key that signs a pending single sign-on login is made once per data folder, by
whichever worker needs it first: workers asking at the same moment all get the same whole
key, readable by the owner only, with no draft left behind."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adapters.api.web.sso import KEY_FILE, _key


def test_workers_asking_at_once_get_one_whole_key(tmp_path: Path) -> None:
    for n in range(20):
        home = tmp_path / f"home-{n}"
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = set(pool.map(_key, [home] * 8))
        assert len(keys) == 1
        (key,) = keys
        assert len(key) == 64
        assert int(key, 16) >= 0  # hexadecimal through and through
        assert [p.name for p in home.iterdir()] == [KEY_FILE]
        assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
