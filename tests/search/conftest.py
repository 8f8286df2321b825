"""Fixtures for the search tests: the corpus to search and API callers."""

from tests.api.conftest import api_as  # noqa: F401  (a fixture)
from tests.search.corpus import corpus  # noqa: F401  (a fixture)
