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

"""Indoor scenes: rooms, corridors, warehouses and parking garages, where robots work as much as on streets.

World frame as on the street: x right, y forward, z up, metres; the camera stands at y = 0 inside a closed box of
floor, walls and ceiling, so that every ray hits something (depth everywhere, no sky). What Cityscapes has a class
for is labelled with it: walls WALL, people PERSON, thin metal posts POLE, potted plants VEGETATION, parked cars
CAR. Floors, ceilings, doors, furniture, shelving, boxes and thick pillars have no Cityscapes class: IGNORE (255),
so segmentation learns nothing there while depth and normals are taught everywhere.

Kinds: `room` (an office or flat: 3-9 x 3-12 m, tables, chairs, cabinets, boxes, plants), `corridor` (1.6-3.2 m
wide, 12-40 m long, doors, bins), `warehouse` (14-36 m, 5-10 m high, rows of shelving with boxes, pallets, posts)
and `garage` (2.3-3 m high, pillars, parked cars). A preset with `close_range` adds what a camera at a desk, on a
gripper or on a small robot sees within reach (`Room.close_range`): small things on the floor around the camera, now
and then a table just in front of it or a person at arm's length holding up a board, in about a quarter a board held
in view (or lying under a camera looking down), in half the scenes tape on the floor and in about 40 % tags taped on
the ceiling. Every kind hangs printed sheets on its walls (fiducial tag boards, checkerboards, posters:
`textures.PRINT`), puts some on tables, and hangs a track of spot lights under some rooms' and corridors' ceilings.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import lighting
from .mesh import yaw_matrix
from .presets import camera_draws, Preset, randomise_appearance
from .scene import Camera, Scene
from .shapes import IGNORE, POLE, Shapes, VEGETATION, WALL
from .textures import hsv, NOISE, PRINT, PRINT_STYLES, TILES

KINDS = ('room', 'corridor', 'warehouse', 'garage')
SIZES = {   # (width x, length y, height z) ranges in metres
    'room': ((3.0, 9.0), (3.0, 12.0), (2.4, 3.2)),
    'corridor': ((1.6, 3.2), (12.0, 40.0), (2.4, 3.2)),
    'warehouse': ((14.0, 36.0), (15.0, 45.0), (5.0, 10.0)),
    'garage': ((10.0, 25.0), (15.0, 40.0), (2.3, 3.0)),
}


class Room(Shapes):
    """Draws one indoor scene of `kind` from `rng`, the camera at (x_m, 0) looking along +y."""

    def __init__(self, rng: np.random.Generator, kind: str):
        super().__init__(rng)
        if kind not in KINDS:
            raise ValueError(f'unknown indoor kind {kind!r}; known: {KINDS}')
        self.kind = kind
        (w0, w1), (l0, l1), (h0, h1) = SIZES[kind]
        self.width, self.length, self.height = self.u(w0, w1), self.u(l0, l1), self.u(h0, h1)
        self.x0, self.x1 = -self.width / 2, self.width / 2
        self.y0 = -self.u(0.5, 3.0)                 # the wall behind the camera
        self.y1 = self.y0 + self.length
        self.occupied: list[tuple] = []             # footprints (x0, x1, y0, y1) already used
        self.lamps: list[tuple] = []                # the ceiling lamps' (x, y, z), which light the room
        self.rails: list[tuple] = []                # the light tracks' footprints (x0, x1, y0, y1) under the ceiling

    def camera_x(self) -> float:
        """A random camera position across the room's width."""
        return self.u(self.x0 + 0.4, self.x1 - 0.4)

    def free(self, x0: float, x1: float, y0: float, y1: float, camera_x: float) -> bool:
        """Whether a footprint is inside the room, clear of the camera and of everything placed so far."""
        clear_of_camera = x1 < camera_x - 0.5 or x0 > camera_x + 0.5 or y1 < -0.6 or y0 > 0.8
        return clear_of_camera and self._room_for(x0, x1, y0, y1)

    def _room_for(self, x0: float, x1: float, y0: float, y1: float, taken: list | None = None) -> bool:
        """Whether a footprint is inside the room and clear of everything placed so far (of `taken`, footprints
        under the ceiling, where given).
        """
        if x0 < self.x0 + 0.05 or x1 > self.x1 - 0.05 or y0 < self.y0 + 0.05 or y1 > self.y1 - 0.05:
            return False
        return all(x1 < a or x0 > b or y1 < c or y0 > d for a, b, c, d in (self.occupied if taken is None else taken))

    def build(self, camera_x: float, height_m: float, close_range: bool = False,
              view: tuple = (0.0, 1.0, 0.0)) -> None:
        """Build the room's shell and the furniture of its kind, the camera at `camera_x`, `height_m` looking along
        `view` (a unit vector); with `close_range`, things within the camera's reach as well (`close_range`).
        """
        self.camera_height = height_m
        self._shell()
        recipe = {'room': self._room, 'corridor': self._corridor, 'warehouse': self._warehouse,
                  'garage': self._garage}[self.kind]
        recipe(camera_x)
        self._wall_prints()
        if self.kind in ('room', 'corridor') and self.rng.random() < 0.4:
            self._light_track()
        if close_range:     # after the furniture, whose shelving claims its rows whatever stands there
            self.close_range(camera_x, np.asarray(view, dtype=np.float64))
        for _ in range(int(self.rng.poisson(1.0 if self.kind != 'garage' else 0.6))):
            self._place_person(camera_x)
        self.flush()

    def close_range(self, camera_x: float, view: np.ndarray) -> None:
        """Things within reach of the camera (looking along `view`), where the furniture leaves the floor clear
        (0.5 m to each side, from 0.6 m behind to 0.8 m ahead): a table just in front of it (a third of the scenes)
        or a person at arm's length holding up a board (a quarter); in half, a try at a board in view
        (`_board_in_view`); small things on the floor all around it (25 tries at boxes and cylinders of 4-30 cm
        where there is room): the close, busy views of a desk camera, a gripper looking down or a small robot; then,
        each in half the scenes, tries at sheets taped on the ceiling and tape on the floor.
        """
        near = self.rng.choice(['table', 'person', 'none'], p=[1 / 3, 1 / 4, 5 / 12])
        if near == 'table':
            sx, sy = self.u(0.6, 1.6), self.u(0.5, 0.9)
            x, y = camera_x + self.u(-0.3, 0.3), self.u(0.3, 0.7) + sy / 2
            if self._claim(x - sx / 2, x + sx / 2, y - sy / 2, y + sy / 2):
                self._table_at(x, y, sx, sy, self.u(0.68, 0.78))
        elif near == 'person':
            x, y, w = camera_x + self.u(-0.4, 0.4), self.u(0.6, 1.4), self.u(0.4, 1.0)
            if self._claim(x - max(0.35, w / 2), x + max(0.35, w / 2), y - 0.3, y + 0.3):
                self.person(x, y, 0.0, np.pi + self.u(-0.4, 0.4))
                h, z = self.u(0.3, 0.8), self.u(0.9, 1.3)
                if self.rng.random() < 0.5:     # a calibration target or tag board shown to the camera
                    board = self._print(str(self.rng.choice(PRINT_STYLES[:2])), w, h, (x - w / 2, y - 0.3, z - h / 2))
                else:
                    board = self._solid(0.5, 0.95) if self.rng.random() < 0.5 else self._wall_material()
                self.box(x - w / 2, x + w / 2, y - 0.3, y - 0.28, z - h / 2, z + h / 2, board, IGNORE)
        if self.rng.random() < 0.5:
            self._board_in_view(camera_x, view)
        for _ in range(int(self.rng.poisson(25))):
            s = self.u(0.04, 0.3)
            x, y = camera_x + self.u(-1.5, 1.5), self.u(-0.5, 2.5)
            clear_of_camera = abs(x - camera_x) > s + 0.15 or abs(y) > s + 0.15   # its mount stands there
            if not (clear_of_camera and self._claim(x - s, x + s, y - s, y + s)):
                continue
            colour = self._solid(0.2, 0.9) if self.rng.random() < 0.6 else self.mat.flat(
                hsv(self.u(0, 360), self.u(0.6, 1.0), self.u(0.4, 0.9)), noise=0.03, shine=self.u(0, 0.3))
            h = s * self.u(0.3, 1.5)
            if self.rng.random() < 0.5:
                self.rbox((x, y, h / 2), (s, s * self.u(0.4, 1.0), h), yaw_matrix(self.u(0, np.pi)), colour, IGNORE)
            else:
                self.cylinder((x, y, 0.0), (x, y, h), s / 2, colour, colour, IGNORE)
        if self.rng.random() < 0.5:
            self._ceiling_prints(camera_x)
        if self.rng.random() < 0.5:
            self._floor_tape(camera_x)

    def _board_in_view(self, camera_x: float, view: np.ndarray) -> None:
        """A board in the camera's line of sight, facing it: held upright 0.35-1.3 m in front of a camera looking
        across the room (turned up to 35° off the wall plane it is most parallel to; 2 cm or more over the floor, clear
        of any tape), held flat 0.35-1.3 m over one looking up, or lying on the floor where the line of sight of one
        looking down meets it, up to 2.5 m away (a camera pitched past 45°). Cardboard with 1-4 tag sheets taped on
        its camera side (40 %), a tag board or checkerboard (30 %) or plain (30 %): what is shown to a desk camera
        or lies under a gripper. 0.3-1 m by 0.25-0.8 m, 5-10 mm thick (on the floor 12-20 mm, above any tape); held
        ones at least 0.35 m under the ceiling, clear of its lamps and light tracks. Its footprint is claimed; it is
        left out where no distance fits, the footprint is taken or it would leave the room; ignore.
        """
        u = self.u
        w, h = u(0.3, 1.0), u(0.25, 0.8)
        eye = np.array([camera_x, 0.0, self.camera_height])
        upright = abs(view[2]) < np.sin(np.radians(45))
        if view[2] < 0 and not upright:
            if self.rng.random() < 0.5:
                w, h = h, w
            thickness = u(0.012, 0.02)
            r = (self.camera_height - thickness / 2) / -view[2]     # its centre half its thickness up
            if r > 2.5:
                return
            normal = np.array([0.0, 0.0, 1.0])
        else:
            thickness = u(0.005, 0.01)
            ceiling = self.height - 0.35     # below the lamps' panels and the spots hanging from light tracks
            if upright:
                heading = np.arctan2(-view[1], -view[0]) + u(-0.35, 0.35)     # its normal, back at the camera
                square = np.round(heading / (np.pi / 2)) * np.pi / 2
                normal_angle = square + np.clip(heading - square, -np.radians(35), np.radians(35))
                normal = np.array([np.cos(normal_angle), np.sin(normal_angle), 0.0])
                low, high = h / 2 + 0.02, ceiling - h / 2     # its centre's height
            else:
                if self.rng.random() < 0.5:
                    w, h = h, w
                normal = np.array([0.0, 0.0, -1.0])
                low, high = -np.inf, ceiling - thickness / 2
            near, far = 0.35, 1.3
            if abs(view[2]) > 1e-6:     # the distances along the view at which its centre's height fits
                a, b = sorted(((low - eye[2]) / view[2], (high - eye[2]) / view[2]))
                near, far = max(near, a), min(far, b)
            elif not low <= eye[2] <= high:
                return
            if near > far:
                return
            r = u(near, far)
        centre = eye + r * view
        if upright:     # its width edge level
            axes = np.column_stack([np.cross((0.0, 0.0, 1.0), normal), (0.0, 0.0, 1.0), normal])
        else:
            axes = np.column_stack([(1.0, 0.0, 0.0), np.cross(normal, (1.0, 0.0, 0.0)), normal])
        corners = _corners(centre, w, h, axes)
        x0, y0 = corners[:, :2].min(axis=0) - thickness
        x1, y1 = corners[:, :2].max(axis=0) + thickness
        if not self._claim(x0, x1, y0, y1):
            return
        kind = self.rng.choice(['cardboard', 'print', 'plain'], p=[0.4, 0.3, 0.3])
        if kind == 'print':
            face = self._print_on(str(self.rng.choice(PRINT_STYLES[:2])), w, h, centre + normal * thickness / 2, axes)
        else:
            face = self._cardboard() if kind == 'cardboard' else self._solid(0.3, 0.95)
        self.rbox(centre, (w, h, thickness), axes, face, IGNORE)
        if kind != 'cardboard':
            return
        taped: list[tuple] = []
        for _ in range(int(self.rng.integers(1, 5))):
            sw, sh = u(0.15, min(0.4, w - 0.04)), u(0.15, min(0.4, h - 0.04))
            a, b = u(-w / 2 + sw / 2 + 0.02, w / 2 - sw / 2 - 0.02), u(-h / 2 + sh / 2 + 0.02, h / 2 - sh / 2 - 0.02)
            if any(abs(a - a2) < (sw + sw2) / 2 and abs(b - b2) < (sh + sh2) / 2 for a2, b2, sw2, sh2 in taped):
                continue
            taped.append((a, b, sw, sh))
            at = centre + axes @ (a, b, thickness / 2 + 0.001)     # 2 mm thick, its back on the camera side's face
            self.rbox(at, (sw, sh, 0.002), axes, self._print_on('tags', sw, sh, at + normal * 0.001, axes), IGNORE)

    def _print_on(self, style: str, width: float, height: float, centre: np.ndarray, axes: np.ndarray) -> int:
        """`_print` for a sheet of `width` x `height` centred at `centre` with its width, height and normal along
        `axes`' columns, `centre` on its printed face: printed as seen along the world axis nearest the normal
        (textures.planar_coords), which stretches a sheet turned by up to 35° from it by at most 1 / cos 35°, its
        cells still whole.
        """
        facing = 'xyz'[int(np.argmax(np.abs(axes[:, 2])))]
        corners = _corners(centre, width, height, axes)
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        plane = {'x': (1, 2), 'y': (0, 2), 'z': (0, 1)}[facing]      # the axes its print runs along
        return self._print(style, *(hi[k] - lo[k] for k in plane), tuple(lo), facing)

    def _ceiling_prints(self, camera_x: float) -> None:
        """Up to 6 sheets taped to the ceiling over and ahead of the camera (1-6 tries), most of them tag boards
        (the landmarks a fiducial-SLAM camera looks up at), 0.2-0.8 m across and 1 cm thick, none over another, a
        lamp's panel or a light track; ignore, as the ceiling.
        """
        taken = [(x - 0.3, x + 0.3, y - 0.6, y + 0.6) for x, y, _ in self.lamps] + self.rails
        z = self.height - 0.01
        for _ in range(int(self.rng.integers(1, 7))):
            style = str(self.rng.choice(PRINT_STYLES, p=[0.6, 0.2, 0.2]))
            w, h = self.u(0.2, 0.8), self.u(0.2, 0.8)
            x0, y0 = camera_x + self.u(-2.0, 2.0) - w / 2, self.u(-0.5, 4.0) - h / 2
            x1, y1 = x0 + w, y0 + h
            if not self._room_for(x0, x1, y0, y1, taken):
                continue
            taken.append((x0, x1, y0, y1))
            self.box(x0, x1, y0, y1, z, self.height, self._print(style, w, h, (x0, y0, z), 'z'), IGNORE)

    def _floor_tape(self, camera_x: float) -> None:
        """1-4 tapes on the floor around the camera (strips of 3-10 cm wide, 1-6 m long, along or across the room;
        a third of them a pair of strips marking a lane's edges, so up to 8 strips): the markings of labs and
        warehouses; ignore, as the floor. Each strip a millimetre thicker than the last (2-9 mm), so that where two
        cross the upper one shows, not both.
        """
        u, rng = self.u, self.rng
        strips = 0
        for _ in range(int(rng.integers(1, 5))):
            colour = hsv(float(rng.choice([0, 50, 120, 210])), u(0.7, 1.0), u(0.5, 0.95)) if rng.random() < 0.7 \
                else hsv(0, 0, float(rng.choice([0.05, 0.95])))
            noise, shine = u(0.01, 0.05), u(0, 0.3)     # a lane's two edges: one tape
            width, length, along_y = u(0.03, 0.1), u(1.0, 6.0), rng.random() < 0.5
            across, middle = camera_x + u(-1.5, 1.5), u(-0.3, 2.5)
            lanes = [0.0, u(0.6, 1.5)] if rng.random() < 0.3 else [0.0]
            y_span, x_span = (self.y0, self.y1), (self.x0, self.x1)
            (lo, hi), (side_lo, side_hi) = (y_span, x_span) if along_y else (x_span, y_span)
            centre, side = (middle, across) if along_y else (across, middle)    # along the strip, across it
            a0, a1 = max(centre - length / 2, lo + 0.05), min(centre + length / 2, hi - 0.05)
            for offset in lanes:
                c, top = side + offset, 0.002 + 0.001 * strips
                strips += 1
                if a1 - a0 < 0.2 or not side_lo + 0.05 < c - width / 2 < c + width / 2 < side_hi - 0.05:
                    continue
                material = self.mat.flat(colour, noise=noise, shine=shine)
                if along_y:
                    self.box(c - width / 2, c + width / 2, a0, a1, 0.0, top, material, IGNORE)
                else:
                    self.box(a0, a1, c - width / 2, c + width / 2, 0.0, top, material, IGNORE)

    def _claim(self, x0: float, x1: float, y0: float, y1: float) -> bool:
        """Claim a footprint if the room has room for it (`_room_for`; the camera's clearance is the caller's)."""
        if self._room_for(x0, x1, y0, y1):
            self.occupied.append((x0, x1, y0, y1))
            return True
        return False

    # -- materials --------------------------------------------------------------------------------------

    def _floor_material(self) -> int:
        u, rng = self.u, self.rng
        r = rng.random()
        if r < 0.3:    # tiles
            c = hsv(u(0, 60), u(0, 0.3), u(0.3, 0.9))
            return self.mat.add(TILES, c, c * u(0.6, 0.9), c * u(0.85, 1.1),
                                (u(0.2, 0.8),) * 2 + (0.0, u(0.003, 0.01), u(0, 0.3), 0.05))
        if r < 0.55:   # wooden planks
            c = hsv(u(20, 40), u(0.3, 0.7), u(0.2, 0.7))
            return self.mat.add(TILES, c, c * 0.7, c * u(0.8, 1.2),
                                (u(0.8, 2.0), u(0.1, 0.25), 0.5, 0.004, u(0.2, 0.6), 0.1), shine=u(0, 0.2))
        c = hsv(u(0, 360), u(0, 0.25), u(0.25, 0.7))   # concrete, screed, carpet, epoxy
        return self.mat.add(NOISE, c, c * u(0.7, 1.0), params=(u(0.5, 6), u(0.5, 6), u(0.1, 0.5), u(0, 0.3)),
                            shine=u(0, 0.25))

    def _wall_material(self) -> int:
        u = self.u
        c = hsv(u(0, 360), u(0, 0.3) if self.rng.random() < 0.8 else u(0.3, 0.7), u(0.4, 0.95))
        return self.mat.add(NOISE, c, c * u(0.85, 1.0), params=(u(1, 4), u(1, 4), u(0.05, 0.3), u(0, 0.1)))

    def _solid(self, lo: float = 0.1, hi: float = 0.9) -> int:
        """Furniture, boxes, doors: a flat colour with a little grain."""
        return self.mat.flat(hsv(self.u(0, 360), self.u(0, 0.7), self.u(lo, hi)), noise=self.u(0.02, 0.1))

    def _cardboard(self) -> int:
        return self.mat.flat(hsv(self.u(25, 38), self.u(0.35, 0.6), self.u(0.45, 0.75)), noise=0.06)

    def _print(self, style: str, width: float, height: float, corner: tuple, facing: str = 'y') -> int:
        """A printed sheet of `style` (textures.PRINT_STYLES) filling about `width` x `height` metres of a surface
        facing along `facing` (x, y: upright, its height along z; z: lying flat, its height along y) from `corner`,
        the least x, y, z it covers; its cells drawn to suit the style: tags of 8-30 cm, checker squares of
        2-12 cm, poster blocks of 5-40 cm.
        """
        u = self.u
        cell = min({'tags': u(0.08, 0.3), 'checker': u(0.02, 0.12), 'poster': u(0.05, 0.4)}[style], width, height)
        cells_u, cells_v = int(width / cell), int(height / cell)     # at least one: no cell is larger than the sheet
        margin_u, margin_v = (width - cells_u * cell) / 2, (height - cells_v * cell) / 2
        if style == 'poster':
            ink, paper = hsv(u(0, 360), u(0.3, 1.0), u(0.1, 0.9)), hsv(u(0, 360), u(0, 1.0), u(0.3, 0.97))
        else:
            ink, paper = hsv(u(0, 360), u(0, 0.3), u(0.02, 0.2)), hsv(u(0, 360), u(0, 0.15), u(0.75, 0.97))
        accent = hsv(u(0, 360), u(0.4, 1.0), u(0.3, 0.95))
        # The texture's coordinates run along the surface (textures.planar_coords): the pattern, centred, starts a
        # margin in along both.
        shift = {'x': (0.0, margin_u, margin_v), 'y': (margin_u, 0.0, margin_v), 'z': (margin_u, margin_v, 0.0)}[facing]
        return self.mat.add(PRINT, ink, paper, accent, (cell, cells_u, cells_v, PRINT_STYLES.index(style)),
                            origin=tuple(c + d for c, d in zip(corner, shift)), shine=u(0, 0.3))

    # -- the shell ---------------------------------------------------------------------------------------

    def _shell(self) -> None:
        """Floor, ceiling and four walls, thick enough that no ray leaves the room; ceiling lights."""
        x0, x1, y0, y1, h, t = self.x0, self.x1, self.y0, self.y1, self.height, 0.3
        self.box(x0 - t, x1 + t, y0 - t, y1 + t, -t, 0.0, self._floor_material(), IGNORE)
        ceiling = self.mat.add(TILES, hsv(0, 0, self.u(0.75, 0.95)), hsv(0, 0, 0.6), hsv(0, 0, 0.85),
                               (0.6, 0.6, 0.0, 0.01, 0.1, 0.02)) if self.rng.random() < 0.5 else self._wall_material()
        self.box(x0 - t, x1 + t, y0 - t, y1 + t, h, h + t, ceiling, IGNORE)
        walls = [self._wall_material()] * 4 if self.rng.random() < 0.7 else [self._wall_material() for _ in range(4)]
        self.box(x0 - t, x0, y0, y1, 0.0, h, walls[0], WALL)
        self.box(x1, x1 + t, y0, y1, 0.0, h, walls[1], WALL)
        self.box(x0 - t, x1 + t, y0 - t, y0, 0.0, h, walls[2], WALL)
        self.box(x0 - t, x1 + t, y1, y1 + t, 0.0, h, walls[3], WALL)
        lamp = self.mat.flat(hsv(50, 0.05, 0.95), noise=0.0, emit=1.0)
        step = self.u(2.0, 5.0)
        for y in np.arange(y0 + step / 2, y1, step):
            for x in np.arange(x0 + step / 2, x1, step):
                self.box(x - 0.3, x + 0.3, y - 0.6, y + 0.6, h - 0.04, h - 0.001, lamp, IGNORE)
                self.lamps.append((float(x), float(y), h - 0.05))    # just under the glowing panel
        # Doors along the side walls: slabs standing just proud of the wall.
        for _ in range(int(self.rng.poisson(self.length / 8))):
            y, s = self.u(y0 + 1, y1 - 1), self.rng.choice([-1, 1])
            x = x0 if s < 0 else x1
            door_h = min(self.u(2.0, 2.3), h - 0.05)
            self.box(min(x, x - s * 0.04), max(x, x - s * 0.04), y - 0.45, y + 0.45, 0.0, door_h, self._solid(), IGNORE)

    def _wall_prints(self) -> None:
        """Posters, tag boards and calibration targets on the walls, about one per 7 m of wall (12 on average at
        most), none over another: printed patterns, which rooms and robot labs are full of, 1 cm proud of the wall
        and labelled as it.
        """
        walls = ((self.x0, 'x', 1), (self.x1, 'x', -1), (self.y0, 'y', 1), (self.y1, 'y', -1))   # plane, facing, in
        spans = np.array([self.length, self.length, self.width, self.width])
        hung = []      # (wall, along from, to, z from, to) of the sheets so far
        for _ in range(int(self.rng.poisson(min(12.0, spans.sum() / 7)))):
            k = int(self.rng.choice(4, p=spans / spans.sum()))
            plane, facing, inward = walls[k]
            style = str(self.rng.choice(PRINT_STYLES, p=[0.35, 0.3, 0.35]))
            w, h = self.u(0.3, 1.6), self.u(0.3, 1.2)
            lo, hi = (self.y0, self.y1) if facing == 'x' else (self.x0, self.x1)
            if hi - lo < w + 0.2 or self.height < h + 0.6:
                continue
            a, z = self.u(lo + 0.1, hi - 0.1 - w), self.u(0.5, self.height - 0.1 - h)
            if any(j == k and a < a1 and a + w > a0 and z < z1 and z + h > z0 for j, a0, a1, z0, z1 in hung):
                continue    # sheets in one plane would flicker where they overlap
            hung.append((k, a, a + w, z, z + h))
            t0, t1 = sorted((plane, plane + inward * 0.01))
            corner = (t0, a, z) if facing == 'x' else (a, t0, z)
            extent = (t0, t1, a, a + w) if facing == 'x' else (a, a + w, t0, t1)
            self.box(*extent, z, z + h, self._print(style, w, h, corner, facing), WALL)

    def _light_track(self) -> None:
        """A track of spot lights under the ceiling (offices, shops, labs): a rail of 1.5-6 m along or across the
        room (shorter across a narrow one) with 3-8 spots hanging from it at random tilts, their lenses glowing.
        """
        rail = self.mat.flat(hsv(0, 0, self.u(0.05, 0.95)), noise=0.02, shine=0.2)
        lens = self.mat.flat(hsv(50, 0.05, 0.95), noise=0.0, emit=1.0)
        along_y = self.rng.random() < 0.6
        lo, hi = (self.y0, self.y1) if along_y else (self.x0, self.x1)
        across_lo, across_hi = (self.x0, self.x1) if along_y else (self.y0, self.y1)
        length = min(self.u(1.5, 6.0), hi - lo - 0.4)
        a = self.u(lo + 0.2, max(lo + 0.2, hi - 0.2 - length))     # max: a rail as long as the room, rounded
        c, z = self.u(across_lo + 0.3, across_hi - 0.3), self.height - 0.05      # below the lamps' panels
        self.rails.append((c - 0.02, c + 0.02, a, a + length) if along_y else (a, a + length, c - 0.02, c + 0.02))
        self.box(*self.rails[-1], z, self.height, rail, IGNORE)
        for t in a + length * np.linspace(0.1, 0.9, int(self.rng.integers(3, 9))):
            top = np.array((c, t, z) if along_y else (t, c, z))
            drop = np.array((self.u(-0.08, 0.08), self.u(-0.08, 0.08), -self.u(0.1, 0.2)))
            self.cylinder(top, top + drop, self.u(0.025, 0.045), rail, lens, IGNORE)

    # -- kinds ---------------------------------------------------------------------------------------------

    def _try(self, camera_x: float, size_x: float, size_y: float, tries: int = 20):
        """A free footprint of this size, claimed, or None (also when the room is too small for it)."""
        if size_x > self.width - 0.2 or size_y > self.length - 0.2:
            return None
        for _ in range(tries):
            x = self.u(self.x0 + size_x / 2, self.x1 - size_x / 2)
            y = self.u(self.y0 + size_y / 2, self.y1 - size_y / 2)
            box = (x - size_x / 2, x + size_x / 2, y - size_y / 2, y + size_y / 2)
            if self.free(*box, camera_x):
                self.occupied.append(box)
                return x, y
        return None

    def _room(self, camera_x: float) -> None:
        for _ in range(int(self.rng.integers(1, 4))):
            self._table(camera_x)
        for _ in range(int(self.rng.integers(0, 4))):
            self._chair(camera_x)
        for _ in range(int(self.rng.integers(0, 3))):
            self._cabinet(camera_x)
        for _ in range(int(self.rng.integers(0, 6))):
            self._boxes(camera_x, stack=1)
        for _ in range(int(self.rng.integers(0, 3))):
            self._plant(camera_x)

    def _corridor(self, camera_x: float) -> None:
        for _ in range(int(self.rng.integers(0, 4))):
            self._boxes(camera_x, stack=1)
        for _ in range(int(self.rng.integers(0, 3))):
            self._cabinet(camera_x)
        for _ in range(int(self.rng.integers(0, 2))):
            self._plant(camera_x)

    def _warehouse(self, camera_x: float) -> None:
        """Rows of shelving along y with aisles between them, pallets of boxes, posts."""
        depth, aisle = self.u(0.8, 1.4), self.u(2.0, 4.0)
        x = self.x0 + 0.3
        while x + depth < self.x1 - 0.3:
            if not (x < camera_x + 0.6 and x + depth > camera_x - 0.6):
                self._shelving(x, x + depth, self.y0 + self.u(0.5, 3), self.y1 - self.u(0.5, 3))
            x += depth + aisle
        for _ in range(int(self.rng.integers(2, 8))):
            self._boxes(camera_x, stack=int(self.rng.integers(1, 4)), pallet=True)
        metal = self.mat.flat(hsv(self.u(0, 60), self.u(0.5, 0.9), self.u(0.4, 0.9)), shine=0.2)
        for _ in range(int(self.rng.integers(0, 6))):
            spot = self._try(camera_x, 0.2, 0.2)
            if spot:
                self.cylinder((spot[0], spot[1], 0.0), (spot[0], spot[1], self.u(0.9, 1.3)), 0.05, metal, metal, POLE)

    def _garage(self, camera_x: float) -> None:
        """Thick pillars on a grid and cars parked between them."""
        concrete = self.mat.add(NOISE, hsv(0, 0, self.u(0.45, 0.75)), hsv(30, 0.05, 0.5), params=(2, 2, 0.3, 0.2))
        pitch_x, pitch_y, side = self.u(5.0, 8.0), self.u(5.0, 8.0), self.u(0.4, 0.8)
        for x in np.arange(self.x0 + pitch_x / 2, self.x1, pitch_x):
            for y in np.arange(self.y0 + pitch_y / 2, self.y1, pitch_y):
                if self.free(x - side / 2, x + side / 2, y - side / 2, y + side / 2, camera_x):
                    self.occupied.append((x - side / 2, x + side / 2, y - side / 2, y + side / 2))
                    self.box(x - side / 2, x + side / 2, y - side / 2, y + side / 2, 0.0, self.height, concrete,
                             IGNORE)
        for _ in range(int(self.rng.integers(1, 7))):
            length = self.vehicle_length('car')
            yaw = float(self.rng.choice([0.0, np.pi, np.pi / 2])) + self.rng.normal(0, 0.03)
            along_y = abs(np.cos(yaw)) > 0.5
            spot = self._try(camera_x, 2.2 if along_y else length + 0.3, length + 0.3 if along_y else 2.2)
            if spot:
                self.vehicle(spot[0], spot[1], yaw, 'car', length)

    # -- objects -------------------------------------------------------------------------------------------

    def _table(self, camera_x: float) -> None:
        sx, sy, h = self.u(0.6, 2.0), self.u(0.6, 1.2), self.u(0.68, 0.78)
        spot = self._try(camera_x, sx, sy)
        if spot:
            self._table_at(*spot, sx, sy, h)

    def _table_at(self, x: float, y: float, sx: float, sy: float, h: float) -> None:
        """A table of sx by sy metres and h high centred at (x, y), with clutter on it."""
        top, leg = self._solid(), self._solid(0.05, 0.6)
        self.box(x - sx / 2, x + sx / 2, y - sy / 2, y + sy / 2, h - 0.04, h, top, IGNORE)
        for dx in (-1, 1):
            for dy in (-1, 1):
                lx, ly = x + dx * (sx / 2 - 0.06), y + dy * (sy / 2 - 0.06)
                self.box(lx - 0.025, lx + 0.025, ly - 0.025, ly + 0.025, 0.0, h - 0.04, leg, IGNORE)
        for _ in range(int(self.rng.integers(0, 4))):   # clutter on the table
            s = self.u(0.08, min(0.35, sx / 2, sy / 2))
            cx, cy = self.u(x - sx / 2 + s, x + sx / 2 - s), self.u(y - sy / 2 + s, y + sy / 2 - s)
            self.box(cx - s / 2, cx + s / 2, cy - s / 2, cy + s / 2, h, h + self.u(0.03, 0.35), self._solid(), IGNORE)
        if self.rng.random() < 0.3:     # a printed sheet or board lying on it
            w, d = self.u(0.2, sx - 0.1), self.u(0.2, sy - 0.1)    # tables are at least 0.6 x 0.5 m
            cx, cy = self.u(x - sx / 2, x + sx / 2 - w), self.u(y - sy / 2, y + sy / 2 - d)
            sheet = self._print(str(self.rng.choice(PRINT_STYLES)), w, d, (cx, cy, h), facing='z')
            self.box(cx, cx + w, cy, cy + d, h, h + 0.003, sheet, IGNORE)

    def _chair(self, camera_x: float) -> None:
        spot = self._try(camera_x, 0.5, 0.5)
        if not spot:
            return
        x, y = spot
        m, seat = self._solid(), self.u(0.42, 0.5)
        self.box(x - 0.22, x + 0.22, y - 0.22, y + 0.22, seat - 0.05, seat, m, IGNORE)
        side = self.rng.choice([-1, 1])
        self.box(x - 0.22, x + 0.22, y + side * 0.22 - 0.02, y + side * 0.22 + 0.02, seat, seat + self.u(0.35, 0.5),
                 m, IGNORE)
        for dx in (-1, 1):
            for dy in (-1, 1):
                self.box(x + dx * 0.19 - 0.02, x + dx * 0.19 + 0.02, y + dy * 0.19 - 0.02, y + dy * 0.19 + 0.02, 0.0,
                         seat - 0.05, m, IGNORE)

    def _cabinet(self, camera_x: float) -> None:
        sx, sy = self.u(0.4, 2.0), self.u(0.35, 0.6)
        spot = self._try(camera_x, sx, sy)
        if spot:
            x, y = spot
            self.box(x - sx / 2, x + sx / 2, y - sy / 2, y + sy / 2, 0.0, min(self.u(0.7, 2.1), self.height - 0.1),
                     self._solid(), IGNORE)

    def _boxes(self, camera_x: float, stack: int, pallet: bool = False) -> None:
        s = self.u(0.25, 0.8)
        spot = self._try(camera_x, s * 1.5 if pallet else s, s * 1.5 if pallet else s)
        if not spot:
            return
        x, y = spot
        z = 0.0
        if pallet:
            wood = self.mat.flat(hsv(self.u(25, 40), self.u(0.3, 0.6), self.u(0.4, 0.7)), noise=0.1)
            self.box(x - s * 0.75, x + s * 0.75, y - s * 0.75, y + s * 0.75, 0.0, 0.14, wood, IGNORE)
            z = 0.14
        cardboard = self._cardboard()
        for _ in range(stack):
            h = s * self.u(0.6, 1.0)
            if z + h > self.height - 0.2:
                break
            self.box(x - s / 2, x + s / 2, y - s / 2, y + s / 2, z, z + h,
                     cardboard if self.rng.random() < 0.7 else self._solid(), IGNORE)
            z += h

    def _plant(self, camera_x: float) -> None:
        spot = self._try(camera_x, 0.6, 0.6)
        if not spot:
            return
        x, y = spot
        pot_h, r = self.u(0.25, 0.5), self.u(0.25, 0.45)
        pot = self._solid()
        self.cylinder((x, y, 0.0), (x, y, pot_h), self.u(0.12, 0.22), pot, pot, IGNORE)
        leaves = self.mat.add(NOISE, hsv(self.u(80, 140), self.u(0.4, 0.8), self.u(0.15, 0.45)),
                              hsv(self.u(70, 130), 0.6, 0.25), params=(12.0, 12.0, 0.7, 0.3))
        self.mb.add_blobs(np.array([[x, y, pot_h + r * 0.9]]), np.array([[r, r, r * self.u(0.8, 1.6)]]), [leaves],
                          VEGETATION, self.rng, 0.25)

    def _shelving(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """A rack of uprights and shelves along y, boxes on the shelves."""
        steel = self.mat.flat(hsv(self.rng.choice([20, 210, 0]), self.u(0.2, 0.9), self.u(0.3, 0.7)), shine=0.15)
        top = min(self.u(2.5, 6.0), self.height - 0.3)
        levels = np.arange(0.1, top, self.u(0.9, 1.6))
        for y in np.arange(y0, y1 + 0.01, self.u(1.8, 2.8)):
            for x in (x0, x1 - 0.08):
                self.box(x, x + 0.08, y - 0.04, y + 0.04, 0.0, top, steel, IGNORE)
        for z in levels:
            self.box(x0, x1, y0, y1, z, z + 0.05, steel, IGNORE)
            y = y0 + self.u(0, 0.5)
            while y < y1 - 0.3:
                s = self.u(0.3, 0.9)
                if self.rng.random() < 0.7 and y + s < y1:
                    h = min(s * self.u(0.5, 1.0), 0.85)
                    self.box(x0 + 0.05, x1 - 0.05, y, y + s, z + 0.05, z + 0.05 + h, self._solid(0.3, 0.8), IGNORE)
                y += s + self.u(0.05, 0.4)
        self.occupied.append((x0, x1, y0, y1))

    def _place_person(self, camera_x: float) -> None:
        spot = self._try(camera_x, 0.6, 0.6)
        if spot:
            self.person(spot[0], spot[1], 0.0, self.u(0, 2 * np.pi))


def _corners(centre: np.ndarray, width: float, height: float, axes: np.ndarray) -> np.ndarray:
    """The 4 x 3 corners of a `width` x `height` rectangle centred at `centre`, its sides along `axes`' first two
    columns.
    """
    return centre + np.array([[sx * width / 2, sy * height / 2, 0.0] for sx in (-1, 1) for sy in (-1, 1)]) @ axes.T


def generate_room(rng: np.random.Generator, width: int, height: int, kind: Preset,
                  overrides: dict) -> tuple[Scene, Camera]:
    """An indoor scene of one of the preset's kinds and the camera in it, drawn from the preset's camera ranges
    (its height kept 0.3 m under the ceiling); overrides fix camera parameters or give their ranges as on the street.
    """
    room = Room(rng, str(rng.choice(kind.indoor_kinds)))
    draws = camera_draws({k: room.u(*r) for k, r in kind.camera.items()}, kind.camera, overrides)
    x = float(overrides.get('x_m', room.camera_x()))
    offset = tuple(room.u(-1, 1) * kind.principal * side for side in (width, height))
    camera = Camera.create(width, height, draws['fov_deg'], min(draws['height_m'], room.height - 0.3),
                           draws['pitch_deg'], draws['roll_deg'], draws['yaw_deg'], x, 0.0, offset)
    room.build(x, camera.height_m, kind.close_range, tuple(camera.rotation[:, 2]))
    light = dataclasses.replace(lighting.draw(kind.indoor_lighting, rng), lamps=tuple(room.lamps))
    if kind.textures:
        randomise_appearance(room.mat, kind.textures, rng)
    return Scene.from_builder(room.mb, room.mat, light, kind=room.kind), camera
