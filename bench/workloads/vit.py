"""A Vision Transformer (ViT, Dosovitskiy et al. 2020) as timm builds ``vit_*_patch*_*`` for ImageNet-1k, in
plain torch, so the advisor can be checked against timm's published train-step benchmarks
(profiles/published_throughput.csv, source ``timm``).

timm's structure: a strided-convolution patch embedding, a class token, a learned position table
(1 + patches entries), pre-LayerNorm blocks (eps 1e-6) with a fused qkv projection with bias, a 4x MLP with
exact GELU, a final LayerNorm and a linear head on the class token. No dropout or drop-path (timm's benchmark
creates the models with both at 0). ``ADVISOR_VIT_MODEL`` picks the model (default ``vit_base_patch16_224``):

    vit_small_patch16_224   width 384, 12 layers,  6 heads, 224 px   22,050,664 parameters
    vit_base_patch16_224    width 768, 12 layers, 12 heads, 224 px   86,567,656
    vit_base_patch32_224    width 768, 12 layers, 12 heads, 224 px   88,224,232
    vit_base_patch16_384    width 768, 12 layers, 12 heads, 384 px   86,859,496
    vit_large_patch16_224   width 1024, 24 layers, 16 heads, 224 px  304,326,632

Attention: ``ADVISOR_VIT_ATTN=math`` (default) computes ``softmax(q k^T / sqrt(d)) v`` with explicit matrix
multiplies, as timm did on PyTorch 1.12 (the version of the published rows, before fused attention existed);
``ADVISOR_VIT_ATTN=sdpa`` uses ``F.scaled_dot_product_attention`` as timm does on PyTorch >= 2.0.
Batches are random images and labels of the real shapes; the optimizer is timm's benchmark default (SGD with
Nesterov momentum 0.9, weight decay 1e-4).
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

MODELS = {  # name: (width, layers, heads, patch, image size)
    "vit_small_patch16_224": (384, 12, 6, 16, 224),
    "vit_base_patch16_224": (768, 12, 12, 16, 224),
    "vit_base_patch32_224": (768, 12, 12, 32, 224),
    "vit_base_patch16_384": (768, 12, 12, 16, 384),
    "vit_large_patch16_224": (1024, 24, 16, 16, 224),
}
NUM_CLASSES = 1000
DATASET_SIZE = 1_281_167  # ImageNet-1k train split
EPOCHS = 1
BATCH_SIZE = 128


def vit_model() -> str:
    name = os.environ.get("ADVISOR_VIT_MODEL", "vit_base_patch16_224").strip().lower() or "vit_base_patch16_224"
    if name not in MODELS:
        raise ValueError(f"ADVISOR_VIT_MODEL={name!r} is not one of {', '.join(MODELS)}")
    return name


def fused_attention() -> bool:
    mode = os.environ.get("ADVISOR_VIT_ATTN", "math").strip().lower() or "math"
    if mode not in {"math", "sdpa"}:
        raise ValueError(f"ADVISOR_VIT_ATTN={mode!r} is not math or sdpa")
    return mode == "sdpa"


IMAGE_SIZE = MODELS[vit_model()][4]


class Block(nn.Module):
    def __init__(self, width: int, heads: int, fused: bool) -> None:
        super().__init__()
        self.heads = heads
        self.fused = fused
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q * (w // self.heads) ** -0.5) @ k.transpose(-2, -1)
            y = attn.softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, n, w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VisionTransformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, patch: int, image_size: int, fused: bool) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, width, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + (image_size // patch) ** 2, width) * 0.02)
        self.blocks = nn.Sequential(*(Block(width, heads, fused) for _ in range(layers)))
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def build_model() -> nn.Module:
    width, layers, heads, patch, image_size = MODELS[vit_model()]
    return VisionTransformer(width, layers, heads, patch, image_size, fused_attention())


def make_batch(batch_size: int):
    images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    return images, torch.randint(0, NUM_CLASSES, (batch_size,))


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
