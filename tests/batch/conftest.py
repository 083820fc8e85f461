import pytest

from tests.batch.helpers import make_digits


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("digits"))
    return folder, make_digits(folder, 24)
