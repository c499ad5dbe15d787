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

"""Random street scenes from a seed: layout, ground, lighting and the camera (the objects on the street are
`props` recipes).

World frame: x right across the street, y forward along it, z up, metres; the road's centre line is x = 0,
the camera stands at y = 0. A street is a road of 2-4 lanes with kerbs and sidewalks on both sides; behind
each sidewalk buildings stand either at its edge or set back behind a wall, fence or hedge with grass in
front, or behind an open green. Poles (street lamps, sign posts, utility poles) with traffic signs, trees,
parked and moving cars, trucks and buses, and pedestrians fill it. Sometimes the road bends (every vertex is
sheared sideways by curve/2 * (y - curve_start)^2 beyond curve_start, which textures undo so that markings
follow the bend), crosses a side street, or ends at a row of buildings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import lighting
from .lighting import Lighting
from .mesh import MeshBuilder
from .presets import camera_draws, Preset, preset, randomise_appearance, STREET_CAMERA
from .props import StreetProps
from .shapes import ROAD, SIDEWALK, TERRAIN
from .textures import ASPHALT, hsv, Materials, NOISE

MAX_DISTANCE_M = 150.0     # hits farther away than this render as sky
Y_NEAR, Y_FAR = -40.0, 230.0

CAMERA_RANGES = STREET_CAMERA   # the default (street) preset's; `render_frame(**overrides)` fixes any
SCENE_OPTIONS = ('curve', 'junction', 'traffic', 'x_m')


@dataclass(frozen=True)
class Camera:
    """Pinhole camera (pixel centres at integer coordinates) placed in the world."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    fov_deg: float
    height_m: float
    pitch_deg: float
    roll_deg: float
    yaw_deg: float
    x_m: float             # across the street, 0 = road centre
    ground_z: float        # height of the surface it stands on (0 on the road, the kerb on a sidewalk)
    y_m: float = 0.0       # along the street; scenes are built around y = 0, so keep moves short (a drive)

    @property
    def intrinsics(self) -> dict[str, float]:
        """Focal lengths and principal point in pixels."""
        return {'fx': self.fx, 'fy': self.fy, 'cx': self.cx, 'cy': self.cy}

    @property
    def position(self) -> np.ndarray:
        """The optical centre in the world frame."""
        return np.array([self.x_m, self.y_m, self.ground_z + self.height_m])

    @property
    def rotation(self) -> np.ndarray:
        """World-from-optical rotation: its columns are the optical x (right), y (down), z (forward) axes."""
        base = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
        y, p, r = np.radians([self.yaw_deg, self.pitch_deg, self.roll_deg])
        yaw = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
        pitch = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
        roll = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
        return yaw @ base @ pitch @ roll

    def as_dict(self) -> dict:
        """Every field as plain Python numbers (a frame's metadata)."""
        return {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in asdict(self).items()}

    @classmethod
    def create(cls, width: int, height: int, fov_deg: float, height_m: float = 1.5, pitch_deg: float = 0.0,
               roll_deg: float = 0.0, yaw_deg: float = 0.0, x_m: float = 0.0, ground_z: float = 0.0,
               principal_offset=(0.0, 0.0)) -> 'Camera':
        """Square pixels; the principal point is the image centre moved by `principal_offset` pixels."""
        if not (width > 0 and height > 0):
            raise ValueError(f'image size must be positive, got {width}x{height}')
        if not 1.0 <= fov_deg <= 170.0:
            raise ValueError(f'fov_deg must lie in 1..170, got {fov_deg}')
        f = (width / 2) / np.tan(np.radians(fov_deg) / 2)
        return cls(int(width), int(height), float(f), float(f), float((width - 1) / 2 + principal_offset[0]),
                   float((height - 1) / 2 + principal_offset[1]), float(fov_deg), float(height_m),
                   float(pitch_deg), float(roll_deg), float(yaw_deg), float(x_m), float(ground_z))


@dataclass
class Scene:
    """The world as one triangle mesh; triangle t has material tri_material[t] and label tri_label[t]."""

    vertices: np.ndarray        # (V, 3) float32, bend applied
    triangles: np.ndarray       # (T, 3) uint32
    tri_material: np.ndarray    # (T,) int32
    tri_label: np.ndarray       # (T,) uint8
    materials: dict             # Materials.arrays()
    lighting: Lighting = field(default_factory=Lighting)
    curve: float = 0.0
    curve_start: float = 0.0
    kind: str = 'street'        # what kind of place: street, lane, avenue, an open space's or an indoor kind

    def bend_offset(self, y: np.ndarray) -> np.ndarray:
        """How far the bend shears a point at y sideways (metres)."""
        return 0.5 * self.curve * np.maximum(y - self.curve_start, 0.0) ** 2

    @classmethod
    def from_builder(cls, builder: MeshBuilder, materials: Materials, lighting: Lighting | None = None,
                     curve: float = 0.0, curve_start: float = 0.0, kind: str = 'street') -> 'Scene':
        """The builder's mesh with its materials, the bend applied to the vertices."""
        verts, tris, mat, label = builder.build()
        scene = cls(verts.astype(np.float32), tris, mat, label, materials.arrays(), lighting or Lighting(),
                    float(curve), float(curve_start), kind)
        if curve:
            scene.vertices[:, 0] += scene.bend_offset(verts[:, 1]).astype(np.float32)
        return scene


