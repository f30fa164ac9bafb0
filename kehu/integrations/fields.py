"""The fields an import can fill, how column headers are guessed, and how cell text becomes
a value (choices by code or label in either language, dates in the usual Chinese forms)."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.spreadsheet_safety import unquote_formula
from kehu.core.text import one_line
from kehu.customers.models import (
    BuyingRole,
    ChannelLevel,
    Contact,
    Customer,
    CustomerKind,
    CustomerStatus,
    Gender,
    Industry,
    Segment,
    Source,
    Tier,
)


@dataclass(frozen=True)
class ImportField:
    name: str  # key in the mapping
    label: object  # lazy translated
    model: type  # Customer or Contact
    attr: str  # model field name
    synonyms: tuple[str, ...] = ()
    choices: type | None = None
    is_date: bool = False
    extra: dict = field(default_factory=dict)


def _f(name, label, model, attr, synonyms, **kw):
    return name, ImportField(name, label, model, attr, tuple(synonyms), **kw)


FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "name",
            gettext_lazy("Customer name"),
            Customer,
            "name",
            [
                "客户名称",
                "客户",
                "客户名",
                "公司",
                "公司名称",
                "公司名",
                "单位",
                "单位名称",
                "企业名称",
                "企业",
                "机构",
                "company",
                "companyname",
                "customer",
                "customername",
                "organization",
                "organisation",
                "org",
                "account",
                "accountname",
                "name",
            ],
        ),
        _f(
            "kind",
            gettext_lazy("Kind (company or person)"),
            Customer,
            "kind",
            ["客户性质", "性质", "kind"],
            choices=CustomerKind,
        ),
        _f(
            "segment",
            gettext_lazy("Segment"),
            Customer,
            "segment",
            ["客户类型", "客户分类", "类型", "segment"],
            choices=Segment,
        ),
        _f(
            "industry",
            gettext_lazy("Industry"),
            Customer,
            "industry",
            ["行业", "所属行业", "行业类别", "industry"],
            choices=Industry,
        ),
        _f(
            "region",
            gettext_lazy("Region"),
            Customer,
            "region",
            [
                "地区",
                "区域",
                "省份",
                "省",
                "经营属地",
                "所在地区",
                "所在省份",
                "region",
                "province",
                "territory",
                "state",
            ],
        ),
        _f("city", gettext_lazy("City"), Customer, "city", ["城市", "市", "所在城市", "city"]),
        _f(
            "address",
            gettext_lazy("Address"),
            Customer,
            "address",
            ["地址", "公司地址", "详细地址", "通讯地址", "办公地址", "address", "companyaddress", "street"],
        ),
        _f(
            "phone",
            gettext_lazy("Company phone"),
            Customer,
            "phone",
            ["电话", "公司电话", "座机", "固话", "总机", "companyphone", "phone", "telephone", "tel", "mainphone"],
        ),
        _f(
            "email",
            gettext_lazy("Company email"),
            Customer,
            "email",
            ["公司邮箱", "企业邮箱", "companyemail", "generalemail"],
        ),
        _f(
            "website",
            gettext_lazy("Website"),
            Customer,
            "website",
            ["网址", "网站", "官网", "主页", "website", "web", "url", "homepage"],
        ),
        _f(
            "credit_code",
            gettext_lazy("Unified social credit code"),
            Customer,
            "credit_code",
            [
                "统一社会信用代码",
                "社会信用代码",
                "信用代码",
                "税号",
                "纳税人识别号",
                "creditcode",
                "unifiedsocialcreditcode",
                "uscc",
                "taxid",
                "taxnumber",
            ],
        ),
        _f(
            "source",
            gettext_lazy("Source"),
            Customer,
            "source",
            ["来源", "客户来源", "信息来源", "source", "leadsource"],
            choices=Source,
        ),
        _f(
            "status", gettext_lazy("Status"), Customer, "status", ["状态", "客户状态", "status"], choices=CustomerStatus
        ),
        _f(
            "tier",
            gettext_lazy("Tier"),
            Customer,
            "tier",
            ["等级", "客户等级", "级别", "分级", "客户级别", "tier"],
            choices=Tier,
        ),
        _f(
            "channel_level",
            gettext_lazy("Channel level"),
            Customer,
            "channel_level",
            ["渠道级别", "渠道等级", "渠道", "经销级别", "经销商级别", "channellevel", "channel"],
            choices=ChannelLevel,
            extra={
                "choice_synonyms": {
                    "总经销": "general_dealer",
                    "总代理": "general_dealer",
                    "一批": "general_dealer",
                    "一级经销商": "general_dealer",
                    "一级代理": "general_dealer",
                    "二批": "sub_dealer",
                    "二级经销商": "sub_dealer",
                    "分销商": "sub_dealer",
                    "零售": "retailer",
                    "零售商": "retailer",
                    "门店": "retailer",
                    "终端": "end_customer",
                    "终端客户": "end_customer",
                    "最终用户": "end_customer",
                    "直销客户": "end_customer",
                }
            },
        ),
        _f(
            "notes",
            gettext_lazy("Notes"),
            Customer,
            "notes",
            ["备注", "说明", "备注信息", "notes", "note", "remarks", "comment", "comments"],
        ),
        _f(
            "owner",
            gettext_lazy("Owner (user name)"),
            Customer,
            "owner",
            [
                "负责人",
                "归属人",
                "所属销售",
                "业务员",
                "销售代表",
                "客户经理",
                "跟进人",
                "owner",
                "salesrep",
                "accountowner",
                "assignedto",
            ],
        ),
        _f(
            "contact_name",
            gettext_lazy("Contact name"),
            Contact,
            "name",
            [
                "联系人",
                "联系人姓名",
                "姓名",
                "名字",
                "contact",
                "contactname",
                "contactperson",
                "fullname",
                "firstname",
                "联系人名称",
            ],
        ),
        _f(
            "contact_gender",
            gettext_lazy("Contact gender"),
            Contact,
            "gender",
            ["性别", "gender", "sex"],
            choices=Gender,
        ),
        _f(
            "contact_position",
            gettext_lazy("Contact position"),
            Contact,
            "position",
            ["职务", "职位", "岗位", "头衔", "职称", "联系人职务", "联系人职位", "position", "title", "jobtitle"],
        ),
        _f(
            "contact_department",
            gettext_lazy("Contact department"),
            Contact,
            "department",
            ["部门", "所在部门", "科室", "department", "dept"],
        ),
        _f(
            "contact_buying_role",
            gettext_lazy("Contact's role in buying"),
            Contact,
            "buying_role",
            ["采购角色", "决策角色", "角色", "buyingrole", "role"],
            choices=BuyingRole,
        ),
        _f(
            "contact_mobile",
            gettext_lazy("Contact mobile"),
            Contact,
            "mobile",
            [
                "手机",
                "手机号",
                "手机号码",
                "移动电话",
                "联系电话",
                "联系方式",
                "mobile",
                "mobilephone",
                "cell",
                "cellphone",
                "contactphone",
                # "联系人/电话" under a merged group header reads as one name.
                "联系人电话",
                "联系人手机",
                "联系人手机号",
                "联系人联系电话",
            ],
        ),
        _f(
            "contact_office_phone",
            gettext_lazy("Contact office phone"),
            Contact,
            "office_phone",
            [
                "办公电话",
                "工作电话",
                "分机",
                "联系人座机",
                "联系人办公电话",
                "officephone",
                "workphone",
                "businessphone",
                "directline",
            ],
        ),
        _f(
            "contact_email",
            gettext_lazy("Contact email"),
            Contact,
            "email",
            ["邮箱", "电子邮箱", "电子邮件", "邮件", "联系人邮箱", "email", "e-mail", "mail", "emailaddress"],
        ),
        _f(
            "contact_wechat",
            gettext_lazy("Contact WeChat"),
            Contact,
            "wechat",
            ["微信", "微信号", "联系人微信", "wechat", "weixin"],
        ),
        _f(
            "contact_birthday",
            gettext_lazy("Contact birthday"),
            Contact,
            "birthday",
            ["生日", "出生日期", "birthday", "dateofbirth", "dob"],
            is_date=True,
        ),
    ]
)
CUSTOMER_IMPORT_FIELDS = [f for f in FIELDS.values() if f.model is Customer and f.name != "owner"]
CONTACT_IMPORT_FIELDS = [f for f in FIELDS.values() if f.model is Contact]


def header_key(text: str) -> str:
    """A header for comparison: NFKC, lower case, without spaces, punctuation and a trailing "*"."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC" or ch == "-").strip("-")


