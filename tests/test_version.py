"""torch.version: retrograd's own version, and no CUDA without CuPy."""

import importlib.util

import retrograd as rg


def test_version_module_names_retrograds_version_and_the_build():
    assert rg.version.__version__ == rg.__version__
    assert rg.version.debug is False and rg.version.hip is None and rg.version.git_version is None
    if importlib.util.find_spec("cupy") is None:
        assert rg.version.cuda is None
    else:
        major, minor = rg.version.cuda.split(".")
        assert int(major) >= 9 and int(minor) >= 0
