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

"""The evaluation metrics on hand-made cases."""
import warnings

import numpy as np
import pytest

from vision_banana_ros.evaluation import DepthMetrics, NormalMetrics, SegmentationMetrics


def test_miou_on_a_hand_made_case():
    truth = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)
    pred = np.array([[0, 0, 0, 1], [0, 0, 1, 13]], np.uint8)
    m = SegmentationMetrics()
    m.update(pred, truth)
    iou = m.per_class_iou()
    # road: tp 4, fp 1, fn 0 -> 4/5; sidewalk: tp 2, fn 1 -> 2/3; the ignore pixel counts for nothing.
    assert iou == pytest.approx({'road': 4 / 5, 'sidewalk': 2 / 3})
    assert m.miou() == pytest.approx((4 / 5 + 2 / 3) / 2)
    assert m.pixel_accuracy() == pytest.approx(6 / 7)
    assert np.isnan(SegmentationMetrics().pixel_accuracy())


def test_iou_accumulates_over_the_set_and_ignore_predictions_are_misses():
    m = SegmentationMetrics()
    m.update(np.array([[2, 2]], np.uint8), np.array([[2, 2]], np.uint8))
    m.update(np.array([[255, 2]], np.uint8), np.array([[2, 2]], np.uint8))
    assert m.per_class_iou() == {'building': pytest.approx(3 / 4)}
    assert m.pixel_accuracy() == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match='shape'):
        m.update(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))


def test_depth_metrics_known_answers():
    truth = np.array([[1.0, 2.0, 4.0, np.nan, 0.0]], np.float32)
    pred = np.array([[1.0, 3.0, 4.0, 7.0, 1.0]], np.float32)
    m = DepthMetrics()
    m.update(pred, truth)
    s = m.summary()
    assert s['delta1'] == pytest.approx(2 / 3)          # ratio 1.5 fails 1.25
    assert s['delta2'] == pytest.approx(1.0)            # 1.5 < 1.5625
    assert s['abs_rel'] == pytest.approx((0 + 0.5 + 0) / 3)
    assert s['rmse'] == pytest.approx(np.sqrt(1 / 3))
    m.update(np.full((1, 2), np.inf, np.float32), np.array([[5.0, 5.0]], np.float32))
    assert m.summary()['delta1'] == pytest.approx((2 / 3 + 0) / 2)  # "infinitely far" is simply wrong


def test_median_scaled_delta1_forgives_the_scale_only():
    truth = np.array([[1.0, 2.0, 4.0, 8.0]], np.float32)
    m = DepthMetrics()
    m.update(truth * 1.4, truth)                          # the right shape 1.4x too far
    m.update(np.array([[1.0, 1.0, 4.0, 16.0]], np.float32), truth)   # a wrong shape, right median
    s = m.summary()
    assert s['delta1'] == pytest.approx((0 + 0.5) / 2)
    assert s['delta1_median_scaled'] == pytest.approx((1 + 0.5) / 2)


def test_normal_metrics_known_angles():
    truth = np.array([[[0, 0, -1], [0, 0, -1], [1, 0, 0], [0, 0, 0]]], np.float32)
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    pred = np.array([[[0, 0, -1], [s, 0, -c], [np.nan] * 3, [1, 0, 0]]], np.float32)
    m = NormalMetrics()
    m.update(pred, truth)
    out = m.summary()
    assert out['mean_deg'] == pytest.approx((0 + 20 + 90) / 3, abs=1e-3)
    assert out['median_deg'] == pytest.approx(20, abs=1e-3)
    assert out['within_11_25'] == pytest.approx(1 / 3) and out['within_22_5'] == pytest.approx(2 / 3)
    with warnings.catch_warnings():
        warnings.simplefilter('error')           # no answer (a zero vector) is 90 degrees, said without a warning
        m.update(np.zeros((1, 1, 3), np.float32), truth[:, :1])
    assert m.summary()['mean_deg'] == pytest.approx((0 + 20 + 90 + 90) / 4, abs=1e-3)