def _labels(language: str, fields: dict[str, ImportField]) -> dict[str, str]:
    with translation.override(language):
        return {header_key(str(f.label)): f.name for f in fields.values()}


def _synonym_index(fields: dict[str, ImportField]) -> dict[str, str]:
    index = {}
    for language in ("en", "zh-hans"):
        index.update(_labels(language, fields))
    for f in fields.values():
        for synonym in f.synonyms:
            index.setdefault(header_key(synonym), f.name)
    return index


class HeaderIndex:
    """Known column names of a set of fields (labels in both languages, synonyms), to guess
    which field a header names."""

    def __init__(self, fields: dict[str, ImportField]):
        self.index = _synonym_index(fields)
        self.by_length = [k for k in sorted(self.index, key=len, reverse=True) if len(k) >= 2]

    def field_for(self, header: str) -> str | None:
        key = header_key(header)
        if not key:
            return None
        if key in self.index:
            return self.index[key]
        # "基本信息/客户名称": a two-row header whose group adds nothing the name does not say.
        if "/" in header:
            last = header_key(header.rsplit("/", 1)[1])
            if last in self.index:
                return self.index[last]
        # "客户名称*" and "手机号码（必填）": a known name followed by a remark.
        return next((self.index[k] for k in self.by_length if key.startswith(k)), None)


