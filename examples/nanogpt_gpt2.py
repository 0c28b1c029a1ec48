"""GPT-2 124M trained the way nanoGPT's ``config/train_gpt2.py`` trains it on one node of 8 GPUs.

The model: a decoder-only transformer of 12 layers, 12 heads, width 768, a 1,024-token context and a
50,304-token vocabulary (GPT-2's 50,257 padded to a multiple of 64, as nanoGPT pads it, for faster matmuls),
learned positions, pre-LayerNorm blocks with biases, no dropout, the output layer tied to the token embedding.
About 124 million parameters. Written here in plain torch: this file stands alone.

The job, as that config runs it (``torchrun --nproc_per_node=8 train.py config/train_gpt2.py``):

* 12 sequences of 1,024 tokens per GPU per micro-step on 8 GPUs: ``BATCH_SIZE = 12 * 8``, the global batch of
  one forward/backward pass;
* 5 micro-steps per optimizer step (``GRAD_ACCUM_STEPS = 5``): 480 sequences, about 0.5M tokens, per update;
* 600,000 optimizer steps: ``DATASET_SIZE`` = 600,000 x 480 sequences, one pass (``EPOCHS = 1``);
* bf16 autocast (``PRECISION``), ``torch.compile`` (``COMPILE``), AdamW (betas 0.9/0.95, weight decay 0.1 on
  the matrices only, fused on CUDA);
* an evaluation every 1,000 optimizer steps (``EVAL_EVERY``): nanoGPT's ``estimate_loss`` runs ``eval_iters``
  (200) forward-only batches on the training split and 200 more on the validation split, 400 in all
  (``EVAL_STEPS``). Only the master process evaluates, one batch of 12 sequences at a time, while the other
  seven wait for it at the next gradient all-reduce: the same wall time as 400 batches of 12 per GPU on all 8.

Batches are random token ids of the real shapes (``make_batch``); the model returns its own loss.

    advisor predict examples/nanogpt_gpt2.py --gpu A100-40GB --gpus 8
    advisor recommend examples/nanogpt_gpt2.py --deadline 5d
"""

import torch
import torch.nn.functional as F
from torch import nn

SEQUENCE_TOKENS = 1024
VOCABULARY = 50304  # 50,257 GPT-2 tokens padded to a multiple of 64
WIDTH = 768
HEADS = 12
LAYERS = 12

PER_GPU_BATCH = 12
GPUS = 8
GRAD_ACCUM_STEPS = 5
OPTIMIZER_STEPS = 600_000
BATCH_SIZE = PER_GPU_BATCH * GPUS  # sequences per micro-step, all GPUs together
DATASET_SIZE = OPTIMIZER_STEPS * BATCH_SIZE * GRAD_ACCUM_STEPS  # sequences
EPOCHS = 1
PRECISION = "bf16"
COMPILE = True
EVAL_EVERY = 1000  # optimizer steps
EVAL_STEPS = 2 * 200  # forward-only batches of BATCH_SIZE: eval_iters on each of the two splits


class SelfAttention(nn.Module):
    """Causal multi-head self-attention with one fused input projection."""

    def __init__(self) -> None:
        super().__init__()
        self.to_qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.out = nn.Linear(WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        heads = self.to_qkv(x).reshape(batch, tokens, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(heads[0], heads[1], heads[2], is_causal=True)
        return self.out(mixed.transpose(1, 2).reshape(batch, tokens, WIDTH))


class DecoderLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(WIDTH)
        self.attention = SelfAttention()
        self.norm2 = nn.LayerNorm(WIDTH)
        self.up = nn.Linear(WIDTH, 4 * WIDTH)
        self.down = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.down(F.gelu(self.up(self.norm2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(VOCABULARY, WIDTH)
        self.position_embedding = nn.Embedding(SEQUENCE_TOKENS, WIDTH)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.final_norm = nn.LayerNorm(WIDTH)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        for layer in self.layers:
            x = layer(x)
        logits = F.linear(self.final_norm(x), self.token_embedding.weight)  # tied output layer
        return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1))


def build_model() -> nn.Module:
    return GPT2()


def make_batch(batch_size: int):
    """Inputs and next-token targets: random ids of the real shapes (a window of SEQUENCE_TOKENS + 1)."""
    window = torch.randint(0, VOCABULARY, (batch_size, SEQUENCE_TOKENS + 1))
    return {"tokens": window[:, :-1], "targets": window[:, 1:]}, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},  # matrices, embeddings
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # biases, norms
    return torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), fused=torch.cuda.is_available())
