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


# Modules that `import retrograd` leaves for first use (each brings more modules with it).
LAZY_MODULES = (
    "retrograd.serialization",
    "retrograd._torch_format",
    "retrograd.autograd.function",
    "retrograd.autograd.functional",
    "retrograd.autograd.forward_ad",
    "retrograd.autograd.explain",
    "retrograd.distributions",
    "retrograd.func",
    "retrograd.profiler",
    "retrograd.fft",
    "tempfile",
    "socket",
)


def test_rarely_needed_modules_load_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, retrograd\n"
        f"loaded = [m for m in {LAZY_MODULES!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "import retrograd.autograd as A\n"
        "assert 'save' in dir(retrograd) and 'Function' in dir(A) and 'forward_ad' in dir(A)\n"
        "assert retrograd.save is retrograd.serialization.save\n"
        "assert retrograd.load.__module__ == 'retrograd.serialization'\n"
        "from retrograd import load\n"
        "from retrograd.autograd import Function, once_differentiable\n"
        "assert A.Function is Function and A.function.Function is Function\n"
        "assert callable(A.gradcheck) and A.functional.jacobian and A.explain_grad\n"
        "with A.forward_ad.dual_level():\n"
        "    x = A.forward_ad.make_dual(retrograd.ones(2), retrograd.ones(2))\n"
        "    assert A.forward_ad.unpack_dual(x * 3).tangent.tolist() == [3.0, 3.0]\n"
        "import retrograd.autograd.forward_ad, retrograd.serialization\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gradcheck_is_the_function_even_after_its_module_is_imported():
    import importlib

    import retrograd.autograd as A

    importlib.import_module("retrograd.autograd.gradcheck")
    assert callable(A.gradcheck) and A.gradcheck.__name__ == "gradcheck"
