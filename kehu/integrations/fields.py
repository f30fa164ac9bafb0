"""The fields an import can fill, how column headers are guessed, and how cell text becomes
a value (choices by code or label in either language, dates in the usual Chinese forms)."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.customers.models import (
    BuyingRole,
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
            ["职务", "职位", "岗位", "头衔", "职称", "position", "title", "jobtitle"],
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
            ],
        ),
        _f(
            "contact_office_phone",
            gettext_lazy("Contact office phone"),
            Contact,
            "office_phone",
            ["办公电话", "工作电话", "分机", "officephone", "workphone", "businessphone", "directline"],
        ),
        _f(
            "contact_email",
            gettext_lazy("Contact email"),
            Contact,
            "email",
            ["邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail", "emailaddress"],
        ),
        _f("contact_wechat", gettext_lazy("Contact WeChat"), Contact, "wechat", ["微信", "微信号", "wechat", "weixin"]),
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


def guess_columns(headers: list[str], fields: dict[str, ImportField]) -> dict[str, str]:
    """{column index as text: field}: exact names, labels of either language, then synonyms; each field once."""
    index = _synonym_index(fields)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    keys = [header_key(h) for h in headers]
    for i, key in enumerate(keys):
        name = index.get(key)
        if name is None:
            # "客户名称*" and "手机号码（必填）": a known name followed by a remark.
            name = next(
                (index[k] for k in sorted(index, key=len, reverse=True) if len(k) >= 2 and key.startswith(k)), None
            )
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


def parse_choice(f: ImportField, text: str) -> str:
    key = header_key(text)
    # A field may bring its own words for its choices ("大型" for a size band).
    extra = {header_key(k): v for k, v in f.extra.get("choice_synonyms", {}).items()}
    value = extra.get(key) or _choice_lookup(f.choices).get(key)
    if value is None:
        allowed = "、".join(str(label) for v, label in f.choices.choices if v)
        raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed})
    return value


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


def parse_cell(f: ImportField, text: str):
    if f.choices is not None:
        return parse_choice(f, text)
    if f.is_date:
        return parse_date(text).isoformat()
    return text
