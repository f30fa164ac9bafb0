"""The vCard reader on files written the way real clients write them (tests/vcards/, see its
README): every name, every number with its type and label, the warnings, and cards that add up
to the file's BEGIN:VCARD lines."""

from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from kehu.integrations.vcard import COMPANY, GROUP, PERSON, VCardFile, components, parse_card, split_cards, unescape

CORPUS = Path(__file__).parent / "vcards"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def read(name: str) -> tuple[VCardFile, list]:
    data = (CORPUS / name).read_bytes()
    file = VCardFile(data)
    cards = list(file.cards())
    # Every file: one card per BEGIN:VCARD line, counted independently of the reader.
    begins = sum(
        1 for line in data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n") if line == b"BEGIN:VCARD"
    )
    assert file.begin_count == begins == len(cards)
    assert [c.number for c in cards] == list(range(1, len(cards) + 1))
    return file, cards


def phones(card):
    return [(p.kind, p.number, p.label) for p in card.phones]


def emails(card):
    return [(e.kind, e.address, e.label) for e in card.emails]


def handles(card):
    return [(h.service, h.handle, h.label) for h in card.handles]


def test_iphone_contacts_3_0():
    _file, (wang, donggang, group, liu) = read("iphone-3.0.vcf")
    assert (wang.kind, wang.name, wang.org, wang.department, wang.title) == (
        PERSON,
        "王建国",
        "杭州华星精密机械有限公司",
        "采购部",
        "采购部经理",
    )
    # CELL is a mobile, HOME never the office, itemN.X-ABLabel is the label (Apple's own ones translated).
    assert phones(wang) == [
        ("mobile", "138 5711 2345", ""),
        ("mobile", "139 0571 6688", "iPhone"),
        ("other", "0571-8812 3456", "秘书"),
        ("home", "0571-8765 4321", ""),
        ("fax", "0571-8812 3499", ""),
        ("work", "400-800-1234", "Main number"),
    ]
    assert emails(wang) == [
        ("work", "wangjg@hzhuaxing.example.cn", ""),
        ("home", "wangjianguo@163.example.com", ""),
        ("other", "jg.wang@icloud.example.com", ""),
    ]
    assert handles(wang) == [("qq", "12345678", ""), ("wechat", "wangjg_hz", "")]
    work, home = wang.addresses
    assert (work.kind, work.street, work.city, work.region, work.postcode) == (
        "work",
        "良渚街道好运街 88 号",
        "杭州",
        "浙江",
        "311113",
    )
    assert (home.kind, home.street) == ("home", "文一西路 100 号")
    # Escapes decoded in the URL too; Apple's year 1604 means "no year".
    assert wang.urls == ["http://www.hzhuaxing.example.cn/about?lang=zh&x=1,2"]
    assert (wang.birthday, wang.birthday_month, wang.birthday_day) == (None, 12, 24)
    assert wang.note == "展会认识\n喜欢喝龙井"
    # The folded base64 photo is fine: no word about it.
    assert wang.warnings == ["The birthday has no year: it was kept as month and day (12-24)."]

    assert (donggang.kind, donggang.name, donggang.name_from) == (COMPANY, "宁波东港化工股份有限公司", "org")
    assert phones(donggang) == [("work", "0574-8765 1200", ""), ("fax", "0574-8765 1299", "")]
    assert donggang.urls == ["http://www.donggang.example.cn"]

    assert (group.kind, group.name) == (GROUP, "展会客户")
    assert group.skip_reason == "A group of contacts (a list), not a person or a company: skipped."

    assert (liu.name, liu.birthday) == ("刘芳", date(1985, 6, 12))
    assert liu.warnings == [
        "The birthday had a time of day, which was left out.",
        "The photo could not be read and was left out.",
    ]


def test_android_2_1_quoted_printable_with_soft_breaks():
    _file, (chen, zhao, sun) = read("android-2.1-qp.vcf")
    # The ORG's soft breaks fall between the octets of one character: joined before decoding.
    assert (chen.name, chen.org, chen.department, chen.title) == (
        "陈志强",
        "宁波东港化工股份有限公司",
        "设备科",
        "设备科科长",
    )
    assert phones(chen) == [
        ("mobile", "13706818899", ""),
        ("home", "0574-8612 3456", ""),
        ("work", "0574-87651200", ""),
        ("fax", "0574-87651299", ""),
    ]
    assert emails(chen) == [("work", "chenzq@donggang.example.cn", "")]
    assert handles(chen) == [("qq", "987654321", ""), ("skype", "chen.zhiqiang", "")]
    assert (chen.addresses[0].street, chen.addresses[0].city, chen.addresses[0].region) == (
        "北仑区港口路 1 号",
        "宁波",
        "浙江",
    )
    assert chen.note == "老客户，\n每年春季采购"
    assert chen.warnings == []
    # No FN: the name from N. The PREF number comes first; an untyped Chinese mobile is a mobile.
    assert (zhao.name, zhao.name_from) == ("赵敏", "n")
    assert phones(zhao) == [("mobile", "+86 137 0000 1111", ""), ("mobile", "13700002222", "")]
    # Only an e-mail: named after it, with a word.
    assert (sun.kind, sun.name, sun.name_from) == (PERSON, "sunli@example.net", "email")
    assert sun.warnings == ["The card has no name: it was named after its email address."]


