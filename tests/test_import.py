import retrograd


def test_package_imports_with_a_version():
    assert retrograd.__version__
