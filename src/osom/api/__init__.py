"""The REST API v1, assembled from each app's ``api.py``."""

from .root import api

__all__ = ["api"]
