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

"""Ray-cast a scene into RGB and exact per-pixel ground truth.

One ray per pixel through its centre (pixel centres at integer coordinates), all cast in one call on open3d's
CPU `RaycastingScene`; a second cast from the lit hit points toward the sun gives shadows. Ground truth comes
from the first hit alone, so it is exact for the pixel centre:
  labels   Cityscapes train id of the hit triangle; 10 (sky) where nothing is hit within 150 m
  depth    z of the hit in the optical frame (not the ray length), metres; +inf on sky
  normals  the hit triangle's normal turned toward the camera, in the optical frame (x right, y down,
           z forward); all-zero on sky
The RGB image is shaded (sun with shadows, sky ambient; indoors ceiling lamps with inverse-square falloff and the
nearest lamp's shadows, and their bounce light less where ambient occlusion rays find something within 0.6 m;
specular and sky reflection on paint and glass, haze) and then goes through a simulated sensor (auto-exposure with
a random bias, white balance, vignetting, optional blur, tone curve, gamma, gaussian noise): none of that touches
the ground truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .presets import draw_free_pose, draw_surface_detail, FREE_POSE
from .presets import preset as preset_named
from .scene import Camera, generate, Lighting, MAX_DISTANCE_M, Scene
from .shapes import SKY
from .textures import albedo, sample_noise


@dataclass
class Frame:
    """One rendered (or loaded) sample."""

    rgb: np.ndarray          # H x W x 3 uint8
    labels: np.ndarray       # H x W uint8 Cityscapes train ids, 255 = ignore
    depth: np.ndarray        # H x W float32 metres, +inf on sky (taught as far), NaN = unknown
    normals: np.ndarray      # H x W x 3 float32 unit normals (optical frame, toward the camera), zero = invalid
    intrinsics: dict | None  # fx, fy, cx, cy
    camera: dict = field(default_factory=dict)   # the camera's parameters (Camera.as_dict()), when known
    seed: int | None = None
    scene: str | None = None     # the kind of place (`Scene.kind`), when known


@dataclass(frozen=True)
class Sensor:
    """What the camera does to the light: the defaults are a clean, neutral sensor."""

    key: float = 0.18                      # auto-exposure target for the log-average luminance
    ev_bias: float = 0.0                   # exposure error in stops
    white_balance: tuple = (1.0, 1.0, 1.0)
    gamma: float = 2.2
    vignette: float = 0.0                  # darkening in the corners, 0..1
    blur: float = 0.0                      # side weight of a 3-tap blur, 0..0.25
    noise_dn: float = 0.0                  # gaussian noise, 8-bit levels
    noise_seed: int = 0

    @classmethod
    def random(cls, rng: np.random.Generator) -> 'Sensor':
        """A random sensor of a real camera (exposure, white balance, vignette, blur, noise)."""
        wb = np.exp(rng.normal(0, 0.05, 3))
        return cls(float(rng.uniform(0.13, 0.25)), float(rng.normal(0, 0.35)), tuple(wb / wb.mean()),
                   float(rng.uniform(1.9, 2.5)), float(rng.uniform(0, 0.35)),
                   float(rng.uniform(0.08, 0.22)) if rng.random() < 0.35 else 0.0,
                   float(rng.uniform(0.5, 4.0)), int(rng.integers(2 ** 31)))


def sky_radiance(light: Lighting, d: np.ndarray) -> np.ndarray:
    """Linear radiance of the sky in unit directions d (N, 3): horizon-to-zenith gradient, sun glow, clouds."""
    z = d[:, 2]
    horizon = np.asarray(light.horizon_rgb, dtype=np.float32)
    k = (1.0 - (1.0 - np.clip(z, 0.0, 1.0)) ** 3)[:, None]
    col = horizon * (1 - k) + np.asarray(light.zenith_rgb, dtype=np.float32) * k
    col = np.where((z < 0)[:, None], horizon * 0.85, col)
    sun = np.asarray(light.sun_dir, dtype=np.float32)
    c = np.clip(d @ (sun / np.linalg.norm(sun)), 0.0, 1.0)
    glow = c ** 16
    col += np.asarray(light.sun_rgb, dtype=np.float32) * (0.08 * glow + 0.5 * (glow ** 94))[:, None]
    if light.clouds > 0:
        up = np.maximum(z, 0.02)
        n = sample_noise(d[:, 0] / up * 6.0 + 50.0, d[:, 1] / up * 6.0)
        cover = np.clip((n + 1.6 * light.clouds - 0.8) * 1.5, 0.0, 1.0) * np.clip(z * 6.0, 0.0, 1.0)
        shade = 0.85 + 0.15 * sample_noise(d[:, 0] / up * 20.0, d[:, 1] / up * 20.0 + 9.0)
        col = col * (1 - cover[:, None]) + np.asarray(light.cloud_rgb, dtype=np.float32) * (shade * cover)[:, None]
    return col


LAMPS_LIT = 64     # the lamps that light an indoor frame, those nearest the camera (`_lamp_light`)


def _raycaster(scene: Scene):
    import open3d as o3d  # imported here so that `import vision_banana_ros.world` stays light
    caster = o3d.t.geometry.RaycastingScene()
    caster.add_triangles(o3d.core.Tensor.from_numpy(np.ascontiguousarray(scene.vertices, dtype=np.float32)),
                         o3d.core.Tensor.from_numpy(np.ascontiguousarray(scene.triangles, dtype=np.uint32)))
    return caster, o3d.core.Tensor


def render(scene: Scene, camera: Camera, sensor: Sensor = Sensor(), shadows: bool = True,
           nthreads: int = 1) -> Frame:
    """Render `scene` seen by `camera`; `nthreads` = 0 lets open3d use every core."""
    w, h = camera.width, camera.height
    caster, tensor = _raycaster(scene)
    uu, vv = np.meshgrid(((np.arange(w) - camera.cx) / camera.fx).astype(np.float32),
                         ((np.arange(h) - camera.cy) / camera.fy).astype(np.float32))
    rot = camera.rotation.astype(np.float32)
    dirs = np.stack([uu, vv, np.ones_like(uu)], -1).reshape(-1, 3) @ rot.T      # optical z = 1: t_hit is depth
    origin = camera.position.astype(np.float32)
    rays = np.concatenate([np.broadcast_to(origin, dirs.shape), dirs], 1)
    out = caster.cast_rays(tensor.from_numpy(rays), nthreads=nthreads)
    t = out['t_hit'].numpy()
    length = np.sqrt(np.einsum('ij,ij->i', dirs, dirs))
    hit = np.isfinite(t) & (t * length <= MAX_DISTANCE_M)
    idx = np.nonzero(hit)[0]
    prim = out['primitive_ids'].numpy()[idx].astype(np.int64)

    labels = np.full(h * w, SKY, dtype=np.uint8)
    labels[idx] = scene.tri_label[prim]
    depth = np.full(h * w, np.inf, dtype=np.float32)
    depth[idx] = t[idx]
    n = out['primitive_normals'].numpy()[idx]
    d = dirs[idx] / length[idx, None]
    facing = np.einsum('ij,ij->i', n, d)
    n = n * np.where(facing > 0, -1.0, 1.0).astype(np.float32)[:, None]
    n /= np.sqrt(np.einsum('ij,ij->i', n, n))[:, None]
    normals = np.zeros((h * w, 3), dtype=np.float32)
    normals[idx] = n @ rot                                                      # world -> optical

    # ---- shading ------------------------------------------------------------------------------------
    light = scene.lighting
    dist = t[idx] * length[idx]
    p = origin + dirs[idx] * t[idx, None]
    p_tex = p
    if scene.curve:
        p_tex = p.copy()
        p_tex[:, 0] -= scene.bend_offset(p[:, 1])
    cos = np.abs(facing)
    footprint = dist / np.float32(camera.fx) / np.maximum(cos, 0.15)
    alb, shine, emit = albedo(scene.materials, scene.tri_material[prim], p_tex, n, footprint)
    sun = np.asarray(light.sun_dir, dtype=np.float32)
    sun /= np.linalg.norm(sun)
    ndl = n @ sun
    lit = ndl > 0
    if shadows:
        test = np.nonzero(lit)[0]
        if len(test):
            shadow_rays = np.concatenate([p[test] + n[test] * 0.02, np.broadcast_to(sun, (len(test), 3))], 1)
            occluded = caster.test_occlusions(tensor.from_numpy(shadow_rays), nthreads=nthreads).numpy()
            lit[test[occluded]] = False
    sun_rgb = np.asarray(light.sun_rgb, dtype=np.float32)
    direct = np.where(lit, ndl, 0.0).astype(np.float32)
    ambient_rgb = np.asarray(light.ambient_rgb, dtype=np.float32)
    if light.lamps:     # indoors the lamps' light bounces off every surface: it reaches a ceiling as a floor
        ambient = (_lamp_light(p, n, light, origin, caster, tensor, nthreads)
                   + 0.8 * _unoccluded(p, n, caster, tensor, nthreads)[:, None] * ambient_rgb)
    else:               # outdoors the sky lights from above
        ambient = (0.6 + 0.4 * n[:, 2:3]) * ambient_rgb
    color = alb * (direct[:, None] * sun_rgb + ambient + (0.04 * sun[2]) * (1.0 - n[:, 2:3]) * sun_rgb)
    color += alb * (emit * 3.0)[:, None]
    # Paint and glass: a sun highlight and the sky mirrored, stronger at grazing angles (Schlick-like).
    shiny = np.nonzero(shine > 0)[0]
    if len(shiny):
        ns, ds = n[shiny], d[shiny]
        fresnel = shine[shiny] * (0.25 + 0.75 * (1 - cos[shiny]) ** 5)
        reflect = ds - 2 * (ds * ns).sum(1, keepdims=True) * ns
        half = sun - ds
        half /= np.linalg.norm(half, axis=1, keepdims=True)
        highlight = shine[shiny] * lit[shiny] * np.maximum((ns * half).sum(1), 0) ** 80 * 4.0
        env = sky_radiance(light, reflect) * np.where(reflect[:, 2] < 0, 0.4, 1.0)[:, None]
        color[shiny] = (color[shiny] * (1 - fresnel)[:, None] + fresnel[:, None] * env
                        + highlight[:, None] * sun_rgb)
    haze = (1.0 - np.exp(-dist / np.float32(light.fog_m)))[:, None]
    color = color * (1 - haze) + np.asarray(light.horizon_rgb, dtype=np.float32) * haze

    image = np.empty((h * w, 3), dtype=np.float32)
    image[idx] = color
    sky = np.nonzero(~hit)[0]
    image[sky] = sky_radiance(light, dirs[sky] / length[sky, None])
    rgb = _sensor(image.reshape(h, w, 3), sensor)
    return Frame(rgb, labels.reshape(h, w), depth.reshape(h, w), normals.reshape(h, w, 3), camera.intrinsics,
                 camera.as_dict(), scene=scene.kind)


def _lamp_light(p: np.ndarray, n: np.ndarray, light: Lighting, camera_position: np.ndarray, caster, tensor,
                nthreads: int) -> np.ndarray:
    """Linear radiance (N, 3) that ceiling lamps shed on points `p` with normals `n`: each lamp a small panel
    shining down (cosine at the lamp and at the surface, inverse-square falloff softened within 0.5 m), the nearest
    lamp's light blocked where something stands between (one shadow ray per point: the shadow that shows). Only
    the LAMPS_LIT lamps nearest the camera shine (a warehouse has hundreds), so the far end of a hall is dimmer.
    """
    lamps = np.asarray(light.lamps, dtype=np.float32)
    lamps = lamps[np.argsort(((lamps - camera_position) ** 2).sum(1))[:LAMPS_LIT]]
    total, nearest = np.empty(len(p), dtype=np.float32), np.empty(len(p), dtype=np.int64)
    for start in range(0, len(p), 8192):    # (points x lamps) blocks through matrix products
        q, m = p[start:start + 8192], n[start:start + 8192]
        d2 = np.maximum((q * q).sum(1)[:, None] - 2 * q @ lamps.T + (lamps * lamps).sum(1)[None], 1e-6)
        towards = np.maximum(m @ lamps.T - (m * q).sum(1)[:, None], 0.0)     # n . (lamp - p)
        below = np.maximum(lamps[None, :, 2] - q[:, 2:3], 0.0)               # the panel faces down
        total[start:start + 8192] = (towards * below / d2 / (d2 + 0.25)).sum(1)
        nearest[start:start + 8192] = d2.argmin(1)
    # The nearest lamp's share, removed where its shadow ray (stopping short of the panel) hits something.
    to_nearest = lamps[nearest] - p
    d2 = np.einsum('ij,ij->i', to_nearest, to_nearest)
    share = (np.maximum(np.einsum('ij,ij->i', n, to_nearest), 0.0) * np.maximum(to_nearest[:, 2], 0.0) / d2
             / (d2 + 0.25))
    rays = np.concatenate([p + n * 0.02, to_nearest], 1).astype(np.float32)
    blocked = caster.test_occlusions(tensor.from_numpy(rays), tnear=0.0, tfar=0.98, nthreads=nthreads).numpy()
    total -= np.where(blocked, share, 0.0)
    return np.maximum(total, 0.0)[:, None] * np.asarray(light.lamp_rgb, dtype=np.float32)


def _unoccluded(p: np.ndarray, n: np.ndarray, caster, tensor, nthreads: int, rays: int = 6,
                reach_m: float = 0.6) -> np.ndarray:
    """Ambient occlusion: the share of `rays` cosine-distributed directions around each normal that leave
    within `reach_m` unblocked (corners, the floor under a table and the gaps between boxes get less bounce light).
    The directions are a fixed pattern turned into each normal's frame, so the image has no random speckle.
    """
    k = np.arange(rays, dtype=np.float32)
    radius, angle = np.sqrt((k + 0.5) / rays), k * np.float32(2.39996)     # golden-angle disc, cosine-weighted
    local = np.stack([radius * np.cos(angle), radius * np.sin(angle), np.sqrt(1 - radius ** 2)], 1)
    helper = np.where(np.abs(n[:, 2:3]) < 0.9, np.float32([0, 0, 1]), np.float32([1, 0, 0]))
    tangent = np.cross(helper, n)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    bitangent = np.cross(n, tangent)
    free = np.zeros(len(p), dtype=np.float32)
    for x, y, z in local:
        direction = (tangent * x + bitangent * y + n * z) * np.float32(reach_m)
        test = np.concatenate([p + n * 0.01, direction], 1).astype(np.float32)
        free += ~caster.test_occlusions(tensor.from_numpy(test), tnear=0.0, tfar=1.0, nthreads=nthreads).numpy()
    return 0.3 + 0.7 * free / rays


def _sensor(image: np.ndarray, s: Sensor) -> np.ndarray:
    """Linear radiance H x W x 3 -> 8-bit RGB as a camera would record it."""
    h, w, _ = image.shape
    image = image * np.asarray(s.white_balance, dtype=np.float32)
    lum = image @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    exposure = s.key / np.exp(np.mean(np.log(lum + 1e-4))) * 2.0 ** s.ev_bias
    if s.vignette:
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] ** 2
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] ** 2
        image = image * (1 - s.vignette * (xx + yy) / 2)[..., None]
    if s.blur:
        b = s.blur
        pad = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode='edge')
        image = b * pad[:-2, 1:-1] + (1 - 2 * b) * pad[1:-1, 1:-1] + b * pad[2:, 1:-1]
        pad = np.pad(image, ((0, 0), (1, 1), (0, 0)), mode='edge')
        image = b * pad[:, :-2] + (1 - 2 * b) * pad[:, 1:-1] + b * pad[:, 2:]
    # Radiance is never negative; rounding in near-black textures can make it -1e-7, whose root would be NaN.
    image = np.maximum(image, 0.0)
    out = (1.0 - np.exp(image * np.float32(-exposure * 1.1))) ** np.float32(1.0 / s.gamma) * np.float32(255.0)
    if s.noise_dn:
        out += np.random.default_rng(s.noise_seed).standard_normal(out.shape, dtype=np.float32) * s.noise_dn
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def render_frame(seed: int, width: int = 320, height: int = 240, *, noise: bool = True, shadows: bool = True,
                 preset: str = 'street', **overrides) -> Frame:
    """A random street scene from `seed` (same seed, size, preset and options -> identical arrays). `preset`:
    street, wide, holdout, indoor or reach (`world.presets`). `noise=False` renders through a clean sensor (same scene
    and ground truth). Overrides fix camera parameters (fov_deg, height_m, pitch_deg, roll_deg, yaw_deg, x_m), or give
    a (low, high) range to draw one of the first five from, or set scene options (curve, junction, traffic): see
    `scene.generate`. Every preset but street turns a share of the cameras freely (`presets.draw_free_pose`) unless
    the pitch or roll is overridden.
    """
    if int(seed) < 0:
        raise ValueError(f'seed must be non-negative, got {seed}')
    rng = np.random.default_rng(int(seed))
    kind = preset_named(preset)
    # Also from a stream of its own. A caller who fixes or ranges the pitch or roll describes a mounting: theirs stays.
    if kind.free_pose and not FREE_POSE.keys() & overrides.keys():
        overrides = {**overrides, **draw_free_pose(kind.free_pose, np.random.default_rng((int(seed), 2)))}
    scene, camera = generate(rng, width, height, preset, **overrides)
    amplitude = kind.surface_detail
    if amplitude:   # drawn from a stream of its own, so that the frame's other draws stay as they were
        draw_surface_detail(scene.materials, amplitude, np.random.default_rng((int(seed), 1)))
    sensor = Sensor.random(rng)
    frame = render(scene, camera, sensor if noise else Sensor(), shadows=shadows)
    frame.seed = int(seed)
    return frame
