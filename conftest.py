"""The README's Python examples run as tests too (docs/conftest.py does the same for docs/)."""

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

pytest_collect_file = Sybil(parsers=[PythonCodeBlockParser()], patterns=["README.md"],
                            excludes=["src/*", "benchmarks/*", "docs/*", "tests/*"]).pytest()
