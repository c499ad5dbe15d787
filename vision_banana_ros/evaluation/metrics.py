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

"""Accumulating metrics over a data set.

- Segmentation: a confusion matrix over the palette's ids (255 ignored), IoU per class accumulated over the
  whole set; mIoU averages the classes present in the ground truth.
- Depth (metric, no scale or shift alignment): per image over valid ground-truth pixels (finite, > 0), then the
  mean over images: delta1/2/3 (max(p/g, g/p) < 1.25^k), AbsRel, RMSE. Predictions are clamped to
  [MIN_DEPTH, MAX_DEPTH] so that a far answer (+inf, "sky") on a valid pixel counts as a large error, not as inf.
- Normals: angle between unit vectors over valid ground-truth pixels (non-zero), pooled over the set: mean,
  median (read from 0.001-degree bins) and % within 11.25/22.5/30 degrees. A missing prediction (NaN) counts
  as 90 degrees.
"""
from __future__ import annotations

import numpy as np

from ..codecs import CITYSCAPES, Palette

MIN_DEPTH = 1e-3
MAX_DEPTH = 1e3


class SegmentationMetrics:
    """Semantic segmentation IoU per class, accumulated over a set in a confusion matrix."""

    def __init__(self, palette: Palette = CITYSCAPES):
        self.palette = palette
        self._index = np.full(256, -1, np.int64)
        self._index[list(palette.ids)] = np.arange(len(palette.ids))
        self.confusion = np.zeros((len(palette.ids), len(palette.ids)), np.int64)
        # Ground-truth pixels predicted as ignore (or an id outside the palette): wrong for every class.
        self.missed = np.zeros(len(palette.ids), np.int64)

    def update(self, predicted: np.ndarray, truth: np.ndarray) -> None:
        """Add one frame: predicted and ground-truth label images of the same shape."""
        if predicted.shape != truth.shape:
            raise ValueError(f'prediction shape {predicted.shape} != ground truth shape {truth.shape}')
        gt = self._index[truth.astype(np.intp).ravel()]
        pred = self._index[predicted.astype(np.intp).ravel()]
        keep = gt >= 0
        n = len(self.palette.ids)
        hits = keep & (pred >= 0)
        self.confusion += np.bincount(gt[hits] * n + pred[hits], minlength=n * n).reshape(n, n)
        self.missed += np.bincount(gt[keep & (pred < 0)], minlength=n)

    def per_class_iou(self) -> dict[str, float]:
        """IoU of each class present in the ground truth, by class name."""
        tp = np.diag(self.confusion)
        gt_total = self.confusion.sum(1) + self.missed
        union = gt_total + self.confusion.sum(0) - tp
        return {self.palette.names[i]: float(tp[i] / union[i]) for i in range(len(tp)) if gt_total[i] > 0}

    def miou(self) -> float:
        """Mean IoU over the classes present in the ground truth (NaN when none is)."""
        ious = list(self.per_class_iou().values())
        return float(np.mean(ious)) if ious else float('nan')

    def pixel_accuracy(self) -> float:
        """Share of the labelled ground-truth pixels given their class (NaN when there are none). Unlike mIoU it
        weighs classes by their area, so a rare class seen in a few pixels cannot dominate it.
        """
        total = self.confusion.sum() + self.missed.sum()
        return float(np.trace(self.confusion) / total) if total else float('nan')


