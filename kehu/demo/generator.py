"""The demo data set: a company, its departments and staff, and customers with contacts,
activities and their timeline — 300 customers for a demo, a million for the benchmark.

One code path for every size. Staff and departments go through the services; the bulk rows
are computed in Python (explicit ids, a seeded `random.Random`) and written with
`executemany` in batches, one transaction per batch, together with the search index rows
(`kehu.customers.search` computes the text). On PostgreSQL the batches are multi-row
INSERTs and the id sequences are reset afterwards.
"""

import json
import random
import time
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, batched
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Contact, ContactPoint, Customer, TimelineEntry
from kehu.customers.normalise import normalise_name
from kehu.customers.points import point_rows, points_from_columns
from kehu.customers.search import BIGRAM_TABLE, TRIGRAM_TABLE, bigrams, search_text_for
from kehu.customers.services import CONTACT_FIELDS, CREDIT_CHARS, CREDIT_WEIGHTS
from kehu.demo import catalog_demo, classification_demo, collection_demo, pool_demo, sales_demo, visit_demo
from kehu.demo import quotes as quotes_demo
from kehu.demo import vocabulary as V
from kehu.quotes.affinity import affinity_rebuild
from kehu.users.models import CompanySettings, Department, TwoFactorPolicy, User
from kehu.users.roles import Role
from kehu.users.services import department_create

DEMO_PASSWORD = "kehu-demo"
COMPANY_NAME = "华辰机电设备有限公司"
DAY = 86400
LARGE = 20_000  # from this many customers on, loading trades durability for speed
YEARS = 3

# login, last name, first name, role, department, manager, gender of the given name
STAFF = [
    ("admin", "赵", "磊", Role.ADMINISTRATOR, "总公司", None),
    ("gm", "陈", "国华", Role.GENERAL_MANAGER, "总公司", None),
    ("manager1", "王", "志强", Role.SALES_MANAGER, "华东销售部", "gm"),
    ("rep1", "李", "娜", Role.SALES_REP, "华东销售部", "manager1"),
    ("rep2", "张", "伟", Role.SALES_REP, "华东销售部", "manager1"),
    ("manager2", "林", "海峰", Role.SALES_MANAGER, "华南销售部", "gm"),
    ("rep3", "黄", "婷", Role.SALES_REP, "华南销售部", "manager2"),
    ("service1", "刘", "芳", Role.SERVICE_MANAGER, "客户服务部", "gm"),
    ("service2", "孙", "丽", Role.CUSTOMER_REP, "客户服务部", "service1"),
    ("marketing1", "吴", "欣悦", Role.MARKETING, "市场部", "gm"),
    ("finance1", "周", "敏", Role.FINANCE, "财务部", "gm"),
]
# name, parent name
DEPARTMENTS = [
    ("总公司", None),
    ("销售中心", "总公司"),
    ("华东销售部", "销售中心"),
    ("华南销售部", "销售中心"),
    ("客户服务部", "总公司"),
    ("市场部", "总公司"),
    ("财务部", "总公司"),
]
# Customer owners: login, share, sales area the customers mostly come from.
OWNERS = [
    ("rep1", 30, "east"),
    ("rep2", 30, "east"),
    ("rep3", 30, "south"),
    ("manager1", 5, "east"),
    ("manager2", 5, "south"),
]
HEAVY_OWNER = "rep1"
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
]
TIERS = [("prospect", 60), ("ordinary", 30), ("key", 10)]
STATUS_BY_TIER = {
    "key": [("active", 90), ("dormant", 10)],
    "ordinary": [("active", 70), ("dormant", 20), ("lost", 10)],
    "prospect": [("potential", 85), ("lost", 15)],
}
CUSTOMER_NOTES = [
    "重点跟进，年采购额约{n}百万元",
    "老客户，合作超过五年",
    "对价格敏感，注重交期",
    "有新厂房在建，关注明年扩产",
    "付款及时，信用良好",
    "曾投诉交货延迟，已妥善处理",
]
CREDIT_VALUES = {c: v for v, c in enumerate(CREDIT_CHARS)}
CREDIT_KIND = {"government": "11", "education": "12"}
ESTATES = ["阳光花园", "锦绣华庭", "翠湖小区", "金色家园", "滨江花苑", "香樟苑"]
CONTACT_NOTES = ["喜欢喝普洱茶", "不抽烟", "周末常去打球", "对技术细节很在意", "微信回复比电话快"]

