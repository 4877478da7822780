"""Shared pytest setup: the `lowbit` package importable from the source tree,
and a random generator of each test's own."""
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def rng(request):
    """A generator seeded from the test's own id (parameters included): a
    test's data does not depend on which tests ran before it."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
