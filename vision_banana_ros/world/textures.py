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

"""Materials and procedural textures, evaluated per hit pixel with vectorised numpy.

A texture is a function of the world-space hit point (with the road's bend undone, so markings follow a
curve), the surface normal and the pixel's footprint on the surface (metres per pixel): thin lines (joints,
lane markings) are box-filtered analytically with that footprint so that they fade to their mean colour
far away instead of flickering. Each class has its own texture family; colours are given in sRGB [0, 1]
and stored linear. STRIPES is used only by the held-out appearance split (`world.presets`): no training frame
shows it. PRINT is what robot labs and shops print and hang up: fiducial tag grids, checkerboards and posters.
"""
from __future__ import annotations

import colorsys

import numpy as np

# Texture kinds.
NOISE, TILES, FACADE, ASPHALT, GLASS, STRIPES, PRINT = range(7)
N_KINDS = 7
PRINT_STYLES = ('tags', 'checker', 'poster')
_TAG_CELLS = 10     # a tag across: a white margin, a black border and 6 x 6 data bits, a cell each side
_TAG_INSIDE_INK = (28 + 36 / 2) / 64            # ink share inside a tag's margin: its ring and half its bits
_TAG_INK = (28 + 36 / 2) / _TAG_CELLS ** 2      # and over the whole tag
N_PARAMS = 12

_NOISE_SIZE = 256
_noise_cache: list[np.ndarray] = []


def noise_texture() -> np.ndarray:
    """A fixed tileable fractal noise (256x256, zero mean, unit std): 1/f spectrum, made once per process."""
    if not _noise_cache:
        rng = np.random.default_rng(20240607)
        f = np.fft.fftfreq(_NOISE_SIZE)
        radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
        spectrum = np.fft.fft2(rng.standard_normal((_NOISE_SIZE, _NOISE_SIZE)))
        spectrum *= np.where(radius > 0, 1.0 / np.maximum(radius, 1.0 / _NOISE_SIZE) ** 1.1, 0.0)
        tex = np.real(np.fft.ifft2(spectrum))
        _noise_cache.append(((tex - tex.mean()) / tex.std()).astype(np.float32))
    return _noise_cache[0]


