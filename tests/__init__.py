"""custdata's test suite: a package, so shared helpers import by their full name (``tests.storage.storage_backends``)."""
