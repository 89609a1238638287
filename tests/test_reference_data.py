"""The shipped reference data (cloud regions, categories, blocs) loads through its models
and names only real codes and taxonomy keys, as fideslang checks its own taxonomy."""

from __future__ import annotations

import pytest

from residency import categories, places, regions


def test_every_cloud_region_row_is_valid_and_names_a_real_place():
    table = regions.regions()
    assert len(table) >= 100
    for (provider, code), region in table.items():
        assert places.is_country(region.country), (provider, code, region.country)
        if region.subdivision:
            assert places.is_subdivision(region.subdivision), (provider, code)
            assert places.country_of(region.subdivision) == region.country, (provider, code)
        assert region.source.startswith("http"), (provider, code)


def test_a_bad_region_row_names_its_row_and_field():
    good = {
        "provider": "aws",
        "region": "x-1",
        "name": "X",
        "city": "",
        "country": "DE",
        "subdivision": "",
        "confidence": "confirmed",
        "source": "https://example.org",
        "note": "",
        "retrieved": "2026-11-26",
    }
    assert regions.RegionRow.model_validate(good).country == "DE"
    with pytest.raises(ValueError, match="country"):
        regions.RegionRow.model_validate({**good, "country": "Germany"})
    with pytest.raises(ValueError, match="provider"):
        regions.RegionRow.model_validate({**good, "provider": "oracle"})


def test_every_category_maps_to_a_fideslang_data_category():
    shipped = categories.categories()
    assert shipped
    keys = categories.fides_keys()
    for name, category in shipped.items():
        assert category.fides in keys, (name, category.fides)
        assert category.description


def test_a_bad_category_entry_is_refused():
    with pytest.raises(ValueError, match="description"):
        categories.CategoryFile.model_validate(
            {"categories": [{"name": "x", "fides": "user.contact"}]}
        )


def test_every_bloc_member_is_a_real_code():
    members = places.bloc_members()
    assert {"EU", "EEA"} <= set(members)
    for bloc, found in members.items():
        assert found, bloc
        for member in found:
            assert places.is_country(member.code), (bloc, member.code)
