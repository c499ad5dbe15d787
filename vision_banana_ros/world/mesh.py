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

"""Triangle-mesh primitives for the procedural world, built in batches with numpy.

Every triangle carries a material index and a Cityscapes train id; the renderer looks both up by the primitive id
that the ray caster returns, so the whole world is a single mesh. World frame: x right across the street, y
forward along it, z up, metres. Winding is irrelevant: the renderer turns every normal toward the camera.
"""
from __future__ import annotations

import numpy as np

# Unit cube corners (index bits: x, y, z) and its 12 triangles, two per face in the face order
# -x, +x, -y, +y, -z, +z (materials per face follow this order).
_CUBE = np.array([[(i >> 0) & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], dtype=np.float64) - 0.5
_CUBE_FACES = np.array([
    [0, 4, 6], [0, 6, 2],   # -x
    [1, 3, 7], [1, 7, 5],   # +x
    [0, 1, 5], [0, 5, 4],   # -y
    [2, 6, 7], [2, 7, 3],   # +y
    [0, 2, 3], [0, 3, 1],   # -z
    [4, 5, 7], [4, 7, 6],   # +z
])


def _icosphere() -> tuple[np.ndarray, np.ndarray]:
    """Unit icosphere with one subdivision: 42 vertices, 80 triangles."""
    t = (1 + 5 ** 0.5) / 2
    v = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
         [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]]
    f = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
         [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11],
         [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    verts = [np.array(p, dtype=np.float64) / np.linalg.norm(p) for p in v]
    mid: dict[tuple[int, int], int] = {}

    def midpoint(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in mid:
            p = verts[a] + verts[b]
            verts.append(p / np.linalg.norm(p))
            mid[key] = len(verts) - 1
        return mid[key]

    faces = []
    for a, b, c in f:
        ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
        faces += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
    return np.array(verts), np.array(faces)


_SPHERE_V, _SPHERE_F = _icosphere()


def yaw_matrix(yaw: float) -> np.ndarray:
    """Rotation by `yaw` radians about +z."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _per_item(value, n: int, dtype=np.float64) -> np.ndarray:
    """A scalar or per-item value as an (n,) array."""
    a = np.asarray(value, dtype=dtype)
    return np.broadcast_to(a, (n,)) if a.ndim == 0 else a.reshape(n)


class MeshBuilder:
    """Accumulates triangles with per-triangle material and label; `build()` joins them into arrays."""

    def __init__(self):
        self._verts: list[np.ndarray] = []
        self._tris: list[np.ndarray] = []
        self._mats: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._count = 0

    def _add(self, verts: np.ndarray, tris: np.ndarray, mats: np.ndarray, labels: np.ndarray) -> None:
        self._verts.append(verts.reshape(-1, 3))
        self._tris.append(tris.reshape(-1, 3) + self._count)
        self._mats.append(np.asarray(mats, dtype=np.int32).reshape(-1))
        self._labels.append(np.asarray(labels, dtype=np.uint8).reshape(-1))
        self._count += len(self._verts[-1])

    def add_boxes(self, centers, sizes, materials, labels, rot=None) -> None:
        """N boxes: centres (N,3), full sizes (N,3), materials (N,) or per face (N,6) in the order
        -x,+x,-y,+y,-z,+z, labels (N,), optional rotations (N,3,3) of the box about its centre.
        """
        centers = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
        n = len(centers)
        if n == 0:
            return
        sizes = np.asarray(sizes, dtype=np.float64).reshape(n, 3)
        local = _CUBE[None] * sizes[:, None, :]                       # (N, 8, 3)
        if rot is not None:
            local = np.einsum('nij,nkj->nki', np.asarray(rot).reshape(n, 3, 3), local)
        verts = local + centers[:, None, :]
        tris = _CUBE_FACES[None] + (8 * np.arange(n))[:, None, None]
        mats = self._face_mats(np.asarray(materials), n)
        self._add(verts, tris, mats, np.repeat(_per_item(labels, n, dtype=np.uint8), 12))

    @staticmethod
    def _face_mats(mats: np.ndarray, n: int) -> np.ndarray:
        """Materials per box (N,) or per face (N,6) -> per triangle (N*12,)."""
        if mats.ndim == 2:
            per_face = mats.reshape(n, 6)
        else:
            per_face = np.repeat(_per_item(mats, n, dtype=np.int32)[:, None], 6, axis=1)
        return np.repeat(per_face, 2, axis=1).reshape(-1)

    def add_cylinders(self, p0, p1, radius, material_side, material_cap, labels, sides: int = 10) -> None:
        """N closed cylinders from p0 to p1 (N,3) with radius (N,)."""
        p0 = np.asarray(p0, dtype=np.float64).reshape(-1, 3)
        n = len(p0)
        if n == 0:
            return
        p1 = np.asarray(p1, dtype=np.float64).reshape(n, 3)
        radius = _per_item(radius, n)
        axis = p1 - p0
        axis /= np.linalg.norm(axis, axis=1, keepdims=True)
        helper = np.where(np.abs(axis[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
        e1 = np.cross(axis, helper)
        e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
        e2 = np.cross(axis, e1)
        ang = np.arange(sides) * (2 * np.pi / sides)
        ring = (np.cos(ang)[None, :, None] * e1[:, None] + np.sin(ang)[None, :, None] * e2[:, None]) \
            * radius[:, None, None]                                    # (N, S, 3)
        verts = np.concatenate([p0[:, None] + ring, p1[:, None] + ring, p0[:, None], p1[:, None]], axis=1)
        i = np.arange(sides)
        j = (i + 1) % sides
        side = np.stack([np.stack([i, j, sides + j], 1), np.stack([i, sides + j, sides + i], 1)], 1).reshape(-1, 3)
        cap0 = np.stack([np.full(sides, 2 * sides), j, i], 1)
        cap1 = np.stack([np.full(sides, 2 * sides + 1), sides + i, sides + j], 1)
        local = np.concatenate([side, cap0, cap1])                   # (4S, 3)
        tris = local[None] + ((2 * sides + 2) * np.arange(n))[:, None, None]
        mats = np.concatenate([np.repeat(_per_item(material_side, n, dtype=np.int32)[:, None], 2 * sides, 1),
                               np.repeat(_per_item(material_cap, n, dtype=np.int32)[:, None], 2 * sides, 1)], 1)
        self._add(verts, tris, mats, np.repeat(_per_item(labels, n, dtype=np.uint8), 4 * sides))

    def add_prisms(self, polygons, origins, u_axes, v_axes, extrude, mat_front, mat_back, mat_side, labels) -> None:
        """N convex polygons (N,M,2) in the plane origin + a*u + b*v, extruded by the vector `extrude` (N,3).
        The front cap is the one at origin + extrude; `mat_side` is per prism (N,) or per polygon edge (N,M),
        edge k running from point k to point k+1.
        """
        polygons = np.asarray(polygons, dtype=np.float64)
        if polygons.ndim == 2:
            polygons = polygons[None]
        origins = np.asarray(origins, dtype=np.float64).reshape(-1, 3)
        n, m = len(origins), polygons.shape[1]
        if n == 0:
            return
        polygons = np.broadcast_to(polygons, (n, m, 2))
        u = np.asarray(u_axes, dtype=np.float64).reshape(-1, 3)
        v = np.asarray(v_axes, dtype=np.float64).reshape(-1, 3)
        e = np.broadcast_to(np.asarray(extrude, dtype=np.float64).reshape(-1, 3), (n, 3))
        back = origins[:, None] + polygons[..., :1] * u[:, None] + polygons[..., 1:] * v[:, None]
        verts = np.concatenate([back, back + e[:, None]], axis=1)      # (N, 2M, 3)
        i = np.arange(m)
        j = (i + 1) % m
        fan = np.stack([np.zeros(m - 2, int), np.arange(1, m - 1), np.arange(2, m)], 1)
        side = np.stack([np.stack([i, j, m + j], 1), np.stack([i, m + j, m + i], 1)], 1).reshape(-1, 3)
        local = np.concatenate([fan, fan + m, side])
        tris = local[None] + (2 * m * np.arange(n))[:, None, None]
        mat_side = np.asarray(mat_side)
        sides = mat_side.reshape(n, m) if mat_side.ndim == 2 \
            else np.repeat(_per_item(mat_side, n, dtype=np.int32)[:, None], m, 1)
        mats = np.concatenate([np.repeat(_per_item(mat_back, n, dtype=np.int32)[:, None], m - 2, 1),
                               np.repeat(_per_item(mat_front, n, dtype=np.int32)[:, None], m - 2, 1),
                               np.repeat(sides, 2, axis=1)], 1)
        self._add(verts, tris, mats, np.repeat(_per_item(labels, n, dtype=np.uint8), len(local)))

    def add_grid(self, xs, ys, z, materials, labels) -> None:
        """A height field: vertex (j, i) at (xs[i], ys[j], z[j, i]); cell (j, i) is two triangles with
        materials[j, i] and labels[j, i] (both (len(ys) - 1, len(xs) - 1)).
        """
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        nx, ny = len(xs), len(ys)
        gx, gy = np.meshgrid(xs, ys)
        verts = np.stack([gx, gy, np.asarray(z, dtype=np.float64).reshape(ny, nx)], -1)
        a = np.arange(ny - 1)[:, None] * nx + np.arange(nx - 1)[None, :]
        tris = np.stack([np.stack([a, a + 1, a + nx + 1], -1), np.stack([a, a + nx + 1, a + nx], -1)], 2)
        self._add(verts, tris, np.repeat(np.asarray(materials).reshape(-1), 2),
                  np.repeat(np.asarray(labels).reshape(-1), 2))

    def add_blobs(self, centers, radii, materials, labels, rng: np.random.Generator, jitter: float = 0.15) -> None:
        """N lumpy ellipsoids (tree crowns, heads): icospheres scaled by radii (N,3), each vertex pushed
        in or out by up to `jitter` of its radius.
        """
        centers = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
        n = len(centers)
        if n == 0:
            return
        radii = np.asarray(radii, dtype=np.float64).reshape(n, 3)
        bump = 1.0 + rng.uniform(-jitter, jitter, (n, len(_SPHERE_V), 1))
        verts = centers[:, None] + _SPHERE_V[None] * bump * radii[:, None]
        tris = _SPHERE_F[None] + (len(_SPHERE_V) * np.arange(n))[:, None, None]
        nf = len(_SPHERE_F)
        self._add(verts, tris, np.repeat(_per_item(materials, n, dtype=np.int32), nf),
                  np.repeat(_per_item(labels, n, dtype=np.uint8), nf))

    def build(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(vertices (V,3) float64, triangles (T,3) uint32, material (T,) int32, label (T,) uint8)."""
        if not self._verts:
            raise ValueError('the scene has no geometry')
        return (np.concatenate(self._verts), np.concatenate(self._tris).astype(np.uint32),
                np.concatenate(self._mats), np.concatenate(self._labels))
