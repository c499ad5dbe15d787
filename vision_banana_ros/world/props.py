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

"""What stands on a street: buildings and their facades, walls, fences and hedges, bushes, trees, poles with
traffic signs, pedestrians and traffic, each a recipe of `Shapes` painted from the frame's random generator.

`scene._Street` lays the street out and says where each recipe goes; the recipes read the layout it sets (hw,
kerb, lanes, lane_w, two_way, yj, wj, urban, camera, `segments`, `clear_of_camera`). They draw in the order the
street calls them, so a frame of a seed stays the same frame (test_world_pinned).
"""
from __future__ import annotations

import numpy as np

from .shapes import BUILDING, FENCE, POLE, Shapes, TRAFFIC_SIGN, VEGETATION, WALL
from .textures import FACADE, hsv, NOISE, TILES


def _ngon(n: int, phase: float) -> np.ndarray:
    a = np.arange(n) * (2 * np.pi / n) + phase
    return np.stack([np.cos(a), np.sin(a)], 1)


class StreetProps(Shapes):
    """The object recipes of a street, mixed into `scene._Street`, which sets the layout they read."""

    # -- materials and buildings ----------------------------------------------------------------------

    def sidewalk_material(self) -> tuple[int, int]:
        """Materials of the sidewalk slabs and the kerb stones: grey slabs of a few sizes or red pavers."""
        rng, u = self.rng, self.u
        if rng.random() < 0.15:   # red pavers
            base, joint = hsv(u(5, 20), u(0.3, 0.45), u(0.45, 0.6)), hsv(20, 0.2, 0.3)
            size = (u(0.2, 0.3), u(0.1, 0.2))
        else:
            base, joint = hsv(u(20, 50), u(0, 0.15), u(0.55, 0.78)), hsv(30, 0.1, u(0.3, 0.45))
            size = (u(0.4, 1.2),) * 2 if rng.random() < 0.7 else (u(0.5, 1.0), u(0.3, 0.6))
        slab = self.mat.add(TILES, base, joint, base * u(0.85, 1.05),
                            (size[0], size[1], float(rng.random() < 0.3) * 0.5, u(0.01, 0.03), u(0.1, 0.3), 0.06))
        kerb = self.mat.flat(hsv(u(20, 50), u(0, 0.08), u(0.6, 0.85)), noise=0.08)
        return slab, kerb

    def grass(self) -> int:
        """Material of a lawn, green or dry."""
        u = self.u
        if self.rng.random() < 0.2:   # dry
            return self.mat.add(NOISE, hsv(u(35, 50), u(0.35, 0.55), u(0.45, 0.65)),
                                hsv(u(50, 75), u(0.3, 0.5), u(0.35, 0.55)), params=(3, 3, 0.7, 0.35))
        return self.mat.add(NOISE, hsv(u(65, 95), u(0.45, 0.7), u(0.4, 0.62)),
                            hsv(u(55, 80), u(0.4, 0.65), u(0.3, 0.5)), params=(3, 3, 0.8, 0.35))

    def _foliage(self) -> int:
        u = self.u
        return self.mat.add(NOISE, hsv(u(80, 135), u(0.45, 0.8), u(0.12, 0.3)),
                            hsv(u(70, 120), u(0.4, 0.7), u(0.3, 0.55)), params=(8, 8, 1.0, 0.8))

    def _facade(self, origin) -> tuple[int, int]:
        rng, u = self.rng, self.u
        brick = rng.random() < 0.3
        wall = hsv(u(5, 25), u(0.45, 0.7), u(0.3, 0.55)) if brick else \
            hsv(u(0, 60) if rng.random() < 0.7 else u(60, 220), u(0, 0.35), u(0.45, 0.9))
        frame = hsv(0, 0, u(0.85, 0.95)) if rng.random() < 0.6 else hsv(u(0, 40), u(0, 0.3), u(0.1, 0.3))
        glass = hsv(u(190, 220), u(0.1, 0.4), u(0.08, 0.22))
        facade = self.mat.add(FACADE, wall, frame, glass,
                              (u(2.4, 4.0), u(2.9, 3.6), u(0.35, 0.7), u(0.4, 0.65), u(3.2, 4.5), float(brick),
                               0.08, float(rng.random() < 0.5)), origin=origin)
        roof = self.mat.flat(hsv(u(0, 30), u(0, 0.3), u(0.2, 0.4)))
        return facade, roof

    def building(self, x0, x1, y0, y1, height) -> None:
        """A box with facades on its sides, windows aligned to the corner (x0 or x1 nearest the street)."""
        origin = (x0 if abs(x0) < abs(x1) else x1, y0, 0.0)
        facade, roof = self._facade(origin)
        self.box(x0, x1, y0, y1, 0.0, height, (facade, facade, facade, facade, roof, roof), BUILDING)

    def building_row(self, s: int, x_face: float, y0: float, y1: float) -> None:
        """Buildings side by side along the side s with their fronts at x_face, gaps now and then."""
        u, rng = self.u, self.rng
        lo, hi = (6, 30) if self.urban else (6, 14)
        y = y0
        while y1 - y > 3.0:
            if rng.random() < 0.2:
                y += u(1.5, 6)
                continue
            w = min(u(6, 30), y1 - y)
            depth, off = u(8, 20), u(0, 0.8)
            xa = s * (x_face + off)
            self.building(*sorted((xa, xa + s * depth)), y, y + w, u(lo, hi))
            y += w

    # -- beside the sidewalk --------------------------------------------------------------------------

    def barrier(self, s: int, side: dict, y0: float, y1: float) -> None:
        """The side's front (a wall, a hedge or a fence) at the back of its sidewalk, with openings."""
        rng, u = self.rng, self.u
        kind = side['front']
        x0 = s * side['walk1']
        # Openings (gates, paths) now and then.
        pieces, y = [], y0
        while y < y1:
            length = u(12, 45)
            pieces.append((y, min(y + length, y1)))
            y += length + (u(1.0, 3.0) if rng.random() < 0.5 else 0.0)
        if kind == 'wall':
            stone = rng.random() < 0.5
            base = hsv(u(30, 45), u(0.12, 0.3), u(0.5, 0.72)) if stone else hsv(u(0, 60), u(0, 0.06), u(0.45, 0.72))
            size = (u(0.3, 0.6), u(0.15, 0.3)) if stone else (u(0.8, 2.0), u(0.4, 1.0))
            mat = self.mat.add(TILES, base, base * 0.6, base * 0.85,
                               (size[0], size[1], 0.5, u(0.01, 0.03), 0.5, 0.1), origin=(0, y0, self.kerb))
            h, t = u(0.5, 2.2), u(0.2, 0.4)
            for a, b in pieces:
                self.box(*sorted((x0, x0 + s * t)), a, b, 0.0, self.kerb + h, mat, WALL)
        elif kind == 'hedge':
            foliage = self._foliage()
            h, t = u(0.6, 1.8), u(0.6, 1.2)
            for a, b in pieces:
                self.box(*sorted((x0, x0 + s * t)), a, b, 0.0, self.kerb + h, foliage, VEGETATION)
        elif rng.random() < 0.5:   # board fence
            wood = hsv(u(18, 35), u(0.3, 0.6), u(0.25, 0.55)) if rng.random() < 0.7 else hsv(0, 0, u(0.3, 0.6))
            mat = self.mat.add(TILES, wood, wood * 0.4, wood * 0.8, (u(0.1, 0.2), 1000.0, 0, 0.012, 0.4, 0.15))
            h = u(1.0, 2.0)
            for a, b in pieces:
                self.box(*sorted((x0, x0 + s * 0.04)), a, b, 0.0, self.kerb + h, mat, FENCE)
        else:                      # metal bars between posts
            metal = self.mat.flat(hsv(u(0, 150), u(0, 0.4), u(0.05, 0.5)) if rng.random() < 0.7
                                  else hsv(0, 0, 0.85), shine=0.2)
            h, pitch, bar = u(0.9, 1.8), u(0.1, 0.18), u(0.025, 0.045)
            zb, zt = self.kerb, self.kerb + h
            xc = x0 + s * 0.05
            for a, b in pieces:
                self.box(xc - 0.04, xc + 0.04, a, b, zt - 0.12, zt - 0.06, metal, FENCE)    # top rail
                self.box(xc - 0.04, xc + 0.04, a, b, zb + 0.08, zb + 0.14, metal, FENCE)    # bottom rail
                ys = np.arange(a + pitch / 2, b, pitch)
                n = len(ys)
                self.mb.add_boxes(np.stack([np.full(n, xc), ys, np.full(n, (zb + zt) / 2)], 1),
                                  np.tile([bar, bar, zt - zb], (n, 1)), metal, FENCE)
                posts = np.arange(a, b, u(2.0, 3.0))
                self.mb.add_boxes(np.stack([np.full(len(posts), xc), posts, np.full(len(posts), (zb + zt) / 2)], 1),
                                  np.tile([0.08, 0.08, zt - zb + 0.05], (len(posts), 1)), metal, FENCE)

    def bushes(self, s: int, side: dict, y0: float, y1: float) -> None:
        """Bushes scattered over the front yard of the side between y0 and y1."""
        rng = self.rng
        n = int(rng.poisson((y1 - y0) / 12))
        if n == 0:
            return
        x = s * (side['walk1'] + 1.0 + rng.uniform(0, max(side['setback'] - 2.0, 0.5), n))
        y = rng.uniform(y0, y1, n)
        r = rng.uniform(0.4, 1.2, n)
        keep = np.array([self.clear_of_camera(xi - ri, xi + ri, yi - ri, yi + ri) for xi, yi, ri in zip(x, y, r)])
        centers = np.stack([x, y, self.kerb + r * 0.6], 1)[keep]
        radii = np.stack([r, r * rng.uniform(0.8, 1.3, n), r * rng.uniform(0.6, 1.0, n)], 1)[keep]
        self.mb.add_blobs(centers, radii, self._foliage(), VEGETATION, rng, jitter=0.25)

    def trees(self, s: int, side: dict) -> None:
        """A row of trees on the verge, a wide sidewalk or the front yard, whichever has room."""
        rng, u = self.rng, self.u
        if side['verge'] > 0.7:
            x = self.hw + side['verge'] / 2
        elif side['walk'] > 2.5:
            x = side['walk0'] + 0.8
        elif side['setback'] > 3:
            x = side['walk1'] + side['setback'] / 2
        else:
            return
        x *= s
        spacing = u(6, 14)
        bark = self.mat.add(NOISE, hsv(u(20, 35), u(0.3, 0.5), u(0.18, 0.32)), hsv(u(20, 35), 0.3, u(0.1, 0.18)),
                            params=(3, 0.5, 1.0, 0.3))
        trunks, crowns, radii = [], [], []
        for y0, y1 in self.segments(margin=3.0):
            for y in np.arange(y0 + u(0, spacing), y1, spacing):
                y += u(-1, 1)
                if not self.clear_of_camera(x - 2, x + 2, y - 2, y + 2):
                    continue
                th, tr = u(1.8, 3.5), u(0.1, 0.22)
                trunks.append((x, y, th, tr))
                rx, rz = u(1.2, 3.0), u(1.5, 3.5)
                for _ in range(int(rng.integers(1, 4))):
                    crowns.append((x + u(-0.5, 0.5) * rx, y + u(-0.5, 0.5) * rx, self.kerb + th + rz * u(0.5, 0.9)))
                    radii.append((rx * u(0.7, 1.0), rx * u(0.7, 1.0), rz * u(0.7, 1.0)))
        if trunks:
            t = np.array(trunks)
            base = np.stack([t[:, 0], t[:, 1], np.full(len(t), self.kerb - 0.05)], 1)
            top = base + np.stack([np.zeros(len(t)), np.zeros(len(t)), t[:, 2] + 0.5], 1)
            self.mb.add_cylinders(base, top, t[:, 3], bark, bark, VEGETATION, sides=8)
            self.mb.add_blobs(np.array(crowns), np.array(radii), self._foliage(), VEGETATION, rng)

    def poles(self, s: int, side: dict) -> None:
        """Street lamps, sign posts and utility poles at the kerb, spaced along the side."""
        rng, u = self.rng, self.u
        x = s * (side['walk0'] + u(0.3, 0.6))
        spacing = u(10, 30)
        dark = rng.random() < 0.3
        paint = self.mat.flat(hsv(u(90, 220), u(0.1, 0.5), u(0.1, 0.25)), shine=0.2) if dark else self.metal
        for y0, y1 in self.segments(margin=2.0):
            for y in np.arange(y0 + u(0, spacing), y1, spacing):
                if not self.clear_of_camera(x - 1, x + 1, y - 1, y + 1):
                    continue
                kind = rng.choice(['lamp', 'sign', 'utility'], p=[0.3, 0.55, 0.15])
                z0 = self.kerb - 0.05
                if kind == 'lamp':
                    h, r = u(6, 9), u(0.07, 0.12)
                    self.cylinder((x, y, z0), (x, y, z0 + h), r, paint, paint, POLE)
                    arm = u(1.0, 2.5)
                    xa = x - s * arm
                    self.box(*sorted((x, xa)), y - 0.04, y + 0.04, z0 + h - 0.1, z0 + h - 0.02, paint, POLE)
                    self.box(*sorted((xa, xa + s * 0.5)), y - 0.18, y + 0.18, z0 + h - 0.25, z0 + h - 0.05,
                             paint, POLE)
                    if rng.random() < 0.3:
                        self._sign(s, x, y, z0 + u(2.2, 3.0), r)
                elif kind == 'utility':
                    h, r = u(7, 10), u(0.12, 0.18)
                    wood = self.mat.add(NOISE, hsv(u(20, 35), u(0.3, 0.5), u(0.2, 0.35)), params=(2, 0.3, 0.0, 0.2))
                    self.cylinder((x, y, z0), (x, y, z0 + h), r, wood, wood, POLE)
                else:
                    h, r = u(2.6, 3.6), u(0.05, 0.08)
                    self.cylinder((x, y, z0), (x, y, z0 + h), r, self.metal, self.metal, POLE)
                    top = z0 + h
                    for _ in range(int(rng.integers(1, 3))):
                        top = self._sign(s, x, y, top, r) - 0.05

    def _sign(self, s: int, x: float, y: float, top: float, pole_r: float) -> float:
        """A traffic sign hanging from `top` on the pole at (x, y); returns its lower edge."""
        rng, u = self.rng, self.u
        red, white, blue = hsv(0, 0.9, 0.8), hsv(0, 0, 0.92), hsv(215, 0.85, 0.7)
        yellow, green = hsv(48, 0.9, 0.95), hsv(150, 0.8, 0.45)
        shape = rng.choice(['circle', 'triangle', 'rect', 'diamond', 'octagon'], p=[0.35, 0.2, 0.3, 0.08, 0.07])
        size = u(0.6, 1.0)
        if shape == 'circle':
            poly = _ngon(16, 0.0) * size / 2
            colors = [(red, white), (white, blue)][int(rng.integers(2))]
        elif shape == 'triangle':
            down = rng.random() < 0.3
            poly = np.array([[-0.5, -0.29], [0.5, -0.29], [0.0, 0.58]]) * size * (-1 if down else 1)
            colors = (red, white if rng.random() < 0.7 else yellow)
        elif shape == 'rect':
            w, h = size * u(0.7, 1.6), size * u(0.6, 1.0)
            poly = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
            colors = (white, [blue, green, white][int(rng.integers(3))] if rng.random() < 0.8 else yellow)
        elif shape == 'diamond':
            poly = np.array([[0, -0.5], [0.5, 0], [0, 0.5], [-0.5, 0]]) * size * 1.2
            colors = (white, yellow)
        else:
            poly = _ngon(8, np.pi / 8) * size / 2
            colors = (white, red)
        height = np.ptp(poly[:, 1])
        centre_z = top - poly[:, 1].max()
        facing = rng.choice(4, p=[0.65, 0.15, 0.1, 0.1])     # toward the camera, away, across, along
        normal = np.array([[0, -1, 0], [0, 1, 0], [-s, 0, 0], [s, 0, 0]][facing], dtype=np.float64)
        across = np.array([-normal[1], normal[0], 0.0])
        up = np.array([0.0, 0.0, 1.0])
        back = self.mat.flat(hsv(0, 0, 0.55), shine=0.2)
        border, inner = (self.mat.flat(c, noise=0.03, shine=0.15) for c in colors)
        centre = np.array([x, y, centre_z]) + normal * (pole_r + 0.01)
        t = 0.02
        inset = u(0.72, 0.82)
        self.prism(poly, centre, across, up, normal * t, border, back, back, TRAFFIC_SIGN)
        self.prism(poly * inset, centre + normal * t, across, up, normal * 0.004, inner, inner, inner, TRAFFIC_SIGN)
        return top - height

    # -- people -----------------------------------------------------------------------------------------

    def pedestrians(self, s: int, side: dict) -> None:
        """People on the side's sidewalk, mostly walking along it."""
        rng = self.rng
        n = int(rng.poisson(self.u(0.5, 6)))
        for _ in range(n):
            x = s * (side['walk0'] + rng.uniform(0.3, max(side['walk'] - 0.3, 0.4)))
            y = rng.uniform(2, 60)
            if self.yj is not None and abs(y - self.yj) < self.wj / 2 + 1:
                continue
            if rng.random() < 0.8:    # along the sidewalk
                yaw = (0.0 if rng.random() < 0.5 else np.pi) + rng.normal(0, 0.3)
            else:
                yaw = rng.uniform(0, 2 * np.pi)
            if self.clear_of_camera(x - 0.5, x + 0.5, y - 0.5, y + 0.5):
                self.person(x, y, self.kerb, yaw)

    def crossing_people(self) -> None:
        """A few people crossing the road."""
        rng = self.rng
        for _ in range(int(rng.choice([0, 0, 0, 1, 2]))):
            x, y = rng.uniform(-self.hw + 0.5, self.hw - 0.5), rng.uniform(6, 40)
            if self.clear_of_camera(x - 0.5, x + 0.5, y - 0.5, y + 0.5):
                self.person(x, y, 0.0, (np.pi / 2 if rng.random() < 0.5 else -np.pi / 2) + rng.normal(0, 0.2))

    # -- vehicles ----------------------------------------------------------------------------------------

    def vehicles(self) -> None:
        """Parked cars and trucks along the outer lanes, moving cars, trucks and buses in the others."""
        rng, u = self.rng, self.u
        cam_lane = None if abs(self.camera.x_m) > self.hw else int((self.camera.x_m + self.hw) // self.lane_w)
        parked = {}
        for s in (-1, 1):
            outer = 0 if s < 0 else self.lanes - 1
            parked[s] = rng.random() < 0.4 and outer != cam_lane
            if not parked[s]:
                continue
            y = u(-15, 0)
            while y < 90:
                kind = 'car' if rng.random() < 0.9 else 'truck'
                length = self.vehicle_length(kind)
                gap = rng.random() > 0.85 or (self.yj is not None and abs(y - self.yj) < self.wj / 2 + 6)
                yaw = np.pi * (s < 0) + rng.normal(0, 0.03)
                if not gap:
                    self.vehicle(s * (self.hw - 1.05), y + length / 2, yaw, kind, length)
                y += length + u(0.8, 6)
        for lane in range(self.lanes):
            xc = -self.hw + (lane + 0.5) * self.lane_w
            if (lane == 0 and parked[-1]) or (lane == self.lanes - 1 and parked[1]):
                continue
            oncoming = self.two_way and xc < 0
            y = u(-20, 15) if lane != cam_lane else u(6, 20)
            while True:
                y += rng.exponential(u(15, 40)) if rng.random() < 0.7 else 200
                if y >= 130:
                    break
                kind = str(rng.choice(['car', 'truck', 'bus'], p=[0.7, 0.15, 0.15]))
                length = self.vehicle_length(kind)
                x, yaw = xc + rng.normal(0, 0.2), np.pi * oncoming + rng.normal(0, 0.02)
                if self.clear_of_camera(x - 1.3, x + 1.3, y, y + length):
                    self.vehicle(x, y + length / 2, yaw, kind, length)
                y += length + 2.0