# ---- the street ---------------------------------------------------------------------------------------------

class _Street(StreetProps):
    """Lays out one street from `rng` and lights it; the objects on it are `props` recipes."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, overrides: dict, kind: Preset):
        super().__init__(rng)
        self.preset = kind
        self._layout(overrides)
        self._camera(width, height, overrides)

    # -- layout ------------------------------------------------------------------------------------------

    def _layout(self, overrides: dict) -> None:
        rng, u = self.rng, self.u
        self.lanes = int(rng.choice([2, 2, 2, 3, 4]))
        self.lane_w = u(2.8, 3.7)
        self.hw = self.lanes * self.lane_w / 2
        self.two_way = self.lanes != 3 or rng.random() < 0.3
        self.kerb = u(0.08, 0.18)
        # Drawn whether or not overridden, so that an override changes nothing else.
        curve = float(rng.choice([-1, 1])) / u(120, 450) if rng.random() < 0.4 else 0.0
        self.curve, self.curve_start = float(overrides.get('curve', curve)), u(5, 40)
        junction = rng.random() < 0.35
        yj, self.wj = u(20, 70), u(7, 13)
        self.yj = yj if overrides.get('junction', junction) else None
        self.cross_walk = u(1.5, 4.0)
        self.y_end = u(50, 140) if rng.random() < 0.25 else None
        self.traffic = overrides.get('traffic', True)
        self.urban = rng.random() < 0.6
        self.kind = 'street'
        if self.preset.street_kinds:
            self._street_kind()
        self.sides = {s: self._side_params(s) for s in (-1, 1)}

    def _street_kind(self) -> None:
        """Narrow one-lane lanes between buildings (an old town) or wide avenues of 5-6 lanes, beside ordinary
        streets.
        """
        self.kind = str(self.rng.choice(['street', 'lane', 'avenue'], p=[0.6, 0.2, 0.2]))
        if self.kind == 'lane':
            self.lanes, self.lane_w, self.two_way = 1, self.u(3.0, 4.2), False
        elif self.kind == 'avenue':
            self.lanes, self.lane_w, self.two_way = int(self.rng.choice([5, 6])), self.u(3.0, 3.7), True
        self.hw = self.lanes * self.lane_w / 2

    def _side_params(self, s: int) -> dict:
        rng, u = self.rng, self.u
        verge = u(0.8, 2.5) if rng.random() < 0.25 else 0.0
        walk = u(1.5, 5.0)
        front = str(rng.choice(['building', 'wall', 'fence', 'hedge', 'open'], p=[0.45, 0.15, 0.15, 0.1, 0.15]))
        if self.kind == 'lane':   # an old-town lane: a narrow pavement, houses right behind it
            verge, walk, front = 0.0, u(0.6, 1.8), 'building'
        setback = 0.0 if front == 'building' else (u(8, 30) if front == 'open' else u(2, 12))
        walk0 = self.hw + verge
        return {'verge': verge, 'walk': walk, 'walk0': walk0, 'walk1': walk0 + walk, 'front': front,
                'setback': setback, 'facade': walk0 + walk + setback}

    def ground_z(self, x: float) -> float:
        return 0.0 if abs(x) <= self.hw else self.kerb

    def segments(self, margin: float = 0.0) -> list[tuple[float, float]]:
        """y-intervals of the main street's sides (the junction and the street's end cut them)."""
        end = self.y_end if self.y_end is not None else Y_FAR
        if self.yj is None:
            return [(Y_NEAR, end)]
        a, b = self.yj - self.wj / 2 - margin, self.yj + self.wj / 2 + margin
        return [(y0, y1) for y0, y1 in ((Y_NEAR, min(a, end)), (b, end)) if y1 - y0 > 1.0]

    # -- camera ------------------------------------------------------------------------------------------

    def _camera(self, width: int, height: int, overrides: dict) -> None:
        """Every parameter is drawn whether or not it is overridden, so that an override changes nothing else."""
        rng, u, ranges = self.rng, self.u, self.preset.camera
        draws = {k: u(*r) for k, r in ranges.items()}
        if ranges is STREET_CAMERA:   # mostly along the street
            draws['yaw_deg'] = float(np.clip(rng.normal(0, 8), *ranges['yaw_deg']))
        draws = camera_draws(draws, ranges, overrides)
        forward_lanes = [k for k in range(self.lanes) if not self.two_way or -self.hw + (k + 0.5) * self.lane_w > 0]
        on_road = rng.random() >= self.preset.sidewalk
        lane_x = -self.hw + (int(rng.choice(forward_lanes)) + 0.5) * self.lane_w + rng.normal(0, 0.3)
        s = int(rng.choice([-1, 1]))
        walk_x = s * (self.sides[s]['walk0'] + 0.4 + rng.random() * (self.sides[s]['walk'] - 0.8))
        x = float(overrides['x_m']) if 'x_m' in overrides else (lane_x if on_road else walk_x)
        offset = tuple(u(-1, 1) * self.preset.principal * side for side in (width, height))
        self.camera = Camera.create(width, height, draws['fov_deg'], draws['height_m'], draws['pitch_deg'],
                                    draws['roll_deg'], draws['yaw_deg'], x, self.ground_z(x), offset)

    def clear_of_camera(self, x0: float, x1: float, y0: float, y1: float) -> bool:
        """Whether a footprint keeps clear of the space just around and ahead of the camera."""
        cx = self.camera.x_m
        return x1 < cx - 0.8 or x0 > cx + 0.8 or y1 < -1.5 or y0 > 4.0

    # -- building ----------------------------------------------------------------------------------------

    def build(self) -> Scene:
        self._ground()
        for s, side in self.sides.items():
            self._side(s, side)
        if self.yj is not None:
            self._cross_street()
        if self.y_end is not None:
            self._end_row()
        if self.rng.random() < 0.5:
            self._skyline()
        if self.traffic:
            self.vehicles()
            self.crossing_people()
        self.flush()
        return Scene.from_builder(self.mb, self.mat, self._lighting(), self.curve, self.curve_start, self.kind)

    def _lighting(self) -> Lighting:
        """The preset's lighting; beyond the street preset also fog, a wet road and randomised appearance."""
        kinds = self.preset.lighting
        if not kinds:
            return lighting.classic(self.rng)
        light = lighting.draw(str(self.rng.choice(kinds)), self.rng)
        if self.rng.random() < self.preset.fog:
            light.fog_m = self.u(20, 120)
        if self.rng.random() < self.preset.wet:   # water on the road mirrors the sky and the lights
            self.mat.shine[self.road] = self.u(0.3, 0.7)
        if self.preset.textures:
            randomise_appearance(self.mat, self.preset.textures, self.rng)
        return light

    def _ground(self) -> None:
        rng, u = self.rng, self.u
        asphalt = hsv(u(20, 230), u(0, 0.08), u(0.22, 0.42))
        white = hsv(50, 0.05, u(0.8, 0.95))
        yellow = hsv(u(42, 50), 0.8, 0.9) if rng.random() < 0.3 else white
        end = (self.y_end + 2) if self.y_end is not None else Y_FAR
        centre_style = float(rng.choice([0, 1, 2])) if self.two_way else 0.0
        j0, j1 = (self.yj - self.wj / 2, self.yj + self.wj / 2) if self.yj is not None else (0.0, 0.0)
        road = self.road = self.mat.add(ASPHALT, asphalt, white, yellow,
                                        (0, self.hw, self.lane_w, self.lanes, u(2, 4), u(3, 8),
                                         float(rng.random() < 0.6), centre_style, j0, j1, float(rng.random() < 0.5),
                                         u(0.05, 0.08)))
        self.box(-self.hw, self.hw, Y_NEAR, end, -0.3, 0.0, road, ROAD)
        # Everything no street covers: bare ground below the road level, wide enough to reach the far clip.
        dirt = self.mat.add(NOISE, hsv(u(30, 90), u(0.25, 0.5), u(0.3, 0.5)), hsv(u(30, 60), 0.4, u(0.25, 0.4)),
                            params=(0.5, 0.5, 0.8, 0.15))
        self.box(-300, 300, -60, 300, -0.5, -0.05, dirt, TERRAIN, bends=False)   # flat: a bend cannot show
        if self.yj is not None:
            cross = self.mat.add(ASPHALT, asphalt, white, white,
                                 (1, self.wj / 2, self.wj / 2, 2, u(2, 4), u(3, 8), 0, 0, -1e4, -1e4, 0, 0.06),
                                 origin=(0, self.yj, 0))
            for s in (-1, 1):
                self.box(*sorted((s * self.hw, s * 300.0)), self.yj - self.wj / 2, self.yj + self.wj / 2,
                         -0.3, 0.0, cross, ROAD)

    def _side(self, s: int, side: dict) -> None:
        rng = self.rng
        slab, kerb_mat = self.sidewalk_material()
        grass = self.grass()
        hk = self.kerb
        for y0, y1 in self.segments(margin=self.cross_walk):
            if side['verge']:   # a kerb stone, then grass
                self.box(*sorted((s * self.hw, s * (self.hw + 0.15))), y0, y1, -0.3, hk, kerb_mat, SIDEWALK)
                self.box(*sorted((s * (self.hw + 0.15), s * side['walk0'])), y0, y1, -0.3, hk - 0.03, grass,
                         TERRAIN)
            # Without a front yard the sidewalk runs on under the buildings, which stand up to 0.8 m back.
            inner = s * side['walk0']
            outer = s * (side['walk1'] if side['setback'] else side['facade'] + 1.0)
            faces = [slab] * 6
            faces[0 if s > 0 else 1] = kerb_mat          # the kerb face looks at the road
            self.box(*sorted((inner, outer)), y0, y1, -0.3, hk, faces, SIDEWALK)
            if side['setback']:
                self.box(*sorted((outer, s * (side['facade'] + 2.0))), y0, y1, -0.3, hk - 0.03, grass, TERRAIN)
        for y0, y1 in self.segments(margin=self.cross_walk + 1.0):
            self.building_row(s, side['facade'], y0, y1)
            if side['front'] in ('wall', 'fence', 'hedge'):
                self.barrier(s, side, y0, y1)
            if side['front'] == 'open' or (side['setback'] > 4 and rng.random() < 0.5):
                self.bushes(s, side, y0, y1)
        if rng.random() < 0.55:
            self.trees(s, side)
        self.poles(s, side)
        if self.traffic:
            self.pedestrians(s, side)

    # -- beyond the street -------------------------------------------------------------------------------

    def _cross_street(self) -> None:
        """Sidewalks and buildings along the side street; its asphalt comes with the ground."""
        u = self.u
        yj, wj = self.yj, self.wj
        for s, side in self.sides.items():
            slab, kerb_mat = self.sidewalk_material()
            walk = self.cross_walk
            for sy in (-1, 1):
                y_in = yj + sy * wj / 2
                faces = [slab] * 6
                faces[2 if sy > 0 else 3] = kerb_mat
                self.box(*sorted((s * self.hw, s * 300.0)), *sorted((y_in, y_in + sy * walk)), -0.3, self.kerb,
                         faces, SIDEWALK)
                x = side['facade'] + u(15, 25)
                while x < 140:
                    w = u(8, 30)
                    y_face = y_in + sy * (walk + u(0, 2))
                    self.building(*sorted((s * x, s * (x + w))), *sorted((y_face, y_face + sy * u(10, 20))),
                                  u(6, 30) if self.urban else u(6, 14))
                    x += w + (u(2, 8) if self.rng.random() < 0.3 else 0.0)

    def _end_row(self) -> None:
        u = self.u
        x = -150.0
        while x < 150:
            w = u(10, 30)
            self.building(x, x + w, self.y_end, self.y_end + u(10, 20), u(8, 30))
            x += w

    def _skyline(self) -> None:
        u = self.u
        for _ in range(int(self.rng.integers(4, 14))):
            s = self.rng.choice([-1, 1])
            x = s * (self.sides[s]['facade'] + u(25, 100))
            y, w, d = u(25, 140), u(10, 30), u(10, 30)
            self.building(*sorted((x, x + s * d)), y, y + w, u(15, 55))


