"""Distances on the earth, and a flat local frame for spatial indexes.

Great-circle distance is the haversine formula on a sphere of the earth's mean radius
(IUGG, 6371.0088 km), so one degree of latitude is 111.195 km. Against the WGS-84 ellipsoid
that is off by at most ~0.5 %, far below the uncertainty of "15 minutes' travel".

KD-trees need Euclidean coordinates: :func:`project_km` maps lat/lon to kilometres east and
north of an origin (equirectangular). Across a city it is good to well under 1 %, but it is
not exact, so a radius search in the projected frame uses :func:`search_radius_km` (inflated
just enough never to miss a pair) and the result is then checked with the true distance
(:func:`local_distance_km`, which is the haversine distance to within centimetres).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
ArrayLike = float | npt.NDArray[np.floating]

#: Mean earth radius (IUGG), km.
EARTH_RADIUS_KM: Final = 6371.0088
#: Kilometres per degree of latitude (everywhere, on the sphere).
KM_PER_DEG_LAT: Final = EARTH_RADIUS_KM * math.pi / 180


def km_per_deg_lon(lat: ArrayLike) -> F64:
    """Kilometres per degree of longitude at latitude ``lat`` (degrees)."""
    return np.asarray(KM_PER_DEG_LAT * np.cos(np.radians(lat)), dtype=np.float64)


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> F64:
    """Great-circle distance in km; arguments broadcast like numpy arrays."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.subtract(lon2, lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    # min() guards arcsin against a rounding step past 1.0 for antipodal points.
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))), np.float64)


def local_distance_km(
    lat1: F64, lon1: F64, cos_lat1: F64, lat2: F64, lon2: F64, cos_lat2: F64
) -> F64:
    """Great-circle distance in km for points a city apart, with no trigonometry per pair.

    The flat-earth formula at the pair's mid-latitude, the mean of the two latitudes'
    cosines (which callers compute once per point) standing in for the cosine of the mean.
    Within 50 km it agrees with :func:`haversine_km` to about 1e-6 relative (under 10 cm),
    and it is several times cheaper over millions of candidate pairs.
    """
    east = (lon2 - lon1) * (cos_lat1 + cos_lat2) * 0.5
    north = lat2 - lat1
    # sqrt of squares, not hypot: city-scale values cannot overflow, and it is 3x faster.
    return np.asarray(KM_PER_DEG_LAT * np.sqrt(east * east + north * north), np.float64)


def project_km(lat: F64, lon: F64, origin_lat: float, origin_lon: float) -> F64:
    """Points as an ``(n, 2)`` array of km east and north of the origin (equirectangular)."""
    out = np.empty((len(lat), 2), dtype=np.float64)
    out[:, 0] = (np.asarray(lon, np.float64) - origin_lon) * km_per_deg_lon(origin_lat)
    out[:, 1] = (np.asarray(lat, np.float64) - origin_lat) * KM_PER_DEG_LAT
    return out


def search_radius_km(radius_km: float, lats: F64, origin_lat: float) -> float:
    """A projected-frame radius that finds every pair whose true distance is <= ``radius_km``.

    The projection keeps north-south lengths and scales east-west ones by
    ``cos(origin_lat) / cos(lat)``: too long nearer the poles than the origin. So the search
    radius grows by the worst such ratio over the points (plus 0.01 % for the flat frame's
    second-order error, ~1e-6 relative at city scale), and callers filter the found pairs by
    the true distance.
    """
    if not np.isfinite(radius_km) or len(lats) == 0:
        return radius_km
    widest = float(np.max(np.abs(lats)))
    # Beyond ~89 deg the ratio explodes; such markets do not exist, but stay finite.
    ratio = math.cos(math.radians(origin_lat)) / max(math.cos(math.radians(widest)), 1e-6)
    return radius_km * max(ratio, 1.0) * (1 + 1e-4) + 1e-9


def z_order(xy_km: F64, cell_km: float) -> npt.NDArray[np.int64]:
    """A Morton (Z-order) key per point over a grid of ``cell_km`` cells.

    Sorting by it puts points that are near each other mostly near each other in the order,
    so a run of consecutive points covers a compact patch of the map.
    """
    cells = np.floor((xy_km - xy_km.min(axis=0)) / cell_km)
    ix = np.clip(cells, 0, 0xFFFF).astype(np.int64)

    def spread(v: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        # Put a zero bit between each of the 16 low bits.
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        return (v | (v << 1)) & 0x55555555

    return spread(ix[:, 0]) | (spread(ix[:, 1]) << 1)
