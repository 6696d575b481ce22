"""A believable organisation for `make run`: four groups, each with a SPOC, nine teams,
each with a lead and at least one agent, and a routing map that covers every combination
but one.

The one gap is deliberate: IT › Audio-visual (meeting-room screens and projectors, just
handed over from Facilities, and nobody in IT owns them yet) is mapped to no team, so the
coverage report has something to show and a ticket raised there shows what happens to an
unmapped request: it waits, unassigned, for the IT SPOC (Sam Spoc's dashboard counts it
under "No team (unmapped)"). Every other first ticket reaches a person.
Request forms (docs/request-forms.md): IT › Hardware asks for an asset tag and a cost
centre, Human Resources › Payroll for the month and amount to correct, and Facilities ›
Security & access › Badge who the badge is for and where.
Approvals (docs/approvals.md): Human Resources › Payroll › Salary change waits for the
requester's manager; Facilities › Security & access › Badge for the Facilities SPOC.
Idempotent: what exists is kept; a demo group found without SPOCs gets its demo SPOC.
"""

from decimal import Decimal

from django.db import transaction

from portal.accounts.models import User
from portal.catalog import approval_rule_services, form_services, services
from portal.catalog.models import (
    ApprovalRule,
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    FormField,
    Subcategory,
    Team,
    TeamMember,
    name_key,
)

# group name, code, SPOC emails, {category: [subcategories]}
GROUPS = [
    (
        "IT",
        "IT",
        ["spoc@example.com"],
        {
            "Hardware": ["Laptop", "Desktop", "Monitor", "Printer", "Peripherals"],
            "Software": ["Installation", "Licensing", "Bug report", "Upgrade"],
            "Network": ["Wi-Fi", "VPN", "Wired connection", "Firewall request"],
            "Accounts & Access": ["Password reset", "New account", "Access request", "MFA"],
            "Email & Collaboration": ["Mailbox", "Distribution list", "Calendar", "Chat"],
            "Security": ["Phishing report", "Lost or stolen device", "Malware"],
            "Telephony": ["Desk phone", "Mobile phone"],
            # No subcategories and no mapping: the demo's one coverage gap (see above).
            "Audio-visual": [],
        },
    ),
    (
        "Human Resources",
        "HR",
        ["hr.lead@example.com"],
        {
            "Payroll": ["Payslip query", "Salary change", "Tax form"],
            "Leave": ["Annual leave", "Sick leave", "Parental leave"],
            "Onboarding": ["New starter", "Induction"],
            "Offboarding": ["Leaver", "Exit interview"],
            "Benefits": ["Pension", "Health insurance", "Training budget"],
            "Policies": ["Code of conduct", "Remote work"],
        },
    ),
    (
        "Finance",
        "FIN",
        ["finance.lead@example.com"],
        {
            "Expenses": ["Expense claim", "Corporate card", "Mileage"],
            "Invoices": ["Supplier invoice", "Customer invoice", "Payment status"],
            "Procurement": ["Purchase order", "New supplier"],
            "Budget": ["Budget query", "Forecast"],
            "Travel": ["Booking", "Visa letter"],
        },
    ),
    (
        "Facilities",
        "FAC",
        ["facilities.lead@example.com"],
        {
            "Building maintenance": [
                "Heating and cooling",
                "Lighting",
                "Plumbing",
                "Doors and locks",
            ],
            "Cleaning": ["Spill", "Washrooms", "Waste"],
            "Security & access": ["Badge", "Visitor pass", "CCTV"],
            "Workspace": ["Desk move", "Furniture", "Meeting rooms"],
            "Parking": ["Permit", "Incident"],
            "Catering": ["Kitchen supplies", "Event catering"],
        },
    ),
]

