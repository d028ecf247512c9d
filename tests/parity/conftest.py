"""The parity tests skip without PyTorch; ``make parity`` sets RETROGRAD_REQUIRE_TORCH to the
version it installed, so there a missing or different PyTorch fails instead of skipping."""

import os

_REQUIRED = os.environ.get("RETROGRAD_REQUIRE_TORCH")

if _REQUIRED:
    import torch

    if torch.__version__.split("+")[0].rsplit(".", 1)[0] != _REQUIRED:
        raise RuntimeError(f"the parity tests need PyTorch {_REQUIRED}, found {torch.__version__}")
