"""A module that fails as it is imported, for the python plugin's tests."""

raise RuntimeError("pytasks_broken does not import")
