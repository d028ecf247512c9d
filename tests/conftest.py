import numpy as np
import pytest

import retrograd


@pytest.fixture(autouse=True)
def _seed():
    retrograd.manual_seed(0)
    np.random.seed(0)
    yield
