"""Writes encrypted.xlsx: a small customer list protected with the password "kehu" by the
standard encryption Excel and WPS use (an OLE compound file with EncryptionInfo and
EncryptedPackage). Needs openpyxl and msoffcrypto-tool (not a dependency of Kehu):

    pip install msoffcrypto-tool && python kehu/integrations/tests/files/make_encrypted.py
"""

import io
from pathlib import Path

from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook

workbook = Workbook()
sheet = workbook.active
sheet.append(["客户名称", "联系人", "手机"])
sheet.append(["杭州华星精密机械有限公司", "王建国", "13857112345"])
plain = io.BytesIO()
workbook.save(plain)
plain.seek(0)
encrypted = io.BytesIO()
OOXMLFile(plain).encrypt("kehu", encrypted)
(Path(__file__).parent / "encrypted.xlsx").write_bytes(encrypted.getvalue())
