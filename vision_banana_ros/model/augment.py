# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""What a real camera does to a training batch, with the ground truth kept consistent with the pixels.

- `zoom`: a window of the frame, enlarged back to the frame's size — a longer lens on the same scene. Depth
  (optical z) and normals (directions in the optical frame) do not change with the window; the focal length in
  pixels grows by the enlargement, which `focal` carries along (camera-aware depth needs it). The network is not
  given the principal point, so the window keeps the frame's optical centre within `PRINCIPAL_SHIFT` of its own
  centre, as a rectified camera has it: a window far off-centre would be a camera pitched or turned in the
  picture, with the ground truth of one that is not.
- `photometric`: brightness, contrast and colour (white balance), gamma/exposure, grey frames (mono8 cameras),
  blur and motion blur, sensor noise and JPEG re-compression: pixels only, the ground truth is untouched.
- `cut_out`: rectangles of noise or colour pasted over the image, like an occluder nobody labelled: the ground truth
  under them becomes unknown (ignore label, no depth, no normal), so nothing is taught there.

Every draw comes from the caller's torch generator, so a seeded run is repeatable.
"""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

IGNORE = 255
PRINCIPAL_SHIFT = 0.05      # the most a zoom moves the optical centre from the window's centre, in image widths


def _uniform(generator: torch.Generator, low: float, high: float, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=generator, device=generator.device) * (high - low) + low


def zoom(batch: dict[str, torch.Tensor], generator: torch.Generator, share: float = 0.5,
         most: float = 1.6) -> dict[str, torch.Tensor]:
    """A `share` of the frames enlarged by 1..`most` about a random window; `batch['focal']` (focal length in
    pixels) multiplied by the enlargement.
    """
    rgb = batch['rgb']
    n, device = len(rgb), rgb.device
    scale = torch.where(_uniform(generator, 0, 1, n) < share, _uniform(generator, 1.0, most, n),
                        torch.ones(n, device=generator.device)).to(device)
    # The window's centre (in normalised units of the frame, half its side) moves as far as keeps it inside the
    # frame and the frame's centre within PRINCIPAL_SHIFT of the window's: shift * scale / 2 in output widths.
    room = torch.minimum(1.0 - 1.0 / scale, 2.0 * PRINCIPAL_SHIFT / scale)
    shift = torch.stack([_uniform(generator, -1, 1, n).to(device) * room,
                         _uniform(generator, -1, 1, n).to(device) * room], 1)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(rgb.shape), align_corners=False)

    def nearest(t: torch.Tensor) -> torch.Tensor:   # labels, depth and normals are never blended
        return F.grid_sample(t, grid, mode='nearest', align_corners=False)

    out = dict(batch)
    out['rgb'] = F.grid_sample(rgb, grid, mode='bilinear', padding_mode='border', align_corners=False)
    out['segmentation'] = nearest(batch['segmentation'][:, None].float())[:, 0].round().to(torch.uint8)
    out['depth'] = nearest(batch['depth'][:, None])[:, 0]
    out['normals'] = nearest(batch['normals'])
    out['focal'] = batch['focal'] * scale
    if 'soft' in batch:     # a teacher's top classes and their probabilities
        out['soft'] = nearest(batch['soft'])
    return out


def _blur(rgb: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Each channel convolved with one 2-D kernel (k x k), edges replicated."""
    k = kernel.shape[-1]
    padded = F.pad(rgb, (k // 2,) * 4, mode='replicate')
    return F.conv2d(padded, kernel.expand(3, 1, k, k).contiguous(), groups=3)


def _jpeg(rgb: torch.Tensor, quality: int) -> torch.Tensor:
    from PIL import Image
    image = Image.fromarray((rgb.permute(1, 2, 0) * 255).round().byte().cpu().numpy())
    buffer = io.BytesIO()
    image.save(buffer, format='JPEG', quality=quality)
    decoded = np.asarray(Image.open(buffer).convert('RGB'))
    return torch.from_numpy(decoded.copy()).to(rgb.device).permute(2, 0, 1).float() / 255.0


def jitter(rgb: torch.Tensor, generator: torch.Generator, contrast=(0.8, 1.2), brightness=(0.7, 1.3),
           colour=(0.9, 1.1)) -> torch.Tensor:
    """Rgb N x 3 x H x W in [0, 1] with contrast, brightness and per-channel gain drawn from these ranges, clamped."""
    n = len(rgb)

    def draw(low_high: tuple[float, float], channels: int) -> torch.Tensor:
        return _uniform(generator, *low_high, n, channels, 1, 1).to(rgb.device)

    mean = rgb.mean(dim=(1, 2, 3), keepdim=True)
    return (((rgb - mean) * draw(contrast, 1) + mean) * draw(brightness, 1) * draw(colour, 3)).clamp(0.0, 1.0)


def photometric(rgb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Rgb N x 3 x H x W in [0, 1] as another camera, exposure and compression would have recorded it."""
    n = len(rgb)

    def draw(low: float, high: float, *shape: int) -> torch.Tensor:
        return _uniform(generator, low, high, *shape).to(rgb.device)

    def chance(p: float) -> list[bool]:
        return (torch.rand(n, generator=generator, device=generator.device) < p).tolist()

    rgb = jitter(rgb, generator, (0.7, 1.3), (0.6, 1.4), (0.85, 1.15)) ** draw(0.6, 1.6, n, 1, 1, 1)
    out = []
    for i, (grey, blur, motion, noise, jpeg) in enumerate(zip(chance(0.1), chance(0.15), chance(0.1), chance(0.3),
                                                              chance(0.25))):
        image = rgb[i:i + 1]
        if grey:        # a mono8 camera: every channel the luma
            image = (image * image.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            image = image.expand(1, 3, *image.shape[2:])
        if blur:        # out of focus: a box of 3 or 5 pixels
            k = 3 if float(draw(0, 1, 1)) < 0.5 else 5
            image = _blur(image, torch.full((1, 1, k, k), 1.0 / (k * k), device=rgb.device))
        if motion:      # a line of 3-9 pixels at any angle
            k = int(2 * int(draw(1, 4.999, 1)) + 1)
            angle = float(draw(0, np.pi, 1))
            t = torch.linspace(-(k // 2), k // 2, 4 * k, device=rgb.device)
            kernel = torch.zeros(k, k, device=rgb.device)
            rows, cols = ((t * np.sin(angle)).round().long() + k // 2, (t * np.cos(angle)).round().long() + k // 2)
            kernel.index_put_((rows, cols), torch.ones_like(t), accumulate=True)
            image = _blur(image, (kernel / kernel.sum())[None, None])
        if noise:       # sensor noise, 0.5-6 levels of 8 bits
            sigma = float(draw(0.5, 6.0, 1)) / 255.0
            image = image + torch.randn(image.shape, generator=generator, device=generator.device).to(
                rgb.device) * sigma
        image = image.clamp(0.0, 1.0)
        if jpeg:        # a compressed stream (CompressedImage): quality 30-95
            image = _jpeg(image[0], int(draw(30, 95.999, 1)))[None]
        out.append(image)
    return torch.cat(out)


def cut_out(batch: dict[str, torch.Tensor], generator: torch.Generator, share: float = 0.3,
            most: int = 3) -> dict[str, torch.Tensor]:
    """In a `share` of the frames, 1..`most` rectangles (5-25 % of each side) of flat colour or noise; the ground
    truth under them becomes unknown.
    """
    rgb = batch['rgb']
    n, _, h, w = rgb.shape
    out = {k: v.clone() for k, v in batch.items()}

    def draw(low: float, high: float) -> float:
        return float(_uniform(generator, low, high, 1))

    for i in range(n):
        if draw(0, 1) >= share:
            continue
        for _ in range(int(draw(1, most + 0.999))):
            rh, rw = max(1, int(h * draw(0.05, 0.25))), max(1, int(w * draw(0.05, 0.25)))
            top, left = int(draw(0, h - rh + 0.999)), int(draw(0, w - rw + 0.999))
            window = (slice(top, top + rh), slice(left, left + rw))
            if draw(0, 1) < 0.5:
                patch = _uniform(generator, 0, 1, 3, 1, 1).to(rgb.device).expand(3, rh, rw)
            else:
                patch = _uniform(generator, 0, 1, 3, rh, rw).to(rgb.device)
            out['rgb'][i, :, window[0], window[1]] = patch
            out['segmentation'][i, window[0], window[1]] = IGNORE
            out['depth'][i, window[0], window[1]] = torch.nan
            out['normals'][i, :, window[0], window[1]] = 0.0
    return out
