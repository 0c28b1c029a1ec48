"""advisor.workload.step: one training step, as the probe times it."""

from __future__ import annotations

import copy

import torch

from advisor.workload import Workload, train_step


def test_train_step_through_a_grad_scaler_scales_the_loss_and_steps():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    plain = copy.deepcopy(model)
    start = copy.deepcopy(model)
    workload = Workload(model=lambda: model, make_batch=lambda b: (torch.randn(b, 4), torch.randint(0, 2, (b,))))
    inputs, target = workload.make_batch(8)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    seen: list[float] = []
    scale = scaler.scale
    scaler.scale = lambda loss: seen.append(loss.item()) or scale(loss)
    loss = train_step(workload, model, torch.optim.SGD(model.parameters(), lr=0.1), inputs, target,
                      autocast_dtype=torch.float16, scaler=scaler)
    train_step(workload, plain, torch.optim.SGD(plain.parameters(), lr=0.1), inputs, target,
               autocast_dtype=torch.float16)
    assert seen == [loss.item()] and scaler.get_scale() == 1024.0  # scaled once; finite gradients: no back-off
    # Scaled by 1024 for backward, unscaled before the step: the same update as without the scaler.
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(model.weight, start.weight)  # and the step did move them
