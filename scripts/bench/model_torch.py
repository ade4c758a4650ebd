#!/usr/bin/python3
"""The rows of `nephron bench model`, measured with PyTorch on the CPU, for the ratio the benchmark prints.

    /usr/bin/python3 scripts/bench/model_torch.py --encoder b4 --rows train-2x256,infer-8x512 --steps 3

The network is the UNet-EfficientNet that the parity fixtures rebuild in plain PyTorch
(packages/nn/fixtures/generate_models.py: smp's architecture and module names, without smp), so both sides run
the same layers with the same parameter count (20,225,834 for B4 with two classes). A row is
`train-NxS` (one step of forward, CE + Dice loss, backward and AdamW on a batch of N images of S×S pixels) or
`infer-NxS` (an eval-mode forward without autograd). `--device cuda` times PyTorch on an NVIDIA GPU in fp32
(TF32 off) instead of the CPU. Each row runs once to warm up, then `--steps` times; the
median is reported. Progress goes to stderr and one JSON object to stdout:

    {"torch": "1.13.0", "threads": 2, "parameters": 20225834,
     "rows": [{"name": "train-2x256", "ms": 1234.5, "cpu_ms": 2400.1, "runs": 3, "samples_ms": [...]}, ...]}

`ms` is wall time, `cpu_ms` the process's CPU time over all threads (steadier on a machine others share).
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

# OpenMP threads that spin while waiting make every op wait for a thread the OS has parked when other
# processes share the cores: on this 2-core machine under load a B0 step took 15x longer. Waiting passively
# costs nothing measurable on an idle machine. It must be set before torch starts its OpenMP runtime.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "packages", "nn", "fixtures"))

from generate_models import Unet, rule_target, smp_multiclass_dice_loss  # noqa: E402

ROW = re.compile(r"^(train|infer)-(\d+)x(\d+)$")


def parse_rows(text):
    rows = []
    for name in text.split(","):
        match = ROW.match(name.strip())
        if not match:
            raise SystemExit(f"model_torch.py: row {name!r} is not train-NxS or infer-NxS (e.g. train-2x256)")
        rows.append((match.group(1), int(match.group(2)), int(match.group(3)), name.strip()))
    return rows


def time_row(model, optimizer, kind, n, size, steps, device):
    x = torch.randn(n, 3, size, size).to(device)
    target = torch.from_numpy(rule_target(n, size)).to(device)

    def sync():
        # CUDA runs asynchronously: a step is over when the device has finished it.
        if device.type == "cuda":
            torch.cuda.synchronize()

    def train_step():
        model.train()
        optimizer.zero_grad(set_to_none=False)
        logits = model(x)
        loss = F.cross_entropy(logits, target) + smp_multiclass_dice_loss(logits, target)
        loss.backward()
        optimizer.step()
        sync()
        return loss.item()

    def infer():
        model.eval()
        with torch.no_grad():
            out = model(x)
        sync()
        return out.shape[0]

    run = train_step if kind == "train" else infer
    run()  # warm-up: first-touch allocations and the optimizer state
    samples, cpu = [], []
    for _ in range(steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    return samples, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="b4", help="b0 … b7 (efficientnet-b4 may be written in full)")
    parser.add_argument("--rows", default="train-2x256,train-8x512,infer-8x512")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for PyTorch on the GPU (fp32)")
    args = parser.parse_args()
    encoder = args.encoder.replace("efficientnet-", "")
    rows = parse_rows(args.rows)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        # fp32 as ours: no TF32 matmuls or convolutions.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    model = Unet(encoder, args.classes).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "encoder": f"efficientnet-{encoder}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "rows": [],
    }
    for kind, n, size, name in rows:
        print(f"torch {name}: {args.steps} timed runs after one warm-up", file=sys.stderr, flush=True)
        samples, cpu = time_row(model, optimizer, kind, n, size, args.steps, device)
        out["rows"].append(
            {
                "name": name,
                "ms": statistics.median(samples),
                "cpu_ms": statistics.median(cpu),
                "runs": len(samples),
                "samples_ms": samples,
            }
        )
        print(f"torch {name}: {statistics.median(samples):.1f} ms", file=sys.stderr, flush=True)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
