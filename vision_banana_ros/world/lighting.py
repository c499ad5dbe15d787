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

"""Lighting of a scene: the sun (or moon), sky ambient, sky colours, clouds and haze, and the kinds a preset
draws from.

`classic` is the street preset's daylight (sunny or overcast); the other kinds broaden it for training (`day`,
`overcast`, `hard_sun`, `dusk`, `night`, and `indoor`: no sun, warm or cool light from the room's ceiling lamps and
its bounce off every surface, `Lighting.lamps`) or are kept for the held-out appearance split only (`sodium`: night
under orange street lights; `tinted`: daylight through a strong colour cast no white balance removes;
`indoor_tinted`: the same indoors). Lamps glow by themselves (their material's `emit`), so a night scene still shows
them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRAINING_KINDS = ('day', 'overcast', 'hard_sun', 'dusk', 'night')
HELD_OUT_KINDS = ('sodium', 'tinted')
INDOOR_KINDS = ('indoor', 'indoor_tinted')   # training, held out


@dataclass
class Lighting:
    """Sun, sky and haze, all as linear radiance."""

    sun_dir: tuple = (0.35, -0.45, 0.82)       # toward the sun
    sun_rgb: tuple = (3.0, 2.9, 2.7)
    ambient_rgb: tuple = (0.55, 0.62, 0.75)
    zenith_rgb: tuple = (0.18, 0.35, 0.85)
    horizon_rgb: tuple = (0.75, 0.82, 0.95)
    clouds: float = 0.0                        # cover 0..1
    cloud_rgb: tuple = (1.2, 1.2, 1.25)
    fog_m: float = 1000.0                      # distance at which haze reaches 63 %
    lamps: tuple = ()                          # indoors: ceiling lamps' (x, y, z), shining down
    lamp_rgb: tuple = (0.0, 0.0, 0.0)          # each lamp's intensity: radiance at 1 m straight below it


def _sun(rng: np.random.Generator, elevation_deg: tuple[float, float]) -> tuple[tuple, np.ndarray]:
    """A direction toward the sun and its colour (warmer the lower it stands)."""
    elev, az = np.radians(rng.uniform(*elevation_deg)), np.radians(rng.uniform(0, 360))
    warm = np.clip(1.0 - elev / np.radians(40), 0, 1)
    return ((np.cos(elev) * np.sin(az), np.cos(elev) * np.cos(az), np.sin(elev)),
            np.array([1.0, 0.95 - 0.12 * warm, 0.88 - 0.3 * warm]))


def classic(rng: np.random.Generator) -> Lighting:
    """Daylight of the street preset: a sun 12-70 deg high, overcast a quarter of the time."""
    u = rng.uniform
    sun_dir, sun_col = _sun(rng, (12, 70))
    if rng.random() < 0.25:   # overcast
        grey = u(1.0, 1.5)
        return Lighting(sun_dir, tuple(sun_col * u(0.1, 0.6)), (grey * 0.9, grey * 0.92, grey * 0.95),
                        (grey * 1.1,) * 3, (grey * 1.25,) * 3, 0.0, (1.2, 1.2, 1.25), u(250, 800))
    sky = u(0.7, 1.1)
    zenith = np.array([u(0.1, 0.25), u(0.25, 0.4), u(0.7, 0.95)]) * sky
    horizon = np.array([u(0.65, 0.8), u(0.75, 0.85), u(0.9, 1.0)]) * sky * 1.1
    return Lighting(sun_dir, tuple(sun_col * u(2.5, 4.0)), tuple(zenith * 0.5 + horizon * 0.3),
                    tuple(zenith), tuple(horizon), u(0, 0.7) if rng.random() < 0.6 else 0.0,
                    tuple(np.full(3, u(1.0, 1.5))), u(300, 1500))


def _scaled(light: Lighting, sun, ambient, sky) -> Lighting:
    """The same light with the sun, the ambient and the sky multiplied (scalars or RGB)."""
    def times(rgb, k) -> tuple:
        return tuple(float(v) for v in np.asarray(rgb) * k)

    return Lighting(light.sun_dir, times(light.sun_rgb, sun), times(light.ambient_rgb, ambient),
                    times(light.zenith_rgb, sky), times(light.horizon_rgb, sky), light.clouds,
                    times(light.cloud_rgb, sky), light.fog_m)


def draw(kind: str, rng: np.random.Generator) -> Lighting:
    """Lighting of one kind (TRAINING_KINDS, HELD_OUT_KINDS)."""
    u = rng.uniform
    if kind == 'day':
        return classic(rng)
    if kind == 'overcast':
        grey = u(0.8, 1.6)
        sun_dir, sun_col = _sun(rng, (20, 70))
        return Lighting(sun_dir, tuple(sun_col * u(0.0, 0.3)), (grey * 0.9, grey * 0.92, grey * 0.95),
                        (grey * 1.1,) * 3, (grey * 1.2,) * 3, 0.0, (1.2, 1.2, 1.25), u(150, 600))
    if kind == 'hard_sun':   # deep shadows: strong sun, little sky light
        return _scaled(classic(rng), u(1.5, 2.2), u(0.25, 0.5), 1.0)
    if kind == 'dusk':       # the sun on the horizon, orange, a dark blue sky
        sun_dir, _ = _sun(rng, (1, 8))
        glow = np.array([1.0, u(0.45, 0.65), u(0.2, 0.35)])
        zenith = np.array([0.05, 0.08, 0.22]) * u(0.5, 1.2)
        horizon = glow * u(0.5, 1.0)
        return Lighting(sun_dir, tuple(glow * u(1.0, 2.5)), tuple(zenith * 1.5 + horizon * 0.15),
                        tuple(zenith), tuple(horizon), u(0, 0.6) if rng.random() < 0.5 else 0.0,
                        tuple(glow * 0.6), u(300, 1200))
    if kind == 'night':      # a faint moon and sky glow; the lamps glow, the exposure lifts the rest (and noise)
        sun_dir, _ = _sun(rng, (20, 60))
        return Lighting(sun_dir, tuple(np.array([0.6, 0.7, 1.0]) * u(0.02, 0.08)),
                        tuple(np.array([0.5, 0.55, 0.8]) * u(0.02, 0.06)), (0.004, 0.006, 0.015),
                        tuple(np.array([0.05, 0.045, 0.05]) * u(0.3, 1.0)), 0.0, (0.03, 0.03, 0.035),
                        u(200, 800))
    if kind == 'sodium':     # held out: night under low-pressure sodium lamps (nearly monochrome orange)
        sun_dir, _ = _sun(rng, (50, 85))
        orange = np.array([1.0, u(0.45, 0.6), u(0.05, 0.15)])
        return Lighting(sun_dir, tuple(orange * u(0.3, 0.8)), tuple(orange * u(0.08, 0.2)), (0.01, 0.008, 0.012),
                        tuple(orange * u(0.05, 0.12)), 0.0, (0.05, 0.04, 0.03), u(150, 500))
    if kind in ('tinted', 'indoor_tinted'):     # held out: a strong colour cast on everything
        tint = np.exp(rng.normal(0, 0.45, 3))
        tint /= tint.mean()
        base = classic(rng) if kind == 'tinted' else draw('indoor', rng)
        return _scaled(base, tint * u(0.8, 1.2), tint, tint)
    if kind == 'indoor':     # the ceiling hides the sky: lamps (placed by the room) and their bounce light
        white = (np.array([1.0, u(0.85, 1.0), u(0.65, 1.0)]) if rng.random() < 0.6
                 else np.array([u(0.85, 1.0), 1.0, u(0.95, 1.1)]))
        return Lighting((0.0, 0.0, 1.0), (0.0, 0.0, 0.0), tuple(white * u(0.6, 1.6)), (0.0, 0.0, 0.0),
                        (0.0, 0.0, 0.0), 0.0, (0.0, 0.0, 0.0), 1.0e4, lamp_rgb=tuple(white * u(1.0, 6.0)))
    raise ValueError(f'unknown lighting kind {kind!r}; known: {TRAINING_KINDS + HELD_OUT_KINDS + INDOOR_KINDS}')
