"""Draw an offline world map (SVG) from Natural Earth land outlines in TopoJSON.

The frontend shows the ISS on a world map without calling any tile server, so the
map is a static asset: ``frontend/webapp/static/world.svg``. This script is how
that file was made; it only needs the Python 3.11 standard library.

Input: ``land-110m.json`` from the npm package ``world-atlas@2`` (ISC licence),
which packages Natural Earth 1:110m land polygons (public domain) as TopoJSON.

Usage (from the repository root; world.svg was made from world-atlas 2.0.2)::

    (cd /tmp && npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz)
    python tools/draw_world_map.py /tmp/package/land-110m.json \\
        > frontend/webapp/static/world.svg

or, with ``npm install --prefix /tmp/wa world-atlas@2``, read the file from
``/tmp/wa/node_modules/world-atlas/land-110m.json`` instead.

Output: an equirectangular projection with ``viewBox="0 0 360 180"``, where
``x = longitude + 180`` and ``y = 90 - latitude``, so the ISS position can be
placed on top of it with the same two formulas. All land is a single
``<path id="land" class="land" fill="currentColor">`` that CSS can restyle.
Land that straddles 180 degrees longitude is cut at the map edge (see below).
"""

import json
import sys

# Coordinates are rounded to this many decimals (0.1 degree is about 11 km):
# plenty for a 110m-scale map, and it keeps the SVG small.
DECIMALS = 1


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Turn TopoJSON's quantized, delta-encoded arcs into lists of (lon, lat)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform is None:
            # Unquantized topology: positions are already absolute coordinates.
            arcs.append([(p[0], p[1]) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            # Each position is a delta from the previous one, in integer grid units...
            x += dx
            y += dy
            # ...and the grid maps back to degrees through scale and translate.
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(ring: list[int], arcs: list) -> list[tuple[float, float]]:
    """Stitch one polygon ring together from its arc indexes."""
    points: list[tuple[float, float]] = []
    for index in ring:
        # A negative index ~i (i.e. -i - 1) means arc i traversed backwards.
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Consecutive arcs share an end point: keep it only once.
        points.extend(arc[1:] if points else arc)
    return points


def polygons(geometry: dict) -> list[list[list[int]]]:
    """Return a geometry's polygons (each a list of rings of arc indexes)."""
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["arcs"]]
    if kind == "MultiPolygon":
        return geometry["arcs"]
    if kind == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in polygons(g)]
    return []  # points and lines are not land


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular projection onto the 360 x 180 viewBox."""
    return round(lon + 180, DECIMALS), round(90 - lat, DECIMALS)


def fmt(value: float) -> str:
    """Shortest text for a rounded number: 12.0 -> "12", 12.5 -> "12.5"."""
    text = f"{value + 0.0:.{DECIMALS}f}"  # "+ 0.0" turns -0.0 into 0.0
    return text.rstrip("0").rstrip(".") if "." in text else text


def cut_at_antimeridian(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Cut a closed ring where it crosses the antimeridian (+/-180 degrees longitude).

    world-atlas rings are "stitched" for spherical renderers such as d3-geo, so land
    that straddles 180 degrees (eastern Russia, Fiji, Wrangel Island, Antarctica) is
    one ring that jumps from about +180 to -180. On a flat map that jump would be a
    line across the whole world, so split the ring into pieces that each stay on
    one side, adding the point where each jump meets the map edge.
    """
    ring = points[:-1] if points[0] == points[-1] else points
    n = len(ring)
    # ring[i - 1] wraps round to the last point for i == 0.
    jumps = [i for i in range(n) if abs(ring[i][0] - ring[i - 1][0]) > 180]
    if not jumps:
        return [points]
    ring = ring[jumps[0] :] + ring[: jumps[0]]  # start just after a jump
    pieces: list[list[tuple[float, float]]] = [[]]
    for i, (lon, lat) in enumerate(ring):
        pieces[-1].append((lon, lat))
        next_lon, next_lat = ring[(i + 1) % n]
        if abs(next_lon - lon) > 180:
            # Leave through the edge on this side; shift the next point by 360 degrees
            # so it sits just beyond that edge, and interpolate where they cross it.
            edge = 180.0 if lon > 0 else -180.0
            beyond = next_lon + 360 if edge > 0 else next_lon - 360
            t = (edge - lon) / (beyond - lon) if beyond != lon else 0.0
            cross_lat = lat + t * (next_lat - lat)
            pieces[-1].append((edge, cross_lat))
            pieces.append([(-edge, cross_lat)])  # carry on from the opposite edge
    # The last jump leads back to the start: its edge point opens the first piece.
    pieces[0].insert(0, pieces.pop()[0])

    if len(jumps) == 1:
        # One jump means the ring goes right round a pole (Antarctica): close it
        # along the bottom (or top) of the map instead of straight across it.
        pole = -90.0 if sum(lat for _, lat in ring) < 0 else 90.0
        piece = pieces[0]
        piece += [(piece[-1][0], pole), (piece[0][0], pole)]
    elif len(jumps) != 2:
        # Two jumps (an island astride the line) give two pieces that each close
        # along the map edge. More complex shapes would need a general clipper.
        print(f"warning: ring crosses the antimeridian {len(jumps)} times", file=sys.stderr)
    return pieces


def ring_to_path(points: list[tuple[float, float]]) -> str:
    """SVG path data for one closed ring, or "" if rounding collapses it."""
    projected: list[tuple[float, float]] = []
    for lon, lat in points:
        xy = project(lon, lat)
        if not projected or xy != projected[-1]:  # drop points merged by rounding
            projected.append(xy)
    if len(projected) > 1 and projected[0] == projected[-1]:
        projected.pop()  # "Z" closes the ring, no need to repeat the first point
    if len(projected) < 3:
        return ""  # a speck smaller than the rounding grid
    # After "M", further coordinate pairs are implicit "L" (line to) commands.
    return "M" + " ".join(f"{fmt(x)},{fmt(y)}" for x, y in projected) + "Z"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} land-110m.json > world.svg")
    with open(sys.argv[1], encoding="utf-8") as f:
        topology = json.load(f)

    arcs = decode_arcs(topology)
    # Every object in the topology (world-atlas has just "land") is drawn.
    rings = [
        ring_points(ring, arcs)
        for obj in topology["objects"].values()
        for polygon in polygons(obj)
        for ring in polygon  # outer ring first, then holes (e.g. the Caspian Sea)
    ]
    path = "".join(ring_to_path(piece) for r in rings for piece in cut_at_antimeridian(r))

    # evenodd makes holes (lakes) transparent whatever the ring winding order.
    sys.stdout.write(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 180" role="img"'
        ' aria-labelledby="world-title">\n'
        '<title id="world-title">World map (land masses)</title>\n'
        "<!-- Natural Earth 1:110m land (public domain) via world-atlas@2 (ISC),"
        " drawn by tools/draw_world_map.py -->\n"
        f'<path id="land" class="land" fill="currentColor" fill-rule="evenodd" d="{path}"/>\n'
        "</svg>\n"
    )


if __name__ == "__main__":
    main()