def guess_columns(headers: list[str], fields: dict[str, ImportField]) -> dict[str, str]:
    """{column index as text: field}: exact names, labels of either language, then synonyms; each field once."""
    index = HeaderIndex(fields)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for i, header in enumerate(headers):
        name = index.field_for(header)
        if name and name not in used:
            mapping[str(i)] = name
            used.add(name)
    return mapping


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """The customer import's guess (see guess_columns)."""
    mapping = guess_columns(headers, FIELDS)
    used = set(mapping.values())
    # A lone "email" column belongs to the company when the file has no contacts.
    if "contact_email" in used and "contact_name" not in used and "email" not in used:
        for col, name in mapping.items():
            if name == "contact_email":
                mapping[col] = "email"
    return mapping


def header_signature(headers: list[str], target: str = "customers") -> str:
    """Files from one template share this: the normalised headers in order (and what they
    import: a lead file's mapping is not offered for customers). Customer files keep the
    signature they had before there were other targets."""
    keys = [header_key(h) for h in headers]
    if target != "customers":
        keys = [f"target:{target}", *keys]
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()


@cache
def _choice_lookup(choices: type) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        if value == "":
            continue
        lookup[header_key(value)] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                lookup[header_key(str(label))] = value
    extra = {
        CustomerKind: {"公司": "company", "企业": "company", "单位": "company", "个人": "person", "自然人": "person"},
        Gender: {"男": "m", "女": "f", "male": "m", "female": "f", "m": "m", "f": "f", "先生": "m", "女士": "f"},
        Tier: {"潜在": "prospect", "普通": "ordinary", "重点": "key", "a": "key", "b": "ordinary", "c": "prospect"},
        CustomerStatus: {"潜在": "potential", "活跃": "active", "休眠": "dormant", "流失": "lost"},
        Source: {"展会": "trade_show", "网络": "internet", "转介绍": "referral", "推荐": "referral"},
        BuyingRole: {
            "决策者": "decision_maker",
            "决策人": "decision_maker",
            "影响者": "influencer",
            "支持者": "supporter",
            "使用者": "user",
        },
    }.get(choices, {})
    lookup.update({header_key(k): v for k, v in extra.items()})
    return lookup


class CellError(ValueError):
    pass


class UnmatchedChoiceError(CellError):
    """A picklist value that is none of the choices: the field stays empty and the row gets a warning."""


_WORDS: dict[tuple[int, str], dict[str, str]] = {}


def _choice_words(f: ImportField) -> dict[str, str]:
    """{normalised word: choice} for a field: codes, labels in both languages, the field's own
    words. Built once per field (fields are module constants) and language."""
    cache_key = (id(f), translation.get_language() or "")
    words = _WORDS.get(cache_key)
    if words is None:
        words = dict(_choice_lookup(f.choices))
        words.update({header_key(k): v for k, v in f.extra.get("choice_synonyms", {}).items()})
        _WORDS[cache_key] = words
    return words


def _usable_word(word: str) -> bool:
    """Words long enough to look for inside a value ("it" is inside "kitchen")."""
    return len(word) >= (4 if word.isascii() else 2)


def known_choice(f: ImportField, key: str) -> str | None:
    """The choice a normalised value names by code, label or the field's own words (None: none)."""
    return _choice_words(f).get(key)


def parse_choice(f: ImportField, text: str, chosen: dict[str, str] | None = None) -> str:
    """The choice a cell names. `chosen`: the value mapping of this column ({normalised value:
    choice, or "" to leave the field empty}), asked first."""
    key = header_key(text)
    if chosen and key in chosen:
        if chosen[key] == "":
            raise UnmatchedChoiceError(_("“%(value)s” was left empty as you chose.") % {"value": text})
        return chosen[key]
    value = _choice_words(f).get(key)
    if value is None:
        raise UnmatchedChoiceError(
            _("“%(value)s” matches none of the choices; the field is left empty.") % {"value": text}
        )
    return value


