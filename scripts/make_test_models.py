#!/usr/bin/python3
"""Makes the bundled tiny CLIP-shaped encoder pair in models/tiny-clip/.

Run with Debian's python3-torch (torch 1.13), from the repository root:

    /usr/bin/python3 scripts/make_test_models.py

Writes, all from a fixed seed:
  models/tiny-clip/encoder.json      TorchScript layout (image.pt, text.pt)
  models/tiny-clip/image.pt          image tower, float32 [N,3,64,64] -> [N,64]
  models/tiny-clip/text.pt           text tower, int64 [N,16] -> [N,64]
  models/tiny-clip/tokenizer.json    a real Hugging Face tokenizers file (WordLevel vocab)
  models/tiny-clip/onnx/encoder.json ONNX layout of the same weights
  models/tiny-clip/onnx/image.onnx, text.onnx
  models/tiny-clip/expected.json     token ids and L2-normalized embeddings of two
                                     deterministic images and two texts, for the Java tests

The weights are random (seeded): the towers are CLIP-shaped, not CLIP-trained. They exist so
that every command runs out of the box and the Java encoders can be checked against torch.
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "tiny-clip")
ENCODER_ID = "moments-tiny-clip-v1"
DIM = 64
IMAGE_SIZE = 64
CONTEXT = 16
WIDTH = 32
MEAN = [0.48145466, 0.4578275, 0.40821073]  # OpenAI CLIP's
STD = [0.26862954, 0.26130258, 0.27577711]

# A few hundred lower-case English words: the demo world's objects, places and verbs, plus the
# glue words of Ego4D-style queries ("where did I put the keys?").
WORDS = """
a an the i you he she it we they me my your his her its our their this that these those
where what when who which how why did do does is are was were be been have has had can
could will would should put leave left place placed take took pick picked drop dropped
open opened close closed turn turned hold held carry carried wash washed cut cook cooked
eat ate drink drank walk walked sit sat stand stood look looked see saw find found use used
read write wrote clean cleaned move moved give gave get got make made bring brought throw
threw push pushed pull pulled play played watch watched talk talked fold folded pour poured
stir mix fill filled empty plug unplug charge lock unlock wear wore remove removed
in on at of to from with into onto under over near next behind front inside outside top
bottom left right up down off out by for and or not last first before after then again
keys key phone wallet bag backpack book books cup mug glass bottle plate bowl spoon fork
knife pan pot kettle stove oven fridge sink tap towel soap table desk chair sofa couch bed
pillow blanket lamp light door window drawer shelf cabinet cupboard box basket laptop
computer screen tv remote charger cable pen pencil paper notebook glasses watch umbrella
jacket coat shoes shoe hat shirt sock socks clothes plant flower vase mirror clock picture
trash bin bucket broom mop car bike bicycle ball toy dog cat food bread apple banana
orange egg eggs milk water coffee tea juice sandwich pizza rice pasta salad vegetables
kitchen living room bedroom bathroom hallway hall garage garden yard office balcony
stairs floor wall ceiling counter corridor entrance street park shop store house home
red blue green yellow black white brown grey gray small big large long short new old
person man woman child camera video frame moment scene time today yesterday morning
evening night minute minutes second seconds hour
"""


def vocab():
  words = []
  for w in WORDS.split():
    if w not in words:
      words.append(w)
  punct = ["?", ".", ",", "!", "'", "-"]
  tokens = ["<|pad|>", "<|unk|>"] + words + punct + ["<|startoftext|>", "<|endoftext|>"]
  return {t: i for i, t in enumerate(tokens)}


VOCAB = vocab()
PAD, UNK = VOCAB["<|pad|>"], VOCAB["<|unk|>"]
SOT, EOT = VOCAB["<|startoftext|>"], VOCAB["<|endoftext|>"]


def tokenizer_json():
  def added(tok):
    return {"id": VOCAB[tok], "content": tok, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}

  def special(tok):
    return {"id": tok, "ids": [VOCAB[tok]], "tokens": [tok]}

  return {
      "version": "1.0",
      "truncation": None,
      "padding": None,
      "added_tokens": [added(t) for t in ["<|pad|>", "<|unk|>", "<|startoftext|>", "<|endoftext|>"]],
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]},
      "pre_tokenizer": {"type": "Whitespace"},
      "post_processor": {
          "type": "TemplateProcessing",
          "single": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
          "pair": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                   {"Sequence": {"id": "B", "type_id": 1}},
                   {"SpecialToken": {"id": "<|endoftext|>", "type_id": 1}}],
          "special_tokens": {"<|startoftext|>": special("<|startoftext|>"),
                             "<|endoftext|>": special("<|endoftext|>")},
      },
      "decoder": None,
      "model": {"type": "WordLevel", "vocab": VOCAB, "unk_token": "<|unk|>"},
  }


def tokenize(text):
  """What tokenizer.json does (NFC, lowercase, Whitespace split, WordLevel), then CLIP's
  convention: SOT + tokens + EOT, truncated to CONTEXT keeping EOT last, padded with 0."""
  pieces = re.findall(r"\w+|[^\w\s]+", text.lower())
  ids = [SOT] + [VOCAB.get(p, UNK) for p in pieces] + [EOT]
  if len(ids) > CONTEXT:
    ids = ids[:CONTEXT - 1] + [EOT]
  return ids + [PAD] * (CONTEXT - len(ids))


class ImageTower(nn.Module):
  """Three strided convolutions, global average pool, linear projection to DIM. No biases: with
  random weights, biases dominate the pooled features and every image embeds alike."""

  def __init__(self):
    super().__init__()
    self.conv1 = nn.Conv2d(3, 16, 5, stride=2, padding=2, bias=False)
    self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
    self.conv3 = nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False)
    self.proj = nn.Linear(64, DIM, bias=False)

  def forward(self, pixels):
    x = torch.nn.functional.gelu(self.conv1(pixels))
    x = torch.nn.functional.gelu(self.conv2(x))
    x = torch.nn.functional.gelu(self.conv3(x))
    return self.proj(x.mean(dim=(2, 3)))


class TextTower(nn.Module):
  """Token + position embeddings, one residual MLP, LayerNorm, CLIP's EOT pooling (the position
  of the largest id, as OpenAI CLIP does) concatenated with the mean over non-pad tokens, then a
  linear projection to DIM."""

  def __init__(self):
    super().__init__()
    self.tok = nn.Embedding(len(VOCAB), WIDTH)
    self.pos = nn.Parameter(torch.randn(CONTEXT, WIDTH) * 0.1)
    self.mlp = nn.Sequential(nn.Linear(WIDTH, 2 * WIDTH), nn.GELU(), nn.Linear(2 * WIDTH, WIDTH))
    self.norm = nn.LayerNorm(WIDTH)
    self.proj = nn.Linear(2 * WIDTH, DIM)

  def forward(self, ids):
    x = self.tok(ids) + self.pos
    x = self.norm(x + self.mlp(x))
    eot = x[torch.arange(x.shape[0]), ids.argmax(dim=-1)]
    mask = (ids != 0).unsqueeze(-1).to(x.dtype)
    mean = (x * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    return self.proj(torch.cat([eot, mean], dim=-1))


def test_image(index):
  """The two deterministic 96x72 RGB test images (the Java test builds the same pixels)."""
  w, h = 96, 72
  px = np.zeros((h, w, 3), dtype=np.uint8)
  for y in range(h):
    for x in range(w):
      if index == 0:
        px[y, x] = [(x * 5 + y * 3) % 256, (x * y) % 256, (255 - x * 2) % 256]
      else:
        inside = 30 <= x < 60 and 20 <= y < 50
        px[y, x] = [200, 40, 40] if inside else [(y * 7) % 256, 180, (x * 11) % 256]
  return Image.fromarray(px, "RGB")


def preprocess(img):
  """CLIP preprocessing as encoder.json describes it: bicubic resize (PIL, antialiased) of the
  shortest edge to IMAGE_SIZE, centre crop, /255, per-channel mean/std, NCHW."""
  w, h = img.size
  if w <= h:
    nw, nh = IMAGE_SIZE, int(IMAGE_SIZE * h / w)
  else:
    nw, nh = int(IMAGE_SIZE * w / h), IMAGE_SIZE
  img = img.resize((nw, nh), Image.BICUBIC)
  left, top = (nw - IMAGE_SIZE) // 2, (nh - IMAGE_SIZE) // 2
  img = img.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
  a = np.asarray(img, dtype=np.float32) / 255.0
  a = (a - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
  return torch.from_numpy(a.transpose(2, 0, 1).copy())


def normalize(t):
  return t / t.norm(dim=-1, keepdim=True)


def main():
  torch.manual_seed(20240601)
  image, text = ImageTower().eval(), TextTower().eval()
  os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)
  example_img = torch.zeros(2, 3, IMAGE_SIZE, IMAGE_SIZE)
  example_ids = torch.tensor([tokenize("where are my keys"), tokenize("a cup")], dtype=torch.long)
  with torch.no_grad():
    torch.jit.trace(image, example_img).save(os.path.join(OUT, "image.pt"))
    torch.jit.trace(text, example_ids).save(os.path.join(OUT, "text.pt"))
    torch.onnx.export(image, (example_img,), os.path.join(OUT, "onnx", "image.onnx"),
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
                      opset_version=14)
    torch.onnx.export(text, (example_ids,), os.path.join(OUT, "onnx", "text.onnx"),
                      input_names=["input_ids"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}},
                      opset_version=14)

  with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
    json.dump(tokenizer_json(), f, indent=1)
  common = {"id": ENCODER_ID, "dim": DIM, "image_size": IMAGE_SIZE,
            "resize": "shortest-edge-center-crop", "mean": MEAN, "std": STD,
            "context_length": CONTEXT}
  with open(os.path.join(OUT, "encoder.json"), "w") as f:
    json.dump({**common, "format": "torchscript", "image": "image.pt", "text": "text.pt",
               "tokenizer": "tokenizer.json"}, f, indent=1)
  with open(os.path.join(OUT, "onnx", "encoder.json"), "w") as f:
    json.dump({**common, "format": "onnx", "image": "image.onnx", "text": "text.onnx",
               "tokenizer": "../tokenizer.json"}, f, indent=1)

  texts = ["Where did I leave my KEYS?", "the red mug on the kitchen table near the big window"]
  ids = torch.tensor([tokenize(t) for t in texts], dtype=torch.long)
  pixels = torch.stack([preprocess(test_image(i)) for i in range(2)])
  loaded_img = torch.jit.load(os.path.join(OUT, "image.pt"))
  loaded_txt = torch.jit.load(os.path.join(OUT, "text.pt"))
  with torch.no_grad():
    img_emb = normalize(loaded_img(pixels))
    txt_emb = normalize(loaded_txt(ids))
  expected = {
      "encoder_id": ENCODER_ID,
      "torch_version": torch.__version__,
      "images": [{"name": "test_image(%d)" % i, "width": 96, "height": 72,
                  "embedding": [round(float(v), 7) for v in img_emb[i]]} for i in range(2)],
      "texts": [{"text": t, "ids": ids[i].tolist(),
                 "embedding": [round(float(v), 7) for v in txt_emb[i]]}
                for i, t in enumerate(texts)],
  }
  cos = float(img_emb[0] @ img_emb[1])
  print("cosine between the two test images: %.4f" % cos)
  with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
  total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
  print("wrote %s (%d files, %d bytes), vocab %d" % (OUT, sum(len(n) for _, _, n in os.walk(OUT)),
                                                    total, len(VOCAB)))


if __name__ == "__main__":
  sys.exit(main())