CUSTOMER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "name",
    "kind",
    "segment",
    "industry",
    "region",
    "city",
    "address",
    "latitude",
    "longitude",
    "source",
    "status",
    "tier",
    "phone",
    "email",
    "website",
    "credit_code",
    "notes",
    "search_text",
    "name_key",
    "created_by",
    "owner",
)
CONTACT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "customer",
    *CONTACT_FIELDS,
)
POINT_COLUMNS = ("contact", "medium", "kind", "label", "value", "key", "position")
ACTIVITY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "customer",
    "contact",
    "kind",
    "subject",
    "content",
    "occurred_at",
    "duration_minutes",
    "due_on",
    "is_done",
    "done_at",
    "owner",
)
TIMELINE_COLUMNS = (
    "id",
    "customer",
    "occurred_at",
    "kind",
    "actor",
    "subject_type",
    "subject_id",
    "summary",
    "payload",
)


class FastRandom(random.Random):
    """`choice`, `randint` and `randrange` from one `random()` call: about three times faster than
    the exact versions and unbiased enough for made-up data. Still determined by the seed."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + step * int(self.random() * ((stop - start + step - 1) // step))


class _Named(NamedTuple):
    """What `search_text_for` reads of a customer."""

    name: str
    phone: str


class _ContactText(NamedTuple):
    """What `search_text_for` reads of a contact."""

    name: str
    mobile: str
    office_phone: str


class Weighted:
    """Picks from (value, weight) pairs with one random number."""

    def __init__(self, pairs: Sequence[tuple]):
        self.values = [p[0] for p in pairs]
        self.cumulative = list(accumulate(p[-1] for p in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


def zipf(values: Sequence, exponent: float = 1.0) -> Weighted:
    return Weighted([(v, 1 / (k + 1) ** exponent) for k, v in enumerate(values)])


def credit_code(rng: random.Random, division: str, kind: str = "91") -> str:
    """A unified social credit code (GB 32100) with valid check characters: registering authority
    and kind ("91" company, "11" government body, "12" public institution) + division code +
    organisation code (GB 11714, its own check digit) + the overall check character."""
    body = [rng.randrange(10) for _ in range(8)]
    check = 11 - sum(v * w for v, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    head = kind + division + "".join(map(str, body)) + ("X" if check == 10 else "0" if check == 11 else str(check))
    total = sum(CREDIT_VALUES[c] * w for c, w in zip(head, CREDIT_WEIGHTS, strict=True))
    return head + CREDIT_CHARS[(31 - total % 31) % 31]


def per_customer(rng: random.Random, mean: float, minimum: int = 0) -> int:
    """A count that varies between customers and averages `mean` over many."""
    spread = max(mean - minimum, 0.0)
    return minimum + int(2 * spread * rng.random() + rng.random())


@dataclass
class Result:
    customers: int = 0
    contacts: int = 0
    activities: int = 0
    timeline: int = 0
    heavy_customer_id: int | None = None
    seconds: float = 0.0
    users: dict[str, User] = field(default_factory=dict)


class DemoGenerator:
    def __init__(
        self,
        *,
        customers: int,
        contacts_per_customer: float,
        activities_per_customer: float,
        seed: int,
        heavy_timeline: int = 0,
        batch: int = 2000,
        progress: Callable[[str], None] = print,
    ):
        self.n = customers
        self.contacts_mean = contacts_per_customer
        self.activities_mean = activities_per_customer
        self.rng = FastRandom(seed)
        self.heavy = heavy_timeline
        self.batch = batch
        self.progress = progress
        self.sqlite = connection.vendor == "sqlite"
        self.now = int(time.time())
        self.tz_offset = int(timezone.localtime().utcoffset().total_seconds())
        self.today = (self.now + self.tz_offset) // DAY
        self.first_day = self.today - YEARS * 365
        self._times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
        self._days: dict[int, str] = {}
        self._build_pickers()

    # ---- values in the database's format ----

    def _day_text(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = date.fromordinal(719163 + day).isoformat()
        return text

    def at(self, ts: int):
        """An instant (epoch seconds) as the database adapter would store it: UTC."""
        if self.sqlite:
            return self._day_text(ts // DAY) + self._times[ts % DAY]
        return datetime.fromtimestamp(ts, UTC)

    def on(self, day: int):
        """A local calendar day (days since 1970-01-01)."""
        if self.sqlite:
            return self._day_text(day)
        return date.fromordinal(719163 + day)

    def work_time(self, day: int) -> int:
        """A moment in office hours (08:30–18:00 local) of that day, weekends moved to Friday."""
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        if weekday >= 5:
            day -= weekday - 4
        ts = day * DAY - self.tz_offset + self.rng.randrange(30600, 64800)
        return min(ts, self.now)

    # ---- vocabularies ----

    def _build_pickers(self) -> None:
        rng = self.rng
        self.pick_owner = Weighted([(login, share) for login, share, _area in OWNERS])
        self.owner_area = {login: area for login, _share, area in OWNERS}
        by_area: dict[str, list] = {}
        for city in V.CITIES:
            by_area.setdefault(city[6], []).append(city)
        self.pick_city = {area: zipf(cities, 0.6) for area, cities in by_area.items()}
        self.pick_any_city = zipf(V.CITIES, 0.3)
        self.pick_brand = zipf(V.BRAND_CHARS, 1.1)
        self.pick_segment = Weighted(V.SEGMENT_WEIGHTS)
        self.pick_industry = Weighted(list(V.INDUSTRY_WEIGHTS.items()))
        self.pick_suffix = Weighted(V.COMPANY_SUFFIXES)
        self.pick_source = Weighted(V.SOURCE_WEIGHTS)
        self.pick_tier = Weighted(TIERS)
        self.pick_status = {tier: Weighted(pairs) for tier, pairs in STATUS_BY_TIER.items()}
        self.pick_surname = zipf(V.SURNAMES, 0.9)
        self.pick_male = zipf(V.MALE_GIVEN, 0.5)
        self.pick_female = zipf(V.FEMALE_GIVEN, 0.5)
        self.pick_position = Weighted([((pos, role), w) for pos, role, w in V.POSITIONS])
        self.pick_kind = Weighted(V.KIND_WEIGHTS)
        # Activity texts: a few hundred per kind, drawn once, then reused by index.
        self.activity_texts: dict[str, list[tuple[str, str, str]]] = {}
        for kind, (subjects, _duration) in V.ACTIVITY_SUBJECTS.items():
            pool = []
            for _ in range(300):
                words = self._words()
                subject = rng.choice(subjects).format(**words)
                sentences = rng.sample(V.CONTENT_SENTENCES, rng.randint(1, 3))
                content = "".join(s.format(**self._words()) for s in sentences)
                content += rng.choice(V.NEXT_STEPS).format(**words)
                pool.append((subject, content, json.dumps(content[:500])))
            self.activity_texts[kind] = pool

    def _words(self) -> dict:
        rng = self.rng
        return {
            "product": rng.choice(V.PRODUCTS),
            "topic": rng.choice(V.TOPICS),
            "competitor": rng.choice(V.COMPETITORS),
            "role": rng.choice(V.ROLES_IN_TEXT),
            "days": rng.choice([3, 5, 7, 10, 15]),
            "amount": rng.choice([50, 80, 120, 200, 350, 500]),
            "month": rng.randint(1, 12),
            "qty": rng.randint(2, 40),
        }

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def person_name(self, gender: str) -> tuple[str, str]:
        """(name, pinyin for an email address)."""
        rng = self.rng
        surname, surname_py = self.pick_surname(rng)
        pick = self.pick_male if gender == "m" else self.pick_female
        given, given_py = pick(rng)
        if rng.random() < 0.6:
            second, second_py = pick(rng)
            if second != given:
                given, given_py = given + second, given_py + second_py
        return surname + given, surname_py + given_py

    # ---- staff ----

    def create_staff(self) -> dict[str, User]:
        departments: dict[str, Department] = {}
        for name, parent in DEPARTMENTS:
            departments[name] = department_create(
                name=name, parent=departments.get(parent) if parent else None, actor=None
            )
        password = make_password(DEMO_PASSWORD)  # argon2 is slow on purpose: hash once
        users: dict[str, User] = {}
        joined = timezone.now() - timedelta(days=YEARS * 365 + 30)
        for login, last, first, role, department, manager in STAFF:
            users[login] = User.objects.create(
                username=login,
                password=password,
                email=f"{login}@example.com",
                last_name=last,
                first_name=first,
                role=role,
                department=departments[department],
                manager=users[manager] if manager else None,
                is_staff=login == "admin",
                is_superuser=login == "admin",
                date_joined=joined,
            )
        company = CompanySettings.load()
        company.company_name = COMPANY_NAME
        company.is_set_up = True
        # The demo signs everyone in with the shared password alone (admin / kehu-demo); a real
        # installation keeps the default, two-factor sign-in for administrators.
        company.two_factor_policy = TwoFactorPolicy.NOBODY
        company.save()
        return users

    # ---- customers and what hangs off them ----

    def company_name(self, city: str, segment: str) -> tuple[str, str, str]:
        """(name, industry, domain)."""
        rng = self.rng
        first, first_py = self.pick_brand(rng)
        second, second_py = self.pick_brand(rng)
        if second == first:
            second, second_py = self.pick_brand(rng)
        brand, domain = first + second, first_py + second_py
        if segment == "finance":
            return city + brand + rng.choice(V.FINANCE_NAMES), "other", domain
        if segment == "education":
            return (
                city + rng.choice(["", "信息", "机电", "交通", "经贸", "建筑"]) + rng.choice(V.EDUCATION_NAMES),
                "",
                "",
            )
        if segment == "government":
            return city + rng.choice(V.GOVERNMENT_NAMES), "", ""
        if segment == "dealer":
            industry = rng.choice(["retail", "machinery", "electronics"])
            return city + brand + rng.choice(V.DEALER_WORDS) + "有限公司", industry, domain
        industry = self.pick_industry(rng) if segment == "industrial" else "other"
        return city + brand + rng.choice(V.INDUSTRY_WORDS[industry]) + self.pick_suffix(rng), industry, domain

    def address(self) -> str:
        rng = self.rng
        return (
            rng.choice(V.DISTRICTS)
            + rng.choice(V.STREETS)
            + f"{rng.randint(1, 999)}号"
            + rng.choice(V.BUILDING_SUFFIXES)
        )

    def run(self) -> Result:
        started = time.monotonic()
        result = Result()
        with transaction.atomic():
            result.users = users = self.create_staff()
        owner_ids = {login: users[login].pk for login, _s, _a in OWNERS}
        ids = {model: self._max_id(model) for model in (Customer, Contact, Activity, TimelineEntry)}
        customer_id, contact_id, activity_id, timeline_id = (
            ids[m] for m in (Customer, Contact, Activity, TimelineEntry)
        )
        self._prepare_connection()
        rng = self.rng
        span = self.today - self.first_day - 1
        report_every = max(self.batch, self.n // 20)
        next_report = report_every
        try:
            for start in range(0, self.n, self.batch):
                customers, tri, bi, contacts, activities, timeline = [], [], [], [], [], []
                points: list[tuple] = []
                for i in range(start, min(self.n, start + self.batch)):
                    customer_id += 1
                    login = self.pick_owner(rng)
                    owner = owner_ids[login]
                    area = self.owner_area[login]
                    city = (self.pick_city[area] if rng.random() < 0.9 else self.pick_any_city)(rng)
                    province, city_name, lat, lon, area_code, division, _area = city
                    created_day = self.first_day + int((i + rng.random()) * span / self.n)
                    created = self.work_time(created_day)
                    updated_day = created_day + int(rng.random() ** 0.4 * (self.today - created_day))
                    updated = max(created, self.work_time(updated_day))
                    segment = self.pick_segment(rng)
                    if segment == "other" and rng.random() < 0.3:
                        kind = "person"
                        name = self.person_name("m" if rng.random() < 0.7 else "f")[0]
                        industry, domain, code = "", "", ""
                    else:
                        kind = "company"
                        name, industry, domain = self.company_name(city_name, segment)
                        code = credit_code(rng, division, CREDIT_KIND.get(segment, "91"))
                    tier = self.pick_tier(rng)
                    phone = f"{area_code}-{rng.randrange(10**7, 10**8)}" if kind == "company" else self.mobile()
                    website = f"www.{domain}.com.cn" if domain and rng.random() < 0.5 else ""
                    email = f"sales@{domain}.com.cn" if domain and rng.random() < 0.4 else ""
                    notes = rng.choice(CUSTOMER_NOTES).format(n=rng.randint(1, 30)) if rng.random() < 0.2 else ""

                    # contacts
                    texts = []
                    people = []
                    for k in range(per_customer(rng, self.contacts_mean, 1 if self.contacts_mean >= 1 else 0)):
                        contact_id += 1
                        row, text, contact_points = self._contact(
                            contact_id, customer_id, k == 0, created, domain, area_code, city_name
                        )
                        contacts.append(row)
                        points += contact_points
                        texts.append(text)
                        people.append(contact_id)
                    text = search_text_for(_Named(name, phone), texts)
                    tri.append((customer_id, text))
                    bi.append((customer_id, bigrams(text)))
                    row = (
                        customer_id,
                        self.at(created),
                        self.at(updated),
                        1,
                        name,
                        kind,
                        segment,
                        industry,
                        province,
                        city_name,
                        self.address(),
                        round(lat + rng.uniform(-0.08, 0.08), 6),
                        round(lon + rng.uniform(-0.08, 0.08), 6),
                        self.pick_source(rng),
                        self.pick_status[tier](rng),
                        tier,
                        phone,
                        email,
                        website,
                        code,
                        notes,
                        text,
                        normalise_name(name),
                        owner,
                        owner,
                    )
                    customers.append(row)
                    timeline_id += 1
                    timeline.append(
                        (
                            timeline_id,
                            customer_id,
                            self.at(created),
                            CustomerEvent.CUSTOMER_CREATED.value,
                            owner,
                            "customers.customer",
                            customer_id,
                            name[:300],
                            "{}",
                        )
                    )

                    # activities, each with its timeline line
                    count = per_customer(rng, self.activities_mean)
                    if self.heavy and result.heavy_customer_id is None and login == HEAVY_OWNER:
                        result.heavy_customer_id = customer_id
                        count += self.heavy
                    for _ in range(count):
                        activity_id += 1
                        timeline_id = self._activity(
                            activity_id,
                            timeline_id,
                            customer_id,
                            owner,
                            people,
                            created_day,
                            created,
                            activities,
                            timeline,
                        )
                self._write(customers, tri, bi, contacts, activities, timeline, points)
                result.customers += len(customers)
                result.contacts += len(contacts)
                result.activities += len(activities)
                result.timeline += len(timeline)
                if result.customers >= next_report or result.customers == self.n:
                    next_report += report_every
                    elapsed = time.monotonic() - started
                    self.progress(
                        f"  {result.customers:,}/{self.n:,} customers, {result.contacts:,} contacts, "
                        f"{result.activities:,} activities, {result.timeline:,} timeline entries "
                        f"({elapsed:.0f} s, {result.customers / max(elapsed, 1e-9):,.0f} customers/s)"
                    )
            self._finish()
        finally:
            self._restore_connection()
        collection_demo.load(users)  # information forms, routing table, map gaps (CUS-3, CUS-8)
        pool_demo.add_pool_demo(users)
        classification_demo.populate(users, seed=self.rng.randrange(2**31))
        sales_demo.load(users, seed=self.rng.randrange(2**31))  # opportunities and leads (SAL-1, SAL-2)
        visit_demo.load(users)  # this week's and next week's visit plans, to try the check-in (SAL-7)
        catalog_demo.load(users)  # products, the price book, discount limits, channel levels (SAL-4)
        quotes_demo.load(users, seed=self.rng.randrange(2**31))  # after the catalog: quotes in every state

        affinity_rebuild()  # what the nightly job counts, so the quotes' suggestions show at once
        result.seconds = time.monotonic() - started
        return result

    def _contact(
        self, pk: int, customer: int, primary: bool, created: int, domain: str, area_code: str, city: str
    ) -> tuple[tuple, _ContactText, list[tuple]]:
        rng = self.rng
        gender = "m" if rng.random() < 0.7 else "f"
        name, pinyin = self.person_name(gender)
        position, buying_role = self.pick_position(rng)
        mobile = self.mobile()
        office = f"{area_code}-{rng.randrange(10**7, 10**8)}" if rng.random() < 0.5 else ""
        email = ""
        if rng.random() < 0.5:
            email = (
                f"{pinyin}@{domain}.com.cn"
                if domain
                else f"{pinyin}{rng.randrange(10, 99)}@{rng.choice(['163.com', 'qq.com', '126.com'])}"
            )
        roll = rng.random()
        wechat = mobile if roll < 0.25 else f"{pinyin}{rng.randrange(100, 999)}" if roll < 0.4 else ""
        birthday = hobbies = personality = family = family_birthdays = home = since = transfer = notes = None
        if rng.random() < 0.45:
            birthday = self.on(self.today - rng.randrange(26 * 365, 60 * 365))
            hobbies = "、".join(rng.sample(V.HOBBIES, rng.randint(1, 3)))
            personality = rng.choice(V.PERSONALITIES)
            if rng.random() < 0.6:
                family = rng.choice(V.FAMILY)
            if rng.random() < 0.3:
                family_birthdays = f"爱人 {rng.randint(1, 12)}月{rng.randint(1, 28)}日"
            if rng.random() < 0.4:
                home = (
                    f"{city}{rng.choice(V.STREETS)}{rng.randint(1, 999)}号{rng.choice(ESTATES)}"
                    f"{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 4)}室"
                )
        if rng.random() < 0.5:
            since = self.on((created + self.tz_offset) // DAY - rng.randrange(0, 10 * 365))
            if rng.random() < 0.1:
                transfer = rng.choice(V.TRANSFER_REASONS)
        if rng.random() < 0.1:
            notes = rng.choice(CONTACT_NOTES)
        at = self.at(created)
        row = (
            pk,
            at,
            at,
            1,
            customer,
            name,
            gender,
            position,
            "",  # department
            buying_role,
            mobile,
            office,
            email,
            wechat,
            primary,
            birthday,
            None,  # birthday_month (only for a birthday without its year)
            None,  # birthday_day
            home or "",
            family or "",
            family_birthdays or "",
            hobbies or "",
            personality or "",
            since,
            transfer or "",
            notes or "",
            None,  # anniversary
            "",  # anniversary_name
        )
        points = points_from_columns(mobile=mobile, office_phone=office, email=email, wechat=wechat)
        point_values = [
            tuple(r[c if c != "contact" else "contact_id"] for c in POINT_COLUMNS) for r in point_rows(pk, points)
        ]
        return row, _ContactText(name, mobile, office), point_values

    def _activity(
        self,
        pk: int,
        timeline_id: int,
        customer: int,
        owner: int,
        people: list[int],
        created_day: int,
        created: int,
        activities: list,
        timeline: list,
    ) -> int:
        rng = self.rng
        kind = self.pick_kind(rng)
        subject, content, content_json = rng.choice(self.activity_texts[kind])
        day = created_day + int(rng.random() * (self.today - created_day + 1))
        occurred = max(created, self.work_time(day))
        duration_range = V.ACTIVITY_SUBJECTS[kind][1]
        duration = rng.randrange(duration_range[0], duration_range[1] + 1, 5) if duration_range else None
        contact = rng.choice(people) if people and (kind != "note" or rng.random() < 0.5) else None
        due = done = None
        payload = '{"content": ' + content_json
        if duration is not None:
            payload += f', "duration_minutes": {duration}'
        if kind == "commitment":
            due_day = day + rng.randint(3, 30)
            due = self.on(due_day)
            payload += f', "due_on": "{self._day_text(due_day)}"'
            if rng.random() < (0.75 if due_day < self.today else 0.15):
                done_day = min(day + rng.randint(1, due_day - day + 3), self.today)
                done = max(occurred + 3600, self.work_time(done_day))
                done = min(done, self.now)
        occurred_at = self.at(occurred)
        activities.append(
            (
                pk,
                occurred_at,
                self.at(done) if done else occurred_at,
                1,
                customer,
                contact,
                kind,
                subject,
                content,
                occurred_at,
                duration,
                due,
                done is not None,
                self.at(done) if done else None,
                owner,
            )
        )
        timeline_id += 1
        timeline.append(
            (timeline_id, customer, occurred_at, kind, owner, "activities.activity", pk, subject[:300], payload + "}")
        )
        if done is not None:
            timeline_id += 1
            timeline.append(
                (
                    timeline_id,
                    customer,
                    self.at(done),
                    ActivityEvent.COMMITMENT_DONE.value,
                    owner,
                    "activities.activity",
                    pk,
                    subject[:300],
                    "{}",
                )
            )
        return timeline_id

    # ---- writing ----

    @staticmethod
    def _max_id(model) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(model._meta.db_table)}")
            return cursor.fetchone()[0] or 0

    @staticmethod
    def _insert_sql(model, names: Sequence[str]) -> tuple[str, str]:
        """("INSERT INTO table (columns) VALUES ", "(%s, ...)") for these fields."""
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
        return (
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ",
            "(" + ", ".join(["%s"] * len(names)) + ")",
        )

    def _prepare_connection(self) -> None:
        self.statements = {
            Customer: self._insert_sql(Customer, CUSTOMER_COLUMNS),
            Contact: self._insert_sql(Contact, CONTACT_COLUMNS),
            ContactPoint: self._insert_sql(ContactPoint, POINT_COLUMNS),
            Activity: self._insert_sql(Activity, ACTIVITY_COLUMNS),
            TimelineEntry: self._insert_sql(TimelineEntry, TIMELINE_COLUMNS),
        }
        self.dropped_indexes: list[tuple[str, str]] = []
        if self.sqlite and self.n >= LARGE:
            # A generated set can be generated again: trade durability for speed while loading,
            # and build the secondary indexes once at the end (a sort) instead of row by row
            # (random inserts into indexes bigger than the cache slowed 1M customers down 2x).
            tables = [m._meta.db_table for m in (Customer, Contact, ContactPoint, Activity, TimelineEntry)]
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-524288")
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                    f"AND tbl_name IN ({', '.join(['%s'] * len(tables))})",
                    tables,
                )
                self.dropped_indexes = list(cursor.fetchall())
                for name, _sql in self.dropped_indexes:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")

    def _restore_connection(self) -> None:
        """Runs whatever happened: the indexes come back even after an error or Ctrl-C."""
        if self.sqlite and self.n >= LARGE:
            with connection.cursor() as cursor:
                if self.dropped_indexes:
                    self.progress(f"  building {len(self.dropped_indexes)} indexes…")
                for _name, sql in self.dropped_indexes:
                    cursor.execute(sql)
                self.dropped_indexes = []
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA cache_size=-65536")

    def _insert(self, cursor, model, rows: list) -> None:
        if not rows:
            return
        head, row = self.statements[model]
        if self.sqlite:
            cursor.executemany(head + row, rows)
            return
        for group in batched(rows, 500):
            cursor.execute(head + ", ".join([row] * len(group)), [value for r in group for value in r])

    def _write(self, customers, tri, bi, contacts, activities, timeline, points) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            self._insert(cursor, Customer, customers)
            self._insert(cursor, Contact, contacts)
            self._insert(cursor, ContactPoint, points)
            self._insert(cursor, Activity, activities)
            self._insert(cursor, TimelineEntry, timeline)
            if self.sqlite:
                cursor.executemany(f"INSERT INTO {TRIGRAM_TABLE}(rowid, body) VALUES (%s, %s)", tri)
                cursor.executemany(f"INSERT INTO {BIGRAM_TABLE}(rowid, body) VALUES (%s, %s)", bi)

    def _finish(self) -> None:
        with connection.cursor() as cursor:
            if self.sqlite:
                if self.n >= LARGE:
                    self.progress("  merging the search index segments…")
                    for table in (TRIGRAM_TABLE, BIGRAM_TABLE):
                        cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            else:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact, Activity, TimelineEntry]):
                    cursor.execute(sql)
                if self.n >= LARGE:
                    cursor.execute("ANALYZE")
