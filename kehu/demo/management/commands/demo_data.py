"""manage.py demo_data — load the demo company, its staff and customers (any size)."""

from django.core.management.base import BaseCommand, CommandError

from kehu.demo import contracts_demo, dealerplans_demo, invoices_demo, orders_demo, receivables_demo, support_demo
from kehu.demo.generator import DEMO_PASSWORD, STAFF, DemoGenerator
from kehu.users.models import User


class Command(BaseCommand):
    help = "Load demo data: departments, staff (password kehu-demo), customers, contacts, activities."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300, help="number of customers (default 300)")
        parser.add_argument("--contacts-per-customer", type=float, default=2.0, help="average (default 2)")
        parser.add_argument("--activities-per-customer", type=float, default=5.0, help="average (default 5)")
        parser.add_argument(
            "--heavy-timeline",
            type=int,
            default=0,
            help="extra activities (and timeline entries) for one customer of rep1",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--batch", type=int, default=2000, help="customers per transaction")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) if the database already has users"
        )

    def handle(self, *args, **options):
        # Demo data only ever goes into an empty database, never next to a company's real data.
        if User.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The database already has users: no demo data loaded.")
                return
            raise CommandError("demo_data fills an empty database only; this one has users.")
        if options["customers"] < 0 or options["contacts_per_customer"] < 0 or options["activities_per_customer"] < 0:
            raise CommandError("Counts must not be negative.")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        generator = DemoGenerator(
            customers=options["customers"],
            contacts_per_customer=options["contacts_per_customer"],
            activities_per_customer=options["activities_per_customer"],
            heavy_timeline=options["heavy_timeline"],
            seed=options["seed"],
            batch=options["batch"],
            progress=self.stdout.write,
        )
        result = generator.run()
        contracts_demo.seed(seed=options["seed"])  # the money chain: contracts first (CON-1)
        orders_demo.seed()  # after the contracts: orders from quotes, contracts and direct; sell-through
        staff = {u.username: u for u in User.objects.filter(username__in=[row[0] for row in STAFF])}
        invoices_demo.seed(staff, seed=options["seed"])  # invoice titles, issued invoices, a reversal
        receivables_demo.seed(seed=options["seed"])  # payment plans and payments (after orders and invoices)
        dealerplans_demo.seed()  # after the money chain's demos: dealer plans against their orders (SAL-6)
        support_demo.seed()  # after the orders: units from booked orders, service tickets in every state
        self.stdout.write(
            f"Loaded {result.customers:,} customers, {result.contacts:,} contacts, {result.activities:,} "
            f"activities and {result.timeline:,} timeline entries in {result.seconds:.1f} s."
        )
        if result.heavy_customer_id is not None:
            self.stdout.write(f"heavy timeline customer: {result.heavy_customer_id}")
        service_staff = "engineer1, complaint1, aftersales1, quality1"  # made by the service part of the demo
        self.stdout.write(
            f"Sign in as {', '.join(row[0] for row in STAFF)}, {service_staff} with the password {DEMO_PASSWORD}."
        )
