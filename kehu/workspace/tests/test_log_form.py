"""The 360° page's activity form: its contact menu is the customer's live contacts, from the list the
page reads anyway."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.customers.services import contact_create, contact_delete


@pytest.mark.django_db
def test_the_contact_menu_holds_the_live_contacts_read_once(client, team, customer_of):
    customer = customer_of(team.rep1)
    wang = contact_create(customer=customer, actor=team.rep1, name="王芳")
    li = contact_create(customer=customer, actor=team.rep1, name="李强", is_primary=True)
    gone = contact_create(customer=customer, actor=team.rep1, name="赵六")
    contact_delete(contact=gone, actor=team.rep1)
    contact_create(customer=customer_of(team.rep1, name="别家有限公司"), actor=team.rep1, name="孙七")
    client.force_login(team.rep1)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(f"/customers/{customer.pk}/").content.decode()
    menu = re.search(r'<select name="contact"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', menu)
    assert options == [("", "- Select an option -"), (str(li.pk), "李强"), (str(wang.pk), "王芳")]
    contact_reads = [q for q in ctx.captured_queries if re.search(r'FROM "customers_contact"', q["sql"])]
    assert len(contact_reads) == 1
