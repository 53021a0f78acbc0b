"""Synthetic Quick, Draw!-style bitmaps, drawn from procedurally generated pen strokes.

Each class is a family of stroke drawings (a circle, a house, a spiral, ...).
Every drawing is varied the way people draw (position, size, rotation, aspect,
wobbly lines, corners that miss, strokes left out, stray strokes), scaled to
fill the box, and rasterised like the official ``numpy_bitmap`` files: white
anti-aliased strokes about two pixels wide on a black 28 x 28 background,
flattened to 784 ``uint8`` values.

Floats only go through ``+ - * /``, ``sqrt`` and rounding, and the random
numbers come from :func:`numpy.random.default_rng`, so one seed gives
byte-identical images on every machine (numpy's SIMD ``sin``/``cos`` can differ
in the last bit between CPUs, so this module computes its own).
"""

import numpy as np

SIZE = 28
"""Side of the output bitmaps in pixels."""

_SS = 4                      # strokes are drawn on a (4*28)^2 grid, then box-averaged
_GRID = SIZE * _SS

# How much the drawings vary. Unit drawing coordinates span about -1..1, y down.
_ROTATION = 0.30             # radians, uniform +-
_STRETCH = 0.20              # x and y scaled by 1 +- this, independently
_SHEAR = 0.15                # uniform +-
_VERTEX_JITTER = 0.07        # per vertex, uniform +-
_STROKE_SHIFT = 0.06         # per stroke, uniform +-
_END_EXTEND = (-0.20, 0.30)  # fraction of a stroke's end segment added (<0: stops short)
_WARP = (0.03, 0.12)         # amplitude of the smooth random wobble field
_WARP_FREQ = (0.6, 2.2)      # its spatial frequency, radians per unit
_EXTRA_STROKE = 0.15         # probability of one stray stroke
_FILL = (0.93, 1.00)         # longest side as a fraction of the box
_PLACE = 0.2                 # position in the free room: centred +- this fraction of it
_RADIUS = (0.70, 1.20)       # stroke half-width, 28 x 28 pixels
_MARGIN = 1.0                # empty border, 28 x 28 pixels
_SPACING = 0.6               # distance between stamped pen positions, in radii

_HALF_PI = 1.5707963267948966
_PI = 3.141592653589793
_TWO_PI = 6.283185307179586
_SIN_TAYLOR = (1 / 6227020800, -1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6, 1.0)


def _sin(x):
    """Sine from arithmetic only (bit-identical everywhere), error below 1e-9."""
    x = np.asarray(x, dtype=np.float64)
    x = x - _TWO_PI * np.rint(x / _TWO_PI)
    x = np.where(x > _HALF_PI, _PI - x, x)
    x = np.where(x < -_HALF_PI, -_PI - x, x)
    x2 = x * x
    total = np.zeros_like(x)
    for coef in _SIN_TAYLOR:
        total = total * x2 + coef
    return x * total


def _cos(x):
    """Cosine from arithmetic only, see :func:`_sin`."""
    return _sin(np.asarray(x, dtype=np.float64) + _HALF_PI)


# ----------------------------------------------------------------------------- shape families
# Each family takes (rng, n) and returns a list of strokes (points, drop_probability):
# points has shape (n, m, 2) in unit coordinates (x right, y down), one polyline per image.

def _u(rng, n, low, high):
    """n uniform numbers as a column, ready to broadcast against vertices."""
    return rng.uniform(low, high, n)[:, None]


def _poly(n, *xy):
    """Stack (x, y) vertices, each coordinate a scalar or an (n, 1) column, into (n, m, 2)."""
    def column(value):
        return np.broadcast_to(value, (n, 1))[:, 0]
    return np.stack([np.stack([column(x), column(y)], -1) for x, y in xy], axis=1)


def _arc(cx, cy, rx, ry, start, sweep, m, drift=0.0):
    """Elliptic arcs from angle start over sweep, radius growing by (1 + drift*t)."""
    t = np.linspace(0.0, 1.0, m)[None, :]
    angle = start + sweep * t
    grow = 1.0 + drift * t
    return np.stack([cx + rx * grow * _cos(angle), cy + ry * grow * _sin(angle)], -1)


def _rotate(points, angle):
    """Rotate (n, m, 2) points about the origin by per-image angles of shape (n, 1)."""
    c, s = _cos(angle), _sin(angle)
    x, y = points[..., 0], points[..., 1]
    return np.stack([c * x - s * y, s * x + c * y], -1)