class DepthMetrics:
    """Depth accuracy (delta thresholds, AbsRel, RMSE), averaged over frames, and delta1 after scaling each frame
    to the true median (pred x median(true) / median(pred), as monocular depth is scored without metric scale):
    how much of the error is the scale alone.
    """

    def __init__(self):
        self.rows: list[tuple[float, ...]] = []

    def update(self, predicted: np.ndarray, truth: np.ndarray) -> None:
        """Add one frame: predicted and ground-truth depth in metres (invalid truth is left out)."""
        if predicted.shape != truth.shape:
            raise ValueError(f'prediction shape {predicted.shape} != ground truth shape {truth.shape}')
        valid = np.isfinite(truth) & (truth > 0)
        if not valid.any():
            return
        g = truth[valid].astype(np.float64)
        p = np.nan_to_num(predicted[valid].astype(np.float64), nan=MIN_DEPTH, posinf=MAX_DEPTH, neginf=MIN_DEPTH)
        p = np.clip(p, MIN_DEPTH, MAX_DEPTH)
        ratio = np.maximum(p / g, g / p)
        scaled = p * (np.median(g) / np.median(p))
        self.rows.append((*(float(np.mean(ratio < 1.25 ** k)) for k in (1, 2, 3)),
                          float(np.mean(np.abs(p - g) / g)), float(np.sqrt(np.mean((p - g) ** 2))),
                          float(np.mean(np.maximum(scaled / g, g / scaled) < 1.25))))

    def summary(self) -> dict[str, float]:
        """Mean delta1..3, abs_rel, rmse and delta1_median_scaled over the frames (NaN when there were none)."""
        keys = ('delta1', 'delta2', 'delta3', 'abs_rel', 'rmse', 'delta1_median_scaled')
        if not self.rows:
            return {k: float('nan') for k in keys}
        return dict(zip(keys, map(float, np.mean(np.array(self.rows), axis=0))))


class NormalMetrics:
    """Angles pooled over the set in constant memory: sums and threshold counts are exact, the median is read
    from a histogram of MEDIAN_BIN_DEG bins (a set of Cityscapes-size frames would otherwise hold gigabytes).
    """

    MEDIAN_BIN_DEG = 0.001
    THRESHOLDS = (11.25, 22.5, 30.0)

    def __init__(self):
        self.histogram = np.zeros(int(round(180.0 / self.MEDIAN_BIN_DEG)) + 1, np.int64)
        self.sum = 0.0
        self.within = np.zeros(len(self.THRESHOLDS), np.int64)

    def update(self, predicted: np.ndarray, truth: np.ndarray) -> None:
        """Add one frame: predicted and ground-truth unit normals (invalid truth is left out)."""
        if predicted.shape != truth.shape:
            raise ValueError(f'prediction shape {predicted.shape} != ground truth shape {truth.shape}')
        valid = np.isfinite(truth).all(-1) & (np.abs(np.nan_to_num(truth)).sum(-1) > 0)
        g = truth[valid].astype(np.float64)
        g /= np.linalg.norm(g, axis=-1, keepdims=True)
        p = predicted[valid].astype(np.float64)
        with np.errstate(invalid='ignore', divide='ignore'):    # no answer (zero or NaN): 90 degrees, as 0 / 0
            cosine = np.nan_to_num(np.sum(p * g, axis=-1) / np.linalg.norm(p, axis=-1), nan=0.0)
        angles = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        self.sum += float(angles.sum())
        self.within += [int(np.count_nonzero(angles < t)) for t in self.THRESHOLDS]
        bins = np.minimum((angles / self.MEDIAN_BIN_DEG).astype(np.int64), len(self.histogram) - 1)
        self.histogram += np.bincount(bins, minlength=len(self.histogram))

    def summary(self) -> dict[str, float]:
        """Mean and median angle in degrees and the fractions within 11.25, 22.5 and 30 degrees."""
        count = int(self.histogram.sum())
        if not count:
            return {k: float('nan') for k in ('mean_deg', 'median_deg', 'within_11_25', 'within_22_5', 'within_30')}
        middle = int(np.searchsorted(np.cumsum(self.histogram), (count + 1) / 2))
        return {'mean_deg': self.sum / count, 'median_deg': (middle + 0.5) * self.MEDIAN_BIN_DEG,
                **{key: float(n / count) for key, n in zip(('within_11_25', 'within_22_5', 'within_30'), self.within)}}
