"""Placing a customer without coordinates (离线地名表): the centre of its city, from the region,
city and address text, read from the table in `data/cities.csv` (no online geocoder).

The table holds every prefecture-level division, the four municipalities with their districts,
Hong Kong, Macao, Taiwan's main cities and some large county-level cities. Names match with or
without their suffix (江苏省 / 江苏, 苏州市 / 苏州, 延边朝鲜族自治州 / 延边). A short name is only
looked for inside an address right after the province, since streets are often named after
cities (中山路, 南京路): "江苏苏州…" finds 苏州, "中山路 1 号" does not find 中山.
"""

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "cities.csv"
EARTH_RADIUS_M = 6_371_008.8
MUNICIPALITY, PREFECTURE, DISTRICT, COUNTY, SAR = "municipality", "prefecture", "district", "county", "sar"
# The long forms of the autonomous regions' names; everything else drops 省, 市 or 特别行政区.
_PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
_PLACE_SUFFIX = re.compile(r"(市|地区|盟)$")


@dataclass(frozen=True)
class Place:
    province: str
    name: str
    short: str
    kind: str
    latitude: float
    longitude: float

    @property
    def province_short(self) -> str:
        return province_short(self.province)


def province_short(name: str) -> str:
    """江苏省 → 江苏, 广西壮族自治区 → 广西, 上海市 → 上海, 香港特别行政区 → 香港."""
    name = (name or "").strip()
    return _PROVINCE_SUFFIX.sub("", name) or name


@dataclass(frozen=True)
class Table:
    places: tuple[Place, ...]
    by_name: dict  # full or short name → places (a name may exist in two provinces)
    provinces: dict  # full or short province name → full name

    def named(self, text: str) -> list[Place]:
        return self.by_name.get(text, [])


@cache
def table() -> Table:
    """The place table, read once per process."""
    places = []
    with TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            name = row["name"].strip()
            short = row["short"].strip() or _PLACE_SUFFIX.sub("", name) or name
            places.append(
                Place(
                    province=row["province"].strip(),
                    name=name,
                    short=short,
                    kind=row["kind"].strip(),
                    latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]),
                )
            )
    by_name: dict[str, list[Place]] = {}
    provinces: dict[str, str] = {}
    for place in places:
        for key in {place.name, place.short}:
            by_name.setdefault(key, []).append(place)
        provinces[place.province] = place.province
        provinces[province_short(place.province)] = place.province
    return Table(tuple(places), by_name, provinces)


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _province_of(region: str, address: str) -> str | None:
    """The full name of the province the region names, or the address starts with."""
    provinces = table().provinces
    region = _clean(region)
    if region in provinces:
        return provinces[region]
    if region and province_short(region) in provinces:
        return provinces[province_short(region)]
    address = _clean(address)
    for key in sorted(provinces, key=len, reverse=True):
        if key and address.startswith(key):
            return provinces[key]
    return None


def _prefer(candidates: list[Place], province: str | None) -> Place | None:
    if not candidates:
        return None
    if province is not None:
        inside = [p for p in candidates if p.province == province]
        if inside:
            return inside[0]
        return None
    return candidates[0] if len({p.province for p in candidates}) == 1 else None


def _district(address: str, municipality: str) -> Place | None:
    """A district of a municipality named in the address (上海市浦东新区… → 浦东新区)."""
    found = [p for p in table().places if p.kind == DISTRICT and p.province == municipality and p.name in address]
    return max(found, key=lambda p: len(p.name)) if found else None


def _in_address(address: str, province: str | None) -> Place | None:
    """A city whose full name is in the address, or whose short name follows the province."""
    places = [p for p in table().places if p.kind in (PREFECTURE, COUNTY, SAR, MUNICIPALITY)]
    if province is not None:
        places = [p for p in places if p.province == province]
    full = [p for p in places if p.name in address]
    if full:
        # The county-level city is the more precise place ("苏州市昆山市…" → 昆山).
        return max(full, key=lambda p: (p.kind == COUNTY, address.index(p.name)))
    if province is None:
        return None
    for prefix in sorted({province, province_short(province)}, key=len, reverse=True):
        if address.startswith(prefix):
            rest = address[len(prefix) :]
            starts = [p for p in places if rest.startswith(p.short)]
            if starts:
                return max(starts, key=lambda p: len(p.short))
    return None


def geocode(*, region: str = "", city: str = "", address: str = "") -> Place | None:
    """The place whose centre stands for a customer with this region, city and address; None when
    the text names no city we know (a province alone is too large to stand for an address)."""
    address = _clean(address)
    city = _clean(city)
    province = _province_of(region, address)
    place = None
    if city:
        place = _prefer(table().named(city) or table().named(_PLACE_SUFFIX.sub("", city)), province)
        if place is not None and place.kind == DISTRICT and province is None:
            place = None
    if place is None and address:
        place = _in_address(address, province)
    if place is None and province is not None:
        municipality = [p for p in table().named(province) if p.kind in (MUNICIPALITY, SAR)]
        place = municipality[0] if municipality else None
    if place is not None and place.kind == MUNICIPALITY and address:
        place = _district(address, place.province) or place
    return place


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres (haversine, mean Earth radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