def _closed_polygon(rng, corners):
    """Close (n, k, 2) corners into a polyline that starts at a random corner."""
    n, k, _ = corners.shape
    order = (rng.integers(0, k, n)[:, None] + np.arange(k + 1)[None, :]) % k
    return np.take_along_axis(corners, order[..., None], axis=1)


def _circle(rng, n):
    """A circle or ellipse in one stroke that may not close or may overlap."""
    sweep = _u(rng, n, 0.88, 1.12) * _TWO_PI * np.where(rng.random((n, 1)) < 0.5, -1, 1)
    return [(_arc(0, 0, _u(rng, n, 0.85, 1), _u(rng, n, 0.85, 1), _u(rng, n, 0, _TWO_PI),
                  sweep, 28, _u(rng, n, -0.12, 0.12)), 0.0)]


def _square(rng, n):
    """A square or rectangle in one stroke, started at any corner."""
    w, h = 1.0, _u(rng, n, 0.8, 1.2)
    corners = _poly(n, (-w, -h), (w, -h), (w, h), (-w, h))
    return [(_closed_polygon(rng, corners), 0.0)]


def _triangle(rng, n):
    """A triangle, apex up, in one stroke started at any corner."""
    apex = _u(rng, n, -0.35, 0.35)
    corners = _poly(n, (apex, -1.0), (1.0, 1.0), (-1.0, 1.0))
    return [(_closed_polygon(rng, corners), 0.0)]


def _star(rng, n):
    """A five-pointed star: the outline, or a pentagram drawn without lifting the pen."""
    outer = np.broadcast_to(_arc(0, 0, 1.0, 1.0, -_HALF_PI, _TWO_PI * 0.8, 5), (n, 5, 2))
    inner = _arc(0, 0, 1.0, 1.0, _PI / 5 - _HALF_PI, _TWO_PI * 0.8, 5)
    inner = inner * _u(rng, n, 0.35, 0.5)[..., None]
    outline = np.stack([outer, inner], axis=2).reshape(n, 10, 2)
    outline = np.concatenate([outline, outline[:, :1]], axis=1)
    corners = outer[:, [0, 2, 4, 1, 3, 0]]
    middles = (corners[:, :-1] + corners[:, 1:]) / 2
    pentagram = np.concatenate([np.stack([corners[:, :-1], middles], 2).reshape(n, 10, 2),
                                corners[:, -1:]], axis=1)
    star = np.where(rng.random((n, 1, 1)) < 0.5, outline, pentagram)
    return [(_rotate(star, _u(rng, n, -0.3, 0.3)), 0.0)]


def _house(rng, n):
    """A house: walls, roof, often a ceiling line, a door and a window."""
    w, eave, roof = _u(rng, n, 0.7, 1.0), _u(rng, n, -0.2, 0.15), _u(rng, n, -1.0, -0.7)
    door_x, door_w, door_h = _u(rng, n, -0.45, 0.3), _u(rng, n, 0.15, 0.25), _u(rng, n, 0.3, 0.5)
    win_x, win_y, win_s = _u(rng, n, 0.1, 0.45), _u(rng, n, 0.15, 0.35), _u(rng, n, 0.12, 0.22)
    return [
        (_poly(n, (-w, eave), (-w, 1.0), (w, 1.0), (w, eave)), 0.0),
        (_poly(n, (-w - 0.15, eave + 0.05), (0.0, roof), (w + 0.15, eave + 0.05)), 0.05),
        (_poly(n, (-w, eave), (w, eave)), 0.5),
        (_poly(n, (door_x, 1.0), (door_x, 1.0 - door_h), (door_x + door_w, 1.0 - door_h),
               (door_x + door_w, 1.0)), 0.4),
        (_closed_polygon(rng, _poly(n, (win_x, win_y), (win_x + win_s, win_y),
                                    (win_x + win_s, win_y + win_s), (win_x, win_y + win_s))), 0.6),
    ]


def _envelope(rng, n):
    """An envelope: a wide rectangle with a flap, sometimes the lower folds."""
    h = _u(rng, n, 0.5, 0.8)
    tip = _u(rng, n, -0.1, 0.35) * h
    corners = _poly(n, (-1.0, -h), (1.0, -h), (1.0, h), (-1.0, h))
    return [
        (_closed_polygon(rng, corners), 0.0),
        (_poly(n, (-1.0, -h), (0.0, tip), (1.0, -h)), 0.08),
        (_poly(n, (-1.0, h), (0.0, tip * 0.2), (1.0, h)), 0.8),
    ]


