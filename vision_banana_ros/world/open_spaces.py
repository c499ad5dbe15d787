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

"""Outdoor places that are not streets: parking lots, plazas and rural roads over hills, where the ground is not
one flat plane and clutter stands about.

World frame as on the street: x right, y forward, z up, metres; the camera stands at (x_m, 0) on ground at z = 0.
Labels follow Cityscapes: driving aisles and rural asphalt ROAD, paving SIDEWALK, fields and shoulders TERRAIN,
bollards and lamp posts POLE, planters WALL, railings and field fences FENCE. Parking bays (Cityscapes' `parking`),
benches and bins (`static`) have no train id: IGNORE (255), taught for depth and normals only.

Kinds: `parking` (aisles and rows of bays, parked cars, lamp posts, buildings or hedges around), `plaza` (a paved
square among buildings with a raised terrace reached by steps and a ramp, benches, bins, bollards, planters, trees
and people) and `rural` (a two-lane road without kerbs up or down a grade of up to 10 % through hilly fields with
ditches, trees, hedgerows, fences, utility poles and now and then a farmhouse).
"""
from __future__ import annotations

import numpy as np

from . import lighting
from .presets import camera_draws, Preset, randomise_appearance
from .props import StreetProps
from .scene import Camera, Scene
from .shapes import BUILDING, FENCE, IGNORE, POLE, ROAD, SIDEWALK, TERRAIN, VEGETATION, WALL
from .textures import hsv, NOISE

KINDS = ('parking', 'plaza', 'rural')


