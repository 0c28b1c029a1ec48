"""The decoder LM that this folder's workload files train, at their sizes (a sibling module, as a user's workload
file may import one: the loader puts the file's folder on sys.path)."""
import torch
from torch import nn


def lm_workload(vocab: int, block: int, width: int, heads: int, layers: int):
    """(build_model, make_batch, loss_fn) of a pre-norm decoder of ``layers`` blocks over ``block`` tokens."""

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, width)
            layer = nn.TransformerEncoderLayer(width, heads, 4 * width, batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.head = nn.Linear(width, vocab)

        def forward(self, tokens):
            return self.head(self.blocks(self.embed(tokens)))

    def make_batch(batch_size):
        tokens = torch.randint(0, vocab, (batch_size, block))
        return tokens, torch.randint(0, vocab, (batch_size, block))

    def loss_fn(output, target):
        return nn.functional.cross_entropy(output.reshape(-1, vocab), target.reshape(-1))

    return LM, make_batch, loss_fn
