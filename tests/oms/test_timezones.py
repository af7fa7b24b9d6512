"""One rule for time zone names: a zone of the tz database, or none (refused on input, read as UTC when stored)."""

import pytest

from oms.timezones import is_zone, zone


@pytest.mark.parametrize("name", ["Europe/Paris", "America/Guadeloupe", "Indian/Reunion", "UTC"])
def test_zones_of_the_database_are_zones(name):
    assert is_zone(name) and zone(name).key == name


@pytest.mark.parametrize("name", ["Europe", "Europe/", "Europe/Paris/", "../etc", "", None, 12, "posix", "right"])
def test_folders_paths_and_other_things_are_not(name):
    assert not is_zone(name)
    assert zone(name).key == "UTC"


def test_a_tenant_with_a_folder_for_a_time_zone_is_refused(db):
    from oms.errors import ValidationFailed
    from oms.services import create_tenant

    with pytest.raises(ValidationFailed):
        create_tenant(slug="folder", name="Folder", timezone_name="Europe")