# team name, email, [(user email, role)]
TEAMS = [
    (
        "IT Service Desk",
        "servicedesk@example.com",
        [
            ("lead@example.com", "lead"),
            ("agent@example.com", "member"),
            ("agent2@example.com", "member"),
        ],
    ),
    (
        "IT Network & Security",
        "netsec@example.com",
        [("netsec.lead@example.com", "lead"), ("agent2@example.com", "member")],
    ),
    (
        "IT Applications",
        "apps@example.com",
        [("apps.lead@example.com", "lead"), ("agent@example.com", "member")],
    ),
    (
        "HR Operations",
        "hr@example.com",
        [("hr.lead@example.com", "lead"), ("hr.agent@example.com", "member")],
    ),
    (
        "Payroll",
        "payroll@example.com",
        [("hr.lead@example.com", "lead"), ("hr.agent@example.com", "member")],
    ),
    (
        "Finance Operations",
        "finance@example.com",
        [("finance.lead@example.com", "lead"), ("finance.agent@example.com", "member")],
    ),
    (
        "Accounts Payable",
        "ap@example.com",
        [("finance.lead@example.com", "lead"), ("finance.agent@example.com", "member")],
    ),
    (
        "Facilities Helpdesk",
        "facilities@example.com",
        [("facilities.lead@example.com", "lead"), ("facilities.agent@example.com", "member")],
    ),
    (
        "Workplace Security",
        "workplace-security@example.com",
        [("facilities.lead@example.com", "lead"), ("facilities.agent@example.com", "member")],
    ),
]

# The demo's one deliberate coverage gap: (group, category); see the module docstring.
GAP = ("IT", "Audio-visual")

# (group, category, subcategory or None for any) → (team, default priority)
MAPPINGS = [
    ("IT", "Hardware", None, "IT Service Desk", "medium"),
    ("IT", "Software", None, "IT Applications", ""),
    ("IT", "Software", "Installation", "IT Service Desk", "low"),
    ("IT", "Network", None, "IT Network & Security", "medium"),
    ("IT", "Accounts & Access", None, "IT Service Desk", ""),
    ("IT", "Accounts & Access", "Access request", "IT Network & Security", ""),
    ("IT", "Email & Collaboration", None, "IT Service Desk", "low"),
    ("IT", "Security", None, "IT Network & Security", "high"),
    ("IT", "Security", "Lost or stolen device", "IT Network & Security", "urgent"),
    ("IT", "Telephony", None, "IT Network & Security", "low"),
    ("Human Resources", "Payroll", None, "Payroll", "high"),
    ("Human Resources", "Leave", None, "HR Operations", ""),
    ("Human Resources", "Onboarding", None, "HR Operations", "medium"),
    ("Human Resources", "Offboarding", None, "HR Operations", ""),
    ("Human Resources", "Benefits", None, "HR Operations", "low"),
    ("Human Resources", "Policies", None, "HR Operations", "low"),
    ("Finance", "Expenses", None, "Finance Operations", ""),
    ("Finance", "Invoices", None, "Accounts Payable", "medium"),
    ("Finance", "Procurement", None, "Accounts Payable", ""),
    ("Finance", "Budget", None, "Finance Operations", "low"),
    ("Finance", "Travel", None, "Finance Operations", ""),
    ("Facilities", "Building maintenance", None, "Facilities Helpdesk", "medium"),
    ("Facilities", "Cleaning", None, "Facilities Helpdesk", "low"),
    ("Facilities", "Security & access", None, "Workplace Security", "high"),
    ("Facilities", "Workspace", None, "Facilities Helpdesk", "low"),
    ("Facilities", "Parking", None, "Workplace Security", ""),
    ("Facilities", "Catering", None, "Facilities Helpdesk", "low"),
]


COST_CENTRES = [
    {"code": "cc1100", "label": "CC-1100 IT"},
    {"code": "cc2100", "label": "CC-2100 Human Resources"},
    {"code": "cc3100", "label": "CC-3100 Finance"},
    {"code": "cc4100", "label": "CC-4100 Facilities"},
]
# (group, category, subcategory or None) → that form's fields, in order.
FORMS = {
    ("IT", "Hardware", None): [
        {"key": "asset_tag", "label": "Asset tag", "field_type": "text", "required": True,
         "help_text": "On the sticker under the device, e.g. LT-01234; “new” for a new one."},
        {"key": "cost_centre", "label": "Cost centre", "field_type": "choice", "required": True,
         "options": COST_CENTRES, "help_text": "Who pays for a replacement or a new device."},
        {"key": "needed_by", "label": "Needed by", "field_type": "date"},
    ],
    ("Human Resources", "Payroll", None): [
        {"key": "month", "label": "Pay month", "field_type": "date", "required": True,
         "help_text": "Any day of the month whose pay needs correcting."},
        {"key": "amount", "label": "Amount", "field_type": "number", "required": True,
         "min_value": Decimal("0.01"), "max_value": Decimal("100000"),
         "help_text": "The difference to correct, in euros."},
        {"key": "direction", "label": "Paid", "field_type": "choice", "required": True,
         "options": [{"code": "under", "label": "Too little"},
                     {"code": "over", "label": "Too much"}]},
    ],
    ("Facilities", "Security & access", "Badge"): [
        {"key": "badge_for", "label": "Badge for", "field_type": "user",
         "help_text": "Their email; leave empty if the badge is for you."},
        {"key": "sites", "label": "Sites", "field_type": "multi_choice", "required": True,
         "options": [{"code": "hq", "label": "Head office"},
                     {"code": "plant", "label": "Plant"},
                     {"code": "depot", "label": "Depot"}]},
        {"key": "out_of_hours", "label": "Out-of-hours access", "field_type": "yes_no"},
    ],
}  # fmt: skip


