#!/usr/bin/python3
"""A ViT-B/16 image tower at 224 px with seeded random weights, traced to TorchScript, for
`moments bench featurize --model vit-b16` (issue 10, point 4).

    /usr/bin/python3 bench/export_vit_b16.py --out target/bench-models/vit-b16 [--seed 1]

The shape is CLIP ViT-B/16's image tower (OpenAI CLIP's VisionTransformer): a 16x16 stride-16
patch convolution without bias to width 768 (14 x 14 = 196 patches plus a class token), learned
positional embeddings, a pre-LayerNorm, 12 residual blocks (LayerNorm, 12-head self-attention,
LayerNorm, MLP 768 -> 3072 -> 768 with QuickGELU), a LayerNorm of the class token and a linear
projection to 512 without bias: 86.2 M parameters, ~17.6 GFLOP (multiply-adds x 2) per image.
Weights are random (torch.manual_seed, CLIP's initialisation scales), so the timing is that of a
real camera model while nothing is downloaded. Plain torch only (no hub, timm or open_clip).

Written with the torch that runs it; Debian's python3-torch 1.13 is the default because its
TorchScript files load in every later libtorch (DJL 0.35.1 runs libtorch 2.7.1). The script
checks that the traced module equals the eager one at batch 1 and 3 (the batch size stays
dynamic), and writes into --out: image.pt and encoder.json (image-only, dim 512, image_size 224,
shortest-edge-center-crop, CLIP's mean/std), atomically (a temporary directory renamed).
"""
import argparse
import json
import os
import shutil
import sys

import torch
from torch import nn

WIDTH, LAYERS, HEADS, PATCH, SIZE, OUT_DIM = 768, 12, 12, 16, 224, 512
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


class QuickGELU(nn.Module):
  def forward(self, x):
    return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
  def __init__(self, width, heads):
    super().__init__()
    self.ln_1 = nn.LayerNorm(width)
    self.attn = nn.MultiheadAttention(width, heads)
    self.ln_2 = nn.LayerNorm(width)
    self.mlp = nn.Sequential(nn.Linear(width, 4 * width), QuickGELU(), nn.Linear(4 * width, width))

  def forward(self, x):  # x: [L, N, D] as in CLIP
    y = self.ln_1(x)
    x = x + self.attn(y, y, y, need_weights=False)[0]
    return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
  def __init__(self):
    super().__init__()
    scale = WIDTH ** -0.5
    grid = SIZE // PATCH
    self.conv1 = nn.Conv2d(3, WIDTH, kernel_size=PATCH, stride=PATCH, bias=False)
    self.class_embedding = nn.Parameter(scale * torch.randn(WIDTH))
    self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, WIDTH))
    self.ln_pre = nn.LayerNorm(WIDTH)
    self.blocks = nn.Sequential(*[Block(WIDTH, HEADS) for _ in range(LAYERS)])
    self.ln_post = nn.LayerNorm(WIDTH)
    self.proj = nn.Parameter(scale * torch.randn(WIDTH, OUT_DIM))
    # CLIP's initialisation scales (OpenAI CLIP initialize_parameters, vision side)
    proj_std = WIDTH ** -0.5 * (2 * LAYERS) ** -0.5
    attn_std = WIDTH ** -0.5
    fc_std = (2 * WIDTH) ** -0.5
    for b in self.blocks:
      nn.init.normal_(b.attn.in_proj_weight, std=attn_std)
      nn.init.normal_(b.attn.out_proj.weight, std=proj_std)
      nn.init.normal_(b.mlp[0].weight, std=fc_std)
      nn.init.normal_(b.mlp[2].weight, std=proj_std)

  def forward(self, x):  # [N, 3, 224, 224] float32 -> [N, 512]
    x = self.conv1(x)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [N, 196, D]
    cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
    x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
    x = self.ln_pre(x)
    x = self.blocks(x.permute(1, 0, 2)).permute(1, 0, 2)
    return self.ln_post(x[:, 0, :]) @ self.proj


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--out", required=True, help="directory to write image.pt and encoder.json into")
  ap.add_argument("--seed", type=int, default=1)
  args = ap.parse_args()
  torch.manual_seed(args.seed)
  model = VisionTransformer().eval()
  params = sum(p.numel() for p in model.parameters())
  gen = torch.Generator().manual_seed(args.seed + 1)
  with torch.no_grad():
    traced = torch.jit.trace(model, torch.randn(1, 3, SIZE, SIZE, generator=gen))
    for n in (1, 3):
      x = torch.randn(n, 3, SIZE, SIZE, generator=gen)
      want, got = model(x), traced(x)
      if got.shape != (n, OUT_DIM) or not torch.allclose(want, got, atol=1e-4, rtol=1e-4):
        sys.exit("export_vit_b16: the traced module differs from the eager one at batch %d "
                 "(shape %s, max diff %g)" % (n, tuple(got.shape), (want - got).abs().max().item()))
  out = os.path.abspath(args.out)
  tmp = out + ".making"
  shutil.rmtree(tmp, ignore_errors=True)
  os.makedirs(tmp)
  traced.save(os.path.join(tmp, "image.pt"))
  config = {"id": "bench-vit-b16-224-random-seed%d" % args.seed, "dim": OUT_DIM, "image_size": SIZE,
            "resize": "shortest-edge-center-crop", "mean": MEAN, "std": STD,
            "format": "torchscript", "image": "image.pt",
            "exported_with": "torch %s, bench/export_vit_b16.py --seed %d, %d parameters"
                             % (torch.__version__, args.seed, params)}
  with open(os.path.join(tmp, "encoder.json"), "w") as f:
    json.dump(config, f, indent=1)
  shutil.rmtree(out, ignore_errors=True)
  os.rename(tmp, out)
  print(json.dumps({"out": out, "parameters": params, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
  main()