def test_outlook_2_1_in_gb2312_and_gbk():
    file, (zhou, wang) = read("outlook-2.1-gbk.vcf")
    assert (zhou.name, zhou.org, zhou.department, zhou.title) == (
        "周丽",
        "无锡恒力汽车零部件有限公司",
        "销售部",
        "销售总监",
    )
    assert phones(zhou) == [
        ("work", "(0510) 8234-5678", ""),
        ("home", "(0510) 8111-2222", ""),
        ("mobile", "135 1234 5678", ""),
        ("fax", "(0510) 8234-5600", ""),
    ]
    assert emails(zhou) == [("other", "zhouli@hengli.example.cn", "")]
    # Outlook's soft break falls inside an "=XX" of the quoted-printable address.
    address = zhou.addresses[0]
    assert (address.kind, address.street, address.city, address.region) == ("work", "锡山区友谊路 8 号", "无锡", "江苏")
    assert zhou.urls == ["http://www.hengli.example.cn"] and zhou.birthday == date(1985, 6, 12)
    # "gb2312" as Outlook labels GBK text: 喆 and 镕 are GBK only.
    assert (wang.name, wang.org, wang.note) == ("王喆", "常州鑫镕机电有限公司", "第一行\n第二行")
    assert zhou.warnings == wang.warnings == []
    assert file.encoding() == "GB2312, GBK"


def test_gmail_3_0_unescaped_commas_and_escapes():
    _file, (zhang, huaxing) = read("gmail-3.0.vcf")
    # FN and ORG are text: Gmail's unescaped comma stays; ORG's second part is the department.
    assert (zhang.name, zhang.org, zhang.department, zhang.title) == (
        "Zhang, Wei",
        "Sino-Tech, Inc.",
        "R&D, Asia",
        "Director, Purchasing",
    )
    assert phones(zhang) == [
        ("mobile", "+86 138 0013 8000", ""),
        ("work", "+86 21 6888 1234", ""),
        ("home", "+86 21 5555 6666", ""),
    ]
    assert emails(zhang) == [
        ("work", "zhang.wei@sinotech.example.com", ""),
        ("home", "zhangwei88@gmail.example.com", ""),
    ]
    assert zhang.addresses[0].street == "88 Haoyun St, Liangzhu"
    assert zhang.urls == ["http://www.sinotech.example.com/contact,us"]
    assert zhang.note == "Met at CIMT 2026, booth E2-101\nPrefers WeChat"
    # A card whose only name is the company's is the company.
    assert (huaxing.kind, huaxing.name) == (COMPANY, "Huaxing Machinery Co., Ltd.")
    assert phones(huaxing) == [("work", "0571-8812 0000", "")]


def test_thunderbird_cardbook_4_0():
    _file, (zhou, company, group) = read("cardbook-4.0.vcf")
    assert (zhou.kind, zhou.name, zhou.department) == (PERSON, "周丽", "销售部")
    assert phones(zhou) == [
        ("mobile", "+86-135-1234-5678", ""),
        ("work", "+86-510-8234-5678 ext. 8001", ""),
        ("home", "+86-510-8111-2222", ""),
    ]
    assert emails(zhou) == [("work", "zhouli@hengli.example.cn", ""), ("home", "zhouli@qq.example.com", "")]
    assert handles(zhou) == [
        ("xmpp", "zhouli@jabber.example.org", ""),
        ("skype", "zhou.li", ""),
        ("dingtalk", "zhouli-hl", ""),
    ]
    assert (zhou.birthday, zhou.birthday_month, zhou.birthday_day) == (None, 5, 3)
    assert zhou.anniversary == date(2010, 5, 18)
    assert (company.kind, company.name, phones(company)) == (
        COMPANY,
        "无锡恒力汽车零部件有限公司",
        [("work", "+86-510-8234-0000", "")],
    )
    assert (group.kind, group.name) == (GROUP, "无锡客户")


