"""A small decoder LM declared as it trains: bf16 (a test of what a workload's PRECISION reaches)."""
from lm_parts import lm_workload

PRECISION = "bf16"
BATCH_SIZE = 8
DATASET_SIZE = 200_000
EPOCHS = 1

build_model, make_batch, loss_fn = lm_workload(vocab=512, block=128, width=256, heads=4, layers=2)
