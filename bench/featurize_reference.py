#!/usr/bin/python3
"""Reference timing for `moments bench featurize`: the same TorchScript image tower run by
python3-torch (Debian's /usr/bin/python3, torch 1.13) on this machine.

    /usr/bin/python3 bench/featurize_reference.py --model models/tiny-clip/image.pt \
        --size 64 --images 1024 --batches 1,8,32 --threads 2

Times the model alone on preprocessed float32 [B, 3, S, S] tensors under torch.no_grad() (what
an inference server in Python does), after a warm-up of every batch size. Prints one JSON line
per batch size: {"batch": B, "images": N, "seconds": T, "images_per_s": R}.
"""
import argparse
import json
import sys
import time

import torch_env  # bench/, next to this script

if __name__ == "__main__":
  torch_env.ensure(sys.argv)  # threads and allocator, before torch loads (see torch_env.py)

import torch  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--model", required=True)
  ap.add_argument("--size", type=int, required=True)
  ap.add_argument("--images", type=int, default=1024)
  ap.add_argument("--batches", default="1,8,32")
  ap.add_argument("--threads", type=int, required=True)
  args = ap.parse_args()
  torch.set_num_threads(args.threads)
  torch.set_num_interop_threads(1)
  model = torch.jit.load(args.model).eval()
  gen = torch.Generator().manual_seed(1)
  with torch.no_grad():
    for b in [int(x) for x in args.batches.split(",")]:
      x = torch.randn(b, 3, args.size, args.size, generator=gen)
      for _ in range(max(10, 512 // b)):  # the same warm-up as the DJL side
        model(x)
      steps = max(1, args.images // b)
      start = time.perf_counter()
      for _ in range(steps):
        model(x)
      secs = time.perf_counter() - start
      print(json.dumps({"batch": b, "images": steps * b, "seconds": secs,
                        "images_per_s": steps * b / secs}), flush=True)


if __name__ == "__main__":
  main()
