"""Administrators edit the document's words and logo per language on a settings page with a live
preview; a logo must be a real image of sensible size; others may not change anything."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kehu.core.models import AuditEntry
from kehu.quotes.document import document_pdf
from kehu.quotes.models import DocumentTemplate

from .document_fixtures import pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]
URL = "/quotes/document-templates/"
WORDS = {
    "company_name": "宁波恒达机电有限公司",
    "letterhead": "宁波市鄞州区启明路 818 号\n电话 0574-88886666",
    "introduction": "感谢贵司垂询。",
    "terms": "质保一年。",
    "signature_block": "授权代表：李娜",
    "footer": "恒达机电 · 中国银行宁波分行",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image(kind="PNG", size=(120, 40), name="logo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (32, 107, 196)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{kind.lower()}")


def test_the_page_is_listed_in_the_settings_for_administrators_only(client, team):
    client.force_login(team.admin)
    assert URL in client.get("/settings/").content.decode()
    client.force_login(team.manager1)
    assert URL not in client.get("/settings/").content.decode()


@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_who_is_not_an_administrator_changes_nothing(client, team, who):
    client.force_login(getattr(team, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {**WORDS, "language": "zh-hans"}).status_code == 403
    assert client.get(URL + "preview/").status_code == 403
    assert DocumentTemplate.objects.count() == 0


def test_anonymous_goes_to_the_login(client, team):
    response = client.post(URL, {**WORDS, "language": "zh-hans"})
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
    assert DocumentTemplate.objects.count() == 0


def test_an_administrator_saves_each_language_and_the_pdf_uses_it(client, team, quote_of):
    client.force_login(team.admin)
    response = client.post(URL, {**WORDS, "language": "zh-hans", "logo": image()})
    assert (response.status_code, response["Location"]) == (302, URL + "?language=zh-hans")
    english = {**WORDS, "company_name": "Ningbo Hengda Co., Ltd.", "footer": "Hengda"}
    assert client.post(URL, {**english, "language": "en"}).status_code == 302
    zh, en = DocumentTemplate.objects.get(language="zh-hans"), DocumentTemplate.objects.get(language="en")
    assert {name: getattr(zh, name) for name in WORDS} == WORDS
    assert (zh.updated_by, zh.logo.name, en.company_name, bool(en.logo)) == (
        team.admin, "quotes/logo-zh-hans.png", "Ningbo Hengda Co., Ltd.", False,
    )  # fmt: skip
    assert AuditEntry.objects.filter(target_type="quotes.documenttemplate", actor=team.admin).count() == 2
    quote = quote_of(team.rep1)
    pdf = document_pdf(quote)
    text = pdf_text(pdf)
    assert "宁波恒达机电有限公司" in text and "电话 0574-88886666" in text and "恒达机电 · 中国银行宁波分行" in text
    assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf
    # The page shows what is saved.
    page = client.get(URL + "?language=zh-hans").content.decode()
    assert "宁波恒达机电有限公司" in page and "quotes/logo-zh-hans.png" in page


def test_the_logo_can_be_removed(client, team):
    client.force_login(team.admin)
    client.post(URL, {**WORDS, "language": "zh-hans", "logo": image()})
    client.post(URL, {**WORDS, "language": "zh-hans", "remove_logo": "on"})
    assert not DocumentTemplate.objects.get().logo


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png"),
         "The logo must be a PNG, JPEG, GIF or WebP image."),
        (SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/svg+xml"),
         "The logo must be a PNG, JPEG, GIF or WebP image."),
        (image("BMP", name="logo.bmp"), "The logo must be a PNG, JPEG, GIF or WebP image."),
        (image(size=(2400, 100)), "The logo may be at most 2000 pixels wide and high."),
        (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (1024 * 1024 + 1), content_type="image/png"),
         "The logo may be at most 1 MB."),
    ],
)  # fmt: skip
def test_a_bad_logo_is_refused_and_nothing_is_saved(client, team, upload, message):
    client.force_login(team.admin)
    response = client.post(URL, {**WORDS, "language": "zh-hans", "logo": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert DocumentTemplate.objects.count() == 0


def test_bad_text_is_refused_in_the_user_language(client, team):
    team.admin.language = "zh-hans"
    team.admin.save()
    client.force_login(team.admin)
    response = client.post(URL, {**WORDS, "language": "en", "footer": "x" * 301})
    assert response.status_code == 400
    assert "确保该变量包含不超过 300 字符 (目前字符数 301)。" in response.content.decode()
    response = client.post(URL, {**WORDS, "language": "en", "company_name": "恒达\x1b机电"})
    assert response.status_code == 400
    assert DocumentTemplate.objects.count() == 0


def test_the_live_preview_shows_words_not_yet_saved(client, team):
    client.force_login(team.admin)
    response = client.post(
        URL + "preview/", {**WORDS, "language": "zh-hans", "terms": "尚未保存的条款"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "尚未保存的条款" in html and "宁波恒达机电有限公司" in html and "示例客户有限公司" in html
    assert DocumentTemplate.objects.count() == 0
    english = client.post(URL + "preview/", {**WORDS, "language": "en"}).content.decode()
    assert "Sample customer Co., Ltd." in english and "Quote number" in english


def test_the_sample_pdf_uses_the_saved_words(client, team):
    client.force_login(team.admin)
    client.post(URL, {**WORDS, "language": "zh-hans"})
    response = client.get(URL + "preview/?language=zh-hans&format=pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "宁波恒达机电有限公司" in text and "数控车床" in text and "肆万元整" in text
    page = client.get(URL + "preview/?language=en")
    assert page.status_code == 200 and "CNC lathe" in page.content.decode()
