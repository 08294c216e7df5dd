#!/usr/bin/env python3
"""Reference timing of one training step of the paper's FC networks in PyTorch.

A peer to measure the project's training step against, side by side, on the same
machine and in the same run. Needs Debian's python3-torch
(`apt-get install -y python3-torch`; run it with /usr/bin/python3).

Usage: torch-dgn-step.py [--regime relu|frnpf|dnpfl] [--optimizer adam|sgd]
                         [--threads N] [--steps N] [--batch 32]
Prints one JSON line: {"peer": "pytorch", "regime": ..., "ms_per_step": ...}.
Data are random tensors of MNIST's shape: the figure is compute, not input pipeline.
"""
import argparse, json, time
import torch

p = argparse.ArgumentParser()
p.add_argument("--regime", default="dnpfl", choices=["relu", "frnpf", "dnpfl"])
p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
p.add_argument("--threads", type=int, default=1)
p.add_argument("--steps", type=int, default=300)
p.add_argument("--batch", type=int, default=32)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

D_IN, WIDTH, HIDDEN, CLASSES, BETA, EPS = 784, 128, 5, 10, 4.0, 0.1

def dense(i, o):
    layer = torch.nn.Linear(i, o)
    torch.nn.init.xavier_uniform_(layer.weight)  # Keras glorot_uniform
    torch.nn.init.zeros_(layer.bias)
    return layer

def stack():
    return torch.nn.ModuleList(dense(D_IN if l == 0 else WIDTH, WIDTH) for l in range(HIDDEN))

value, head = stack(), dense(WIDTH, CLASSES)
feature = stack() if a.regime != "relu" else None
params = list(value.parameters()) + list(head.parameters())
if a.regime == "dnpfl":
    params += list(feature.parameters())
if a.regime == "frnpf":
    feature.requires_grad_(False)
opt = torch.optim.Adam(params, lr=3e-4) if a.optimizer == "adam" else torch.optim.SGD(params, lr=1e-2)

x = torch.rand(a.batch, D_IN)
y = torch.randint(0, CLASSES, (a.batch,))

def step():
    hv, hf = x, x
    for l in range(HIDDEN):
        qv = value[l](hv)
        if a.regime == "relu":
            hv = torch.relu(qv)
            continue
        qf = feature[l](hf)
        gate = (1 + EPS) * torch.sigmoid(BETA * qf) if a.regime == "dnpfl" else (qf > 0).float()
        hf, hv = torch.relu(qf), qv * gate
    loss = torch.nn.functional.cross_entropy(head(hv), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

for _ in range(30):
    step()
t = time.perf_counter()
for _ in range(a.steps):
    step()
ms = (time.perf_counter() - t) / a.steps * 1000
print(json.dumps({"peer": "pytorch-" + torch.__version__, "regime": a.regime, "optimizer": a.optimizer,
                  "threads": a.threads, "batch": a.batch, "ms_per_step": round(ms, 3)}))
