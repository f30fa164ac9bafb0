"""What the demo `make run` loads (300 customers, seed 42) gives each part of the product: one load for
the class, each test in its own savepoint over it (the load takes seconds, each check milliseconds)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum
from django.test import TestCase, override_settings
from django.utils import timezone, translation

from kehu.activities.models import Activity
from kehu.activities.plausibility import distance_text
from kehu.collection.models import InfoForm, InfoFormStatus, RegionRoute
from kehu.collection.selectors import overdue_for
from kehu.core.tests.fast import fast_settings
from kehu.customers.models import Customer, TimelineEntry
from kehu.demo import complaints_demo, field_demo
from kehu.leads.models import Lead, LeadStatus
from kehu.orders.models import Delivery, Order, OrderLine, SellThrough
from kehu.pool.events import PoolEvent
from kehu.pool.models import CustomerPoolState, Pool
from kehu.pool.selectors import PoolFilters, pool_customer_list
from kehu.sales.models import ForecastRow, Opportunity, StageKind
from kehu.support import complaint_report as report
from kehu.support.dispatch import first_time_fixes, rank_engineers
from kehu.support.models import (
    PAUSED_STATES,
    EngineerProfile,
    InboundMail,
    InboundStatus,
    InstalledUnit,
    Mailbox,
    ServiceVisit,
    SlaPolicy,
    Ticket,
    TicketCategory,
    VisitState,
)
from kehu.support.models_complaints import Complaint, ComplaintState, ComplaintStep
from kehu.users.models import User
from kehu.users.roles import Role


@override_settings(**fast_settings())  # the load runs before the tests' own fixtures
class TestTheDefaultDemo(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("demo_data", stdout=StringIO())

    def test_the_demo_has_visits_to_check_in_today_this_week_and_next(self):
        today = timezone.localdate()
        planned = Activity.objects.filter(kind="visit", planned_for__isnull=False, is_done=False).select_related(
            "customer", "owner"
        )
        assert {a.owner.username for a in planned} == {"rep1", "rep2", "rep3"}
        for login in ("rep1", "rep2", "rep3"):
            mine = [a for a in planned if a.owner.username == login]
            days = {timezone.localdate(a.planned_for) for a in mine}
            assert today in days
            assert any(today + timedelta(days=7) <= d <= today + timedelta(days=13) for d in days)  # next week too
            # Some customers have coordinates; some only a city, placed by the offline table.
            assert any(a.customer.latitude is not None for a in mine)
            city_only = [a for a in mine if a.customer.latitude is None]
            assert city_only and all(a.customer.city for a in city_only)
            assert all(a.checked_in_at is None for a in mine)

    def test_the_demo_has_check_ins_a_manager_would_review(self):
        checked = Activity.objects.filter(checked_in_at__isnull=False)
        warnings = {code for a in checked for code in a.check_in_warning_codes}
        assert warnings == {"far", "off_day", "no_position"}
        assert checked.filter(check_in_warnings="").exists()  # and ones in order
        assert all(distance_text(a) for a in checked if a.check_in_latitude is not None)

    def test_the_demo_has_deals_at_every_kind_of_stage_and_leads_in_each_state(self):
        kinds = set(Opportunity.objects.values_list("stage__kind", flat=True))
        assert kinds == {StageKind.OPEN, StageKind.WON, StageKind.LOST}
        assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"rep1", "rep2", "rep3"}
        statuses = set(Lead.objects.values_list("status", flat=True))
        assert statuses == {LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED}
        assert Lead.objects.filter(owner__isnull=True).count() == 2
        assert ForecastRow.objects.exists()

    def test_demo_has_forms_in_every_state_a_routing_table_and_map_gaps(self):
        assert set(InfoForm.objects.values_list("status", flat=True)) == set(InfoFormStatus.values)
        assert RegionRoute.objects.filter(region="广东", rep__username="rep3").exists()
        users = {u.username: u for u in User.objects.all()}
        assert overdue_for(users["rep1"]).filing and overdue_for(users["manager1"]).approval
        assert overdue_for(users["marketing1"]).archiving
        without = Customer.objects.filter(latitude__isnull=True).count()
        assert 0 < without < Customer.objects.count() * 0.2

    def test_the_demo_has_orders_and_sell_through(self):
        orders = Order.objects.all()
        assert orders.filter(source="quote").exists() and orders.filter(source="direct").exists()
        assert {"draft", "confirmed", "completed", "cancelled"} <= set(orders.values_list("state", flat=True))
        assert {"partial", "full"} <= set(orders.values_list("delivery_status", flat=True))
        for order in orders:
            lines = OrderLine.objects.filter(order=order)
            assert order.total == (lines.aggregate(s=Sum("amount"))["s"] or Decimal(0))
            delivered = Delivery.objects.filter(order=order, is_held=False).aggregate(s=Sum("amount"))["s"]
            assert order.delivered_amount == (delivered or Decimal(0))
            booked = order.state in ("confirmed", "completed")
            assert set(lines.values_list("is_booked", flat=True)) <= {booked}
        owners = set(SellThrough.objects.values_list("seller__owner__username", flat=True))
        assert SellThrough.objects.exists() and owners <= {"rep1", "rep2", "rep3"}

    def test_the_demo_has_received_mail_in_each_state(self):
        box = Mailbox.load()
        assert (box.is_active, box.address, box.has_password) == (False, "service@huaxing-demo.cn", False)
        statuses = sorted(InboundMail.objects.values_list("status", flat=True))
        assert statuses == sorted([InboundStatus.REPLY, InboundStatus.TO_MATCH, InboundStatus.AUTOMATIC])
        reply = InboundMail.objects.get(status=InboundStatus.REPLY)
        assert reply.ticket.messages.get().body == "设备开机后报警 E05，屏幕不亮，照片稍后发。"
        assert Ticket.objects.count() == 15

    def test_the_demo_has_engineers_with_different_records_and_todays_visits(self):
        engineers = {u.username: u for u in User.objects.filter(username__startswith="engineer")}
        assert set(engineers) == {"engineer1", "engineer2", "engineer3"}
        assert EngineerProfile.objects.count() == 3
        assert engineers["engineer1"].check_password("kehu-demo")
        now = timezone.now()
        fixes = first_time_fixes([u.pk for u in engineers.values()], now)
        assert fixes[engineers["engineer1"].pk] == (1, 3)
        assert fixes[engineers["engineer2"].pk] == (1, 1)
        assert fixes[engineers["engineer3"].pk] == (0, 1)
        planned = ServiceVisit.objects.filter(engineer=engineers["engineer1"], state=VisitState.PLANNED)
        days = sorted(timezone.localdate(v.planned_for) - timezone.localdate(now) for v in planned)
        assert [d.days for d in days] == [0, 0, 1]
        ticket = Ticket.objects.get(subject="导轨润滑不足报警")
        with translation.override("en"):
            ranked = rank_engineers(ticket, now=now)
        assert [c.engineer.username for c in ranked][-1] == "engineer3" and ranked[-1].excluded
        assert field_demo.seed() == {"engineers": 0, "visits": 0}

    def test_the_demo_has_service_data_in_every_state(self):
        assert sorted(TicketCategory.objects.values_list("name", flat=True)) == sorted(
            ["安装调试", "维修", "咨询", "投诉转办"]
        )
        defaults = dict(SlaPolicy.objects.filter(category=None).values_list("priority", "resolution_minutes"))
        assert defaults == {"urgent": 240, "high": 480, "normal": 960, "low": 2400}
        strict = SlaPolicy.objects.get(category__name="维修", priority="urgent")
        assert (strict.first_response_minutes, strict.resolution_minutes) == (15, 120)
        assert InstalledUnit.objects.filter(order_line__isnull=False).exists()
        assert InstalledUnit.objects.filter(order_line__isnull=True, serial_number="OLD-2023-0815").count() == 1
        tickets = Ticket.objects.all()
        assert tickets.count() == 15
        assert set(tickets.values_list("owner__username", flat=True)) == {"service1", "service2"}
        states = set(tickets.values_list("state", flat=True))
        assert {"new", "in_progress", "resolved", "closed", "cancelled"} <= states and states & PAUSED_STATES
        assert tickets.filter(resolution_breached=True).exists()
        assert tickets.filter(state__in=PAUSED_STATES, resolution_due_at__isnull=True).count() == 3

    def test_demo_data_fills_the_pool(self):
        assert set(Pool.objects.values_list("name", flat=True)) == {"华东公海", "华南公海", "总公海"}
        pooled = Customer.objects.filter(owner__isnull=True)
        assert 6 <= pooled.count() <= 12
        for customer in pooled:
            assert TimelineEntry.objects.filter(
                customer=customer, kind__in=[PoolEvent.POOL_RELEASED, PoolEvent.POOL_RECYCLED]
            ).exists()
        rep = User.objects.get(username="rep1")
        assert list(pool_customer_list(rep, PoolFilters())) != []
        assert CustomerPoolState.objects.filter(exempt_until__isnull=False).count() == 1
        for login in ("rep1", "rep2", "rep3"):
            assert Customer.objects.filter(owner__username=login).exists()

    def test_the_demo_has_complaints_in_every_state(self):
        specialist = User.objects.get(username="complaint1")
        assert specialist.role == Role.COMPLAINT_SPECIALIST and specialist.check_password("kehu-demo")
        complaints = Complaint.objects.all()
        assert complaints.count() == 25
        assert set(complaints.values_list("state", flat=True)) == set(ComplaintState.values)
        assert complaints.filter(state=ComplaintState.CLOSED).count() == 6
        assert ComplaintStep.objects.filter(is_late=True).exists()
        assert ComplaintStep.objects.filter(overdue_told_at__isnull=False).exists()
        assert not complaints.filter(registered_on__gt=timezone.localdate()).exists()
        stats = report.complaint_stats(
            first=timezone.localdate().replace(year=timezone.localdate().year - 1), last=timezone.localdate()
        )
        assert stats.total == 25 and sum(r.count for r in stats.by_cause) == 25
        assert complaints_demo.seed() == 0  # once only
