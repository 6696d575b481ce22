"""Admins' screens: webhooks, their delivery log with a retry button, the host allow-list."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.lib.forms import add_service_errors
from portal.lib.http import posted_data
from portal.webhooks import services
from portal.webhooks.forms import AllowedHostForm, WebhookForm
from portal.webhooks.models import AllowedHost, Webhook, WebhookDelivery

PER_PAGE = 30


ADMINS_ONLY = "Only admins can manage webhooks."


@admin_required(reason=ADMINS_ONLY)
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    hooks = Webhook.objects.select_related("team")
    return render(
        request,
        "webhooks/list.html",
        {
            "hooks": hooks,
            "hosts": AllowedHost.objects.all(),
            "host_form": AllowedHostForm(),
        },
    )


def _save(request, form: WebhookForm, hook: Webhook | None):
    """The service call for a valid form; None (with the error on the form) if refused."""
    data = form.cleaned_data
    fields = {
        "name": data["name"],
        "url": data["url"],
        "events": data["events"],
        "fmt": data["format"],
        "team": data["team"],
        "include_internal": data["include_internal"],
    }
    try:
        if hook is None:
            return services.webhook_create(actor=request.user, **fields)
        return services.webhook_update(
            actor=request.user, hook=hook, is_active=data["is_active"], **fields
        )
    except services.InvalidWebhook as exc:
        add_service_errors(form, exc)
        return None


@admin_required(reason=ADMINS_ONLY)
@require_http_methods(["GET", "POST"])
def webhook_new(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        hook = _save(request, form, None)
        if hook is not None:
            messages.success(request, f"Webhook “{hook.name}” created. Its secret is below.")
            return redirect("webhook-detail", hook.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/form.html", {"form": form}, status=status)


@admin_required(reason=ADMINS_ONLY)
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, hook_id: int) -> HttpResponse:
    """The hook's settings (editable), its secret and its delivery log, newest first."""
    hook = get_object_or_404(Webhook.objects.select_related("team"), pk=hook_id)
    initial = {
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "format": hook.format,
        "team": hook.team,
        "include_internal": hook.include_internal,
        "is_active": hook.is_active,
    }
    form = WebhookForm(posted_data(request), initial=initial)
    if request.method == "POST" and form.is_valid() and _save(request, form, hook) is not None:
        messages.success(request, "Webhook saved.")
        return redirect("webhook-detail", hook.pk)
    deliveries = WebhookDelivery.objects.filter(webhook=hook).defer("body")
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/detail.html",
        {"hook": hook, "form": form, "page": page},
        status=400 if request.method == "POST" else 200,
    )


@admin_required(reason=ADMINS_ONLY)
@require_POST
def webhook_delete(request: HttpRequest, hook_id: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=hook_id)
    services.webhook_delete(actor=request.user, hook=hook)
    messages.success(request, f"Webhook “{hook.name}” and its delivery log were deleted.")
    return redirect("webhook-list")


@admin_required(reason=ADMINS_ONLY)
@require_POST
def webhook_rotate_secret(request: HttpRequest, hook_id: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=hook_id)
    services.webhook_rotate_secret(actor=request.user, hook=hook)
    messages.success(request, "A new secret was made; the receiver needs it from now on.")
    return redirect("webhook-detail", hook.pk)


@admin_required(reason=ADMINS_ONLY)
@require_POST
def delivery_retry(request: HttpRequest, delivery_id) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    if services.delivery_retry(delivery=delivery, actor=request.user):
        messages.success(request, "Another attempt has been queued.")
    else:
        messages.error(request, "That delivery was already delivered (or is being sent now).")
    return redirect("webhook-detail", delivery.webhook_id)


@admin_required(reason=ADMINS_ONLY)
@require_POST
def allowed_host_add(request: HttpRequest) -> HttpResponse:
    form = AllowedHostForm(request.POST)
    if form.is_valid():
        try:
            entry = services.allowed_host_add(actor=request.user, **form.cleaned_data)
        except services.InvalidWebhook as exc:
            form.add_error("host", exc.messages)
        else:
            messages.success(request, f"{entry.host} may now resolve to a private address.")
            return redirect("webhook-list")
    return render(
        request,
        "webhooks/list.html",
        {
            "hooks": Webhook.objects.select_related("team"),
            "hosts": AllowedHost.objects.all(),
            "host_form": form,
        },
        status=400,
    )


@admin_required(reason=ADMINS_ONLY)
@require_POST
def allowed_host_remove(request: HttpRequest, host_id: int) -> HttpResponse:
    entry = get_object_or_404(AllowedHost, pk=host_id)
    services.allowed_host_remove(actor=request.user, entry=entry)
    messages.success(request, f"{entry.host} was removed from the allow-list.")
    return redirect("webhook-list")