def test_japanese_feature_phone_in_shift_jis():
    file, (yamada,) = read("feature-phone-sjis.vcf")
    # ソ and 表 end in the byte 0x5C (a backslash): decoded before escapes are looked at.
    assert (yamada.name, yamada.org, yamada.department) == ("山田 太郎", "株式会社ソニック", "営業部")
    # TITLE declares no charset: the file's Shift_JIS, not a guess.
    assert yamada.title == "課長"
    assert yamada.note == "代表番号は表に記載"
    assert phones(yamada) == [("mobile", "090-1234-5678", ""), ("home", "03-1234-5678", "")]
    assert emails(yamada) == [("other", "taro.yamada@docomo.example.ne.jp", "")]
    assert yamada.warnings == [] and file.encoding() == "SHIFT_JIS"


def test_taiwanese_big5():
    _file, (hsu,) = read("taiwan-big5.vcf")
    assert (hsu.name, hsu.org, hsu.department, hsu.title) == ("許功成", "台灣精密工業股份有限公司", "業務部", "經理")
    assert phones(hsu) == [("mobile", "0912-345-678", ""), ("work", "+886-2-2345-6789", "")]
    assert (hsu.addresses[0].street, hsu.addresses[0].city) == ("信義路五段7號", "台北市")


def test_western_names_in_iso_8859_1():
    _file, (mueller, lefevre) = read("western-latin1.vcf")
    assert (mueller.name, mueller.org, mueller.department) == (
        "Jürgen Müller",
        "Société Générale d'Équipement",
        "Département Achats",
    )
    assert phones(mueller) == [("work", "+49 89 1234 5678", ""), ("mobile", "+49 171 234 5678", "")]
    # Latin names from N read given name first.
    assert (lefevre.name, lefevre.name_from) == ("François Lefèvre", "n")


def test_a_utf8_character_split_by_a_fold_at_75_octets():
    raw = (CORPUS / "folded-utf8.vcf").read_bytes()
    first_fold = raw.split(b"\r\n")[4]
    assert len(first_fold) == 75
    with pytest.raises(UnicodeDecodeError):
        first_fold.decode("utf-8")  # the file really cuts a character in two
    _file, (ouyang,) = read("folded-utf8.vcf")
    assert ouyang.name == "欧阳明月"
    assert ouyang.org == "上海国际贸易有限公司驻杭州办事处（浙江省杭州市西湖区文三路 90 号东部软件园）"
    assert ouyang.department == "国际业务部"
    assert ouyang.note == "这位客户每年春季都会来厂里看新设备，" * 3
    assert ouyang.warnings == []


def test_odd_and_broken_cards_each_say_what_became_of_them():
    _file, cards = read("odd-and-broken.vcf")
    email_only, company_only, binary, unclosed, profile, empty, cr_only = cards
    assert (email_only.kind, email_only.name, email_only.name_from) == (PERSON, "only.email@example.cn", "email")
    assert (company_only.kind, company_only.name) == (COMPANY, "只有公司的卡片有限公司")
    # A card we cannot read is named by its place in the file, with the reason.
    assert binary.unreadable == "Nothing on it could be read: no name, company, email or phone number."
    assert binary.where == "card 3 (line 9)"
    assert all("\x00" not in w for w in binary.warnings)
    assert (unclosed.name, phones(unclosed)) == ("孙悦", [("mobile", "13811112222", "")])
    assert unclosed.warnings == ["The card does not end with END:VCARD; it was read up to the next card."]
    assert (profile.name, profile.birthday, phones(profile)) == (
        "钱磊",
        date(1979, 2, 3),
        [("mobile", "13922223333", "")],
    )
    assert profile.warnings == [
        "Line 22 is not a vCard property and was left out: “this line is not a property”.",
        "The PROFILE line was left out (it is not part of a contact).",
        "The birthday had a time of day, which was left out.",
    ]
    assert empty.unreadable and empty.where == "card 6 (line 26)"
    # Old Mac line ends (a lone CR) and a birthday without a year.
    assert (cr_only.name, phones(cr_only)) == ("周杰", [("work", "021-6666 8888", "")])
    assert (cr_only.birthday_month, cr_only.birthday_day) == (12, 24)


def card(text: str, file_charset: str = ""):
    (raw,) = split_cards(text.encode("utf-8") if isinstance(text, str) else text)
    return parse_card(raw, file_charset)


