#!/usr/bin/python3
"""Reference timing for `moments bench featurize`: the same TorchScript image tower run by
python3-torch (Debian's /usr/bin/python3, torch 1.13) on this machine.

    /usr/bin/python3 bench/featurize_reference.py --model models/tiny-clip/image.pt \
        --size 64 --images 1024 --batches 1,8,32 --threads 2

Times the model alone on preprocessed float32 [B, 3, S, S] tensors under torch.no_grad() (what
an inference server in Python does), after a warm-up of every batch size. Prints one JSON line
per batch size: {"batch": B, "images": N, "seconds": T, "images_per_s": R}.

With --jpegs DIR it times the whole pipeline instead, on the *.jpg files of DIR (read into memory
first, taken in name order, cycled): JPEG decode with PIL (Pillow's libjpeg-turbo; torchvision,
whose decode_jpeg would be the alternative, is not installed here), then preprocessing with torch
ops on the batch as one tensor (uint8 HWC -> float NCHW, bicubic antialiased resize of the
shortest edge to --size, centre crop, rounding to 8-bit values as PIL and the Java side do, scale
and CLIP's mean/std), then the model and the L2 normalisation of its output, after max(2, WARMUP // batch)
untimed calls per batch size (--warmup, default 8; the DJL side does the same). Each JSON line
then also has "cpu_seconds"
(time.process_time over the timed loop) and the seconds spent per stage: "decode_s",
"preprocess_s", "model_s". --embeddings-out FILE writes the embeddings of the first images
(as many as the first of --batches) as JSON (for the cross-check test).
"""
import argparse
import io
import json
import os
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
  ap.add_argument("--jpegs", help="time decode + preprocessing + model on these JPEGs")
  ap.add_argument("--warmup", type=int, default=8,
                  help="with --jpegs: max(2, WARMUP // batch) warm-up calls per batch size")
  ap.add_argument("--mean", default="0.48145466,0.4578275,0.40821073")
  ap.add_argument("--std", default="0.26862954,0.26130258,0.27577711")
  ap.add_argument("--embeddings-out")
  args = ap.parse_args()
  torch.set_num_threads(args.threads)
  torch.set_num_interop_threads(1)
  model = torch.jit.load(args.model).eval()
  if args.jpegs:
    pipeline(model, args)
    return
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


def pipeline(model, args):
  from PIL import Image  # Debian's python3-pil; the wheel's venv sees it (--system-site-packages)
  import torch.nn.functional as F
  names = sorted(n for n in os.listdir(args.jpegs) if n.endswith(".jpg"))
  if not names:
    sys.exit("featurize_reference: no *.jpg in " + args.jpegs)
  data = []
  for n in names:
    with open(os.path.join(args.jpegs, n), "rb") as f:
      data.append(f.read())
  size = args.size
  mean = torch.tensor([float(v) for v in args.mean.split(",")]).view(1, 3, 1, 1)
  std = torch.tensor([float(v) for v in args.std.split(",")]).view(1, 3, 1, 1)
  scale, shift = 1.0 / (255.0 * std), -mean / std

  def run(first, b, times):
    t0 = time.perf_counter()
    frames = []
    for i in range(b):
      img = Image.open(io.BytesIO(data[(first + i) % len(data)]))
      img = img.convert("RGB")  # decodes
      frames.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
                    .view(img.height, img.width, 3))
    t1 = time.perf_counter()
    x = torch.stack(frames).permute(0, 3, 1, 2).float()
    h, w = x.shape[2], x.shape[3]
    nh, nw = (size * h // w, size) if w <= h else (size, size * w // h)
    x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True)
    top, left = (nh - size) // 2, (nw - size) // 2
    x = x[:, :, top:top + size, left:left + size].clamp(0, 255).round()
    x = (x * scale + shift).contiguous()
    t2 = time.perf_counter()
    y = F.normalize(model(x), dim=1)
    t3 = time.perf_counter()
    if times is not None:
      times[0] += t1 - t0
      times[1] += t2 - t1
      times[2] += t3 - t2
    return y

  with torch.no_grad():
    batches = [int(x) for x in args.batches.split(",")]
    if args.embeddings_out:
      with open(args.embeddings_out, "w") as f:
        json.dump(run(0, batches[0], None).tolist(), f)
    for b in batches:
      for i in range(max(2, args.warmup // b)):
        run(i * b, b, None)
      steps = max(1, args.images // b)
      times = [0.0, 0.0, 0.0]
      start, cpu = time.perf_counter(), time.process_time()
      for s in range(steps):
        run(s * b, b, times)
      secs, cpu = time.perf_counter() - start, time.process_time() - cpu
      print(json.dumps({"batch": b, "images": steps * b, "seconds": secs, "images_per_s": steps * b / secs,
                        "cpu_seconds": cpu, "decode_s": times[0], "preprocess_s": times[1],
                        "model_s": times[2], "decoder": "PIL " + Image.__version__}), flush=True)


if __name__ == "__main__":
  main()