def _smiley(rng, n):
    """A face: a circle, two eyes and a mouth (mostly smiling)."""
    face = _circle(rng, n)[0][0]
    eye_y, eye_dx, eye_h = _u(rng, n, -0.45, -0.2), _u(rng, n, 0.25, 0.45), _u(rng, n, 0.03, 0.18)
    mouth_y, mouth_r = _u(rng, n, -0.05, 0.15), _u(rng, n, 0.35, 0.6)
    happy = np.where(rng.random((n, 1)) < 0.85, 1.0, -1.0)
    mouth = _arc(0, mouth_y + (happy < 0) * 0.7, mouth_r, mouth_r * _u(rng, n, 0.5, 0.9),
                 _u(rng, n, 0.15, 0.5) * happy, (_PI - 0.6) * happy, 12)
    return [
        (face, 0.0),
        (_poly(n, (-eye_dx, eye_y), (-eye_dx, eye_y + eye_h)), 0.1),
        (_poly(n, (eye_dx, eye_y), (eye_dx, eye_y + eye_h)), 0.1),
        (mouth, 0.05),
    ]


def _spiral(rng, n):
    """A spiral of 1.6 to 2.8 turns, either way round."""
    turns = _u(rng, n, 1.6, 2.8)
    direction = np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    t = np.linspace(0.0, 1.0, 64)[None, :]
    radius = _u(rng, n, 0.0, 0.15) + (1.0 - 0.1) * t
    angle = _u(rng, n, 0, _TWO_PI) + direction * turns * _TWO_PI * t
    return [(np.stack([radius * _cos(angle), radius * _sin(angle)], -1), 0.0)]


def _zigzag(rng, n):
    """A horizontal zigzag with 4 to 9 corners."""
    m = 9
    count = rng.integers(4, m + 1, n)[:, None]
    index = np.minimum(np.arange(m)[None, :], count - 1)
    x = -1.0 + 2.0 * index / (count - 1)
    height = _u(rng, n, 0.25, 0.9)
    y = np.where(index % 2 == 0, -height, height) * (1.0 + rng.uniform(-0.2, 0.2, (n, m)))
    return [(np.stack([x, y], -1), 0.0)]


def _arrow(rng, n):
    """An arrow (shaft and head) pointing in one of eight directions."""
    length, width = _u(rng, n, 0.3, 0.6), _u(rng, n, 0.25, 0.5)
    shaft = _poly(n, (-1.0, 0.0), (0.0, _u(rng, n, -0.08, 0.08)), (1.0, 0.0))
    head = _poly(n, (1.0 - length, -width), (1.0, 0.0), (1.0 - length, width))
    angle = rng.integers(0, 8, n)[:, None] * (_PI / 4) + _u(rng, n, -0.2, 0.2)
    return [(_rotate(shaft, angle), 0.0), (_rotate(head, angle), 0.0)]


def _lightning(rng, n):
    """A lightning bolt, top to bottom (extra family)."""
    dx, y1, y2 = _u(rng, n, 0.3, 0.6), _u(rng, n, -0.2, 0.1), _u(rng, n, -0.1, 0.2)
    bolt = _poly(n, (dx, -1.0), (-dx, y1), (dx, y2), (-dx, 1.0))
    return [(_rotate(bolt, _u(rng, n, -0.35, 0.35)), 0.0)]


def _plus(rng, n):
    """A plus sign, sometimes turned into an x (extra family)."""
    a, b = _u(rng, n, -0.15, 0.15), _u(rng, n, -0.15, 0.15)
    strokes = [_poly(n, (-1.0, a), (1.0, -a)), _poly(n, (b, -1.0), (-b, 1.0))]
    angle = np.where(rng.random((n, 1)) < 0.3, _PI / 4, 0.0)
    return [(_rotate(s, angle), 0.0) for s in strokes]


_FAMILIES = {
    "circle": _circle, "square": _square, "triangle": _triangle, "star": _star,
    "house": _house, "envelope": _envelope, "smiley": _smiley, "spiral": _spiral,
    "zigzag": _zigzag, "arrow": _arrow, "lightning": _lightning, "plus": _plus,
}

ALL_CLASS_NAMES = ("circle", "square", "triangle", "star", "house", "envelope", "smiley",
                   "spiral", "zigzag", "arrow", "lightning", "plus")
"""Every shape family that :func:`generate` can draw."""

CLASS_NAMES = ALL_CLASS_NAMES[:10]
"""The classes :func:`generate` draws by default, in label order."""


