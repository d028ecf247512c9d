"""Defaults of ``retrograd.distributed`` (``torch.distributed.constants``)."""

import datetime

# How long a collective waits for the other ranks before raising DistBackendError, unless
# init_process_group / new_group are given another timeout: PyTorch's default for gloo.
default_pg_timeout = datetime.timedelta(minutes=30)