def test_a_value_without_charset_that_is_not_utf8_is_read_as_gbk_with_a_warning():
    found = card(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:" + "张伟".encode("gbk") + b"\r\nEND:VCARD\r\n")
    assert found.name == "张伟"
    assert found.warnings == ["FN declares no character set and is not UTF-8; it was read as GBK: check it."]


def test_a_declared_charset_that_does_not_fit_falls_back_to_utf8_with_a_warning():
    found = card("BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=SHIFT_JIS:张伟\r\nEND:VCARD\r\n")
    assert found.name == "张伟"
    assert found.warnings == ["FN is not in its declared character set SHIFT_JIS; it was read as UTF-8."]


def test_an_unknown_charset_is_said():
    found = card("BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=KLINGON:Worf\r\nEND:VCARD\r\n")
    assert found.name == "Worf"
    assert found.warnings == ["The character set KLINGON is unknown; FN was read as UTF-8."]


@pytest.mark.parametrize(
    ("bday", "expected", "warnings"),
    [
        ("1978-05-03", (date(1978, 5, 3), None, None), []),
        ("19780503", (date(1978, 5, 3), None, None), []),
        ("--0503", (None, 5, 3), ["The birthday has no year: it was kept as month and day (05-03)."]),
        ("--05-03", (None, 5, 3), ["The birthday has no year: it was kept as month and day (05-03)."]),
        ("--0229", (None, 2, 29), ["The birthday has no year: it was kept as month and day (02-29)."]),
        (
            "1978-05-03T10:00:00+08:00",
            (date(1978, 5, 3), None, None),
            ["The birthday had a time of day, which was left out."],
        ),
        (
            "1850-05-03",
            (None, 5, 3),
            [
                "The birthday had the year 1850, which was left out.",
                "The birthday has no year: it was kept as month and day (05-03).",
            ],
        ),
        ("1978-13-40", (None, None, None), ["The birthday “1978-13-40” is not a date and was left out."]),
        ("next spring", (None, None, None), ["The birthday “next spring” is not a date and was left out."]),
    ],
)
def test_birthdays(bday, expected, warnings):
    found = card(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nBDAY:{bday}\r\nEND:VCARD\r\n")
    assert (found.birthday, found.birthday_month, found.birthday_day) == expected
    assert found.warnings == warnings


def test_impp_forms_and_services():
    found = card(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\n"
        "IMPP;X-SERVICE-TYPE=Facebook:xmpp:li.na@chat.example.com\r\n"
        "IMPP:aim:goim?screenname=lina88\r\n"
        "IMPP:msnim:chat?contact=lina@example.com\r\n"
        "IMPP:ymsgr:sendIM?lina_yahoo\r\n"
        "IMPP;X-SERVICE-TYPE=Viber:x-apple:%2B8613800000000\r\n"
        "IMPP;X-SERVICE-TYPE=微信:x-apple:lina_wx\r\n"
        "X-WECHAT:lina_wx2\r\nX-AIM:lina_aim\r\nX-ICQ:123456\r\n"
        "END:VCARD\r\n"
    )
    assert handles(found) == [
        ("facebook", "li.na@chat.example.com", ""),
        ("aim", "lina88", ""),
        ("msn", "lina@example.com", ""),
        ("yahoo", "lina_yahoo", ""),
        ("other", "+8613800000000", "Viber"),
        ("wechat", "lina_wx", ""),
        ("wechat", "lina_wx2", ""),
        ("aim", "lina_aim", ""),
        ("icq", "123456", ""),
    ]


def test_bad_values_drop_the_property_not_the_card():
    found = card(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nEMAIL:not-an-address\r\nTEL:ext.\r\n"
        "URL:javascript:alert(1)\r\nTEL;TYPE=CELL:13800000000\r\nEND:VCARD\r\n"
    )
    assert (found.name, phones(found), found.emails, found.urls) == ("李娜", [("mobile", "13800000000", "")], [], [])
    assert found.warnings == [
        "“not-an-address” is not an email address and was left out.",
        "The phone number “ext.” has no digits and was left out.",
        "The web address “javascript:alert(1)” is not an http(s) address and was left out.",
    ]


def test_show_as_company_with_a_person_name_makes_no_contact():
    found = card(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:王;芳;;;\r\nFN:华星公司\r\nORG:华星公司\r\nX-ABShowAs:COMPANY\r\nEND:VCARD\r\n"
    )
    assert (found.kind, found.name) == (COMPANY, "华星公司")
    assert found.warnings == ["The card is shown as a company: “王芳” was not made a contact."]


def test_escapes_and_components():
    assert unescape(r"a\,b\;c\:d\\e\nf\Ng") == "a,b;c:d\\e\nf\ng"
    assert unescape(r"C:\Users") == r"C:\Users"  # an unknown escape stays as written
    assert components(r"Huaxing\; Co.;Sales\, East;") == ["Huaxing; Co.", "Sales, East", ""]


def test_utf16_files_and_a_byte_order_mark():
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nEND:VCARD\r\n"
    for data in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        file = VCardFile(data)
        assert file.begin_count == 1 and [c.name for c in file.cards()] == ["李娜"]


def test_warnings_are_in_the_readers_language():
    with translation.override("zh-hans"):
        found = card("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nBDAY:--1224\r\nEND:VCARD\r\n")
    assert found.warnings == ["生日没有年份：已按月、日保存（12-24）。"]