# Words that point to a choice without naming it: the best guess offered on the value-mapping step.
GUESS_WORDS = {
    "industry": {
        "machinery": ["机械", "机床", "设备", "五金", "模具", "阀门", "泵", "轴承", "自动化", "machine", "equipment"],
        "electronics": ["电子", "电器", "电气", "电工", "照明", "仪器", "仪表", "electronic", "electric"],
        "chemicals": ["化工", "化学", "塑料", "塑胶", "橡胶", "涂料", "chemical", "plastic"],
        "textiles": ["纺织", "服装", "服饰", "面料", "鞋", "家纺", "textile", "apparel", "garment"],
        "food": ["食品", "饮料", "餐饮", "农业", "food", "beverage"],
        "building": ["建材", "建筑", "装饰", "装修", "水泥", "陶瓷", "building", "construction"],
        "automotive": ["汽车", "汽配", "车辆", "摩托", "automotive", "auto", "car"],
        "pharma": ["医药", "制药", "医疗", "药", "pharma", "medical"],
        "energy": ["能源", "电力", "光伏", "新能源", "石油", "燃气", "energy", "solar", "power"],
        "retail": ["批发", "零售", "贸易", "商贸", "进出口", "外贸", "trade", "trading", "wholesale", "retail"],
        "logistics": ["物流", "运输", "货运", "快递", "仓储", "logistics", "shipping", "transport"],
        "it": ["软件", "互联网", "信息", "网络", "科技", "software", "internet"],
    },
    "source": {
        "internet": [
            "阿里巴巴",
            "1688",
            "百度",
            "网站",
            "官网",
            "网络",
            "淘宝",
            "天猫",
            "京东",
            "抖音",
            "微信",
            "慧聪",
            "alibaba",
            "google",
            "web",
            "online",
            "internet",
            "网上",
        ],
        "trade_show": ["展会", "展览", "广交会", "博览会", "名片", "exhibition", "fair", "expo"],
        "referral": ["介绍", "推荐", "老客户", "朋友", "referral", "referred"],
        "association": ["协会", "商会", "association", "chamber"],
        "trade_press": ["杂志", "报刊", "报纸", "期刊", "黄页", "magazine", "press"],
    },
}


def guess_choice(f: ImportField, text: str) -> str:
    """The choice a person most likely meant by an unmatched value ("机械" → machinery), or ""."""
    import difflib

    key = header_key(text)
    if not key:
        return ""
    words = _choice_words(f)
    if key in words:
        return words[key]
    # One contains the other ("机械" in "机械设备"; "汽车配件厂" holds "汽车"): the longest wins.
    contained = [
        (len(w), v) for w, v in words.items() if _usable_word(w) and (w in key or (_usable_word(key) and key in w))
    ]
    if contained:
        return max(contained)[1]
    hints = GUESS_WORDS.get(f.name, {}) or GUESS_WORDS.get(f.attr, {})
    values = {v for v, _label in f.choices.choices if v}
    hinted = [
        (len(w), v)
        for v, ws in hints.items()
        if v in values
        for w in map(header_key, ws)
        if _usable_word(w) and w in key
    ]
    if hinted:
        return max(hinted)[1]
    close = difflib.get_close_matches(key, list(words), n=1, cutoff=0.6)
    return words[close[0]] if close else ""


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(text: str) -> date:
    text = unicodedata.normalize("NFKC", text).strip()
    if text.startswith("--"):  # vCard birthday without a year
        raise CellError(_("The year is missing from this date."))
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{4,5}", text):  # an Excel serial number
        return EXCEL_EPOCH + timedelta(days=int(text))
    raise CellError(_("“%(value)s” is not a date (write it as 2026-05-31).") % {"value": text})


@cache
def _is_multiline(model, attr: str) -> bool:
    return isinstance(model._meta.get_field(attr), models.TextField)


def parse_cell(f: ImportField, text: str, chosen: dict[str, str] | None = None):
    """A cell's value for a field; CellError when it has none (UnmatchedChoiceError: a warning only)."""
    # A cell our own CSV export quoted ("'=…", see spreadsheet_safety) imports as it was stored.
    text = unquote_formula(text)
    if f.choices is not None:
        return parse_choice(f, text, chosen)
    if f.is_date:
        return parse_date(text).isoformat()
    if not _is_multiline(f.model, f.attr):
        # A line break inside a cell (Alt+Enter) in a one-line field is a space, not an error.
        text = one_line(text).strip()
    return text
