"""retrograd.nn: modules, parameters, initialisation and the functional API."""
from . import functional
