"""The offline place table (离线地名表) and how an address finds its city."""

import csv

import pytest

from kehu.customers.places import TABLE, distance_m, geocode, province_short, table

# Well-known centres (people's government or the historic centre), independent of the table.
KNOWN = {
    "北京市": (39.904, 116.407),
    "上海市": (31.230, 121.474),
    "天津市": (39.125, 117.190),
    "重庆市": (29.563, 106.552),
    "广州市": (23.129, 113.264),
    "深圳市": (22.543, 114.058),
    "杭州市": (30.274, 120.155),
    "南京市": (32.060, 118.797),
    "苏州市": (31.299, 120.585),
    "成都市": (30.573, 104.067),
    "武汉市": (30.593, 114.306),
    "西安市": (34.342, 108.940),
    "哈尔滨市": (45.804, 126.535),
    "乌鲁木齐市": (43.826, 87.617),
    "拉萨市": (29.652, 91.172),
    "昆明市": (25.039, 102.718),
    "香港特别行政区": (22.319, 114.169),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_well_known_cities_sit_where_they_are(name):
    place = next(p for p in table().places if p.name == name)
    lat, lng = KNOWN[name]
    assert abs(place.latitude - lat) < 0.02 and abs(place.longitude - lng) < 0.02


def test_the_table_covers_every_province_and_stays_inside_china():
    provinces = {p.province for p in table().places}
    assert len(provinces) == 34  # 23 provinces (Taiwan included), 5 autonomous regions, 4 municipalities, 2 SARs
    prefectures = [p for p in table().places if p.kind == "prefecture"]
    assert len(prefectures) >= 330
    for place in table().places:
        assert 16 <= place.latitude <= 54 and 73 <= place.longitude <= 135, place
    with TABLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    names = [(r["province"], r["name"]) for r in rows]
    assert len(names) == len(set(names))


def test_prefectures_per_province_match_the_administrative_divisions():
    count = {}
    for p in table().places:
        if p.kind == "prefecture":
            count[province_short(p.province)] = count.get(province_short(p.province), 0) + 1
    assert (count["江苏"], count["浙江"], count["广东"], count["四川"], count["新疆"]) == (13, 11, 21, 21, 14)


@pytest.mark.parametrize(
    ("region", "city", "address", "expected"),
    [
        ("江苏", "苏州", "", "苏州市"),
        ("江苏省", "苏州市", "", "苏州市"),
        ("华东", "苏州", "", "苏州市"),  # a sales territory is not a province
        ("", "", "江苏省苏州市工业园区星湖街328号", "苏州市"),
        ("", "", "江苏苏州工业园区星湖街328号", "苏州市"),
        ("江苏", "", "昆山市开发区前进东路88号", "昆山市"),
        ("", "", "江苏省苏州市昆山市前进东路88号", "昆山市"),
        ("上海", "上海", "浦东新区张江路100号", "浦东新区"),
        ("", "", "上海市闵行区莘庄工业区", "闵行区"),
        ("北京", "", "朝阳区建国路88号", "朝阳区"),
        ("辽宁", "朝阳", "", "朝阳市"),
        ("", "朝阳", "", "朝阳市"),  # 朝阳 without 区 is the city in 辽宁
        ("吉林", "延边", "", "延边朝鲜族自治州"),
        ("广西", "南宁", "", "南宁市"),
        ("广西壮族自治区", "", "南宁市青秀区民族大道", "南宁市"),
        ("新疆", "", "喀什地区喀什市人民西路", "喀什地区"),
        ("青海", "海南州", "", "海南藏族自治州"),
        ("海南", "三亚", "", "三亚市"),
        ("重庆", "", "", "重庆市"),  # a municipality stands for itself
        ("香港", "", "", "香港特别行政区"),
    ],
)
def test_an_address_finds_its_city(region, city, address, expected):
    place = geocode(region=region, city=city, address=address)
    assert place is not None and place.name == expected


@pytest.mark.parametrize(
    ("region", "city", "address"),
    [
        ("江苏", "", ""),  # a province alone is too large to stand for an address
        ("", "", "中山路1号"),  # a street named after a city is not the city
        ("", "", "南京路步行街"),
        ("浙江", "苏州", ""),  # a city of another province than the region: do not guess
        ("", "", ""),
        ("", "某某镇", "工业区3号"),
    ],
)
def test_text_that_names_no_known_city_finds_nothing(region, city, address):
    assert geocode(region=region, city=city, address=address) is None


def test_haversine_distances():
    assert distance_m(31.2304, 121.4737, 31.2304, 121.4737) == 0
    # 上海 to 北京: about 1,067 km as the crow flies.
    assert 1_060_000 < distance_m(31.2304, 121.4737, 39.9042, 116.4074) < 1_075_000
    # A hundredth of a degree of latitude is about 1.11 km anywhere.
    assert 1_100 < distance_m(30.0, 120.0, 30.01, 120.0) < 1_125
