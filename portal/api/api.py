"""The NinjaAPI behind /api/v1/: auth, rate limit, error handlers, docs and the OpenAPI
document (whose error responses are all declared as `application/problem+json`)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

from portal.api import problems
from portal.api.auth import AUTH, PerUserThrottle
from portal.api.endpoints import (
    approvals,
    attachments,
    auth_token,
    catalog,
    kb,
    notifications,
    ratings,
    relations,
    replies,
    request_forms,
    routing,
    tickets,
    user_tokens,
    users,
    watchers,
    webhooks,
)
from portal.api.parser import StrictParser

DESCRIPTION = """\
The ticketing portal's REST API. It follows the same rules as the web pages: a token
sees exactly what its user sees in the browser, and others' tickets answer 404.

Authenticate with a personal access token (create one at /settings/tokens, or exchange
email and password at `POST /auth/token`) sent as `Authorization: Bearer <token>`.
Send bodies as `application/json` (uploads as `multipart/form-data`); others are a 415.
Errors are `application/problem+json` (RFC 9457). See docs/api.md for the full guide.
"""

# Declared on every operation (besides each one's own): the auth, rate-limit, size and
# validation problems any request can meet.
COMMON_ERRORS = ("400", "401", "413", "422", "429")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class SelfHostedDocs(DocsBase):
    """Swagger UI from our own /static/ (no CDN), started by a script file, not inline
    code, so the page works under the site's strict Content-Security-Policy."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs) -> HttpResponse:
        return render(
            request,
            "api/docs.html",
            {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)},
        )


class PortalAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _declare_problems(schema)
        _declare_request_forms(schema)
        return schema


def _declare_request_forms(schema) -> None:
    """Each request form's JSON Schema as a component, `FormValues_<category>` or
    `FormValues_<category>_<subcategory>`, with `x-category`/`x-subcategory`: what
    `form_values` must be on POST/PATCH /tickets in that classification (the same schema
    the services validate with; `GET /catalog/form` answers it for one classification).
    Read when the document is served, so a form an admin changes shows at once."""
    from portal.catalog.request_forms import published_forms

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for published in published_forms():
        definition = {k: v for k, v in published.form.schema().items() if k != "$schema"}
        components[published.name] = {
            "title": published.title,
            "description": "`form_values` of a ticket in this classification.",
            "x-category": published.category_id,
            "x-subcategory": published.subcategory_id,
            **definition,
        }


def _declare_problems(schema) -> None:
    """Every 4xx/5xx answer is a Problem served as application/problem+json."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in components:
        components["Problem"] = problems.Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, definition in components["Problem"].pop("$defs", {}).items():
            components.setdefault(name, definition)
    for path in schema["paths"].values():
        for operation in path.values():
            # ninja keys responses by int status; JSON turns them into strings anyway.
            responses = {str(code): value for code, value in operation.get("responses", {}).items()}
            operation["responses"] = responses
            codes = set(COMMON_ERRORS) if operation.get("security") else {"400", "413", "422"}
            if "requestBody" in operation:
                codes.add("415")  # a body of another content type (portal.api.parser)
            codes |= {code for code in responses if int(code) >= 400}
            for code in sorted(codes, key=int):
                description = responses.get(code, {}).get("description") or "Problem"
                responses[code] = {
                    "description": description,
                    "content": {problems.MEDIA_TYPE: {"schema": PROBLEM_REF}},
                }


api = PortalAPI(
    title="Ticketing portal API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=AUTH,
    throttle=[PerUserThrottle()],
    docs=SelfHostedDocs(),
    parser=StrictParser(),
    openapi_extra={"info": {"contact": {"name": "Portal admins"}}},
)
problems.install(api)
api.add_router("/auth", auth_token.router)
api.add_router("/tickets", tickets.router)
api.add_router("/tickets", attachments.router)
api.add_router("/tickets", watchers.router)
api.add_router("/tickets", replies.router)
api.add_router("/tickets", ratings.router)
api.add_router("/tickets", relations.router)
api.add_router("/notifications", notifications.router)
api.add_router("/catalog", catalog.router)
api.add_router("/catalog", routing.router)
api.add_router("/catalog", request_forms.router)
api.add_router("/users", users.router)
api.add_router("/users", user_tokens.router)
api.add_router("/kb", kb.router)
api.add_router("/approvals", approvals.router)
api.add_router("/webhooks", webhooks.router)
