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

"""World presets: the distributions a frame is drawn from.

- `street`: the original distribution (cameras 1-2.5 m high on streets, each class in its own texture family,
  daylight). Its frames do not change when other presets change: the README's held-out set is drawn from it.
- `wide`: what a robot's camera may see, for training: any height from a small ground robot to a truck, any
  pitch, roll and yaw within reason, lenses from tele to wide angle, an off-centre principal point; appearance that
  no class owns (a share of the materials, up to all of them, gets a random colour and a random texture from a
  pool shared by every class, or a flat colour) and fine detail down to the pixel at any distance; five lighting
  kinds, fog and wet roads; narrow lanes and wide avenues beside ordinary streets; a fifth of the frames indoors
  (rooms, corridors and warehouses) and a fifth in open spaces (parking lots, plazas with steps and ramps, rural
  roads over hills: `world.open_spaces`); a quarter of the cameras turned freely (`draw_free_pose`, which
  `render_frame` applies).
- `holdout`: the wide cameras and streets, with a texture family (stripes), lighting kinds (sodium night, colour
  cast) and an indoor scene kind (parking garages) that the wide preset never draws: an evaluation split for
  appearance nobody trained on.
- `indoor`: the wide preset's rooms, corridors and warehouses only, with things within the camera's reach (small
  things on the floor, a table just in front or a person at arm's length holding up a board), where the wide
  preset's furniture leaves the floor clear: the close views of a desk camera, a gripper or a small robot indoors.
- `reach`: the indoor preset seen by cameras within reach of the floor (0.2-1.5 m up), pitched anywhere from
  straight down to 60 degrees up: a wrist camera over the floor or a table, a desk camera looking up at a board held
  over it or at the ceiling's tags.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .lighting import HELD_OUT_KINDS, TRAINING_KINDS
from .textures import hsv, Materials, NOISE, STRIPES, TILES

STREET_CAMERA = {          # what the street preset's camera varies; `render_frame(**overrides)` fixes any of them
    'fov_deg': (40.0, 110.0),      # horizontal field of view
    'height_m': (1.0, 2.5),        # above the ground it stands on
    'pitch_deg': (-15.0, 10.0),    # positive looks up
    'roll_deg': (-5.0, 5.0),       # about the optical axis
    'yaw_deg': (-20.0, 20.0),      # positive turns left of the street direction
}
WIDE_CAMERA = {
    'fov_deg': (30.0, 120.0),
    'height_m': (0.2, 3.0),
    'pitch_deg': (-35.0, 15.0),
    'roll_deg': (-12.0, 12.0),
    'yaw_deg': (-30.0, 30.0),
}
REACH_CAMERA = {   # a wrist, desk or small robot's camera: near the floor, looking down at it or up past what is held
    **WIDE_CAMERA,
    'height_m': (0.2, 1.5),
    'pitch_deg': (-89.0, 60.0),
}

# What a world camera can be (`world render --camera` takes any of it): a lens, a height above the ground and
# angles the renderer's camera model takes. Every preset's ranges lie within it.
CAMERA_LIMITS = {'fov_deg': (1.0, 170.0), 'height_m': (0.05, 50.0), 'pitch_deg': (-89.0, 89.0),
                 'roll_deg': (-180.0, 180.0), 'yaw_deg': (-180.0, 180.0)}


@dataclass(frozen=True)
class Preset:
    """One distribution of frames (see the module docstring)."""

    name: str
    camera: dict                       # parameter -> (low, high), drawn uniformly (street: yaw is normal)
    principal: float                   # principal point within +- this fraction of the image size
    sidewalk: float                    # share of cameras on a sidewalk rather than in a lane
    lighting: tuple[str, ...] = ()     # lighting kinds drawn uniformly; () = the street's classic daylight
    textures: tuple[int, ...] = ()     # the pool randomised materials draw from; () = no randomisation
    fog: float = 0.0                   # share of frames in fog (haze reaching 63 % at 20-120 m)
    wet: float = 0.0                   # share of frames with a wet, mirroring road
    street_kinds: bool = False         # narrow lanes and wide avenues besides ordinary streets
    indoor: float = 0.0                # share of indoor frames (`world.indoor`)
    indoor_kinds: tuple[str, ...] = ('room', 'corridor', 'warehouse')   # drawn uniformly
    indoor_lighting: str = 'indoor'    # their lighting kind
    open_spaces: float = 0.0           # share of frames in open spaces (`world.open_spaces`)
    open_kinds: tuple[str, ...] = ('parking', 'plaza', 'rural')
    surface_detail: float = 0.0        # most fine surface detail a frame draws (`draw_surface_detail`); 0 = none
    free_pose: float = 0.0             # share of frames whose camera is turned freely (`draw_free_pose`)
    close_range: bool = False          # indoors, things within the camera's reach (`indoor.Room.close_range`)


PRESETS = {
    'street': Preset('street', STREET_CAMERA, principal=0.02, sidewalk=0.15),
    'wide': Preset('wide', WIDE_CAMERA, principal=0.05, sidewalk=0.3, lighting=TRAINING_KINDS,
                   textures=(NOISE, TILES), fog=0.2, wet=0.2, street_kinds=True, indoor=0.2, open_spaces=0.2,
                   surface_detail=0.6, free_pose=0.25),
    'holdout': Preset('holdout', WIDE_CAMERA, principal=0.05, sidewalk=0.3, lighting=HELD_OUT_KINDS,
                      textures=(STRIPES,), fog=0.2, wet=0.2, street_kinds=True, indoor=0.25,
                      indoor_kinds=('garage',), indoor_lighting='indoor_tinted', surface_detail=0.6,
                      free_pose=0.25),
    'indoor': Preset('indoor', WIDE_CAMERA, principal=0.05, sidewalk=0.3, lighting=TRAINING_KINDS,
                     textures=(NOISE, TILES), indoor=1.0, surface_detail=0.6, free_pose=0.25, close_range=True),
}
PRESETS['reach'] = replace(PRESETS['indoor'], name='reach', camera=REACH_CAMERA)


def camera_draws(draws: dict[str, float], ranges: dict, overrides: dict) -> dict[str, float]:
    """A frame's camera parameters: the preset's `draws` from its `ranges`, with `overrides` applied. An override
    is a value (the parameter fixed) or a (low, high) range: the preset's draw is then mapped linearly onto it, so
    that a range changes the camera and nothing else in the frame (the random stream is the same).
    """
    draws = dict(draws)
    for key, value in overrides.items():
        if key not in ranges:
            continue
        if isinstance(value, (tuple, list)):
            low, high = ranges[key]
            share = min(max((draws[key] - low) / (high - low), 0.0), 1.0)
            draws[key] = float(value[0]) + share * (float(value[1]) - float(value[0]))
        else:
            draws[key] = float(value)
    return draws


def preset(name: str) -> Preset:
    """The preset called `name`; a ValueError names the known ones."""
    if name not in PRESETS:
        raise ValueError(f'unknown world preset {name!r}; known: {", ".join(PRESETS)}')
    return PRESETS[name]


def draw_surface_detail(materials: dict, amplitude: float, rng: np.random.Generator) -> None:
    """Fine surface detail in place (`Materials.arrays()`'s `detail`): a frame draws its amplitude up to
    `amplitude` and each material a share of it, so that smooth and rough surfaces meet at every distance.
    """
    detail = materials['detail']
    detail[:] = rng.uniform(0.0, amplitude) * rng.uniform(0.0, 1.0, len(detail))


# A freely turned camera: any pitch the camera model takes, any roll. Robots mount cameras like that: rotated a
# quarter turn (Spot's body cameras), on a wrist looking down at the floor, looking up at a ceiling's fiducials.
FREE_POSE = {'pitch_deg': CAMERA_LIMITS['pitch_deg'], 'roll_deg': CAMERA_LIMITS['roll_deg']}


def camera_pose(camera: dict) -> str | None:
    """'upright' where a camera's pitch and roll lie within the wide preset's upright ranges, else 'turned'
    (`draw_free_pose`); None for a camera whose angles are not known.
    """
    if 'pitch_deg' not in camera or 'roll_deg' not in camera:
        return None
    (pitch_low, pitch_high), (roll_low, roll_high) = WIDE_CAMERA['pitch_deg'], WIDE_CAMERA['roll_deg']
    upright = pitch_low <= camera['pitch_deg'] <= pitch_high and roll_low <= camera['roll_deg'] <= roll_high
    return 'upright' if upright else 'turned'


def draw_free_pose(share: float, rng: np.random.Generator) -> dict[str, float]:
    """Camera overrides (pitch and roll) for a freely turned camera in `share` of the frames, else none."""
    turned = rng.random() < share
    pose = {key: float(rng.uniform(*limits)) for key, limits in FREE_POSE.items()}
    return pose if turned else {}


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return hsv(rng.uniform(0, 360), rng.uniform(0, 1) ** 1.5, rng.uniform(0.05, 0.95))


def _texture_params(kind: int, rng: np.random.Generator) -> tuple:
    u = rng.uniform
    if kind == NOISE:     # texels/m along u and v, contrast, fine grain
        return (u(0.3, 20), u(0.3, 20), u(0.1, 0.9), u(0, 0.3))
    if kind == TILES:     # periods, row offset, joint width, cell variation, noise
        return (u(0.1, 2.5), u(0.05, 2.0), float(rng.choice([0.0, 0.5])), u(0.005, 0.06), u(0, 1), u(0, 0.2))
    return (u(0.05, 1.5), u(0, np.pi), u(0.2, 0.8), u(0, 0.2))   # STRIPES: period, angle, duty, noise


def randomise_appearance(materials: Materials, pool: tuple[int, ...], rng: np.random.Generator) -> None:
    """Domain randomisation in place: per frame, none, some, or all materials get a random colour and a texture
    from `pool` (shared by every class, so that a texture never tells the class), or every material a flat colour.
    Shine and glow stay: glass still mirrors, lamps still glow.
    """
    mode = rng.choice(['natural', 'some', 'all', 'flat'], p=[0.3, 0.4, 0.2, 0.1])
    if mode == 'natural':
        return
    share = {'some': rng.uniform(0.3, 0.7), 'all': 1.0, 'flat': 1.0}[mode]
    for i in range(len(materials.kind)):
        if rng.random() >= share:
            continue
        c1, c2 = _random_colour(rng), _random_colour(rng)
        if mode == 'flat':
            kind, c2, params = NOISE, c1, (4.0, 4.0, 0.0, 0.0)
        else:
            kind = int(rng.choice(pool))
            params = _texture_params(kind, rng)
        p = np.zeros_like(materials.params[i])
        p[:len(params)] = params
        materials.kind[i] = kind
        materials.colors[i] = np.stack([c1, c2, c2]) ** 2.2
        materials.params[i] = p
