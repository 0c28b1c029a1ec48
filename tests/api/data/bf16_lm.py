"""A small decoder LM declared as it trains: bf16 (a test of what a workload's PRECISION reaches)."""
import torch
from torch import nn

PRECISION = "bf16"
BATCH_SIZE = 8
DATASET_SIZE = 200_000
EPOCHS = 1
VOCAB, BLOCK, WIDTH = 512, 128, 256


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        layer = nn.TransformerEncoderLayer(WIDTH, 4, 4 * WIDTH, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2)
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
