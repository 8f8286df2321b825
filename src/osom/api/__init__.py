"""The REST API v1, assembled in ``root.py`` from each app's ``api.py``.

Nothing is imported here: an app's ``api.py`` imports the shared schemas from this
package, and must be able to do so before the API object that gathers it exists."""