# ----------------------------------------------------------------------------- pen and paper

_CHUNK = 512                 # images drawn per batch (bounds memory; part of the seed scheme)


def _scribble(rng, n):
    """One stray stroke of three vertices per image."""
    start = rng.uniform(-1.0, 1.0, (n, 1, 2))
    step1, step2 = rng.uniform(-0.5, 0.5, (2, n, 1, 2))
    return np.concatenate([start, start + step1, start + step1 + step2], axis=1)


def _vary_stroke(rng, points):
    """Jitter a stroke's vertices, shift it, let its ends overshoot or stop short, and
    put a vertex in the middle of every segment so that the wobble can bend it."""
    n, m, _ = points.shape
    seg = np.diff(points, axis=1)
    seg_len = np.sqrt(seg[..., 0] * seg[..., 0] + seg[..., 1] * seg[..., 1])
    near = np.maximum(np.pad(seg_len, ((0, 0), (1, 0))), np.pad(seg_len, ((0, 0), (0, 1))))
    jitter = _VERTEX_JITTER * np.minimum(1.0, near / 0.6)[..., None]
    points = (points + jitter * rng.uniform(-1.0, 1.0, (n, m, 2))
              + rng.uniform(-_STROKE_SHIFT, _STROKE_SHIFT, (n, 1, 2)))
    extend = rng.uniform(*_END_EXTEND, (n, 2, 1))
    points[:, 0] += extend[:, 0] * (points[:, 0] - points[:, 1])
    points[:, -1] += extend[:, 1] * (points[:, -1] - points[:, -2])
    dense = np.empty((n, 2 * m - 1, 2))
    dense[:, ::2] = points
    dense[:, 1::2] = (points[:, :-1] + points[:, 1:]) / 2
    return dense


def _wobble_and_tilt(rng, v):
    """Bend (n, t, 2) vertices with a smooth random displacement field, then rotate,
    stretch and shear each drawing."""
    n = len(v)
    amp = rng.uniform(*_WARP, (n, 1, 2))
    freq = rng.uniform(*_WARP_FREQ, (n, 1, 2))
    heading = rng.uniform(0.0, _TWO_PI, (n, 1, 2))
    phase = rng.uniform(0.0, _TWO_PI, (n, 1, 2))
    wave = freq * (_cos(heading) * v[..., :1] + _sin(heading) * v[..., 1:]) + phase
    v = v + amp * _sin(wave)
    angle = rng.uniform(-_ROTATION, _ROTATION, (n, 1))
    stretch = rng.uniform(1.0 - _STRETCH, 1.0 + _STRETCH, (n, 1, 2))
    shear = rng.uniform(-_SHEAR, _SHEAR, (n, 1))
    v = _rotate(v, angle) * stretch
    return np.stack([v[..., 0] + shear * v[..., 1], v[..., 1]], -1)


def _fit_to_grid(rng, v, ok, radius):
    """Scale and place each drawing so its longest side nearly fills the grid."""
    n = len(v)
    low = np.where(ok[..., None], v, np.inf).min(axis=1)
    high = np.where(ok[..., None], v, -np.inf).max(axis=1)
    extent = high - low
    border = _MARGIN * _SS + radius[:, None]
    room = _GRID - 2.0 * border
    longest = np.maximum(extent.max(axis=1, keepdims=True), 1e-6)
    scale = rng.uniform(*_FILL, (n, 1)) * room / longest
    place = 0.5 + rng.uniform(-_PLACE, _PLACE, (n, 2))
    offset = border + place * (room - extent * scale) - low * scale
    return v * scale[:, None] + offset[:, None]


def _pen_positions(v, seg_ok, radius):
    """Points every _SPACING radii along every drawn segment, with their image index."""
    n, t, _ = v.shape
    image = np.broadcast_to(np.arange(n)[:, None], (n, t - 1))[seg_ok]
    start, delta = v[:, :-1][seg_ok], np.diff(v, axis=1)[seg_ok]
    length = np.sqrt(delta[:, 0] * delta[:, 0] + delta[:, 1] * delta[:, 1])
    steps = np.maximum(np.ceil(length / (_SPACING * radius[image])), 1).astype(np.int64)
    seg = np.repeat(np.arange(len(steps)), steps + 1)
    first = np.cumsum(steps + 1) - (steps + 1)
    frac = (np.arange(len(seg)) - first[seg]) / steps[seg]
    return start[seg] + frac[:, None] * delta[seg], image[seg]


