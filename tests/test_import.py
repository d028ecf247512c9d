import retrograd


def test_package_imports_with_a_version():
    assert retrograd.__version__


def test_subpackages_load_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, retrograd; assert 'retrograd.nn' not in sys.modules; "
        "retrograd.nn.Linear; retrograd.optim.SGD; retrograd.utils.data.DataLoader; "
        "assert 'retrograd.nn' in sys.modules; import retrograd.distributed"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
