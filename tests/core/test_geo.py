"""Geography: great-circle distance, the cheap city-scale distance, the flat frame and its
safe search radius, and the Z-order key."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gigmarket.core import geo

SHILING = (23.4646, 113.1532)


@pytest.mark.parametrize(
    ("a", "b", "km", "tolerance"),
    [
        # One degree of latitude anywhere, and of longitude on the equator: 2 pi R / 360.
        ((0.0, 0.0), (1.0, 0.0), 111.195, 0.001),
        ((23.0, 113.0), (24.0, 113.0), 111.195, 0.001),
        ((0.0, 0.0), (0.0, 1.0), 111.195, 0.001),
        # A degree of longitude at 60 N is half as long.
        ((60.0, 10.0), (60.0, 11.0), 55.60, 0.01),
        # Paris (Notre-Dame) to London (Charing Cross), the textbook ~343.5 km.
        ((48.8530, 2.3499), (51.5080, -0.1247), 343.5, 0.5),
        # Guangzhou to Beijing, ~1888 km by great circle.
        ((23.1291, 113.2644), (39.9042, 116.4074), 1888.0, 5.0),
        ((10.0, 20.0), (10.0, 20.0), 0.0, 1e-9),
        # Antipodes: half the circumference, with no arcsin domain error.
        ((0.0, 0.0), (0.0, 180.0), math.pi * geo.EARTH_RADIUS_KM, 1e-6),
    ],
)
def test_haversine_known_distances(
    a: tuple[float, float], b: tuple[float, float], km: float, tolerance: float
) -> None:
    """haversine_km matches published distances."""
    assert float(geo.haversine_km(a[0], a[1], b[0], b[1])) == pytest.approx(km, abs=tolerance)


def test_haversine_is_vectorised_and_symmetric() -> None:
    """haversine_km broadcasts over arrays and does not care about direction."""
    rng = np.random.default_rng(1)
    lat1, lon1 = rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50)
    lat2, lon2 = rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50)
    forward = geo.haversine_km(lat1, lon1, lat2, lon2)
    assert forward.shape == (50,)
    np.testing.assert_allclose(forward, geo.haversine_km(lat2, lon2, lat1, lon1))
    one_to_many = geo.haversine_km(lat1[0], lon1[0], lat2, lon2)
    np.testing.assert_allclose(one_to_many[3], geo.haversine_km(lat1[0], lon1[0], lat2[3], lon2[3]))


@pytest.mark.parametrize("lat", [0.0, 23.46, 45.0, 65.0, -33.9])
def test_local_distance_agrees_with_haversine(lat: float) -> None:
    """local_distance_km is the haversine distance to under 10 cm for pairs up to ~50 km."""
    rng = np.random.default_rng(7)
    n = 2000
    lat1 = lat + rng.uniform(-0.2, 0.2, n)
    lon1 = 100 + rng.uniform(-0.2, 0.2, n)
    lat2 = lat1 + rng.uniform(-0.2, 0.2, n)
    lon2 = lon1 + rng.uniform(-0.2, 0.2, n)
    cos1, cos2 = np.cos(np.radians(lat1)), np.cos(np.radians(lat2))
    local = geo.local_distance_km(lat1, lon1, cos1, lat2, lon2, cos2)
    np.testing.assert_allclose(local, geo.haversine_km(lat1, lon1, lat2, lon2), atol=1e-4)


def test_km_per_degree() -> None:
    """Kilometres per degree: constant for latitude, cos(lat) times that for longitude."""
    assert abs(geo.KM_PER_DEG_LAT - 111.195) < 0.001
    assert float(geo.km_per_deg_lon(0.0)) == pytest.approx(geo.KM_PER_DEG_LAT)
    assert float(geo.km_per_deg_lon(60.0)) == pytest.approx(geo.KM_PER_DEG_LAT / 2)
    np.testing.assert_allclose(
        geo.km_per_deg_lon(np.array([0.0, 60.0])), [geo.KM_PER_DEG_LAT, geo.KM_PER_DEG_LAT / 2]
    )


def test_project_km_axes() -> None:
    """The origin projects to (0, 0); north and east offsets come out in km."""
    lat0, lon0 = SHILING
    lat = np.array([lat0, lat0 + 0.01, lat0])
    lon = np.array([lon0, lon0, lon0 + 0.01])
    xy = geo.project_km(lat, lon, lat0, lon0)
    np.testing.assert_allclose(xy[0], [0.0, 0.0])
    np.testing.assert_allclose(xy[1], [0.0, 1.11195], atol=1e-5)
    np.testing.assert_allclose(xy[2], [1.11195 * math.cos(math.radians(lat0)), 0.0], atol=1e-5)


@pytest.mark.parametrize(("lat0", "spread_deg"), [(23.46, 0.15), (60.0, 0.5), (-40.0, 0.3)])
def test_search_radius_never_misses_a_pair(lat0: float, spread_deg: float) -> None:
    """Every pair truly within r is within search_radius_km(r) in the projected frame."""
    rng = np.random.default_rng(3)
    n = 400
    lat = lat0 + rng.uniform(-spread_deg, spread_deg, n)
    lon = 113 + rng.uniform(-spread_deg, spread_deg, n)
    xy = geo.project_km(lat, lon, lat0, 113.0)
    r = 3.0
    radius = geo.search_radius_km(r, lat, lat0)
    i, j = np.triu_indices(n, 1)
    cos = np.cos(np.radians(lat))
    true = geo.local_distance_km(lat[i], lon[i], cos[i], lat[j], lon[j], cos[j])
    flat = np.linalg.norm(xy[i] - xy[j], axis=1)
    within = true <= r
    assert within.sum() > 50
    assert np.all(flat[within] <= radius)


def test_search_radius_grows_away_from_the_equator() -> None:
    """The safe radius is r itself on the origin's parallel and larger for poleward points."""
    assert geo.search_radius_km(3.0, np.array([23.0]), 23.0) == pytest.approx(3.0, rel=2e-4)
    assert geo.search_radius_km(3.0, np.array([23.0, 24.0]), 23.0) > 3.0 * 1.005
    assert geo.search_radius_km(math.inf, np.array([23.0]), 23.0) == math.inf


@pytest.mark.parametrize(
    ("points", "order"),
    [
        # The four cells of a 2x2 block come before anything outside it.
        ([(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (0, 2)], [0, 1, 2, 3, 4, 5]),
        ([(3.5, 3.5), (0.2, 0.1), (1.9, 1.2)], [1, 2, 0]),
    ],
)
def test_z_order_keeps_neighbours_together(
    points: list[tuple[float, float]], order: list[int]
) -> None:
    """Sorting by z_order walks the grid block by block."""
    keys = geo.z_order(np.array(points, dtype=np.float64), 1.0)
    assert np.argsort(keys, kind="stable").tolist() == order
