"""Customer archive (客户档案): customers, contacts with their private file, graded facts,
and the customer timeline that every domain appends to (CUS-1, CUS-2, CUS-4, CUS-6)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import events
from kehu.core.models import SoftDeletable, TimeStamped, Versioned, validate_sane_year


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class Segment(models.TextChoices):
    INDUSTRIAL = "industrial", _("Industrial & commercial")
    FINANCE = "finance", _("Finance")
    EDUCATION = "education", _("Education")
    GOVERNMENT = "government", _("Government")
    DEALER = "dealer", _("Dealer / distributor")
    OTHER = "other", _("Other")


class Industry(models.TextChoices):
    MACHINERY = "machinery", _("Machinery & equipment")
    ELECTRONICS = "electronics", _("Electronics")
    CHEMICALS = "chemicals", _("Chemicals")
    TEXTILES = "textiles", _("Textiles & apparel")
    FOOD = "food", _("Food & beverage")
    BUILDING = "building", _("Building materials")
    AUTOMOTIVE = "automotive", _("Automotive & parts")
    PHARMA = "pharma", _("Pharmaceuticals")
    ENERGY = "energy", _("Energy")
    RETAIL = "retail", _("Wholesale & retail")
    LOGISTICS = "logistics", _("Logistics")
    IT = "it", _("Information technology")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    TRADE_SHOW = "trade_show", _("Trade show")
    TRADE_PRESS = "trade_press", _("Trade press")
    INTERNET = "internet", _("Internet")
    ASSOCIATION = "association", _("Industry association")
    STORE_LIST = "store_list", _("Store / brand list")
    REFERRAL = "referral", _("Partner referral")
    OTHER = "other", _("Other")


class CustomerStatus(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class Tier(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ORDINARY = "ordinary", _("Ordinary")
    KEY = "key", _("Key")


class ChannelLevel(models.TextChoices):
    """Where a customer sits in the sales channel; channel price lists are kept per level (SAL-4, SAL-5)."""

    GENERAL_DEALER = "general_dealer", _("General dealer (总经销 / 一批)")
    SUB_DEALER = "sub_dealer", _("Sub-distributor (二批)")
    RETAILER = "retailer", _("Retailer")
    END_CUSTOMER = "end_customer", _("End customer")


class Customer(TimeStamped, SoftDeletable, Versioned):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, default=Segment.INDUSTRIAL)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    region = models.CharField(
        _("region"), max_length=50, blank=True, help_text=_("Province or sales territory (经营属地).")
    )
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.POTENTIAL
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.PROSPECT)
    # db_default: the bulk inserters (import, demo, bench) write rows without naming it.
    channel_level = models.CharField(
        _("channel level"), max_length=20, choices=ChannelLevel.choices, blank=True, db_default=""
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Name, contact names and phones, kept by kehu.customers.search for substring search.
    search_text = models.TextField(blank=True, default="", editable=False)
    # The name without legal form, spaces and punctuation (kehu.customers.normalise): duplicate detection.
    name_key = models.CharField(max_length=200, blank=True, default="", editable=False, db_index=True)
    # Set when this customer was merged into another one; it then stays in the recycle bin.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # What merges and the public pool write into the audit trail beside the fields
    # (put into words by kehu.core.audit_display).
    audit_labels = {
        "merged_into": _("merged into"),
        "merged_from": _("merged from"),
        "moved": _("records moved"),
        "rule": _("pool rule"),
        "pool_exempt": _("kept out of the pool (until, reason)"),
    }
    audit_choices = {"rule": [("no_follow_up", _("no follow-up")), ("no_deal", _("no won deal"))]}

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_sensitive", "Can see phones and level 3-4 facts of customers in scope"),
            ("export_customer", "Can export customers"),
            ("export_contact", "Can export contacts as vCards"),
        ]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="customer_updated_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="customer_owner_updated_idx"),
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_created_idx"),
            # Duplicate detection: exact credit code and case-insensitive email.
            models.Index(fields=["credit_code"], condition=~models.Q(credit_code=""), name="customer_credit_code_idx"),
            models.Index(Lower("email"), condition=~models.Q(email=""), name="customer_email_idx"),
            # Partial: only the recycle bin reads it, and a full one lures SQLite away from the sort index.
            models.Index(
                fields=["deleted_at"], condition=models.Q(deleted_at__isnull=False), name="customer_deleted_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    SUPPORTER = "supporter", _("Supporter")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class Contact(TimeStamped, SoftDeletable, Versioned):
    """A person at a customer, with the private file (私人档案) of CUS-2."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True, default="", db_default="")
    buying_role = models.CharField(_("role in buying"), max_length=20, choices=BuyingRole.choices, blank=True)
    # The first mobile, work number, e-mail and WeChat of `points` (every number, address and
    # handle the contact has), kept by the contact services so lists, exports and masking read one column.
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    office_phone = models.CharField(_("office phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    # Private file: level 3 information, masked outside the account team.
    birthday = models.DateField(_("birthday"), null=True, blank=True, validators=[validate_sane_year])
    # A birthday known without its year (a vCard's --12-24): only when `birthday` is empty.
    birthday_month = models.PositiveSmallIntegerField(
        _("birthday month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    birthday_day = models.PositiveSmallIntegerField(
        _("birthday day"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    # A date worth remembering (纪念日) and what it is: 结婚纪念日, 入职纪念日, 合作纪念日 … reminded like the birthday.
    anniversary = models.DateField(_("anniversary"), null=True, blank=True, validators=[validate_sane_year])
    anniversary_name = models.CharField(
        _("what the anniversary is"),
        max_length=50,
        blank=True,
        default="",
        db_default="",
        help_text=_("For example: wedding, joined the company, first order with us."),
    )
    address = models.CharField(_("home address"), max_length=300, blank=True)
    family_background = models.TextField(_("family background"), blank=True)
    family_birthdays = models.TextField(_("birthdays of key family members"), blank=True)
    hobbies = models.TextField(_("hobbies"), blank=True)
    personality = models.TextField(_("personality traits"), blank=True)
    in_position_since = models.DateField(_("in position since"), null=True, blank=True, validators=[validate_sane_year])
    transfer_reason = models.TextField(_("reason for transfer"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    PRIVATE_FIELDS = (
        "mobile",
        "office_phone",
        "wechat",
        "birthday",
        "birthday_month",
        "birthday_day",
        "anniversary",
        "anniversary_name",
        "address",
        "family_background",
        "family_birthdays",
        "hobbies",
        "personality",
        "transfer_reason",
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["customer", "deleted_at"], name="contact_customer_idx"),
            models.Index(Lower("email"), condition=~models.Q(email=""), name="contact_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def _points(self, medium: str) -> list["ContactPoint"]:
        # Filters the prefetched points in Python: contacts_of() prefetches them in one query.
        return [p for p in self.points.all() if p.medium == medium]

    @property
    def phones(self) -> list["ContactPoint"]:
        return self._points(Medium.PHONE)

    @property
    def emails(self) -> list["ContactPoint"]:
        return self._points(Medium.EMAIL)

    @property
    def handles(self) -> list["ContactPoint"]:
        return self._points(Medium.IM)

    @property
    def birthday_text(self) -> str:
        """ "1978-05-03", or "12-24" for a birthday without a year."""
        if self.birthday:
            return self.birthday.isoformat()
        if self.birthday_month and self.birthday_day:
            return f"{self.birthday_month:02d}-{self.birthday_day:02d}"
        return ""


class Medium(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    IM = "im", _("Messaging")


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", pgettext_lazy("contact detail", "Mobile")
    WORK = "work", pgettext_lazy("contact detail", "Work")
    HOME = "home", pgettext_lazy("contact detail", "Home")
    FAX = "fax", pgettext_lazy("contact detail", "Fax")
    OTHER = "other", pgettext_lazy("contact detail", "Other")


class EmailKind(models.TextChoices):
    WORK = "work", pgettext_lazy("contact detail", "Work")
    HOME = "home", pgettext_lazy("contact detail", "Personal")
    OTHER = "other", pgettext_lazy("contact detail", "Other")


class ImService(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    QQ = "qq", "QQ"
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    SKYPE = "skype", "Skype"
    TEAMS = "teams", "Microsoft Teams"
    WHATSAPP = "whatsapp", "WhatsApp"
    LINE = "line", "LINE"
    TELEGRAM = "telegram", "Telegram"
    XMPP = "xmpp", "XMPP (Jabber)"
    GTALK = "gtalk", "Google Talk"
    FACEBOOK = "facebook", "Facebook Messenger"
    AIM = "aim", "AIM"
    ICQ = "icq", "ICQ"
    MSN = "msn", "MSN"
    YAHOO = "yahoo", "Yahoo Messenger"
    OTHER = "other", pgettext_lazy("contact detail", "Other")


POINT_KINDS = {Medium.PHONE: PhoneKind, Medium.EMAIL: EmailKind, Medium.IM: ImService}


class ContactPoint(models.Model):
    """One phone number, e-mail address or messaging handle of a contact, with its kind (mobile,
    work, home, fax, other; or the messaging service) and the person's own label ("秘书", "iPhone").
    Written only by the contact services (`kehu.customers.points`), which keep the contact's
    `mobile`, `office_phone`, `email` and `wechat` columns equal to the first of each kind."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="points")
    medium = models.CharField(_("medium"), max_length=5, choices=Medium.choices)
    # A PhoneKind, EmailKind or ImService value, by medium.
    kind = models.CharField(_("kind"), max_length=20)
    label = models.CharField(_("label"), max_length=50, blank=True, default="")
    value = models.CharField(_("value"), max_length=254)
    # Comparison key: the digits of a phone (kehu.customers.normalise.normalise_phone), a lower-cased
    # address or handle. Duplicate detection and search look numbers up by it.
    key = models.CharField(max_length=254, blank=True, default="", editable=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("phone, email or messaging handle")
        verbose_name_plural = _("phones, emails and messaging handles")
        ordering = ["contact", "medium", "position", "id"]
        indexes = [
            models.Index(fields=["contact", "medium", "position"], name="contact_point_contact_idx"),
            models.Index(fields=["medium", "key"], condition=~models.Q(key=""), name="contact_point_key_idx"),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def kind_label(self) -> str:
        return point_label(self.medium, self.kind, self.label)


def point_label(medium: str, kind: str, label: str = "") -> str:
    """The person's own label, else the kind's name in the reader's language ("Mobile", "WeChat")."""
    if label:
        return label
    choices = POINT_KINDS.get(medium)
    return str(choices(kind).label) if choices and kind in choices.values else kind


class InfoLevel(models.IntegerChoices):
    PUBLIC = 1, _("1 · Public (annual reports, ads, catalogues)")
    INDUSTRY = 2, _("2 · Industry (analyst reports, trade press)")
    PRIVATE = 3, _("3 · Private (projects, needs, budget)")
    TOP = 4, _("4 · Top level (decision makers)")


class CustomerFact(TimeStamped, SoftDeletable):
    """A piece of information about a customer with its level, source and cost (CUS-4)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="facts")
    level = models.PositiveSmallIntegerField(
        _("information level"), choices=InfoLevel.choices, default=InfoLevel.PUBLIC
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    cost = models.DecimalField(_("cost of obtaining (CNY)"), max_digits=12, decimal_places=2, default=0)
    obtained_on = models.DateField(_("obtained on"), default=timezone.localdate, validators=[validate_sane_year])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("customer fact")
        verbose_name_plural = _("customer facts")
        ordering = ["-obtained_on", "-id"]

    def __str__(self) -> str:
        return self.title


class TimelineEntry(models.Model):
    """One line of a customer's history. Services append in the same transaction as the change;
    the 360° page reads one page of this table, never a union of domain tables."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(default=timezone.now)
    # A kind registered through the event door by whichever app records it (kehu.core.events).
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_customer_idx")]

    def __str__(self) -> str:
        return f"{events.label(self.kind)}: {self.summary}"


class CustomerMerge(models.Model):
    """The record of one merge of duplicates into a target customer (CUS-5), for review."""

    target = models.ForeignKey(
        Customer, verbose_name=_("kept customer"), on_delete=models.PROTECT, related_name="merges"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)
    # [{"id": 12, "name": "…"}, …] of the customers merged in (they stay in the recycle bin).
    sources = models.JSONField(_("merged customers"), default=list)
    # {field: {"from": customer id, "before": value, "after": value}} for every field the target took.
    fields = models.JSONField(_("fields taken"), default=dict, blank=True)
    # {"app.model.field": rows moved} for every kind of related row moved to the target.
    moved = models.JSONField(_("rows moved"), default=dict, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        indexes = [models.Index(fields=["target", "-merged_at"], name="customer_merge_target_idx")]

    def __str__(self) -> str:
        return f"{', '.join(s['name'] for s in self.sources)} → {self.target_id}"


class TeamRole(models.TextChoices):
    """A member's part in the account team (KAM-1)."""

    ACCOUNT_MANAGER = "account_manager", _("Account manager / team leader")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SERVICE_SPECIALIST = "service_specialist", _("Service specialist")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    OTHER = "other", _("Other member")


# Team roles that see what the owner's manager sees: phones, the contacts' private file and
# information levels 3–4 (CUS-4). The others see the customer as a colleague without them, unless
# their own role already may (`customers.view_sensitive`).
SENSITIVE_TEAM_ROLES = frozenset({TeamRole.ACCOUNT_MANAGER, TeamRole.EXECUTIVE_SPONSOR, TeamRole.SALES_MANAGER})


class AccountTeamMember(TimeStamped, Versioned):
    """Someone besides the owner who works on a customer (客户团队, KAM-1, ACC-3 sharing): they see it
    in every list, search, export and the API until `ends_on` (the last day, inclusive)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE, related_name="account_teams"
    )
    role = models.CharField(_("role in the team"), max_length=30, choices=TeamRole.choices)
    ends_on = models.DateField(
        _("member until"),
        null=True,
        blank=True,
        validators=[validate_sane_year],
        help_text=_("The last day of access; empty for no end."),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="account_team_unique_member")]
        indexes = [models.Index(fields=["user", "customer"], name="account_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def is_active_on(self, day) -> bool:
        return self.ends_on is None or self.ends_on >= day
