"""A decoder LM wide enough for tensor cores to matter, declared at no precision (fp32): what mixed precision
would change is recommend's what-if."""
from lm_parts import lm_workload

BATCH_SIZE = 32
DATASET_SIZE = 2_000_000
EPOCHS = 1

build_model, make_batch, loss_fn = lm_workload(vocab=8192, block=512, width=1024, heads=8, layers=4)