def _pitch(angle: float) -> np.ndarray:
    """Rotation about x by `angle` (radians): +y tilts up."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


class OpenSpace(StreetProps):
    """Draws one open space of `kind` from `rng` around a camera at (camera_x, 0)."""

    def __init__(self, rng: np.random.Generator, kind: str):
        super().__init__(rng)
        if kind not in KINDS:
            raise ValueError(f'unknown open space kind {kind!r}; known: {KINDS}')
        self.kind = kind
        self.grade = 0.0            # rural roads climb or fall along y
        self.wet_material = None    # the surface a wet day makes shine
        self.camera_x = 0.0
        self.half_width = {'parking': self.u(15, 40), 'plaza': self.u(12, 35), 'rural': self.u(2.7, 3.6)}[kind]
        self.length = self.u(30, 90) if kind != 'rural' else 230.0
        if kind == 'rural':   # the ground's shape, which the camera's place depends on
            self.grade = float(rng.choice([0.0, 1.0])) * self.u(-0.08, 0.1)
            self.flat_half = self.half_width + self.u(0.5, 2.0)
            self.ditch = self.u(0.0, 0.6)
            amplitude = self.u(0.0, 12.0)
            self.hills = [(amplitude * self.u(0.3, 1.0), *(rng.normal(0, 1, 2) * 2 * np.pi / self.u(40, 150)),
                           self.u(0, 2 * np.pi)) for _ in range(3)]

    def draw_camera_x(self) -> float:
        """Where across the space the camera stands (in a driving aisle, on the square, in a lane or on the
        shoulder).
        """
        if self.kind == 'parking':
            return self.u(-2.5, 2.5)
        if self.kind == 'plaza':
            return self.u(-0.7, 0.7) * self.half_width
        edge = min(self.half_width + 1.0, self.flat_half - 0.2)    # on the road or its shoulder
        return self.u(-edge, edge)

    def clear(self, x0: float, x1: float, y0: float, y1: float) -> bool:
        """Whether a footprint keeps clear of the space just around and ahead of the camera."""
        return x1 < self.camera_x - 0.8 or x0 > self.camera_x + 0.8 or y1 < -1.5 or y0 > 4.0

    def build(self, camera_x: float) -> None:
        """The space of this kind around a camera at (camera_x, 0)."""
        self.camera_x = camera_x
        {'parking': self._parking, 'plaza': self._plaza, 'rural': self._rural}[self.kind]()
        self.flush()

    # -- shared pieces -------------------------------------------------------------------------------------

    def _surroundings(self, x_edge: float, y0: float, y1: float) -> None:
        """Both sides beyond |x| = x_edge and the far end at y1: sidewalk and buildings, or a hedge and trees;
        flat dirt everywhere below.
        """
        u = self.u
        dirt = self.mat.add(NOISE, hsv(u(30, 90), u(0.25, 0.5), u(0.3, 0.5)), hsv(u(30, 60), 0.4, u(0.25, 0.4)),
                            params=(0.5, 0.5, 0.8, 0.15))
        self.box(-300, 300, -60, 300, -0.5, -0.05, dirt, TERRAIN)
        slab, kerb = self.sidewalk_material()
        for s in (-1, 1):
            walk = u(1.5, 4.0)
            self.box(*sorted((s * x_edge, s * (x_edge + walk))), y0, y1 + walk, -0.3, 0.12, (kerb,) * 4 + (slab, slab),
                     SIDEWALK)
            if self.rng.random() < 0.7:
                y = y0
                while y < y1:
                    w = u(8, 25)
                    self.building(*sorted((s * (x_edge + walk), s * (x_edge + walk + u(8, 20)))), y, y + w,
                                  u(5, 25))
                    y += w + (u(2, 8) if self.rng.random() < 0.3 else 0.0)
            else:
                foliage = self._foliage()
                ys = np.arange(y0, y1, 1.6)
                centres = np.stack([np.full(len(ys), s * (x_edge + walk + 0.8)), ys, np.full(len(ys), 0.9)], 1)
                self.mb.add_blobs(centres, np.tile([0.9, 1.0, 1.1], (len(ys), 1)), foliage, VEGETATION, self.rng)
        facade, roof = self._facade((0.0, y1 + 4, 0.0))
        self.box(-x_edge - 30, x_edge + 30, y1 + 4, y1 + u(10, 20), 0.0, u(6, 25), (facade,) * 4 + (roof, roof),
                 BUILDING)

    def _lamp(self, x: float, y: float, z: float = 0.0) -> None:
        h = self.u(5, 9)
        self.cylinder((x, y, z - 0.05), (x, y, z + h), 0.08, self.metal, self.metal, POLE)
        head = self.mat.flat(hsv(45, 0.1, 0.95), emit=0.4)
        self.box(x - 0.25, x + 0.25, y - 0.25, y + 0.25, z + h, z + h + 0.2, (self.metal,) * 4 + (head, self.metal),
                 POLE)

    def _trees(self, points) -> None:
        """Trees standing at `points` (x, y, ground z)."""
        if not len(points):
            return
        u = self.u
        bark = self.mat.add(NOISE, hsv(u(20, 35), u(0.3, 0.5), u(0.18, 0.32)), hsv(u(20, 35), 0.3, u(0.1, 0.18)),
                            params=(3, 0.5, 1.0, 0.3))
        p = np.asarray(points, dtype=np.float64)
        trunk = self.rng.uniform(1.8, 4.0, len(p))
        crown = self.rng.uniform(1.2, 3.5, (len(p), 1)) * self.rng.uniform(0.7, 1.0, (len(p), 3))
        self.mb.add_cylinders(p - [0, 0, 0.3], p + np.stack([0 * trunk, 0 * trunk, trunk + 0.5], 1),
                              self.rng.uniform(0.1, 0.3, len(p)), bark, bark, VEGETATION, sides=8)
        self.mb.add_blobs(p + np.stack([0 * trunk, 0 * trunk, trunk + crown[:, 2] * 0.7], 1), crown,
                          self._foliage(), VEGETATION, self.rng)

    def _people(self, count: int, x0: float, x1: float, y0: float, y1: float) -> None:
        for _ in range(count):
            x, y = self.u(x0, x1), self.u(y0, y1)
            if self.clear(x - 0.5, x + 0.5, y - 0.5, y + 0.5):
                self.person(x, y, 0.0, self.u(0, 2 * np.pi))

    # -- parking lot ---------------------------------------------------------------------------------------

    def _parking(self) -> None:
        u, rng = self.u, self.rng
        half, length = self.half_width, self.length
        asphalt = self.mat.add(NOISE, hsv(u(20, 230), u(0, 0.08), u(0.2, 0.4)), hsv(0, 0, u(0.15, 0.3)),
                               params=(2, 2, u(0.2, 0.5), 0.1))
        self.wet_material = asphalt
        line = self.mat.flat(hsv(50, 0.05, u(0.75, 0.95)) if rng.random() < 0.8 else hsv(48, 0.8, 0.9))
        aisle, depth, bay = u(6.0, 7.5), u(4.8, 5.5), u(2.4, 2.8)
        y0, y1 = -15.0, length
        x = aisle / 2
        self.box(-x, x, y0, y1, -0.3, 0.0, asphalt, ROAD)
        lamps = []
        while x < half:   # outward on both sides: a double row of bays, then the next aisle
            for s in (-1, 1):
                xa, xb = sorted((s * x, s * min(x + 2 * depth, half)))
                self.box(xa, xb, y0, y1, -0.3, 0.0, asphalt, IGNORE)
                for y in np.arange(y0 + u(0, bay), y1, bay):
                    self.box(xa, xb, y - 0.06, y + 0.06, 0.0, 0.004, line, IGNORE)
                for row in (0, 1):
                    xc = s * (x + depth * (row + 0.5))
                    if abs(xc) + depth / 2 > half:
                        continue
                    for y in np.arange(y0 + bay / 2, y1 - bay / 2, bay):
                        if rng.random() < 0.6 and self.clear(xc - depth / 2, xc + depth / 2, y - 1.5, y + 1.5):
                            yaw = (np.pi / 2 if rng.random() < 0.5 else -np.pi / 2) + rng.normal(0, 0.05)
                            self.vehicle(xc, y + rng.normal(0, 0.1), yaw, 'car', min(self.vehicle_length('car'),
                                                                                      depth - 0.3))
                lamps += [(s * (x + depth), y) for y in np.arange(y0 + u(0, 20), y1, u(20, 35))]
                if x + 2 * depth < half:
                    self.box(*sorted((s * (x + 2 * depth), s * min(x + 2 * depth + aisle, half))), y0, y1, -0.3, 0.0,
                             asphalt, ROAD)
            x += 2 * depth + aisle
        for lx, ly in lamps:
            if self.clear(lx - 0.5, lx + 0.5, ly - 0.5, ly + 0.5):
                self._lamp(lx, ly)
        self._surroundings(half, y0, y1)
        self._people(int(rng.poisson(2)), -aisle / 2, aisle / 2, 3, length)
        if rng.random() < 0.4:    # a car driving down the aisle
            y = u(8, 35)
            if self.clear(-1.5, 1.5, y - 3, y + 3):
                self.vehicle(u(-1, 1), y, np.pi + rng.normal(0, 0.05), 'car', self.vehicle_length('car'))

    # -- plaza ----------------------------------------------------------------------------------------------

    def _plaza(self) -> None:
        u, rng = self.u, self.rng
        half, length = self.half_width, self.length
        slab, kerb = self.sidewalk_material()
        self.wet_material = slab
        y0 = -15.0
        self.box(-half, half, y0, length, -0.3, 0.0, slab, SIDEWALK)
        self._terrace(slab, kerb)
        # clutter on the square, each kept off the camera's spot
        wood, dark = self.mat.flat(hsv(u(15, 35), u(0.3, 0.6), u(0.25, 0.5))), self.mat.flat(hsv(0, 0, u(0.1, 0.3)))
        concrete = self.mat.flat(hsv(u(20, 50), u(0, 0.1), u(0.5, 0.75)), noise=0.08)
        for _ in range(int(rng.integers(8, 30))):
            x, y = u(-half + 1, half - 1), u(1, length - 2)
            kind = rng.choice(['bench', 'bin', 'bollards', 'planter', 'tree', 'lamp'])
            if not self.clear(x - 2, x + 2, y - 1.5, y + 1.5):
                continue
            if kind == 'bench':          # Cityscapes 'static': no train id
                yaw = rng.choice([0.0, np.pi / 2])
                w, d = (1.8, 0.5) if yaw == 0 else (0.5, 1.8)
                self.box(x - w / 2, x + w / 2, y - d / 2, y + d / 2, 0.42, 0.48, wood, IGNORE)
                for sx in (-1, 1):
                    self.box(x + sx * (w / 2 - 0.1) - 0.04, x + sx * (w / 2 - 0.1) + 0.04, y - d / 2, y + d / 2,
                             0.0, 0.42, dark, IGNORE)
            elif kind == 'bin':
                self.cylinder((x, y, 0.0), (x, y, u(0.7, 1.0)), u(0.2, 0.35), dark, dark, IGNORE, sides=12)
            elif kind == 'bollards':
                along = rng.random() < 0.5
                for k in range(int(rng.integers(3, 8))):
                    bx, by = (x + k * 1.4, y) if along else (x, y + k * 1.4)
                    if self.clear(bx - 0.2, bx + 0.2, by - 0.2, by + 0.2):
                        self.cylinder((bx, by, 0.0), (bx, by, u(0.8, 1.1)), 0.1, self.metal, self.metal, POLE)
            elif kind == 'planter':
                w, d, h = u(1.0, 4.0), u(1.0, 2.0), u(0.4, 0.8)
                self.box(x - w / 2, x + w / 2, y - d / 2, y + d / 2, 0.0, h, concrete, WALL)
                self.mb.add_blobs([[x, y, h + 0.3]], [[w / 2, d / 2, 0.5]], self._foliage(), VEGETATION, rng)
            elif kind == 'tree':
                self._trees([(x, y, 0.0)])
            else:
                self._lamp(x, y)
        self._people(int(rng.poisson(u(1, 10))), -half + 1, half - 1, 2, length - 2)
        self._surroundings(half, y0, length)

    def _terrace(self, slab: int, kerb: int) -> None:
        """A raised part of the square, reached by steps and, beside them, a ramp with a railing."""
        u, rng = self.u, self.rng
        height, y_front = u(0.3, 1.2), u(8, max(10.0, self.length - 15))
        x0, x1 = sorted((u(-self.half_width, 0), u(0, self.half_width)))
        self.box(x0, x1, y_front, self.length, -0.3, height, (kerb,) * 4 + (slab, slab), SIDEWALK)
        steps = int(np.ceil(height / 0.16))
        rise, tread = height / steps, u(0.28, 0.4)
        ramp_w = u(1.2, 2.5) if rng.random() < 0.7 else 0.0
        for k in range(steps):   # step k rises to (k + 1) * rise and ends where the next one begins
            self.box(x0 + ramp_w, x1, y_front - (steps - k) * tread, y_front, -0.3, (k + 1) * rise,
                     (kerb,) * 4 + (slab, slab), SIDEWALK)
        run = height / u(0.06, 0.12)
        if ramp_w and not self.clear(x0, x0 + ramp_w, y_front - run, y_front):
            ramp_w = 0.0          # it would reach the camera
        if ramp_w:
            angle = np.arctan2(height, run)
            length = np.hypot(height, run)
            centre = (x0 + ramp_w / 2, y_front - run / 2, height / 2 - 0.1 * np.cos(angle))
            self.rbox(centre, (ramp_w, length, 0.2), _pitch(angle), slab, SIDEWALK)
            self.rbox((x0 + 0.05, y_front - run / 2, height / 2 + 0.9), (0.05, length, 0.05), _pitch(angle),
                      self.metal, FENCE)
            for t in np.linspace(0.05, 0.95, max(2, int(run / 1.5))):
                y, z = y_front - run + t * run, t * height
                self.cylinder((x0 + 0.05, y, z), (x0 + 0.05, y, z + 0.9), 0.03, self.metal, self.metal, FENCE)

    # -- rural road -----------------------------------------------------------------------------------------

    def height(self, x, y):
        """Ground height at (x, y): the road's grade along y, hills rising beyond the shoulders, a ditch."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        beyond = np.abs(x) - self.flat_half
        ramp = np.clip(beyond / 15.0, 0.0, 1.0)
        ramp = ramp * ramp * (3 - 2 * ramp)
        hills = sum(a * np.sin(kx * x + ky * y + p) for a, kx, ky, p in self.hills)
        ditch = np.where(beyond > 0, -self.ditch * np.exp(-((beyond - 1.2) / 0.7) ** 2), 0.0)
        return self.grade * y + ramp * hills + ditch

    def _rural(self) -> None:
        u, rng = self.u, self.rng
        hw = self.half_width
        road = self.mat.add(NOISE, hsv(u(20, 230), u(0, 0.08), u(0.22, 0.4)), hsv(0, 0, u(0.18, 0.32)),
                            params=(2, 2, u(0.2, 0.5), 0.1))
        self.wet_material = road
        gravel = self.mat.add(NOISE, hsv(u(25, 45), u(0.1, 0.3), u(0.35, 0.55)), hsv(30, 0.2, u(0.25, 0.4)),
                              params=(6, 6, 0.8, 0.4))
        fields = [self.grass() for _ in range(2)] + [
            self.mat.add(NOISE, hsv(u(20, 40), u(0.3, 0.5), u(0.2, 0.35)), hsv(u(25, 45), 0.4, u(0.3, 0.45)),
                         params=(0.3, 4, 0.7, 0.3))]       # ploughed
        fh = self.flat_half
        xs = np.unique(np.concatenate([-np.geomspace(fh, 400, 40), np.linspace(-fh, fh, 9), np.geomspace(fh, 400, 40),
                                       [-hw, hw]]))
        ys = np.concatenate([np.linspace(-40, 60, 51), np.linspace(62, 400, 60)])
        gx, gy = np.meshgrid(xs, ys)
        cx, cy = (gx[1:, 1:] + gx[:-1, :-1]) / 2, (gy[1:, 1:] + gy[:-1, :-1]) / 2
        patch = ((np.floor(cx / 45) * 7 + np.floor(cy / 60) * 3) % len(fields)).astype(int)
        materials = np.where(np.abs(cx) < hw, road, np.where(np.abs(cx) < fh, gravel, np.array(fields)[patch]))
        labels = np.where(np.abs(cx) < hw, ROAD, TERRAIN)
        self.mb.add_grid(xs, ys, self.height(gx, gy), materials, labels)
        white = self.mat.flat(hsv(50, 0.05, u(0.8, 0.95)))
        for y in np.arange(-20, 200, u(8, 14)):    # dashed centre line lying on the grade
            self.rbox((0.0, y, self.grade * y + 0.003), (0.12, 3.0, 0.006), _pitch(np.arctan(self.grade)), white,
                      ROAD)
        self._roadside()
        if self.grade == 0 and rng.random() < 0.6:   # traffic on the flat
            for _ in range(int(rng.integers(1, 3))):
                y = u(15, 90)
                kind = str(rng.choice(['car', 'car', 'truck']))
                self.vehicle(-hw / 2, y, np.pi, kind, self.vehicle_length(kind))

    def _roadside(self) -> None:
        u, rng = self.u, self.rng
        fh = self.flat_half
        trees, wood = [], self.mat.add(NOISE, hsv(u(20, 35), u(0.3, 0.5), u(0.2, 0.35)), params=(2, 0.3, 0.0, 0.2))
        for s in (-1, 1):
            x_pole = s * (fh + 0.4)
            for y in np.arange(u(-30, 10), 220, u(30, 50)):      # utility poles, a sign now and then
                if self.clear(x_pole - 0.5, x_pole + 0.5, y - 0.5, y + 0.5):
                    z = float(self.height(x_pole, y))
                    self.cylinder((x_pole, y, z - 0.3), (x_pole, y, z + u(7, 10)), 0.14, wood, wood, POLE)
                    if rng.random() < 0.2:
                        self._sign(s, x_pole, y, z + u(2.2, 2.8), 0.14)
            if rng.random() < 0.6:       # a field fence: posts and two rails following the ground
                x = s * (fh + u(2.5, 6.0))
                ys = np.arange(-30, 150, u(2.5, 4.0))
                zs = self.height(np.full(len(ys), x), ys)
                posts = [(x, y, z) for y, z in zip(ys, zs) if self.clear(x - 0.2, x + 0.2, y - 0.2, y + 0.2)]
                for px, py, pz in posts:
                    self.cylinder((px, py, pz - 0.2), (px, py, pz + 1.2), 0.05, wood, wood, FENCE, sides=6)
                for (ya, za), (yb, zb) in zip(zip(ys[:-1], zs[:-1]), zip(ys[1:], zs[1:])):
                    if self.clear(x - 0.2, x + 0.2, ya, yb):
                        for rail in (0.5, 1.0):
                            self.rbox((x, (ya + yb) / 2, (za + zb) / 2 + rail), (0.04, np.hypot(yb - ya, zb - za),
                                                                                   0.08),
                                      _pitch(np.arctan2(zb - za, yb - ya)), wood, FENCE)
            for _ in range(int(rng.integers(3, 25))):     # trees over the fields, hedgerow bushes by the ditch
                x, y = s * (fh + u(3, 80)), u(-20, 200)
                if self.clear(x - 2, x + 2, y - 2, y + 2):
                    trees.append((x, y, float(self.height(x, y))))
            ys = np.arange(u(-20, 0), 200, 1.8)
            ys = ys[rng.random(len(ys)) < u(0, 0.8)]
            xs = np.full(len(ys), s * (fh + 2.2))
            keep = [self.clear(a - 1, a + 1, b - 1, b + 1) for a, b in zip(xs, ys)]
            centres = np.stack([xs, ys, self.height(xs, ys) + 0.7], 1)[keep]
            self.mb.add_blobs(centres, np.tile([1.0, 1.1, 0.9], (len(centres), 1)), self._foliage(), VEGETATION, rng)
            if rng.random() < 0.3:      # a farmhouse
                x, y = s * (fh + u(15, 60)), u(20, 150)
                z = float(self.height(x, y))
                facade, roof = self._facade((x, y, z))
                self.box(x - u(4, 8), x + u(4, 8), y, y + u(8, 15), z - 1.0, z + u(4, 8),
                         (facade,) * 4 + (roof, roof), BUILDING)
        self._trees(trees)


