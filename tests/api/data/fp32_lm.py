"""A decoder LM wide enough for tensor cores to matter, declared at no precision (fp32): what mixed precision
would change is recommend's what-if."""
import torch
from torch import nn

BATCH_SIZE = 32
DATASET_SIZE = 2_000_000
EPOCHS = 1
VOCAB, BLOCK, WIDTH = 8192, 512, 1024


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        layer = nn.TransformerEncoderLayer(WIDTH, 8, 4 * WIDTH, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, tokens):
        return self.head(self.blocks(self.embed(tokens)))


def build_model():
    return LM()


def make_batch(batch_size):
    tokens = torch.randint(0, VOCAB, (batch_size, BLOCK))
    return tokens, torch.randint(0, VOCAB, (batch_size, BLOCK))


def loss_fn(output, target):
    return nn.functional.cross_entropy(output.reshape(-1, VOCAB), target.reshape(-1))
