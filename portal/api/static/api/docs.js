// Starts Swagger UI for /api/v1/docs. A file (not inline code) so the strict CSP holds.
// A signed-in browser calls the API with its session, so every request carries the CSRF
// token; token callers use the "Authorize" button (Bearer) instead.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var data = document.body.dataset;
  SwaggerUIBundle({
    url: data.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor: function (request) {
      if (data.csrfToken) {
        request.headers["X-CSRFToken"] = data.csrfToken;
      }
      return request;
    },
  });
});