# (group, category, subcategory or None) → its approval steps (who approves, any/all).
APPROVALS = {
    ("Human Resources", "Payroll", "Salary change"): [("manager", "any")],
    ("Facilities", "Security & access", "Badge"): [("spoc", "any")],
}


@transaction.atomic
def load(users: dict[str, User]) -> dict[str, int]:
    """Create what is missing; never change what an admin has edited since."""
    groups, categories, subs, teams = {}, {}, {}, {}
    for group_name, code, spoc_emails, tree in GROUPS:
        group = BusinessUnitGroup.objects.filter(name_key=name_key(group_name)).first()
        spocs = [users[e] for e in spoc_emails if e in users]
        if group is None:
            group = services.group_create(name=group_name, code=code, spocs=spocs)
        elif spocs and not group.spocs.exists():
            # A demo loaded before every group had a SPOC: name them (nobody chose none).
            services.group_update(group=group, name=group.name, code=group.code, spocs=spocs)
        groups[group_name] = group
        for category_name, sub_names in tree.items():
            category = group.categories.filter(name_key=name_key(category_name)).first()
            if category is None:
                category = services.category_create(group=group, name=category_name)
            categories[(group_name, category_name)] = category
            for sub_name in sub_names:
                sub = category.subcategories.filter(name_key=name_key(sub_name)).first()
                if sub is None:
                    sub = services.subcategory_create(category=category, name=sub_name)
                subs[(group_name, category_name, sub_name)] = sub

    for team_name, email, members in TEAMS:
        team = Team.objects.filter(name_key=name_key(team_name)).first()
        if team is None:
            team = services.team_create(name=team_name, email=email)
        teams[team_name] = team
        for user_email, role in members:
            user = users.get(user_email)
            if user is not None and not TeamMember.objects.filter(team=team, user=user).exists():
                services.team_member_add(team=team, user=user, role=role)

    for group_name, category_name, sub_name, team_name, priority in MAPPINGS:
        category = categories[(group_name, category_name)]
        sub = subs[(group_name, category_name, sub_name)] if sub_name else None
        if not ClassificationMapping.objects.filter(category=category, subcategory=sub).exists():
            services.mapping_create(
                category=category,
                subcategory=sub,
                team=teams[team_name],
                default_priority=priority,
            )

    for (group_name, category_name, sub_name), fields in FORMS.items():
        category = categories[(group_name, category_name)]
        owner = (
            {"subcategory": subs[(group_name, category_name, sub_name)]}
            if sub_name
            else {"category": category}
        )
        for position, spec in enumerate(fields):
            if not FormField.objects.filter(**owner, key=spec["key"]).exists():
                form_services.form_field_create(**owner, position=position, **spec)

    for (group_name, category_name, sub_name), steps in APPROVALS.items():
        owner = (
            {"subcategory": subs[(group_name, category_name, sub_name)]}
            if sub_name
            else {"category": categories[(group_name, category_name)]}
        )
        if not ApprovalRule.objects.filter(**owner).exists():
            for position, (approvers, mode) in enumerate(steps, start=1):
                approval_rule_services.approval_rule_create(
                    **owner, position=position, approvers=approvers, mode=mode
                )

    return {
        "business unit groups": BusinessUnitGroup.objects.count(),
        "categories": Category.objects.count(),
        "subcategories": Subcategory.objects.count(),
        "teams": Team.objects.count(),
        "classification mappings": ClassificationMapping.objects.count(),
        "request form fields": FormField.objects.count(),
        "approval steps": ApprovalRule.objects.count(),
    }
