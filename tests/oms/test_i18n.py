"""The French catalogue stays complete and compiled, and French requests get French pages.

The completeness test runs `makemessages -l fr` over a copy of the project, exactly as `make messages` does over
the real tree, and fails listing every message that has no French translation or is marked fuzzy. When it
fails: run `make messages`, translate the listed entries in locale/fr/LC_MESSAGES/django.po, run it again
(it compiles django.mo) and commit both files.
"""

import gettext
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES"
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "venv", "staticfiles", "media", "node_modules", "__pycache__", ".pytest_cache", ".demo", "*.mo"
)

needs_gettext = pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgfmt") is None,
    reason="GNU gettext (xgettext, msgmerge, msgfmt) is not installed: apt-get install gettext",
)


def _unquote(text: str) -> str:
    return json.loads(text)  # PO strings use C escapes (\n, \", \\), which JSON reads alike


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags, references."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = field = None
            continue
        if entry is None:
            entry = {
                "msgctxt": None,
                "msgid": "",
                "msgid_plural": None,
                "msgstr": [],
                "flags": set(),
                "references": [],
                "obsolete": False,
            }
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry["references"].extend(line[2:].split())
        elif line.startswith("#"):
            continue
        else:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(\[\d+\])?\s+(".*")$', line)
            if match:
                field = match.group(1)
                value = _unquote(match.group(3))
                if field == "msgstr":
                    entry["msgstr"].append(value)
                else:
                    entry[field] = value
            elif line.startswith('"') and field is not None:
                if field == "msgstr":
                    entry["msgstr"][-1] += _unquote(line)
                else:
                    entry[field] += _unquote(line)
    return [e for e in entries if not e["obsolete"]]


def problems(entries: list[dict]) -> list[str]:
    found = []
    for entry in entries:
        if entry["msgid"] == "" and entry["msgctxt"] is None:
            continue  # the header
        where = " ".join(entry["references"][:2])
        label = (f"[{entry['msgctxt']}] " if entry["msgctxt"] else "") + repr(entry["msgid"])
        if "fuzzy" in entry["flags"]:
            found.append(f"fuzzy: {label} ({where})")
        elif not entry["msgstr"] or any(not text for text in entry["msgstr"]):
            found.append(f"untranslated: {label} ({where})")
    return found


@needs_gettext
def test_every_message_of_the_project_has_a_french_translation(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCES)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "fr",
            "--no-obsolete",
            "--ignore=.venv",
            "--ignore=staticfiles",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        # A database URL that is never connected to: without one, the settings would start the demo's PostgreSQL.
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": "makemessages-check",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused",
        },
    )
    assert result.returncode == 0, result.stderr
    found = problems(parse_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    assert not found, (
        "The French catalogue is incomplete; run `make messages`, translate these entries in "
        "locale/fr/LC_MESSAGES/django.po, run `make messages` again and commit:\n" + "\n".join(found)
    )


@needs_gettext
def test_committed_catalogue_is_valid_and_compiled(tmp_path):
    po = CATALOGUE / "django.po"
    assert not problems(parse_po(po))
    compiled = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with compiled.open("rb") as fresh, (CATALOGUE / "django.mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            "django.mo is older than django.po: run `make messages` (or compilemessages -l fr) and commit it"
        )


def test_problems_reports_untranslated_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#: a.py:1\nmsgid "Done"\nmsgstr "Fait"\n\n'
        '#: b.py:2\nmsgid "Orders"\nmsgstr ""\n\n'
        '#: c.py:3\n#, fuzzy\nmsgid "Order"\nmsgstr "Commandes"\n\n'
        '#: d.py:4\nmsgid "%(n)d line"\nmsgid_plural "%(n)d lines"\nmsgstr[0] "%(n)d ligne"\nmsgstr[1] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    assert problems(parse_po(po)) == [
        "untranslated: 'Orders' (b.py:2)",
        "fuzzy: 'Order' (c.py:3)",
        "untranslated: '%(n)d line' (d.py:4)",
    ]


@pytest.mark.django_db
def test_french_visitor_gets_the_login_page_in_french(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html and "Mot de passe" in html
    assert "Sign in" not in html


@pytest.mark.django_db
def test_english_stays_the_default(client):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="en">' in html and "Sign in" in html


@pytest.mark.django_db
def test_french_wrong_password_error_is_in_french(client):
    response = client.post("/login/", {"username": "nobody@example.com", "password": "x"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Adresse e-mail inconnue ou mot de passe incorrect." in response.content.decode()


def test_translation_functions_keep_the_names_makemessages_extracts():
    """makemessages finds _(), gettext(), gettext_lazy()... by name: a message marked through another alias
    (`gettext as _t`) is never extracted, and stays in English whatever the catalogue holds."""
    extracted = {
        "_",
        "gettext",
        "gettext_lazy",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "npgettext",
        "npgettext_lazy",
        "gettext_noop",
    }
    alias = re.compile(r"\b(\w*gettext\w*) as (\w+)")
    found = []
    for path in ROOT.rglob("*.py"):
        if {".venv", "venv", "node_modules"} & set(path.parts) or "site-packages" in path.parts:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if "django.utils.translation import" in line:
                found += [
                    f"{path.relative_to(ROOT)}: {name} as {as_name}"
                    for name, as_name in alias.findall(line)
                    if as_name not in extracted
                ]
    assert found == []
