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

"""Shapes every scene is made of: a queue of boxes, cylinders and prisms built in a few numpy batches, people and
vehicles, and the colour families they are painted with. The street (`scene`) and the indoor rooms (`indoor`) draw
their layouts with it.
"""
from __future__ import annotations

import numpy as np

from .mesh import MeshBuilder, yaw_matrix
from .textures import GLASS, hsv, Materials

# Cityscapes train ids the world uses; indoors, what Cityscapes has no class for is IGNORE.
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, TRAFFIC_SIGN, VEGETATION, TERRAIN, SKY, PERSON, CAR, TRUCK, BUS = (
    0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15)
IGNORE = 255
VEHICLE_LENGTHS_M = {'car': (3.8, 5.0), 'truck': (6.6, 10.0), 'bus': (10.0, 12.5)}
SEGMENT_M = 5.0            # long boxes are cut into pieces this long so that a bend can shear them smoothly


# ---- colour families ------------------------------------------------------------------------------------------
def _paint(rng) -> np.ndarray:
    """Car paint: a third neutral (white, silver, grey, black), the rest saturated."""
    r = rng.random()
    if r < 0.12:
        return hsv(0, 0, rng.uniform(0.82, 0.95))
    if r < 0.22:
        return hsv(rng.uniform(190, 230), 0.05, rng.uniform(0.55, 0.72))
    if r < 0.32:
        return hsv(0, 0, rng.uniform(0.05, 0.15))
    return hsv(rng.choice([0, 5, 25, 45, 120, 150, 200, 215, 230, 280, 340]) + rng.uniform(-8, 8),
               rng.uniform(0.6, 0.95), rng.uniform(0.35, 0.85))


def _cloth(rng) -> np.ndarray:
    if rng.random() < 0.4:
        return hsv(rng.uniform(200, 240), rng.uniform(0, 0.5), rng.uniform(0.08, 0.45))
    return hsv(rng.uniform(0, 360), rng.uniform(0, 0.85), rng.uniform(0.12, 0.9))


def _skin(rng) -> np.ndarray:
    return hsv(rng.uniform(18, 32), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.92))


