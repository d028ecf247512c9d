"""retrograd.optim: optimizers and learning-rate schedules, with PyTorch's update rules."""

from .optimizer import Optimizer, register_optimizer_step_pre_hook, register_optimizer_step_post_hook
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .sparse_adam import SparseAdam
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .rprop import Rprop
from .asgd import ASGD
from .lbfgs import LBFGS
from .adafactor import Adafactor
from .muon import Muon
from . import lr_scheduler
from . import swa_utils
from ._stateless import swap_in_optimizer_params_and_state

__all__ = [
    "Optimizer",
    "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "SparseAdam",
    "lr_scheduler",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
    "LBFGS",
    "Adafactor",
    "Muon",
    "swa_utils",
    "swap_in_optimizer_params_and_state",
]
