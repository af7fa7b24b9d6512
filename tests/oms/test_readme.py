"""The README's configuration table lists every variable oms/settings.py reads from the environment."""

import re
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def test_every_environment_variable_of_the_settings_is_in_the_readme_table():
    read = set(ENV_READ.findall((BASE_DIR / "oms" / "settings.py").read_text()))
    readme = (BASE_DIR / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]

    assert {"DATABASE_URL", "REDIS_URL", "OMS_DEMO_DIR"} <= read
    missing = sorted(name for name in read if f"`{name}`" not in table)
    assert missing == []
