"""Coordinates as Chinese phones report them, turned into WGS-84 (SPEC §3).

Phone map SDKs in China (AMap/Gaode and Tencent: **GCJ-02**; Baidu: **BD-09**)
report positions shifted by hundreds of metres from WGS-84. Everything this
system stores and compares (the 300 m off-site rule, the 50 m duplicate
search, the registry's points) is WGS-84, so a ``location`` may say which datum
it is in (``crs``) and is converted here, once, before anything uses it.

The arithmetic is the ``prcoords`` library's (CC0, a reference implementation
cited by the GCJ-02 literature): its forward transforms reproduce published
reference values digit for digit, and its iterative ("bored") inverses undo
them to well under a millimetre, where the usual one-step inverse is off by
up to a couple of metres. GCJ-02 is only applied inside China: outside it the
SDKs report WGS-84 unchanged, and so do we (prcoords' own China box).
"""

from __future__ import annotations

from typing import Literal, Self

import prcoords
from pydantic import Field, model_validator

from shared.schemas import RequestModel

Crs = Literal["wgs84", "gcj02", "bd09"]
CRS_VALUES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
CRS_DESCRIPTION = (
    "The datum of lat/lon: `wgs84` (GPS, the default), `gcj02` (AMap/Gaode, Tencent, "
    "WeChat) or `bd09` (Baidu). Converted to WGS-84 before it is stored, compared "
    "or answered; answers are always WGS-84."
)


def _in_china(lat: float, lon: float) -> bool:
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)))


def to_wgs84(lat: float, lon: float, crs: Crs) -> tuple[float, float]:
    """``(lat, lon)`` in WGS-84 for a position given in ``crs``."""
    if crs == "wgs84":
        return lat, lon
    if crs == "bd09":
        # BD-09 is GCJ-02 plus Baidu's own offset; undo that first.
        lat, lon = prcoords.bd_gcj_bored((lat, lon))
    elif crs != "gcj02":
        raise ValueError(f"unknown crs {crs!r}")
    if not _in_china(lat, lon):
        return lat, lon
    wgs = prcoords.gcj_wgs_bored((lat, lon))
    return wgs.lat, wgs.lon


class GeoPoint(RequestModel):
    """A position in a request body; ``crs`` says its datum, and it is WGS-84 once parsed.

    The conversion happens while the body is parsed, so every later use (storing,
    the off-site check, idempotency hashes) sees WGS-84. ``crs`` is not part of
    the parsed body's dump: a stored body is already WGS-84 and parses back to
    the same position.
    """

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    crs: Crs = Field(default="wgs84", exclude=True, description=CRS_DESCRIPTION)

    @model_validator(mode="after")
    def _convert_to_wgs84(self) -> Self:
        if self.crs != "wgs84":
            lat, lon = to_wgs84(self.lat, self.lon, self.crs)
            object.__setattr__(self, "lat", lat)
            object.__setattr__(self, "lon", lon)
            object.__setattr__(self, "crs", "wgs84")
        return self
