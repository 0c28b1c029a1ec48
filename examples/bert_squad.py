"""BERT fine-tuning on SQuAD v1.1 (extractive question answering), in plain torch (no transformers needed).

A BERT encoder (uncased WordPiece vocabulary of 30,522, sequences of 384 tokens as in the reference
SQuAD recipe) with a span head: a linear layer gives each token a start and an end logit, and the loss is
the mean of the start and end cross-entropies. The model computes that loss itself, so ``make_batch``
returns a dict of inputs (including the gold positions) and ``None`` as the target.

Size: ``ADVISOR_BERT_SIZE=base`` (default; 12 layers, hidden 768, 12 heads, FFN 3072; 108,893,186
parameters) or ``ADVISOR_BERT_SIZE=large`` (24 layers, hidden 1024, 16 heads, FFN 4096; 334,094,338
parameters). There is no pooler: the span head reads every token's hidden state, not [CLS].

Batches are synthetic token ids of the real shapes, with a question segment, a context segment and some
padding. The defaults are 2 epochs of SQuAD v1.1's 88,641 training features at batch 32 with AdamW.

Attention: ``ADVISOR_BERT_ATTN=sdpa`` (default) calls ``F.scaled_dot_product_attention``, as current code
does. ``ADVISOR_BERT_ATTN=math`` spells it out as NVIDIA's DeepLearningExamples BERT (the code behind Lambda's
published BERT rows) does: ``q @ k^T``, scale, additive mask, softmax, dropout, ``@ v``, so the
(batch, heads, seq, seq) scores go through memory several times instead of staying on chip.

    ADVISOR_BERT_SIZE=large advisor recommend examples/bert_squad.py --budget 20
"""

import math
import os

import torch
import torch.nn.functional as F
from torch import nn

DATASET_SIZE = 88_641  # SQuAD v1.1 train
EPOCHS = 2
BATCH_SIZE = 32
SEQ_LEN = 384
VOCAB_SIZE = 30_522
MAX_POSITIONS = 512
TYPE_VOCAB_SIZE = 2

SIZES = {
    # name: (layers, hidden, heads, ffn)
    "base": (12, 768, 12, 3072),
    "large": (24, 1024, 16, 4096),
}


def bert_size() -> str:
    size = os.environ.get("ADVISOR_BERT_SIZE", "base").strip().lower() or "base"
    if size not in SIZES:
        raise ValueError(f"ADVISOR_BERT_SIZE={size!r} is not a known size; use one of {', '.join(SIZES)}")
    return size


def fused_attention() -> bool:
    mode = os.environ.get("ADVISOR_BERT_ATTN", "sdpa").strip().lower() or "sdpa"
    if mode not in ("sdpa", "math"):
        raise ValueError(f"ADVISOR_BERT_ATTN={mode!r} is not sdpa or math")
    return mode == "sdpa"


class SelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.fused = fused_attention()
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        d = h // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = self.dropout if self.training else 0.0
        if self.fused:
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
            scores = scores + (~mask).to(scores.dtype) * -10000.0  # NVIDIA's additive mask
            ctx = F.dropout(scores.softmax(dim=-1), p) @ v
        return self.out(ctx.transpose(1, 2).reshape(b, n, h))


class EncoderLayer(nn.Module):
    """Post-LayerNorm transformer block, as in the original BERT."""

    def __init__(self, hidden: int, heads: int, ffn: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.attention = SelfAttention(hidden, heads, dropout)
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Linear(hidden, ffn)
        self.output = nn.Linear(ffn, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention_norm(x + self.dropout(self.attention(x, mask)))
        y = self.output(F.gelu(self.intermediate(x)))
        return self.output_norm(x + self.dropout(y))


class BertForQuestionAnswering(nn.Module):
    def __init__(self, layers: int = 12, hidden: int = 768, heads: int = 12, ffn: int = 3072,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB_SIZE, hidden, padding_idx=0)
        self.position_embeddings = nn.Embedding(MAX_POSITIONS, hidden)
        self.token_type_embeddings = nn.Embedding(TYPE_VOCAB_SIZE, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.embedding_dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, ffn, dropout) for _ in range(layers))
        self.qa_outputs = nn.Linear(hidden, 2)  # start and end logits per token
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor,
                start_positions: torch.Tensor, end_positions: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        positions = torch.arange(n, device=input_ids.device)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
             + self.token_type_embeddings(token_type_ids))
        x = self.embedding_dropout(self.embedding_norm(x))
        mask = attention_mask[:, None, None, :].bool()  # (batch, 1, 1, keys): True = attend
        for layer in self.layers:
            x = layer(x, mask)
        start_logits, end_logits = self.qa_outputs(x).unbind(dim=-1)
        start_loss = F.cross_entropy(start_logits, start_positions)
        end_loss = F.cross_entropy(end_logits, end_positions)
        return (start_loss + end_loss) / 2


def build_model() -> nn.Module:
    layers, hidden, heads, ffn = SIZES[bert_size()]
    return BertForQuestionAnswering(layers, hidden, heads, ffn)


def make_batch(batch_size: int):
    """[CLS] question [SEP] context [SEP] [PAD]...: lengths vary per example, shapes are fixed at SEQ_LEN."""
    n = SEQ_LEN
    pos = torch.arange(n)[None, :]
    length = torch.randint(n // 2, n + 1, (batch_size, 1))  # real tokens, the rest padding
    question = torch.randint(8, 64, (batch_size, 1))  # question segment length (incl. [CLS] and [SEP])
    attention_mask = (pos < length).long()
    token_type_ids = ((pos >= question) & (pos < length)).long()
    input_ids = torch.randint(1000, VOCAB_SIZE, (batch_size, n)) * attention_mask  # 0 = [PAD]
    # An answer span inside the context.
    start = question[:, 0] + (torch.rand(batch_size) * (length[:, 0] - question[:, 0] - 32)).long()
    end = start + torch.randint(0, 30, (batch_size,))
    inputs = {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "start_positions": start,
        "end_positions": end,
    }
    return inputs, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=3e-5, weight_decay=0.01)

