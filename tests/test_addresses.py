"""A view's address reversed once and filled in per row is the address reversed for it."""

from django.urls import reverse

from osom.core.addresses import address_maker


def test_an_address_made_once_is_the_address_reversed_for_each_value():
    by_id = address_maker("learning:round")
    for pk in (1, 42, 918_273_645):
        assert by_id(pk) == reverse("learning:round", args=[pk])
    by_slug = address_maker("learning:service_round_new", slug=True)
    for slug in ("parking-permits", "a", "x-1_2"):
        assert by_slug(slug) == reverse("learning:service_round_new", args=[slug])


def test_a_service_address_follows_the_prefix_the_site_is_served_under():
    from django.urls import get_script_prefix, set_script_prefix

    from osom.core.addresses import service_address
    from osom.network.models import Service

    service = Service(slug="parking-permits")
    before = get_script_prefix()
    try:
        for prefix in ("/", "/intranet/osom/", "/"):
            set_script_prefix(prefix)
            assert service_address(service) == reverse("network:service", args=["parking-permits"])
            assert service_address(service).startswith(prefix)
            assert service_address({"slug": "parking-permits"}) == service_address(service)
    finally:
        set_script_prefix(before)
