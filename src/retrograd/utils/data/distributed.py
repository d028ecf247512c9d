"""DistributedSampler: each rank's share of a dataset's indices, as in PyTorch.

The index list (a permutation seeded by ``seed + epoch`` when shuffling, so every rank draws the
same one, else ``0..len-1``) is made a multiple of ``num_replicas`` long, by repeating its start
(``drop_last=False``) or cutting its tail (``drop_last=True``); rank r takes every
``num_replicas``-th index from position r. Every rank then yields the same number of samples,
so all ranks run the same number of steps and no collective waits for a rank that has stopped:

    drop_last and len % n != 0:  num_samples = ceil((len - n) / n)
    otherwise:                   num_samples = ceil(len / n)

Call ``set_epoch(epoch)`` before each epoch for a new shuffle.
"""

import math

from ... import distributed as dist
from ..._creation import Generator, randperm
from .sampler import Sampler


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Seed the next shuffle with ``seed + epoch`` (the same on every rank)."""
        self.epoch = epoch
