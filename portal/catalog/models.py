"""The organisation model that routes every ticket.

BusinessUnitGroup → Category → Subcategory classify a ticket; ClassificationMapping turns a
classification into a Team; the group's SPOCs are told about what lands in their group.
Names are unique within their parent, compared case- and whitespace-insensitively (the
`name_key` column holds the normalised form so the database enforces it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


def name_key(name: str) -> str:
    """`  Laptop   Repair ` and `laptop repair` are the same name."""
    return " ".join((name or "").split()).casefold()


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class NamedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class NamedModel(models.Model):
    """Shared shape: a display name, its normalised key, and an active flag.

    Deactivating hides a record from new tickets but keeps it on existing ones.
    """

    name = models.CharField(max_length=120)
    name_key = models.CharField(max_length=120, editable=False)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = " ".join(self.name.split())
        self.name_key = name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)


class BusinessUnitGroup(NamedModel):
    code = models.CharField(max_length=20, unique=True, help_text="Short code, e.g. IT or HR.")
    spocs = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="spoc_groups", verbose_name="SPOCs"
    )
    # The group's own On-hold rules (tickets/autoclose_services.py); empty: the global
    # HOLD_REMINDER_DAYS / HOLD_CLOSE_DAYS. 0 turns the rule off for the group.
    hold_reminder_days = models.PositiveSmallIntegerField(
        "remind after (days on hold)", null=True, blank=True
    )
    hold_close_days = models.PositiveSmallIntegerField(
        "close after (days on hold)", null=True, blank=True
    )

    class Meta(NamedModel.Meta):
        verbose_name = "business unit group"
        constraints = [models.UniqueConstraint(fields=["name_key"], name="bugroup_name_unique")]


class Category(NamedModel):
    group = models.ForeignKey(
        BusinessUnitGroup, on_delete=models.PROTECT, related_name="categories"
    )

    class Meta(NamedModel.Meta):
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["group", "name_key"], name="category_name_unique")
        ]


class Subcategory(NamedModel):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="subcategories")

    class Meta(NamedModel.Meta):
        verbose_name_plural = "subcategories"
        constraints = [
            models.UniqueConstraint(fields=["category", "name_key"], name="subcategory_name_unique")
        ]


class Team(NamedModel):
    email = models.EmailField("contact email", blank=True)

    class Meta(NamedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["name_key"], name="team_name_unique")]


class TeamMember(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "-role", "user__full_name"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]
        indexes = [models.Index(fields=["user", "is_active"], name="teammember_user_active")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.team})"


class ClassificationMapping(models.Model):
    """(category, subcategory or any) → team, with an optional default priority.

    The business unit group is the category's (not stored twice). `subcategory` NULL means
    "any subcategory of this category"; a mapping naming the subcategory is more specific
    and wins (see `selectors.find_mapping`).
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="mappings")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.CASCADE, null=True, blank=True, related_name="mappings"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="mappings")
    default_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "subcategory"],
                name="mapping_unique_specific",
                condition=Q(subcategory__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["category"],
                name="mapping_unique_any_subcategory",
                condition=Q(subcategory__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        sub = self.subcategory.name if self.subcategory_id else "any"
        return f"{self.category.group} / {self.category} / {sub} → {self.team}"


class PendingImport(models.Model):
    """An uploaded workbook waiting between its preview and the admin's "Apply".

    Kept in the database (not in process memory or a worker's local disk) so any app server
    can apply it; the random token is also stored in the uploader's session, and the file is
    validated again when applied. Rows older than a day are swept on the next upload.
    """

    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"


class FormField(models.Model):
    """One question a request form asks when a ticket is raised under a classification.

    A field sits on a category (then every subcategory of it asks it too) or on one
    subcategory. `key` is the stable code the ticket's values are stored under: labels,
    help text, order and options can change freely, the key never does. Fields are
    retired (`is_active` off), never deleted once used, so old tickets keep reading their
    values with the label they were asked under.
    """

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice (one)"
        MULTI_CHOICE = "multi_choice", "Choice (several)"
        YES_NO = "yes_no", "Yes/no"
        USER = "user", "Person"

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="form_fields"
    )
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="form_fields"
    )
    key = models.CharField(max_length=30, help_text="Stable code the values are stored under.")
    label = models.CharField(max_length=120)
    help_text = models.CharField(max_length=300, blank=True)
    field_type = models.CharField("type", max_length=12, choices=Type.choices)
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField("order", default=0)
    # Choice fields: [{"code": "...", "label": "..."}, ...] in the order offered.
    options = models.JSONField(default=list, blank=True)
    # Number fields: inclusive bounds (either may be left open).
    min_value = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        verbose_name = "form field"
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False, subcategory__isnull=True)
                | Q(category__isnull=True, subcategory__isnull=False),
                name="formfield_on_category_or_subcategory",
            ),
            models.UniqueConstraint(
                fields=["category", "key"],
                name="formfield_key_unique_category",
                condition=Q(category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["subcategory", "key"],
                name="formfield_key_unique_subcategory",
                condition=Q(subcategory__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def owner(self):
        """The category or subcategory the field is defined on."""
        return self.subcategory if self.subcategory_id else self.category

    def option_label(self, code: str) -> str:
        """An option's label; a code no longer offered reads as itself."""
        for option in self.options or ():
            if option.get("code") == code:
                return option.get("label") or code
        return code


class ApprovalRule(models.Model):
    """One step of the approval a classification needs before any work starts.

    Like request-form fields, a rule sits on a category (every subcategory of it needs it
    too) or on one subcategory; a ticket's steps are the category's rules, then the
    subcategory's, each in `position` order (`approval_rules.steps_for`). Who approves is
    decided when the step opens: the requester's manager, the named `users`, or the
    group's SPOCs; `mode` says whether one of them suffices or every one must approve.
    """

    class Approvers(models.TextChoices):
        MANAGER = "manager", "The requester's manager"
        USERS = "users", "Named approvers"
        SPOC = "spoc", "The group's SPOCs"

    class Mode(models.TextChoices):
        ANY = "any", "Any one of them"
        ALL = "all", "All of them"

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="approval_rules"
    )
    subcategory = models.ForeignKey(
        Subcategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="approval_rules",
    )
    position = models.PositiveSmallIntegerField(default=1)
    approvers = models.CharField(max_length=10, choices=Approvers.choices)
    mode = models.CharField(max_length=3, choices=Mode.choices, default=Mode.ANY)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name="named approvers",
        help_text="Only for named approvers.",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False, subcategory__isnull=True)
                | Q(category__isnull=True, subcategory__isnull=False),
                name="approvalrule_on_category_or_subcategory",
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.position}: {self.get_approvers_display()} ({self.get_mode_display()})"

    @property
    def owner(self):
        return self.subcategory if self.subcategory_id else self.category
