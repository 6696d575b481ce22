"""Thirty believable help articles across the demo organisation's groups, for `make run`.

Each is written by its owner team's lead through the services, and published, except one
draft; two are past their review date, so the owner teams' "Due for review" lists have
something to show; three are internal how-tos for people who work tickets. Idempotent: an
article whose title exists is left alone. The same texts are the fixed corpus of the
suggestion relevance test (portal/kb/tests/test_relevance.py).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.catalog.models import BusinessUnitGroup, Category, Team, name_key
from portal.kb import services
from portal.kb.models import Article, Audience

EVERYONE, WORKERS = Audience.EVERYONE, Audience.WORKERS
# Owner team → the person who writes for it (its lead in the catalog demo).
AUTHORS = {
    "IT Service Desk": "lead@example.com",
    "IT Network & Security": "netsec.lead@example.com",
    "IT Applications": "apps.lead@example.com",
    "HR Operations": "hr.lead@example.com",
    "Payroll": "hr.lead@example.com",
    "Finance Operations": "finance.lead@example.com",
    "Accounts Payable": "finance.lead@example.com",
    "Facilities Helpdesk": "facilities.lead@example.com",
    "Workplace Security": "facilities.lead@example.com",
}
DRAFT, OVERDUE = "draft", "overdue"

# (group, category, owner team, audience, flags, title, body)
ARTICLES = [
    ("IT", "Hardware", "IT Service Desk", EVERYONE, (), "Laptop will not turn on or charge",
     "1. Plug the charger straight into a wall socket, not a dock, and check its light.\n"
     "2. Hold the power button for **30 seconds** to reset the battery, then press it once.\n"
     "3. If the battery icon shows a cross or the laptop beeps, it needs a repair: raise a "
     "ticket under *IT › Hardware › Laptop* and bring the laptop and charger to the desk."),
    ("IT", "Hardware", "IT Service Desk", EVERYONE, (), "Connect to an office printer",
     "Printers are named after the floor, e.g. `PRN-3-EAST`.\n\n"
     "- **Windows**: Settings › Bluetooth & devices › Printers & scanners › Add device.\n"
     "- **Mac**: System Settings › Printers & Scanners › Add printer.\n\n"
     "Nothing printing? Check the job queue, cancel stuck jobs, and print a test page. "
     "Release secure print jobs at the printer with your badge."),
    ("IT", "Hardware", "IT Service Desk", EVERYONE, (),
     "Set up a second monitor or docking station",
     "Connect the dock's USB-C cable to the laptop first, then the monitor to the dock. "
     "If the second screen is not detected: Settings › Display › Detect, or press "
     "Win+P and choose *Extend*. Update the dock firmware from the Company Portal."),
    ("IT", "Software", "IT Applications", EVERYONE, (),
     "Install approved software from the Company Portal",
     "Open **Company Portal**, search for the application (Visio, Zoom, Python, Power BI…) "
     "and press *Install*. Software not in the portal needs a request under "
     "*IT › Software › Installation* with the business reason."),
    ("IT", "Software", "IT Applications", EVERYONE, (), "Request a software licence",
     "Paid software (Adobe Acrobat Pro, Visio, Project, Tableau) needs a licence approved "
     "by your manager. Raise a ticket under *IT › Software › Licensing* naming the product "
     "and your cost centre; we assign the licence within two working days."),
    ("IT", "Email & Collaboration", "IT Service Desk", EVERYONE, (),
     "Fix Outlook crashing or freezing on start-up",
     "Start Outlook in safe mode (hold **Ctrl** while opening it) and disable add-ins. "
     "Still crashing? Repair Office from Settings › Apps, or create a new mail profile. "
     "Large mailboxes slow start-up: archive mail older than two years."),
    ("IT", "Email & Collaboration", "IT Service Desk", EVERYONE, (),
     "Create or change a distribution list",
     "Owners manage their own distribution lists (mailing lists) in Outlook: People › "
     "Groups › Edit to add or remove members. For a new list, raise a ticket under "
     "*IT › Email & Collaboration › Distribution list* with its name and owner."),
    ("IT", "Network", "IT Network & Security", EVERYONE, (), "Connect to the VPN from home",
     "Open **GlobalProtect**, enter `vpn.example.com` and sign in with your company "
     "account and MFA. Cannot connect? Check your home internet first, restart the app, "
     "and make sure the clock on your laptop is right."),
    ("IT", "Network", "IT Network & Security", EVERYONE, (),
     "Reset your VPN token or authenticator",
     "A VPN token that shows *invalid code* is usually out of sync. Open the "
     "self-service page at `https://id.example.com/token`, choose **Resync token**, and "
     "type two codes in a row. A lost hardware token must be reported as lost."),
    ("IT", "Network", "IT Network & Security", EVERYONE, (OVERDUE,),
     "Join the office Wi-Fi on a new device",
     "Choose the **CORP-WIFI** network (WiFi) and sign in with your company account. "
     "Guests use **GUEST-WIFI**: the reception gives a daily password. Personal phones "
     "go on **BYOD-WIFI**, never on CORP-WIFI."),
    ("IT", "Network", "IT Network & Security", WORKERS, (),
     "Firewall change checklist for agents",
     "Internal. Before approving a firewall request: source and destination as host "
     "names, ports, expiry date, the data owner's approval, and a change record. "
     "Never open inbound ports to the whole internet."),
    ("IT", "Accounts & Access", "IT Service Desk", EVERYONE, (), "Reset your password",
     "Forgot your password or it expired? Go to `https://id.example.com/reset`, confirm "
     "with your MFA app and choose a new password of at least 12 characters. Locked out "
     "after too many tries? Wait 15 minutes, or call the service desk."),
    ("IT", "Accounts & Access", "IT Service Desk", EVERYONE, (),
     "Set up multi-factor authentication (MFA) on a new phone",
     "Moving to a new phone: install the **Authenticator** app, then at "
     "`https://id.example.com/mfa` add the new phone before you wipe the old one. "
     "Lost the old phone already? Raise a ticket under *Accounts & Access › MFA*."),
    ("IT", "Accounts & Access", "IT Network & Security", EVERYONE, (),
     "Request access to a shared drive or application",
     "Access is approved by the data owner. Raise a ticket under *IT › Accounts & Access "
     "› Access request*, naming the shared drive, folder or application and the level "
     "(read or change). We add you once the owner approves."),
    ("IT", "Accounts & Access", "IT Service Desk", WORKERS, (),
     "Unlock an account in the directory",
     "Internal. Confirm the caller's identity with a call-back to the number in the HR "
     "system, then unlock the account in the directory console and ask them to reset "
     "their password. Note the ticket number in the unlock reason."),
    ("IT", "Security", "IT Network & Security", EVERYONE, (), "Report a phishing email",
     "Suspicious email asking for your login, a payment or a gift card? Do not click. "
     "Use the **Report phishing** button in Outlook; it goes to the security team and "
     "out of your inbox. Clicked already? Reset your password and raise a ticket."),
    ("IT", "Security", "IT Network & Security", EVERYONE, (),
     "Lost or stolen laptop or phone: what to do now",
     "Raise a ticket under *IT › Security › Lost or stolen device* at once, even out of "
     "hours: we lock and wipe it remotely. If it was stolen, report it to the police "
     "and add the crime number to the ticket."),
    ("IT", "Security", "IT Network & Security", WORKERS, (),
     "Wipe a lost device remotely (runbook)",
     "Internal. In the device management console, find the device by serial number, "
     "choose *Retire* for personal phones or *Wipe* for company laptops, and record the "
     "action in the ticket."),
    ("Human Resources", "Payroll", "Payroll", EVERYONE, (), "Understand your payslip",
     "Your payslip shows gross pay, then deductions: income tax, social security, "
     "pension and benefits. Payslips are published on the 25th. A deduction looks wrong? "
     "Raise a ticket under *HR › Payroll › Payslip query* with the month."),
    ("Human Resources", "Payroll", "Payroll", EVERYONE, (OVERDUE,),
     "Find and download your tax form",
     "Year-end tax forms (P60 and equivalents) are in the HR portal under *My documents* "
     "from the end of May. Former employees receive theirs by post."),
    ("Human Resources", "Leave", "HR Operations", EVERYONE, (), "Book annual leave",
     "Book holiday in the HR portal: *Time off › Request*. Your manager approves it. "
     "Up to five days carry over to next year."),
    ("Human Resources", "Leave", "HR Operations", EVERYONE, (), "Report sick leave",
     "Off sick? Tell your manager before your start time, then record the absence in the "
     "HR portal: *Time off › Sickness*. From the eighth day you need a doctor's note."),
    ("Human Resources", "Onboarding", "HR Operations", EVERYONE, (DRAFT,),
     "New starter checklist for managers",
     "Two weeks before day one: request the laptop and accounts, book the induction, "
     "and name a buddy. On day one: welcome, building badge, and the first week plan."),
    ("Human Resources", "Benefits", "HR Operations", EVERYONE, (), "Use your training budget",
     "Each employee has a yearly training budget. Agree the course with your manager, "
     "then request it in the HR portal under *Learning*; the invoice goes to HR."),
    ("Finance", "Expenses", "Finance Operations", EVERYONE, (), "Submit an expense claim",
     "Claim expenses (hotel, meals, taxi, mileage) in the expenses app within 60 days, "
     "with a photo of each receipt. Your manager approves; it is paid with the next "
     "salary run."),
    ("Finance", "Travel", "Finance Operations", EVERYONE, (), "Book business travel",
     "Book flights, trains and hotels through the travel portal so the company rates "
     "apply. Conferences abroad need manager approval first; ask for a visa letter under "
     "*Finance › Travel › Visa letter*."),
    ("Finance", "Invoices", "Accounts Payable", EVERYONE, (),
     "Check when a supplier invoice will be paid",
     "Supplier invoices are paid 30 days after approval. Check the payment status in "
     "the finance portal with the invoice number, or raise a ticket under *Finance › "
     "Invoices › Payment status*."),
    ("Facilities", "Building maintenance", "Facilities Helpdesk", EVERYONE, (),
     "Report a heating, cooling or lighting problem",
     "Too hot, too cold (a cold radiator), or a light out? Raise a ticket under "
     "*Facilities › Building maintenance* with the floor and room. Leaks and floods: "
     "call reception at once."),
    ("Facilities", "Security & access", "Workplace Security", EVERYONE, (),
     "Lost or forgotten building badge",
     "Forgot your badge: reception gives a day pass. Lost it: report it under "
     "*Facilities › Security & access* so we block the old badge, then collect a new "
     "one from reception."),
    ("Facilities", "Parking", "Workplace Security", EVERYONE, (), "Apply for a parking permit",
     "Parking spaces are limited. Apply for a permit (car park space) under *Facilities "
     "› Parking*, with your number plate. Electric-car charging bays are for charging "
     "only."),
]  # fmt: skip


def load(users: dict[str, User]) -> dict[str, int]:
    """Write and publish the articles that do not exist yet; later runs change nothing."""
    groups = {g.name: g for g in BusinessUnitGroup.objects.all()}
    if "IT" not in groups:
        return {"help articles": Article.objects.count()}
    categories = {(c.group.name, c.name): c for c in Category.objects.select_related("group")}
    teams = {t.name_key: t for t in Team.objects.all()}
    existing = set(Article.objects.values_list("title", flat=True))
    today = timezone.localdate()
    with transaction.atomic():
        for group, category, team, audience, flags, title, body in ARTICLES:
            author = users.get(AUTHORS[team])
            owner = teams.get(name_key(team))
            if title in existing or author is None or owner is None or group not in groups:
                continue
            overdue = OVERDUE in flags
            article = services.article_create(
                actor=author, title=title, body=body, group=groups[group],
                category=categories.get((group, category)), owner_team=owner,
                audience=audience,
                review_by=today - dt.timedelta(days=10) if overdue else today.replace(
                    year=today.year + 1, day=1
                ),
            )  # fmt: skip
            if DRAFT not in flags:
                services.article_publish(actor=author, article=article)
    return {"help articles": Article.objects.count()}