def generate_open_space(rng: np.random.Generator, width: int, height: int, kind: Preset,
                        overrides: dict) -> tuple[Scene, Camera]:
    """An open space of one of the preset's kinds and the camera in it, drawn from the preset's camera ranges;
    overrides fix camera parameters or give their ranges as on the street.
    """
    space = OpenSpace(rng, str(rng.choice(kind.open_kinds)))
    draws = camera_draws({k: space.u(*r) for k, r in kind.camera.items()}, kind.camera, overrides)
    x = float(overrides.get('x_m', space.draw_camera_x()))
    offset = tuple(space.u(-1, 1) * kind.principal * side for side in (width, height))
    camera = Camera.create(width, height, draws['fov_deg'], draws['height_m'], draws['pitch_deg'], draws['roll_deg'],
                           draws['yaw_deg'], x, 0.0, offset)
    space.build(x)
    light = lighting.draw(str(rng.choice(kind.lighting)), rng)
    if rng.random() < kind.fog:
        light.fog_m = space.u(20, 120)
    if rng.random() < kind.wet:
        space.mat.shine[space.wet_material] = space.u(0.3, 0.7)
    if kind.textures:
        randomise_appearance(space.mat, kind.textures, rng)
    return Scene.from_builder(space.mb, space.mat, light, kind=space.kind), camera