def _disc(radius):
    """Integer (dy, dx) offsets of the cells within radius of a cell."""
    r = int(np.floor(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    inside = dy * dy + dx * dx <= radius * radius
    return dy[inside], dx[inside]


def _rasterise(points, image, radius, n):
    """Stamp a disc at each pen position on the supersampled grid, then box-average
    it down to 28 x 28 (the anti-aliasing) and scale to 0..255."""
    cells = np.floor(points).astype(np.int64)
    level = np.rint(radius * 2.0) / 2.0
    grid = np.zeros(n * _GRID * _GRID, dtype=bool)
    for r in np.unique(level):
        dy, dx = _disc(r)
        pick = level[image] == r
        reach = int(np.floor(r))
        yx = np.clip(cells[pick], reach, _GRID - 1 - reach)
        base = image[pick] * (_GRID * _GRID) + yx[:, 1] * _GRID + yx[:, 0]
        grid[(base[:, None] + (dy * _GRID + dx)[None, :]).ravel()] = True
    rows = grid.view(np.uint8).reshape(n, SIZE, _SS, _GRID)
    rows = sum(rows[:, :, i] for i in range(_SS)).reshape(n, SIZE, SIZE, _SS)  # adds are faster
    cover = sum(rows[..., i] for i in range(_SS)).astype(np.uint16)           # than .sum(axis)
    full = _SS * _SS
    return ((cover * 255 + full // 2) // full).astype(np.uint8).reshape(n, SIZE * SIZE)


def _draw(family, rng, n):
    """Draw n images of one shape family as (n, 784) uint8."""
    strokes = family(rng, n) + [(_scribble(rng, n), 1.0 - _EXTRA_STROKE)]
    vertices, vertex_ok, segment_ok = [], [], []
    for points, drop in strokes:
        kept = rng.random(n) >= drop
        points = _vary_stroke(rng, points)
        ok = np.repeat(kept[:, None], points.shape[1], axis=1)
        vertices.append(points)
        vertex_ok.append(ok)
        ok = ok.copy()
        ok[:, -1] = False
        segment_ok.append(ok)
    v = _wobble_and_tilt(rng, np.concatenate(vertices, axis=1))
    vertex_ok = np.concatenate(vertex_ok, axis=1)
    segment_ok = np.concatenate(segment_ok, axis=1)[:, :-1]
    radius = rng.uniform(*_RADIUS, n) * _SS
    v = _fit_to_grid(rng, v, vertex_ok, radius)
    points, image = _pen_positions(v, segment_ok, radius)
    return _rasterise(points, image, radius, n)


def generate(n_per_class, *, seed=0, classes=None):
    """Draw a class-blocked synthetic Quick, Draw! data set.

    Parameters
    ----------
    n_per_class : int
        Images per class.
    seed : int, optional
        Non-negative seed. The same seed gives byte-identical output on every
        machine; different seeds give different drawings.
    classes : sequence of str, optional
        Shape families to draw, in label order (default :data:`CLASS_NAMES`;
        any of :data:`ALL_CLASS_NAMES`). A class draws the same images
        whichever other classes are asked for.

    Returns
    -------
    x : numpy.ndarray
        ``(n_per_class * k, 784)`` uint8 bitmaps, background 0, ink up to 255.
    y : numpy.ndarray
        ``(n_per_class * k,)`` int64 labels: all of class 0 first, then class 1, ...
    class_names : tuple of str
        The name of each label.
    """
    names = CLASS_NAMES if classes is None else tuple(classes)
    unknown = [name for name in names if name not in _FAMILIES]
    if unknown or len(set(names)) != len(names) or not names:
        raise ValueError(f"classes must be distinct names from {ALL_CLASS_NAMES}, got {names}")
    if int(n_per_class) != n_per_class or n_per_class < 0:
        raise ValueError(f"n_per_class must be a non-negative integer, got {n_per_class!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    n_per_class, seed = int(n_per_class), int(seed)
    x = np.empty((n_per_class * len(names), SIZE * SIZE), dtype=np.uint8)
    for label, name in enumerate(names):
        family = ALL_CLASS_NAMES.index(name)
        for first in range(0, n_per_class, _CHUNK):
            count = min(_CHUNK, n_per_class - first)
            rng = np.random.default_rng([seed, family, first // _CHUNK])
            row = label * n_per_class + first
            x[row:row + count] = _draw(_FAMILIES[name], rng, count)
    y = np.repeat(np.arange(len(names), dtype=np.int64), n_per_class)
    return x, y, names
