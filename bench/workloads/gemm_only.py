"""One matrix product shaped by the environment (ADVISOR_GEMM_M, _N, _K, _BATCHED): bench/gemm_paces.py prices it
against an H200's measured GEMMs. The batch size is the product's M (or, batched, its batch with
ADVISOR_GEMM_M rows each)."""

import os

import torch
from torch import nn

M = int(os.environ.get("ADVISOR_GEMM_M", 1))
N = int(os.environ.get("ADVISOR_GEMM_N", 1024))
K = int(os.environ.get("ADVISOR_GEMM_K", 1024))
BATCHED = os.environ.get("ADVISOR_GEMM_BATCHED", "0") == "1"
BATCH_SIZE = 1024


class Product(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(K, N) / K**0.5)

    def forward(self, x):
        if BATCHED:
            return torch.bmm(x, self.w.expand(x.shape[0], K, N))
        return x @ self.w


def build_model():
    return Product()


def make_batch(batch_size):
    shape = (batch_size, M, K) if BATCHED else (batch_size, K)
    return torch.randn(*shape), torch.zeros(batch_size)


def loss_fn(out, target):
    return out.float().mean()
