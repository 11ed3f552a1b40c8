"""Settings for every test.

Running a shipped example would record its runs beside it, in the checkout: every test (and
every process a test starts, which inherits the environment) keeps run histories and sweep
studies in one temporary folder instead. Tests of the default location unset the variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from neuroflow.history import RUNS_DIR_ENV


@pytest.fixture(autouse=True, scope="session")
def _histories_out_of_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    previous = os.environ.get(RUNS_DIR_ENV)
    os.environ[RUNS_DIR_ENV] = str(tmp_path_factory.mktemp("run-histories"))
    yield
    if previous is None:
        os.environ.pop(RUNS_DIR_ENV, None)
    else:
        os.environ[RUNS_DIR_ENV] = previous