def sample_noise(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup of the noise texture at texel coordinates (u, v), wrapping around."""
    tex = noise_texture()
    u0 = np.floor(u)
    v0 = np.floor(v)
    fu = (u - u0).astype(np.float32)
    fv = (v - v0).astype(np.float32)
    m = _NOISE_SIZE - 1
    iu = u0.astype(np.int64) & m
    iv = v0.astype(np.int64) & m
    iu1 = (iu + 1) & m
    iv1 = (iv + 1) & m
    top = tex[iv, iu] * (1 - fu) + tex[iv, iu1] * fu
    bottom = tex[iv1, iu] * (1 - fu) + tex[iv1, iu1] * fu
    return top * (1 - fv) + bottom * fv


def hash01(i, j, salt) -> np.ndarray:
    """Pseudo-random value in [0, 1) per integer cell (i, j) and salt: integer mixing, the same on every CPU."""
    i, j, salt = (a.astype(np.int64) for a in np.broadcast_arrays(np.asarray(i), np.asarray(j), np.asarray(salt)))
    h = (i * 73856093) ^ (j * 19349663) ^ (salt * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    h ^= h >> 16
    return (h & 0xFFFFFF).astype(np.float32) / np.float32(1 << 24)


def line_coverage(d: np.ndarray, half_width, footprint: np.ndarray) -> np.ndarray:
    """Fraction of a pixel footprint (width `footprint`, centred at distance d >= 0 from a line's centre) that
    the line of half width `half_width` covers: a box filter in closed form.
    """
    lo = np.maximum(d - footprint / 2, -half_width)
    hi = np.minimum(d + footprint / 2, half_width)
    return np.clip(hi - lo, 0.0, None) / footprint


def _periodic_lines(coord: np.ndarray, period, half_width, footprint: np.ndarray) -> np.ndarray:
    """Coverage of lines at every multiple of `period`, fading to the mean coverage once a footprint spans
    several periods. Lines wider than their period (randomised tiles can draw them) cover everything.
    """
    d = np.abs(coord - np.rint(coord / period) * period)
    exact = np.where(2 * half_width >= period, 1.0, line_coverage(d, half_width, footprint))
    fade = np.clip(footprint / period - 0.5, 0.0, 1.0)
    return exact * (1 - fade) + np.minimum(2 * half_width / period, 1.0) * fade


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """SRGB colour from hue in degrees, saturation and value in [0, 1]."""
    return np.array(colorsys.hsv_to_rgb((h % 360) / 360.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0)))


class Materials:
    """A growing table of materials; `add` returns the index that triangles refer to."""

    def __init__(self):
        self.kind: list[int] = []
        self.colors: list[np.ndarray] = []
        self.params: list[np.ndarray] = []
        self.origin: list[np.ndarray] = []
        self.shine: list[float] = []
        self.emit: list[float] = []

    def add(self, kind: int, c1, c2=None, c3=None, params=(), origin=(0.0, 0.0, 0.0), shine: float = 0.0,
            emit: float = 0.0) -> int:
        """`shine`: 0 matte .. 1 mirror-like (specular highlight and sky reflection); `emit`: self-lit
        fraction of the albedo (lamps).
        """
        c1 = np.asarray(c1, dtype=np.float64)
        c2 = c1 if c2 is None else np.asarray(c2, dtype=np.float64)
        c3 = c2 if c3 is None else np.asarray(c3, dtype=np.float64)
        p = np.zeros(N_PARAMS)
        p[:len(params)] = params
        self.kind.append(kind)
        self.colors.append(np.stack([c1, c2, c3]) ** 2.2)          # linear
        self.params.append(p)
        self.origin.append(np.asarray(origin, dtype=np.float64))
        self.shine.append(shine)
        self.emit.append(emit)
        return len(self.kind) - 1

    def flat(self, color, noise: float = 0.04, shine: float = 0.0, emit: float = 0.0) -> int:
        """A nearly uniform colour with faint noise (paint, cloth, metal)."""
        return self.add(NOISE, color, color, params=(4.0, 4.0, 0.0, noise), shine=shine, emit=emit)

    def arrays(self) -> dict[str, np.ndarray]:
        """The materials as arrays per field, for the renderer."""
        return {'kind': np.array(self.kind, dtype=np.int32), 'colors': np.array(self.colors, dtype=np.float32),
                'params': np.array(self.params, dtype=np.float32), 'origin': np.array(self.origin, dtype=np.float32),
                'shine': np.array(self.shine, dtype=np.float32), 'emit': np.array(self.emit, dtype=np.float32),
                'detail': np.zeros(len(self.kind), dtype=np.float32)}   # presets.draw_surface_detail sets it


def planar_coords(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates on the plane the normal mostly faces: ground (x, y); walls (along, z)."""
    a = np.abs(n)
    ground = a[:, 2] >= np.maximum(a[:, 0], a[:, 1])
    along = np.where(a[:, 0] >= a[:, 1], p[:, 1], p[:, 0])
    return np.where(ground, p[:, 0], along), np.where(ground, p[:, 1], p[:, 2])


def _texel_fade(fp, texels_per_m):
    """Weight of detail at `texels_per_m` on a surface a pixel covers `fp` metres of: 1 while a texel spans two
    pixels or more, fading to 0 once a pixel covers 1.5 texels (finer detail would alias).
    """
    return np.clip(1.5 - fp * texels_per_m, 0.0, 1.0)


def _noise_mix(c, par, u, v, fp):
    """Two-colour noise: par = (texels/m along u, along v, contrast, fine noise amplitude)."""
    su, sv, contrast, fine = par[:, 0], par[:, 1], par[:, 2], par[:, 3]
    n1 = sample_noise(u * su * 0.25 + 31.0, v * sv * 0.25 + 17.0)
    t = np.clip(0.5 + contrast * n1, 0.0, 1.0)[:, None]
    col = c[:, 0] * (1 - t) + c[:, 1] * t
    grain = 1.0 + fine * _texel_fade(fp, np.maximum(su, sv)) * sample_noise(u * su, v * sv)
    return col * np.clip(grain, 0.2, None)[:, None]


def _tiles(c, par, u, v, fp, salt):
    """Slabs, blocks, bricks, planks: par = (period u, period v, row offset, joint width, cell variation,
    noise amplitude). c = (tile, joint, alternate tile colour).
    """
    pu, pv, offset, joint, var, amp = (par[:, k] for k in range(6))
    row = np.floor(v / pv)
    uu = u + offset * row * pu
    col = np.floor(uu / pu)
    h = hash01(col, row, salt)
    t = (h * var)[:, None]
    tile = (c[:, 0] * (1 - t) + c[:, 2] * t) * (1 + amp * sample_noise(u * 8.0, v * 8.0))[:, None]
    cover = np.maximum(_periodic_lines(uu, pu, joint / 2, fp), _periodic_lines(v, pv, joint / 2, fp))
    return tile * (1 - cover)[:, None] + c[:, 1] * cover[:, None]


def _facade(c, par, u, v, fp, salt):
    """Building walls: plaster or brick with a grid of windows and a ground floor of shop windows / doors.
    par = (bay width, floor height, window width fraction, window height fraction, ground floor height,
    brick (0/1), noise amplitude, shop windows (0/1)). c = (wall, window frame, glass).
    Returns (colour, glass mask).
    """
    bay, floor_h, wu, wv, ground_h, brick, amp, shop = (par[:, k] for k in range(8))
    wall = c[:, 0] * (1 + amp * sample_noise(u * 3.0, v * 3.0))[:, None]
    brick_cov = _periodic_lines(v, 0.075, 0.006, fp)
    wall = np.where((brick > 0)[:, None], wall * (1 - 0.35 * brick_cov)[:, None], wall)
    cell_u = np.floor(u / bay)
    fu = u / bay - cell_u - 0.5                                    # -0.5 .. 0.5 across the bay
    upper = v >= ground_h
    floor = np.floor((v - ground_h) / floor_h)
    fv = (v - ground_h) / floor_h - floor                          # 0 .. 1 up the floor
    v0 = 0.3 * (1 - wv)
    in_win = upper & (np.abs(fu) < wu / 2) & (fv > v0) & (fv < v0 + wv)
    frame_w = 0.07
    inner = upper & (np.abs(fu) * bay < wu * bay / 2 - frame_w) & ((fv - v0) * floor_h > frame_w) \
        & ((v0 + wv - fv) * floor_h > frame_w)
    # Ground floor: wide shop windows or the same windows, and a door in some bays.
    door = (~upper) & (np.abs(fu) < 0.6 / bay) & (v < 2.2) & (hash01(cell_u, -1.0, salt) < 0.3)
    shop_win = (~upper) & (shop > 0) & (np.abs(fu) < 0.42) & (v > 0.6) & (v < ground_h - 0.5)
    plain_win = (~upper) & (shop <= 0) & (np.abs(fu) < wu / 2) & (v > 1.0) & (v < ground_h - 0.6)
    glass = (inner | shop_win | plain_win) & ~door
    frame = in_win & ~inner
    tint = 0.55 + 0.9 * hash01(cell_u, floor, salt + 1.0)
    out = np.where(frame[:, None], c[:, 1], wall)
    out = np.where(glass[:, None], c[:, 2] * tint[:, None], out)
    out = np.where(door[:, None], c[:, 2] * 0.6 + c[:, 1] * 0.2, out)
    return out, glass


def _stripes(c, par, u, v, fp):
    """Bands of two colours at any angle: par = (period m, angle rad, duty 0..1, noise amplitude)."""
    period, angle, duty, amp = (par[:, k] for k in range(4))
    coord = u * np.cos(angle) + v * np.sin(angle)
    # Footprint along the band direction is at most fp; the box filter fades bands to their mean far away.
    cover = _periodic_lines(coord, period, duty * period / 2, fp)[:, None]
    col = c[:, 0] * (1 - cover) + c[:, 1] * cover
    return col * (1 + amp * sample_noise(u * 4.0, v * 4.0))[:, None]


def _print(c, par, u, v, fp, salt):
    """A printed sheet of `cells_u` x `cells_v` cells of `cell` metres from the material's origin, paper around it:
    par = (cell, cells_u, cells_v, style index in PRINT_STYLES). `tags`: each cell a fiducial tag (a black square
    ring around 6 x 6 random bits in a white margin, as AprilTag or ArUco boards); `checker`: a calibration
    checkerboard; `poster`: blocks of the three colours. c = (ink, paper, accent). Detail finer than a pixel fades
    to its mean: a tag's bits first (a grey square in the white margin is left), then the cells.
    """
    cell, nu, nv, style = (par[:, k] for k in range(4))
    cu, cv = u / cell, v / cell
    inside = (cu >= 0) & (cu < nu) & (cv >= 0) & (cv < nv)
    iu, iv = np.floor(cu), np.floor(cv)
    # Tags: position within the tag in tenths of a cell; 0 and 9 margin, 1 and 8 border, 2..7 bits.
    su, sv = np.floor((cu - iu) * _TAG_CELLS), np.floor((cv - iv) * _TAG_CELLS)
    ring = np.minimum(np.minimum(su, sv), np.minimum(_TAG_CELLS - 1 - su, _TAG_CELLS - 1 - sv))
    bits = hash01(iu * _TAG_CELLS + su, iv * _TAG_CELLS + sv, salt) < 0.5
    keep_bits, keep_cells = _texel_fade(fp, _TAG_CELLS / cell), _texel_fade(fp, 1 / cell)
    tag = ((ring == 1) | ((ring >= 2) & bits)) * keep_bits + np.where(ring >= 1, _TAG_INSIDE_INK, 0) * (1 - keep_bits)
    tag = tag * keep_cells + _TAG_INK * (1 - keep_cells)
    checker = (np.mod(iu + iv, 2) == 0) * keep_cells + 0.5 * (1 - keep_cells)
    ink = np.where(inside, np.where(style == 0, tag, checker), 0.0)[:, None]
    sheet = c[:, 1] * (1 - ink) + c[:, 0] * ink
    block = hash01(iu, iv, salt + 7)[:, None]
    blocks = np.where(block < 1 / 3, c[:, 0], np.where(block < 2 / 3, c[:, 1], c[:, 2]))
    poster = blocks * keep_cells[:, None] + (c[:, 0] + c[:, 1] + c[:, 2]) / 3 * (1 - keep_cells[:, None])
    return np.where(((style == 2) & inside)[:, None], poster, sheet)


def _asphalt(c, par, p, origin, u_noise, v_noise, fp):
    """Road: asphalt with lane markings. par = (orientation 0: along y / 1: along x, half width, lane width,
    lanes, dash length, gap length, edge lines (0/1), centre style (0 dashed, 1 solid, 2 double),
    junction start, junction end, zebra (0/1), line half width). c = (asphalt, white paint, centre paint).
    """
    orient, hw, lane_w, lanes, dash, gap, edge, centre, j0, j1, zebra, lw = (par[:, k] for k in range(12))
    along = np.where(orient > 0, p[:, 0], p[:, 1])
    across = np.where(orient > 0, p[:, 1] - origin[:, 1], p[:, 0])
    base = c[:, 0] * (1 + 0.18 * sample_noise(u_noise * 0.6 + 90.0, v_noise * 0.6)
                      + 0.08 * _texel_fade(fp, 4) * sample_noise(u_noise * 5.0, v_noise * 5.0))[:, None]
    k = np.clip(np.rint((across + hw) / lane_w), 1, np.maximum(lanes - 1, 1))
    d = np.abs(across - (-hw + k * lane_w))
    is_centre = k == np.floor(lanes / 2)
    dashed = np.mod(along, dash + gap) < dash
    lane_cov = np.where(lanes > 1, line_coverage(d, lw, fp), 0.0) * np.where(is_centre & (centre > 0), 1.0, dashed)
    double = is_centre & (centre > 1)
    lane_cov = np.where(double, line_coverage(np.abs(d - 0.12), lw, fp), lane_cov)
    edge_cov = np.where(edge > 0, line_coverage(np.abs(hw - 0.3 - np.abs(across)), lw, fp), 0.0)
    in_junction = (along > j0) & (along < j1) & (j1 > j0)
    zebra_zone = (zebra > 0) & (j1 > j0) & (((along > j0 - 4.5) & (along < j0 - 1.0))
                                            | ((along > j1 + 1.0) & (along < j1 + 4.5)))
    zebra_cov = np.where(zebra_zone & (np.abs(across) < hw - 0.2),
                         _periodic_lines(across + 0.5, 1.0, 0.25, fp), 0.0)
    wear = np.clip(0.85 + 0.3 * sample_noise(along * 2.0, across * 2.0), 0.3, 1.0)
    white = np.where(in_junction | zebra_zone, 0.0, np.maximum(np.where(is_centre, 0.0, lane_cov), edge_cov))
    white = np.maximum(white, zebra_cov) * wear
    yellow = np.where(in_junction | zebra_zone | ~is_centre, 0.0, lane_cov) * wear
    out = base * (1 - white - yellow)[:, None] + c[:, 1] * white[:, None] + c[:, 2] * yellow[:, None]
    return out


# Texel frequencies (per metre: 11 cm down to 1.6 mm) of the fine surface detail. Each octave fades as a pixel
# comes to cover its texels (`_texel_fade`), so at any distance the finest octaves a pixel resolves show, with
# equal amplitudes (a 1/f spectrum, as natural images have): how much detail a pixel shows no longer says how far
# its surface is.
_DETAIL_OCTAVES = (9.1, 37.0, 151.0, 613.0)


def _value_noise(u: np.ndarray, v: np.ndarray, salt: int) -> np.ndarray:
    """Bilinearly interpolated random values on the integer lattice, zero mean: detail at the texel scale only
    (the fractal `noise_texture` puts its power at the coarse end).
    """
    i, j = np.floor(u), np.floor(v)
    fu, fv = (u - i).astype(np.float32), (v - j).astype(np.float32)
    top = hash01(i, j, salt) * (1 - fu) + hash01(i + 1, j, salt) * fu
    bottom = hash01(i, j + 1, salt) * (1 - fu) + hash01(i + 1, j + 1, salt) * fu
    return (top * (1 - fv) + bottom * fv - np.float32(0.5)) * np.float32(2.0)


def _surface_detail(u, v, fp, amplitude):
    """Multiplicative albedo detail at every scale a pixel resolves: `amplitude` per material and hit point."""
    total = np.zeros(len(fp), dtype=np.float32)
    for k, f in enumerate(_DETAIL_OCTAVES):
        total += _texel_fade(fp, f) * _value_noise(u * f, v * f, 977 + k)
    return np.clip(1.0 + amplitude * total, 0.2, None)


def albedo(mats: dict[str, np.ndarray], m: np.ndarray, p: np.ndarray, n: np.ndarray, fp: np.ndarray):
    """Albedo (N,3 linear), shine (N,) and emission fraction (N,) of N hit points with materials m, unbent
    world positions p, world normals n and footprints fp (metres per pixel on the surface).
    """
    kind = mats['kind'][m]
    order = np.argsort(kind, kind='stable')
    bounds = np.searchsorted(kind[order], np.arange(N_KINDS + 1))
    out = np.empty((len(m), 3), dtype=np.float32)
    shine = mats['shine'][m]
    for k in range(N_KINDS):
        s = order[bounds[k]:bounds[k + 1]]
        if not len(s):
            continue
        ms = m[s]
        c, par, origin, f = mats['colors'][ms], mats['params'][ms], mats['origin'][ms], fp[s]
        ps = p[s]
        u, v = planar_coords(ps - origin, n[s])
        if k == NOISE:
            out[s] = _noise_mix(c, par, u, v, f)
        elif k == TILES:
            out[s] = _tiles(c, par, u, v, f, ms)
        elif k == FACADE:
            out[s], glass = _facade(c, par, u, v, f, ms)
            shine[s[glass]] = 0.35
        elif k == ASPHALT:
            out[s] = _asphalt(c, par, ps, origin, u, v, f)
        elif k == STRIPES:
            out[s] = _stripes(c, par, u, v, f)
        elif k == PRINT:
            out[s] = _print(c, par, u, v, f, ms)
        else:   # GLASS
            out[s] = c[:, 0]
        detail = mats['detail'][ms]
        if k != GLASS and detail.any():
            out[s] *= _surface_detail(u, v, f, detail)[:, None]
    return out, shine, mats['emit'][m]