def generate(rng: np.random.Generator, width: int, height: int, preset_name: str = 'street',
             **overrides) -> tuple[Scene, Camera]:
    """A random street of a preset (`presets.PRESETS`) and the camera looking at it. Overrides fix camera
    parameters (keys of `CAMERA_RANGES`, plus x_m) or give them a (low, high) range (`presets.camera_draws`), or
    set scene options: curve (1/m, 0 = straight), junction (bool), traffic (bool: vehicles and people).
    """
    unknown = set(overrides) - set(CAMERA_RANGES) - set(SCENE_OPTIONS)
    if unknown:
        raise ValueError(f'unknown world option(s) {sorted(unknown)}; known: '
                         f'{sorted(CAMERA_RANGES) + sorted(SCENE_OPTIONS)}')
    kind = preset(preset_name)
    if kind.indoor or kind.open_spaces:
        draw = rng.random()
        if draw < kind.indoor:
            from .indoor import generate_room  # indoor builds on this module's Camera and Scene
            return generate_room(rng, width, height, kind, overrides)
        if draw < kind.indoor + kind.open_spaces:
            from .open_spaces import generate_open_space
            return generate_open_space(rng, width, height, kind, overrides)
    street = _Street(rng, width, height, overrides, kind)
    return street.build(), street.camera
