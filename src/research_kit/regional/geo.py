"""Country boundaries of Latin America and the Caribbean, shipped inside the package.

The boundaries are Natural Earth's 1:110m countries (public domain), cut down to the
region: the network's 17 countries and the neighbours a reader needs to recognise the
map. They are read from ``research_kit/data/naturalearth_lac.geojson``; nothing is ever
downloaded. See ``research_kit/data/NATURAL_EARTH.txt`` for the source and what was changed.

At 1:110m every one of the 17 countries has a polygon (Belize, El Salvador, Panama and
the Dominican Republic included). Should a future, coarser file lack one,
:func:`boundaries` gives it a point at :data:`POINT_FALLBACK` and maps draw a marker.

geopandas is imported inside the functions, so ``import research_kit`` stays cheap.

Examples
--------
>>> world = boundaries()
>>> world.crs.to_epsg(), len(world[world["project"]])
(4326, 17)
>>> world.set_index("iso_a3").loc["PRY", "node"]
'southern_cone'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["boundaries", "ATTRIBUTION", "BOUNDARIES_FILE", "POINT_FALLBACK", "MAP_EXTENT"]

BOUNDARIES_FILE = "naturalearth_lac.geojson"
#: Credit line printed under every map (Natural Earth asks for none, but readers should know the source).
ATTRIBUTION = "Natural Earth (naturalearthdata.com), 1:110m, public domain"
#: Where to put a marker for a country whose polygon is missing at this scale (longitude, latitude).
POINT_FALLBACK = {
    "BLZ": (-88.7, 17.2), "SLV": (-88.9, 13.7), "PAN": (-80.1, 8.5), "DOM": (-70.5, 18.9), "CRI": (-84.2, 9.9),
}
#: Longitude and latitude limits of the regional map.
MAP_EXTENT = (-117.5, -33.0, -56.5, 30.0)


@cache
def _read():
    import geopandas as gpd

    ref = resources.files("research_kit.data").joinpath(BOUNDARIES_FILE)
    with resources.as_file(ref) as path:
        return gpd.read_file(path)


def boundaries():
    """The region's country boundaries as a GeoDataFrame (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        ``iso_a3``, ``name_en``, ``project`` (one of the network's 17 countries), ``node`` (its
        sub-regional node, else None), ``point`` (True for a project country drawn as a marker
        because its polygon is missing) and ``geometry``. A fresh copy on each call.
    """
    import geopandas as gpd
    from shapely.geometry import Point

    from research_kit.countries import countries

    gdf = _read().copy()
    members = {c.alpha_3: c for c in countries()}
    gdf["point"] = False
    absent = [code for code in members if code not in set(gdf["iso_a3"])]
    if absent:
        # A country too small for the scale: a point, so the map still shows where it is.
        extra = gpd.GeoDataFrame({"iso_a3": absent, "name_en": absent, "point": True},
                                 geometry=[Point(POINT_FALLBACK.get(a, (0.0, 0.0))) for a in absent], crs=gdf.crs)
        gdf = gpd.GeoDataFrame(__import__("pandas").concat([gdf, extra], ignore_index=True), crs=gdf.crs)
    gdf["project"] = gdf["iso_a3"].isin(members)
    gdf["node"] = gdf["iso_a3"].map(lambda a: members[a].node if a in members else None)
    return gdf[["iso_a3", "name_en", "project", "node", "point", "geometry"]]