class Shapes:
    """Queues primitives into a MeshBuilder with materials from a Materials table, all drawn from `rng`."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.curve = 0.0           # a street may bend; boxes along it are then cut (see `box`)
        self.mb = MeshBuilder()
        self.mat = Materials()
        # Primitives are queued and built in a few batches by `flush` (one numpy pass per kind, not per object).
        self.aabbs: list[tuple] = []
        self.rboxes: list[tuple] = []
        self.cylinders: dict[int, list] = {}
        self.prisms: dict[int, list] = {}
        self.metal = self.mat.flat(hsv(210, 0.05, rng.uniform(0.45, 0.65)), shine=0.2)
        self.glass = self.mat.add(GLASS, hsv(rng.uniform(190, 220), 0.35, rng.uniform(0.05, 0.12)), shine=0.55)
        self.tyre = self.mat.flat(hsv(0, 0, 0.05), noise=0.05)
        self.rim = self.mat.flat(hsv(0, 0, 0.3), shine=0.3)

    def u(self, a: float, b: float) -> float:
        """A uniform random number in [a, b)."""
        return float(self.rng.uniform(a, b))

    # -- primitives --------------------------------------------------------------------------------------

    def box(self, x0, x1, y0, y1, z0, z1, mat, label, bends: bool = True) -> None:
        """Axis-aligned box; `mat` per box or a 6-tuple per face (-x, +x, -y, +y, -z, +z). Unless `bends` is
        false, a box on a curved street is cut along y so that the bend can shear it smoothly.
        """
        mats = tuple(mat) if np.ndim(mat) else (mat,) * 6
        pieces = max(1, int(np.ceil((y1 - y0) / SEGMENT_M))) if self.curve and bends else 1
        edges = np.linspace(y0, y1, pieces + 1)
        for a, b in zip(edges[:-1], edges[1:]):
            self.aabbs.append((x0, x1, a, b, z0, z1, label) + mats)

    def rbox(self, center, size, rot, mat, label) -> None:
        """Rotated box (rot: 3x3) with materials per box or per face."""
        self.rboxes.append((center, size, rot, mat if np.ndim(mat) else (mat,) * 6, label))

    def cylinder(self, p0, p1, radius, mat_side, mat_cap, label, sides: int = 10) -> None:
        """Queue a cylinder from `p0` to `p1`."""
        self.cylinders.setdefault(sides, []).append((*p0, *p1, radius, mat_side, mat_cap, label))

    def prism(self, poly, origin, u_axis, v_axis, extrude, front, back, side, label) -> None:
        """See MeshBuilder.add_prisms; `side` per prism or per polygon edge."""
        poly = np.asarray(poly, dtype=np.float64)
        self.prisms.setdefault(len(poly), []).append(
            (poly, origin, u_axis, v_axis, extrude, front, back, np.broadcast_to(side, (len(poly),)), label))

    def flush(self) -> None:
        """Add every queued shape to the mesh builder and empty the queues."""
        mb = self.mb
        if self.aabbs:
            a = np.array(self.aabbs)
            lo, hi = a[:, [0, 2, 4]], a[:, [1, 3, 5]]
            mb.add_boxes((lo + hi) / 2, hi - lo, a[:, 7:13].astype(np.int32), a[:, 6].astype(np.uint8))
        if self.rboxes:
            c, size, rot, mat, label = (np.array(v) for v in zip(*self.rboxes))
            mb.add_boxes(c, size, mat.astype(np.int32), label, rot=rot)
        for sides, rows in self.cylinders.items():
            a = np.array(rows)
            mb.add_cylinders(a[:, 0:3], a[:, 3:6], a[:, 6], a[:, 7].astype(np.int32), a[:, 8].astype(np.int32),
                             a[:, 9].astype(np.uint8), sides=sides)
        for rows in self.prisms.values():
            poly, origin, u_axis, v_axis, extrude, front, back, side, label = (np.array(v) for v in zip(*rows))
            mb.add_prisms(poly, origin, u_axis, v_axis, extrude, front, back, side.astype(np.int32), label)
        self.aabbs, self.rboxes, self.cylinders, self.prisms = [], [], {}, {}

    # -- people ------------------------------------------------------------------------------------------

    def person(self, x: float, y: float, z: float, yaw: float) -> None:
        """A pedestrian of boxes and blobs standing at (x, y, z), facing yaw (0 = +y)."""
        rng, u = self.rng, self.u
        H = u(1.5, 1.95)
        k = H / 1.75 * u(0.9, 1.15)
        legs_m, torso_m = self.mat.flat(_cloth(rng), noise=0.08), self.mat.flat(_cloth(rng), noise=0.08)
        skin = self.mat.flat(_skin(rng), noise=0.05)
        hair = self.mat.flat(hsv(u(15, 40), u(0.3, 0.7), u(0.05, 0.6)), noise=0.1)
        stride = u(-0.35, 0.35)
        leg_l = 0.47 * H
        body = np.array([x, y, z])
        rz = yaw_matrix(yaw)

        def rx(a: float) -> np.ndarray:
            return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])

        centers, sizes, rots, mats = [], [], [], []

        def part(pivot, angle, length, size, mat):
            r = rz @ rx(angle)
            centers.append(body + rz @ np.asarray(pivot) + r @ np.array([0, 0, -length / 2]))
            sizes.append(size)
            rots.append(r)
            mats.append(mat)

        for side, sign in ((-1, 1), (1, -1)):
            part((side * 0.09 * k, 0, leg_l), sign * stride, leg_l, (0.13 * k, 0.15 * k, leg_l), legs_m)
            part((side * 0.23 * k, 0, leg_l + 0.29 * H), -sign * stride * 0.8, 0.36 * H,
                 (0.085 * k, 0.1 * k, 0.36 * H), torso_m)
        part((0, 0, leg_l + 0.3 * H), 0.0, 0.3 * H, (0.36 * k, 0.22 * k, 0.3 * H), torso_m)
        part((0, 0, 0.77 * H + 0.12), 0.0, 0.14, (0.1, 0.1, 0.14), skin)
        for c, size, r, m in zip(centers, sizes, rots, mats):
            self.rbox(c, size, r, m, PERSON)
        head = body + np.array([0, 0, H - 0.115 * H / 1.75])
        hr = np.array([0.085, 0.1, 0.115]) * H / 1.75
        self.mb.add_blobs(np.stack([head, head + rz @ np.array([0, -0.015, 0.02])]),
                          np.stack([hr, hr * np.array([1.06, 1.05, 0.93])]), [skin, hair], PERSON, rng, 0.04)

    def vehicle_length(self, kind: str) -> float:
        """A random length in metres for a vehicle of `kind`."""
        return self.u(*VEHICLE_LENGTHS_M[kind])

    def vehicle(self, x: float, y: float, yaw: float, kind: str, length: float) -> None:
        """A car, truck or bus of `length` centred at (x, y) on the road, facing yaw."""
        {'car': self._car, 'truck': self._truck, 'bus': self._bus}[kind](x, y, yaw, length)

    def _place(self, x, y, yaw):
        r = yaw_matrix(yaw)
        base = np.array([x, y, 0.0])
        return r, (lambda p: base + np.asarray(p, dtype=np.float64) @ r.T)

    def _local_boxes(self, r, to_world, boxes, label) -> None:
        """boxes: list of ((x0, x1, y0, y1, z0, z1) local, materials per box or per face)."""
        for (x0, x1, y0, y1, z0, z1), m in boxes:
            self.rbox(to_world([(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2]), (x1 - x0, y1 - y0, z1 - z0), r, m,
                      label)

    def _wheels(self, to_world, w, ys, radius, label) -> None:
        for yw in ys:
            for s in (-1, 1):
                self.cylinder(to_world([s * (w / 2 - 0.25), yw, radius]), to_world([s * (w / 2 + 0.01), yw, radius]),
                              radius, self.tyre, self.rim, label)

    def _lights(self, w, length, z, label):
        front = self.mat.flat(hsv(45, 0.1, 0.95), shine=0.5, emit=0.3)
        rear = self.mat.flat(hsv(0, 0.9, 0.7), shine=0.5, emit=0.2)
        boxes = []
        for s in (-1, 1):
            xa, xb = sorted((s * (w / 2 - 0.12), s * (w / 2 - 0.42)))
            boxes.append(((xa, xb, length / 2 - 0.05, length / 2 + 0.01, z - 0.08, z + 0.06), front))
            boxes.append(((xa, xb, -length / 2 - 0.01, -length / 2 + 0.05, z - 0.08, z + 0.06), rear))
        return boxes

    def _car(self, x, y, yaw, length) -> None:
        rng, u = self.rng, self.u
        suv = rng.random() < 0.3
        w = u(1.65, 1.95)
        clear, h1, h2 = u(0.15, 0.25), u(0.6, 0.8) if suv else u(0.55, 0.7), u(0.45, 0.6)
        paint = self.mat.flat(_paint(rng), noise=0.02, shine=0.35)
        r, to_world = self._place(x, y, yaw)
        boxes = [((-w / 2, w / 2, -length / 2, length / 2, clear, clear + h1), paint)]
        boxes += self._lights(w, length, clear + h1 - 0.15, CAR)
        self._local_boxes(r, to_world, boxes, CAR)
        # Cabin: a trapezoid profile in (forward, up) extruded across the car.
        yb0, yb1 = -length * u(0.38, 0.45), length * (u(0.25, 0.35) if suv else u(0.12, 0.25))
        yt0, yt1 = yb0 + u(0.1, 0.5), yb1 - u(0.5, 0.9)
        poly = np.array([[yb0, 0], [yb1, 0], [yt1, h2], [yt0, h2]])
        wc = w * 0.92
        sides = (paint, self.glass, paint, self.glass)
        self.prism(poly, to_world([-wc / 2, 0, clear + h1]), r[:, 1], r[:, 2], r[:, 0] * wc,
                   self.glass, self.glass, sides, CAR)
        self._wheels(to_world, w, (length / 2 - 0.8, -length / 2 + 0.8), u(0.3, 0.36), CAR)

    def _truck(self, x, y, yaw, length) -> None:
        u = self.u
        cab_l, w = u(2.0, 2.4), 2.4
        paint = self.mat.flat(_paint(self.rng), noise=0.02, shine=0.3)
        cargo = self.mat.flat(hsv(0, 0, u(0.7, 0.92)) if self.rng.random() < 0.6 else _paint(self.rng), noise=0.05)
        dark = self.mat.flat(hsv(0, 0, 0.12))
        hc, hb = u(2.6, 3.0), u(3.0, 3.8)
        r, to_world = self._place(x, y, yaw)
        yf = length / 2
        g = self.glass
        boxes = [((-w / 2, w / 2, yf - cab_l, yf, 0.45, 1.6), paint),
                 ((-w / 2, w / 2, yf - cab_l, yf, 1.6, hc), (g, g, paint, g, paint, paint)),
                 ((-w / 2, w / 2, -yf, yf - cab_l - 0.1, 0.9, hb), cargo),
                 ((-w / 2 + 0.2, w / 2 - 0.2, -yf, yf - cab_l, 0.45, 0.9), dark)]
        boxes += self._lights(w, length, 0.8, TRUCK)
        self._local_boxes(r, to_world, boxes, TRUCK)
        self._wheels(to_world, w, (yf - cab_l / 2, -yf + 1.2, -yf + 2.3), 0.48, TRUCK)

    def _bus(self, x, y, yaw, length) -> None:
        rng, u = self.rng, self.u
        w, h = 2.5, u(3.0, 3.3)
        paint = self.mat.flat(hsv(float(rng.choice([0, 50, 120, 210, 30])) + u(-5, 5), u(0.6, 0.9), u(0.5, 0.85))
                              if rng.random() < 0.8 else hsv(0, 0, 0.9), noise=0.02, shine=0.3)
        r, to_world = self._place(x, y, yaw)
        g = self.glass
        boxes = [((-w / 2, w / 2, -length / 2, length / 2, 0.3, 1.05), paint),
                 ((-w / 2, w / 2, -length / 2, length / 2, 1.05, h - 0.45), (g, g, paint, g, paint, paint)),
                 ((-w / 2, w / 2, -length / 2, length / 2, h - 0.45, h), paint)]
        boxes += self._lights(w, length, 0.75, BUS)
        self._local_boxes(r, to_world, boxes, BUS)
        self._wheels(to_world, w, (length / 2 - 2.3, -length / 2 + 2.8), 0.5, BUS)
