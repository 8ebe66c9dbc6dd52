"""The referee: the pytest plugin, its fixtures, outcome classification and the proxies to the submission process."""
